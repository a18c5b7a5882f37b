"""Erasing a customer's personal data (services/erasure.py): the books stay, the person goes, for good."""

import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from tests.factories import order_data
from wagtail_customers.importers import run_import
from wagtail_customers.listing import listing_statistics
from wagtail_customers.models import Customer, Feedback, Order, OrderEvent, SellerAccount, WatchlistEntry
from wagtail_customers.services.contact import send_customer_email
from wagtail_customers.services.erasure import (
    ERASE_ACTION,
    erase_customer,
    erase_customers,
    hashed_identity_key,
    pseudonym,
)
from wagtail_customers.services.ingestion import record_order, record_orders
from wagtail_customers.services.inputs import FeedbackData
from wagtail_customers.services.statistics import rebuild_statistics

pytestmark = pytest.mark.django_db

STORE_A = "shopify/storeA_orders_export_1.pseudonymised.csv"
PERSONAL = ("name", "email", "phone", "address_line1", "address_line2", "postal_code", "city", "state")


def books(account):
    """Everything the seller's figures are made of: each customer's statistics and the listing band."""
    customers = Customer.objects.filter(account=account).order_by("pk")
    return (
        [tuple(getattr(c, f) for f in Customer.STATISTICS_FIELDS) for c in customers],
        listing_statistics(customers),
        list(Order.objects.filter(account=account).order_by("pk").values_list("pk", "total", "refunded", "status")),
    )


def history(customer):
    return ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer.pk)
    ).order_by("pk")


@pytest.fixture
def store_a(realdata):
    account = SellerAccount.objects.create(name="Store A", channel="shopify", currency="USD")
    data = (realdata / STORE_A).read_bytes()
    run_import(account, data, format_name="shopify")
    return account, data


def top_customer(account):
    return Customer.objects.filter(account=account).order_by("-orders_count", "pk").first()


def test_books_and_band_unchanged_and_personal_data_gone(store_a):
    account, _data = store_a
    customer = top_customer(account)
    assert customer.orders_count > 5
    before = books(account)
    email, name = customer.email, customer.name
    assert email and name

    assert erase_customer(customer) is True

    assert books(account) == before
    customer.refresh_from_db()
    assert customer.is_erased
    assert customer.name == pseudonym(customer.identity_key)
    assert customer.name.startswith("Erased customer ")
    assert all(getattr(customer, f) == "" for f in PERSONAL[1:]) and customer.external_id == ""
    assert customer.identity_key == hashed_identity_key(account.pk, "email:" + email.lower())
    orders = Order.objects.filter(customer=customer)
    assert set(orders.values_list("ship_name", flat=True)) == {customer.name}
    for field in ("ship_address_line1", "ship_postal_code", "ship_city", "ship_phone"):
        assert set(orders.values_list(field, flat=True)) == {""}
    # The statistics rebuilt from the orders are the same figures too.
    rebuild_statistics()
    assert books(account) == before
    # Nothing in the database still names the person.
    assert not Customer.objects.filter(email__iexact=email).exists()
    assert not Order.objects.filter(ship_name=name).exists()


def test_reimport_does_not_bring_the_data_back(store_a):
    account, data = store_a
    customer = top_customer(account)
    email = customer.email
    erase_customer(customer)
    customer.refresh_from_db()
    before = books(account)
    erased = {f: getattr(customer, f) for f in ("identity_key", *PERSONAL)}

    report = run_import(account, data, format_name="shopify")

    assert report is not None
    customer.refresh_from_db()
    assert {f: getattr(customer, f) for f in ("identity_key", *PERSONAL)} == erased
    assert not Customer.objects.filter(account=account, email__iexact=email).exists()
    assert not Customer.objects.filter(account=account, identity_key="email:" + email.lower()).exists()
    assert books(account) == before
    assert set(Order.objects.filter(customer=customer).values_list("ship_name", flat=True)) == {customer.name}


def test_reimport_updates_amounts_and_status_but_not_details(account):
    record_order(account, order_data("A-1", email="grace@example.com", name="Grace Hopper", day=1))
    customer = Customer.objects.get()
    erase_customer(customer)
    customer.refresh_from_db()

    changed = order_data(
        "A-1", email="Grace@Example.com", name="Grace Hopper", day=1, status="refunded", refunded="20.00", rating=1
    )
    changed.feedback = FeedbackData(rating=1, comment="Signed, Grace Hopper, 12 High St")
    newer = order_data("A-2", email="grace@example.com", name="Grace B. Hopper", day=5, city="Paris")
    result = record_orders(account, [changed, newer])

    assert result.customers_created == 0
    customer.refresh_from_db()
    assert customer.email == "" and customer.name == pseudonym(customer.identity_key) and customer.city == ""
    assert customer.orders_count == 2
    assert customer.amount_spent == Decimal("20.00")  # A-1 fully refunded, A-2 20.00
    assert customer.negative_feedbacks == 1
    order = Order.objects.get(external_id="A-1")
    assert order.status == "refunded" and order.refunded == Decimal("20.00")
    assert order.ship_name == customer.name and order.ship_city == "" and order.ship_country == "GB"
    assert Feedback.objects.get(order=order).comment == customer.name
    assert Order.objects.get(external_id="A-2").ship_name == customer.name
    # Recording the same again changes nothing.
    again = record_orders(account, [changed, newer])
    assert again.orders_unchanged == 2


