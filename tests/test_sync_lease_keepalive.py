"""A sync keeps its connection's lease while one page takes longer than the lease (services/channel_sync.py).

An Amazon page can take minutes: three reports polled, then getOrder, getOrderItems and getFinancialEvents for
every order, throttled. Before, the lease was renewed only per committed page and after the engine's own
rate-limit waits, so it lapsed mid-page: a second sync took the connection and both called the channel at once,
and the first threw its page away (or, a last page always longer than the lease, never committed at all). Now the
engine hands the adapter a keep-alive (``ChannelAdapter.keep_alive``) that the adapter calls between its calls
and while it waits: it renews the lease (at most every third of it) and stops the page at once when the lease
was taken over.

Real threads with their own database connections, the Amazon adapter and python-amazon-sp-api against the
stand-in SP-API of tests/test_channel_amazon.py, and the engine's test channel of
tests/connection_fixture_channel.py.
"""

import json
import time
from datetime import date, timedelta

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.connection_fixture_channel import FixtureChannel, fixture_order
from tests.connection_fixture_channel import connect as connect_fixture_channel
from tests.parallel_support import in_thread
from tests.test_channel_amazon import (
    CREDENTIALS,
    fixture,
    json_response,
    stand_in_urls,  # noqa: F401 - a fixture
)
from tests.test_channel_amazon_reports import stand_in_with_orders
from tests.test_watchlist_parallel import parallel_database  # noqa: F401 - a fixture
from wagtail_customers.channels import amazon_reports
from wagtail_customers.channels.base import ChannelAdapter, LeaseLost
from wagtail_customers.models import ChannelConnection, Order, SellerAccount, SyncOutcome, SyncRun
from wagtail_customers.services import channel_sync

# The lease is the plugin's own code over the database, the same at every Wagtail and Django version: the lowest
# versions' pass leaves these out (they wait through leases, about 20 s).
pytestmark = pytest.mark.version_neutral

#: The lease in these tests: a page below takes longer.
LEASE_SECONDS = 4


@pytest.fixture
def short_lease(settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "SYNC_LEASE_SECONDS": LEASE_SECONDS}


def connect_amazon():
    account = SellerAccount.objects.create(name="Amazon DE", channel="amazon", currency="EUR")
    connection = ChannelConnection(account=account)
    connection.set_credentials(CREDENTIALS)
    connection.save()
    channel_sync.start_backfill(connection, date(2026, 9, 1))
    return connection


