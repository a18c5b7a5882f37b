"""Parallel "add to watchlist" / "remove" requests for one customer: no 500, one history event per real change.

Real parallel requests: 20 threads post at once to a threaded live server whose request threads each open
their own database connection. On SQLite the database is a file (an in-memory database is one shared
connection, so nothing would run in parallel) opened with the example site's ``SQLITE_OPTIONS`` (busy
timeout, WAL, IMMEDIATE transactions); on PostgreSQL (``WC_TEST_DB=postgres``) the test database itself.
"""

import secrets
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.testcases import LiveServerThread, _StaticFilesHandler
from django.urls import reverse
from example_project.settings import SQLITE_OPTIONS
from wagtail.models import ModelLogEntry

from tests.factories import order_data
from tests.parallel_support import run_while_held
from wagtail_customers.models import (
    Channel,
    Customer,
    EventKind,
    ListingSummary,
    OrderEvent,
    SellerAccount,
    WatchlistEntry,
)
from wagtail_customers.services.deletion import delete_customers
from wagtail_customers.services.ingestion import record_order, record_orders
from wagtail_customers.services.watchlist import ADD_ACTION, REMOVE_ACTION, toggle_watchlist

PARALLEL = 20


@pytest.fixture(scope="module")
def parallel_database(django_db_setup, django_db_blocker, tmp_path_factory):
    """The test database as other threads' connections see it: a file for SQLite, as is for PostgreSQL."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor != "sqlite" or not connection.is_in_memory_db():
            yield connection.vendor
            return
        path = tmp_path_factory.mktemp("parallel-db") / "test.sqlite3"
        connection.ensure_connection()
        in_memory = connection.connection
        copy = sqlite3.connect(path)
        in_memory.backup(copy)
        copy.close()
        saved_name, saved_options = connection.settings_dict["NAME"], connection.settings_dict.get("OPTIONS", {})
        # Park the in-memory connection (closing it would destroy that database for the other modules).
        connection.connection = None
        connection.settings_dict["NAME"] = str(path)
        connection.settings_dict["OPTIONS"] = dict(SQLITE_OPTIONS)
        try:
            yield "sqlite"
        finally:
            connection.close()
            connection.settings_dict["NAME"] = saved_name
            connection.settings_dict["OPTIONS"] = saved_options
            connection.connection = in_memory


@pytest.fixture
def server(parallel_database, transactional_db):
    """A threaded live server with no shared connection: every request thread opens its own."""
    thread = LiveServerThread("127.0.0.1", _StaticFilesHandler, connections_override=None, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


def session_cookie(user):
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def post_in_parallel(url, data, session_key):
    """``PARALLEL`` POSTs released at the same moment; their status codes."""
    token = secrets.token_hex(16)  # 32 characters: a valid unmasked CSRF secret, sent as cookie and header
    headers = {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}; {settings.CSRF_COOKIE_NAME}={token}",
        "X-CSRFToken": token,
        "X-Requested-With": "XMLHttpRequest",
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    body = urlencode(data).encode()
    start = threading.Barrier(PARALLEL)

    def one():
        start.wait()
        try:
            with urlopen(Request(url, data=body, headers=headers, method="POST"), timeout=120) as response:
                return response.status
        except HTTPError as error:
            return error.code

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda _: one(), range(PARALLEL)))


@pytest.mark.django_db(transaction=True)
def test_parallel_adds_and_removes_write_one_history_event_each_and_never_500(server, parallel_database):
    from django.contrib.auth import get_user_model

    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    customer = record_order(account, order_data("P-1", email="pat@example.com", name="Pat")).customer
    user = get_user_model().objects.create_superuser("parallel", "parallel@example.com", "pw")
    url = server + reverse("wagtail_customers:watchlist_toggle", args=(customer.pk,))
    session_key = session_cookie(user)

    def history(action):
        return ModelLogEntry.objects.filter(action=action, object_id=str(customer.pk)).count()

    def timeline():
        return list(
            OrderEvent.objects.filter(customer=customer, kind=EventKind.WATCHLIST).values_list("message", flat=True)
        )

    statuses = post_in_parallel(url, {"watch": "1"}, session_key)
    assert statuses == [200] * PARALLEL, f"{parallel_database}: {statuses}"
    assert WatchlistEntry.objects.filter(customer=customer).count() == 1
    assert history(ADD_ACTION) == 1
    assert timeline() == ["Added to the watchlist"]

    statuses = post_in_parallel(url, {"watch": "0"}, session_key)
    assert statuses == [200] * PARALLEL, f"{parallel_database}: {statuses}"
    assert not WatchlistEntry.objects.filter(customer=customer).exists()
    assert history(REMOVE_ACTION) == 1
    assert sorted(timeline()) == ["Added to the watchlist", "Removed from the watchlist"]


@pytest.mark.django_db(transaction=True)
def test_parallel_flips_are_each_applied_once(server, parallel_database):
    """The eye without ``watch=``: each request flips the state, so 20 at once leave it as it was, with 10 adds and
    10 removals in the history (the flip is read under the customer's lock)."""
    from django.contrib.auth import get_user_model

    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    customer = record_order(account, order_data("P-2", email="flip@example.com", name="Flip")).customer
    user = get_user_model().objects.create_superuser("flipper", "flipper@example.com", "pw")
    url = server + reverse("wagtail_customers:watchlist_toggle", args=(customer.pk,))

    statuses = post_in_parallel(url, {}, session_cookie(user))
    assert statuses == [200] * PARALLEL, f"{parallel_database}: {statuses}"
    assert not WatchlistEntry.objects.filter(customer=customer).exists()
    history = ModelLogEntry.objects.filter(object_id=str(customer.pk))
    assert history.filter(action=ADD_ACTION).count() == history.filter(action=REMOVE_ACTION).count() == PARALLEL // 2


@pytest.mark.django_db(transaction=True)
def test_the_eye_and_the_bulk_add_on_a_customer_being_deleted_answer_as_for_one_gone(parallel_database):
    """The seller deletes a customer while someone clicks its eye, or adds it to the watchlist in bulk: the request
    read the customer, then waits for the deletion's lock. Before, it then added an entry and a timeline event for
    the customer gone, which failed the foreign key at commit: a 500."""
    if connection.vendor != "postgresql":
        pytest.skip("threads writing at once: PostgreSQL (SQLite runs one writing transaction at a time)")
    from django.contrib.auth import get_user_model

    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    ada = record_order(account, order_data("1", email="ada@example.com")).customer
    bob = record_order(account, order_data("2", email="bob@example.com", name="Bob")).customer
    user = get_user_model().objects.create_superuser("deleting", "deleting@example.com", "pw")
    bulk = reverse("wagtail_customers:bulk_action", args=("all", "watchlist-add"))
    requests = {
        "eye": (
            ada,
            reverse("wagtail_customers:watchlist_toggle", args=(ada.pk,)),
            {"HTTP_ACCEPT": "application/json"},
        ),
        "bulk": (bob, f"{bulk}?id={bob.pk}&next=/admin/customers/", {}),
    }
    responses = {}

    for name, (customer, url, headers) in requests.items():

        def click(name=name, url=url, headers=headers):
            browser = Client()
            browser.force_login(user)
            responses[name] = browser.post(url, follow=name == "bulk", **headers)

        errors, waited = run_while_held(
            lambda customer=customer: delete_customers(Customer.objects.filter(pk=customer.pk), None), click
        )
        assert not errors, errors
        assert waited

    # As for a customer already gone: the eye answers 404; the bulk action counts no customer added.
    assert responses["eye"].status_code == 404
    assert responses["bulk"].status_code == 200
    assert "0 customers added to the watchlist." in [str(m).strip() for m in responses["bulk"].context["messages"]]
    assert not Customer.objects.exists()
    assert not WatchlistEntry.objects.exists() and not OrderEvent.objects.exists()


def watched_band(account):
    """The Watchlist tab's statistics band as stored (``ListingSummary``'s ``watched`` segment)."""
    return ListingSummary.objects.filter(account=account, segment="watched").aggregate(
        customers=Sum("customers"), orders=Sum("orders")
    )


@pytest.mark.parametrize("way", ["entry page", "bulk"])
@pytest.mark.django_db(transaction=True)
def test_an_entry_deleted_in_the_snippet_while_an_order_is_recorded_leaves_the_watchlist_band_right(
    parallel_database, way
):
    """The snippet's delete (one entry, or in bulk) while a sync records an order of the entry's customer. Before,
    it deleted without locking the customer: its update of the watched flag waited for the order's batch, then took
    the customer's figures out of the Watchlist tab's band as they were before the order, which the batch had added
    (the customer still watched): the band kept an order, and a customer, no one is watching."""
    if connection.vendor != "postgresql":
        pytest.skip("threads writing at once: PostgreSQL (SQLite runs one writing transaction at a time)")
    from django.contrib.auth import get_user_model

    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    ada = record_order(account, order_data("1", email="ada@example.com")).customer
    toggle_watchlist(ada, None, watch=True)
    assert watched_band(account) == {"customers": 1, "orders": 1}
    entry = WatchlistEntry.objects.get()
    user = get_user_model().objects.create_superuser("deleting", "deleting@example.com", "pw")
    if way == "bulk":
        url = reverse("wagtail_bulk_action", args=("wagtail_customers", "watchlistentry", "delete")) + f"?id={entry.pk}"
    else:
        url = reverse("wagtailsnippets_wagtail_customers_watchlistentry:delete", args=(entry.pk,))
    responses = []

    def delete():
        browser = Client()
        browser.force_login(user)
        responses.append(browser.post(url))

    errors, waited = run_while_held(
        lambda: record_orders(account, [order_data("2", email="ada@example.com", day=3)]), delete
    )

    assert not errors, errors
    assert waited
    assert [response.status_code for response in responses] == [302]
    assert not WatchlistEntry.objects.exists()
    assert OrderEvent.objects.filter(customer=ada, message="Removed from the watchlist").count() == 1
    assert watched_band(account) in ({"customers": 0, "orders": 0}, {"customers": None, "orders": None})