def test_pseudonym_is_stable_and_keyed(account, other_account, settings):
    a = hashed_identity_key(account.pk, "email:ada@example.com")
    assert a == hashed_identity_key(account.pk, "email:ada@example.com")
    assert a != hashed_identity_key(other_account.pk, "email:ada@example.com")
    # Nothing of the address is kept: a keyed digest ("ada" may turn up among its hex digits by chance).
    assert "ada@example.com" not in a and "@" not in a and re.fullmatch(r"erased:[0-9a-f]{64}", a), a
    settings.WAGTAIL_CUSTOMERS = {"ERASURE_KEY": "a key of our own"}
    assert hashed_identity_key(account.pk, "email:ada@example.com") != a

    record_order(account, order_data("B-1"))
    customer = Customer.objects.get()
    erase_customer(customer)
    customer.refresh_from_db()
    first = customer.name
    # Erasing again changes nothing and logs nothing more.
    assert erase_customer(customer) is False
    customer.refresh_from_db()
    assert customer.name == first == pseudonym(hashed_identity_key(account.pk, "email:ada@example.com"))


@pytest.mark.parametrize("key", [12345, "", b"", ["a"]])
def test_an_erasure_key_that_is_not_a_string_is_refused(settings, key):
    settings.WAGTAIL_CUSTOMERS = {"ERASURE_KEY": key}
    assert "wagtail_customers.E040" in {message.id for message in run_checks()}
    # Never a silent fallback (bytes(12345) would be 12345 zero bytes, an empty key no key at all).
    with pytest.raises(ImproperlyConfigured):
        hashed_identity_key(1, "email:ada@example.com")


def test_a_string_or_bytes_erasure_key_passes_the_check(settings):
    for key in ("a long random string", b"raw bytes", None):
        settings.WAGTAIL_CUSTOMERS = {"ERASURE_KEY": key}
        assert "wagtail_customers.E040" not in {message.id for message in run_checks()}
        assert hashed_identity_key(1, "email:ada@example.com").startswith("erased:")


def test_history_keeps_no_erased_value(account, superuser, mailoutbox):
    record_order(account, order_data("C-1", email="ada@example.com", name="Ada Lovelace"))
    customer = Customer.objects.get()
    send_customer_email(
        customer, subject="Your order, Ada", message="Dear Ada Lovelace", user=superuser, reason="shipping"
    )
    assert OrderEvent.objects.filter(customer=customer).exclude(message="").exists()

    erase_customer(customer, superuser)

    customer.refresh_from_db()
    entries = list(history(customer))
    assert entries[-1].action == ERASE_ACTION and entries[-1].user_id == superuser.pk
    text = repr([(e.label, e.data) for e in entries])
    for value in ("Ada", "Lovelace", "ada@example.com"):
        assert value not in text
    assert {e.label for e in entries} == {f"Customer #{customer.pk}"}
    assert set(OrderEvent.objects.filter(customer=customer).values_list("message", flat=True)) <= {customer.name, ""}


def test_watchlist_snippet_history_keeps_no_erased_name(account, superuser):
    """Wagtail's snippet views log watchlist entries under ``str(entry)``, the customer's name."""
    record_orders(
        account,
        [
            order_data("C-1", email="ada@example.com", name="Ada Lovelace"),
            order_data("C-2", email="other@example.com", name="Ada Lovelace"),
        ],
    )
    ada, namesake = Customer.objects.order_by("pk")
    # Ada's first entry was taken off the watchlist (deleted), then she was watched again.
    deleted = WatchlistEntry.objects.create(customer=ada, note="")
    log(deleted, "wagtail.edit", user=superuser)
    deleted_pk = deleted.pk
    deleted.delete()
    kept = WatchlistEntry.objects.create(customer=ada, note="")
    theirs = WatchlistEntry.objects.create(customer=namesake, note="")
    for entry in (kept, theirs):
        log(entry, "wagtail.edit", user=superuser)
    watchlist_log = ModelLogEntry.objects.filter(content_type=ContentType.objects.get_for_model(WatchlistEntry))
    # New entries are labelled by id (history_labels.py); entries logged before that carry the customer's name.
    assert set(watchlist_log.values_list("label", flat=True)) == {
        f"Watchlist entry #{kept.pk}",
        f"Watchlist entry #{theirs.pk}",
        f"Watchlist entry #{deleted_pk}",
    }
    watchlist_log.update(label="Ada Lovelace")

    erase_customer(ada, superuser)

    labels = dict(watchlist_log.values_list("object_id", "label"))
    assert labels == {
        str(kept.pk): f"Watchlist entry #{kept.pk}",
        str(deleted_pk): f"Watchlist entry #{deleted_pk}",
        str(theirs.pk): "Ada Lovelace",
    }