def wait_until(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def returns_reports(stand_in):
    return [
        report for report in list(stand_in.reports.values()) if report["body"]["reportType"] == amazon_reports.RETURNS
    ]


@pytest.mark.django_db(transaction=True)
def test_a_page_longer_than_the_lease_keeps_it_and_a_second_sync_does_not_run(
    httpserver,
    stand_in_urls,  # noqa: F811
    parallel_database,  # noqa: F811
    short_lease,
    monkeypatch,
):
    # The returns report stays IN_PROGRESS until the test lets it finish: the adapter polls it (every 50 ms,
    # as often as it must) for longer than the lease, as it polls Amazon's reports for up to 50 s each.
    monkeypatch.setattr(amazon_reports, "REPORT_POLLS", 100_000)
    monkeypatch.setattr(amazon_reports, "REPORT_POLL_SECONDS", 0.05)
    stand_in = stand_in_with_orders(httpserver)
    stand_in.report_plans[amazon_reports.RETURNS] = (["IN_PROGRESS"] * 100_000 + ["DONE"], b"", None)
    held = connect_amazon()
    first, second, errors = [], [], []

    first_thread = in_thread(lambda: first.append(channel_sync.sync_connection(held.pk)), errors)
    threads = [first_thread]
    try:
        wait_until(lambda: returns_reports(stand_in) or not first_thread.is_alive())
        started = time.monotonic()
        # Well past the lease taken before the page's getOrders: it lapsed unless the page kept it.
        time.sleep(LEASE_SECONDS * 1.5)
        assert first_thread.is_alive() and time.monotonic() - started > LEASE_SECONDS, errors
        threads.append(in_thread(lambda: second.append(channel_sync.sync_connection(held.pk)), errors))
        threads[-1].join(10)
    finally:
        for report in returns_reports(stand_in):
            report["statuses"][:] = ["DONE"]
        for thread in threads:
            thread.join(60)
    assert not errors, errors

    # The second sync found the lease held and did nothing (before: it ran, and the first's page was thrown away).
    assert second == [None]
    assert len([body for body in stand_in.report_requests if body["reportType"] == amazon_reports.RETURNS]) == 1
    [result] = first
    assert result.outcome == SyncOutcome.DONE, result.error
    assert result.pages == 1 and result.orders_created >= 2
    assert Order.objects.filter(account=held.account).count() == result.orders_created
    assert SyncRun.objects.filter(connection=held).count() == 1
    assert json.loads(ChannelConnection.objects.get(pk=held.pk).cursors["orders"])["after"]
    assert not channel_sync.connection_is_busy(held.pk)


@pytest.mark.django_db(transaction=True)
def test_a_page_whose_lease_was_taken_over_stops_at_once_without_committing(
    httpserver,
    stand_in_urls,  # noqa: F811
    parallel_database,  # noqa: F811
    short_lease,
):
    stand_in = stand_in_with_orders(httpserver)
    # getOrderItems throttled eighty times in a row, Amazon's 4 requests a second: twenty seconds of waiting in the
    # adapter (within its 120 s per call), far longer than the lease.
    quota = fixture("quota_exceeded.json")
    stand_in.next_answers["items"] = [
        json_response(quota, status=429, headers={"x-amzn-RateLimit-Limit": "4"}) for _ in range(80)
    ]
    held = connect_amazon()
    results, errors = [], []

    thread = in_thread(lambda: results.append(channel_sync.sync_connection(held.pk)), errors)
    try:
        wait_until(lambda: len(stand_in.items_requests) >= 2 or not thread.is_alive())
        # Another holder takes the lease (as a sync does once a lease lapsed).
        taken = ChannelConnection.objects.filter(pk=held.pk).update(
            lock_token="another-sync", locked_until=timezone.now() + timedelta(minutes=5)
        )
        assert taken
        thread.join(LEASE_SECONDS * 3)
        stopped_at_once = not thread.is_alive()
    finally:
        stand_in.next_answers["items"].clear()
        thread.join(60)
    assert not errors, errors

    # The adapter stopped at its next keep-alive, not after waiting out every throttled answer (before: it went on
    # for the whole page, then threw it away at the commit).
    assert stopped_at_once
    [result] = results
    assert result.outcome == SyncOutcome.INTERRUPTED
    assert result.pages == 0
    assert not Order.objects.filter(account=held.account).exists()
    connection = ChannelConnection.objects.get(pk=held.pk)
    assert connection.cursors == {}
    assert connection.lock_token == "another-sync"  # the other holder's lease is left alone


@pytest.mark.django_db(transaction=True)
def test_a_rate_limit_wait_longer_than_the_lease_keeps_it(
    httpserver,
    parallel_database,  # noqa: F811
    short_lease,
    settings,
):
    """The engine's own wait for a channel's Retry-After (up to ``SYNC_RETRY_AFTER_MAX_SECONDS``) renews the lease
    while it waits (before: only after, by when another sync could have taken it)."""
    # Long enough that the second sync starts (after 1.5 leases) well within the wait, on a loaded machine too.
    retry_after = LEASE_SECONDS * 3
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "SYNC_RETRY_AFTER_MAX_SECONDS": retry_after}
    channel = FixtureChannel(httpserver, orders=[fixture_order(index) for index in range(5)])
    channel.faults.append((429, {"Retry-After": str(retry_after)}, json.dumps({"error": "slow down"})))
    held = connect_fixture_channel(channel, "Shop")
    first, second, errors = [], [], []

    first_thread = in_thread(lambda: first.append(channel_sync.sync_connection(held.pk)), errors)
    threads = [first_thread]
    try:
        wait_until(lambda: channel.order_requests or not first_thread.is_alive())
        time.sleep(LEASE_SECONDS * 1.5)
        assert first_thread.is_alive(), errors
        threads.append(in_thread(lambda: second.append(channel_sync.sync_connection(held.pk)), errors))
    finally:
        for thread in threads:
            thread.join(60)
    assert not errors, errors

    assert second == [None]
    [result] = first
    assert result.outcome == SyncOutcome.DONE, result.error
    assert result.orders_created == 5
    assert len(channel.order_requests) == 2  # the throttled one and the page: no second sync asked
    assert SyncRun.objects.filter(connection=held).count() == 1


@pytest.mark.django_db
def test_the_keep_alive_writes_at_most_every_third_of_the_lease_and_raises_once_the_lease_is_gone(short_lease):
    account = SellerAccount.objects.create(name="Shop", channel="other", currency="USD")
    channel_connection = ChannelConnection.objects.create(account=account)
    token = channel_sync.take_lease(channel_connection.pk)
    adapter = ChannelAdapter({})
    adapter.keep_alive = keeper = channel_sync.LeaseKeeper(channel_connection.pk, token)

    with CaptureQueriesContext(db_connection) as queries:
        for _call in range(100):
            adapter.stay_alive()  # between a page's calls: within a third of the lease, nothing is written
    assert len(queries) == 0

    before = ChannelConnection.objects.get(pk=channel_connection.pk).locked_until
    keeper.renewed_at -= LEASE_SECONDS  # a third of the lease has passed
    with CaptureQueriesContext(db_connection) as queries:
        adapter.stay_alive()
        adapter.stay_alive()
    assert len(queries) == 1 and "UPDATE" in queries[0]["sql"]
    assert ChannelConnection.objects.get(pk=channel_connection.pk).locked_until > before

    # Another holder took the lease: the next renewal raises, and so does a wait.
    ChannelConnection.objects.filter(pk=channel_connection.pk).update(lock_token="another-sync")
    keeper.renewed_at -= LEASE_SECONDS
    with pytest.raises(LeaseLost):
        adapter.stay_alive()
    keeper.renewed_at -= LEASE_SECONDS
    with pytest.raises(LeaseLost):
        adapter.pause(30)
    assert channel_sync.LeaseLost is LeaseLost

    # An adapter used outside a sync (a connection check, a webhook) has no keep-alive: nothing happens.
    ChannelAdapter({}).stay_alive()
    ChannelAdapter({}).pause(0)