def test_bulk_erasure_counts_only_new_ones(account):
    record_orders(account, [order_data(f"D-{i}", email=f"d{i}@example.com", name=f"D {i}") for i in range(5)])
    before = books(account)
    erase_customer(Customer.objects.get(email="d0@example.com"))
    assert erase_customers(Customer.objects.filter(account=account)) == 4
    assert books(account) == before
    assert Customer.objects.filter(account=account, erased_at__isnull=True).count() == 0
    # Five distinct pseudonyms.
    assert len(set(Customer.objects.values_list("name", flat=True))) == 5
    assert listing_statistics(Customer.objects.all())["customers"] == 5


def test_scrubbing_the_history_costs_the_same_queries_however_many_e_mails_were_sent(account):
    # A seller account's deletion scrubs every customer's history in its request: one UPDATE per e-mail entry made
    # an account whose customers were e-mailed thousands of times too slow to delete.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wagtail_customers.services.contact import EMAIL_SENT_ACTION
    from wagtail_customers.services.erasure import scrub_history

    def queries_for(count):
        customer = record_order(account, order_data(f"S{count}", email=f"s{count}@example.com")).customer
        for number in range(count):
            log(customer, EMAIL_SENT_ACTION, data={"to": customer.email, "subject": f"Hello {number}"})
        with CaptureQueriesContext(connection) as captured:
            scrub_history([customer])
        entries = ModelLogEntry.objects.filter(object_id=str(customer.pk), action=EMAIL_SENT_ACTION)
        assert not any(entry.data.get("to") or entry.data.get("subject") for entry in entries)
        return len(captured)

    assert queries_for(2) == queries_for(7)


def test_a_batch_gives_each_customer_its_own_pseudonym_and_counts_in_the_same_statements(account, other_account):
    """Customers are erased a batch at a time, set-based: each value on their orders, feedback, timeline and
    watchlist becomes its own customer's pseudonym, each history entry has its own customer's counts, and a batch
    costs the same statements whatever its size, plus one history entry per customer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from wagtail_customers.log_actions import log_each

    def buyers(prefix, count):
        """``count`` buyers in each account, buyer ``i`` with ``i + 1`` orders, each with a feedback comment."""
        for seller in (account, other_account):
            orders = []
            for i in range(count):
                for n in range(i + 1):
                    order = order_data(f"{prefix}{i}-{n}", email=f"{prefix}{i}@example.com", name=f"Buyer {prefix}{i}")
                    order.feedback = FeedbackData(rating=1, comment=f"Bad, says Buyer {prefix}{i}")
                    orders.append(order)
            record_orders(seller, orders)
        customers = list(Customer.objects.filter(email__startswith=prefix).order_by("pk"))
        for customer in customers:
            OrderEvent.objects.create(
                customer=customer, kind="note", occurred_at=timezone.now(), message=f"Called {customer.email}"
            )
            WatchlistEntry.objects.create(customer=customer, note=f"Watch {customer.name}")
        return customers

    def erased_in_queries(customers):
        with CaptureQueriesContext(connection) as captured:
            assert erase_customers(Customer.objects.filter(pk__in=[c.pk for c in customers])) == len(customers)
        return len(captured)

    one, several = buyers("a", 1), buyers("b", 3)
    # What the first erasure looks up once (content types, the search index's tables) is known by then.
    erased_in_queries(buyers("w", 1))
    with_one = erased_in_queries(one)
    with_several = erased_in_queries(several)
    probe = record_order(account, order_data("P-1", email="probe@example.com")).customer
    with CaptureQueriesContext(connection) as one_entry:
        log_each([probe], ERASE_ACTION, data={})
    assert with_several - with_one == (len(several) - len(one)) * len(one_entry)

    for customer in several:
        customer.refresh_from_db()
        assert customer.is_erased and customer.name == pseudonym(customer.identity_key)
        assert all(getattr(customer, field) == "" for field in PERSONAL if field != "name")
        orders = Order.objects.filter(customer=customer)
        assert set(orders.values_list("ship_name", "ship_city")) == {(customer.name, "")}
        assert set(Feedback.objects.filter(order__customer=customer).values_list("comment", flat=True)) == {
            customer.name
        }
        assert list(OrderEvent.objects.filter(customer=customer).values_list("message", flat=True)) == [customer.name]
        assert list(WatchlistEntry.objects.filter(customer=customer).values_list("note", flat=True)) == [customer.name]
        assert history(customer).get(action=ERASE_ACTION).data == {
            "orders": orders.count(),
            "feedback_comments": orders.count(),
            "timeline_messages": 1,
            "watchlist_notes": 1,
        }
    assert len({customer.name for customer in several}) == len(several)
    assert not Customer.objects.filter(email__startswith="b").exists()
