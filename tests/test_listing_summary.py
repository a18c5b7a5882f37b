"""The listing summary (models/summary.py) kept by the database's triggers, and the band read from it.

After every write path the summary equals a fresh aggregate over the customers (computed here in
Python, row by row); the unfiltered band read from it equals the aggregate band; the unfiltered listing
page runs no aggregate over the customers but the bounded "new customers" count.
"""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import order_data
from tests.listing_support import staff_user
from tests.test_statistics_property import orders
from wagtail_customers.listing import SUMMARY_ROWS_BEFORE_COMPACTING, TABS, CustomerListing, listing_statistics
from wagtail_customers.models import Channel, Customer, ListingSummary, SellerAccount, WatchlistEntry
from wagtail_customers.services.erasure import erase_customers
from wagtail_customers.services.ingestion import record_order, record_orders
from wagtail_customers.services.listing_summary import compact_summary, rebuild_summary
from wagtail_customers.services.merge import merge_customers, undo_merge
from wagtail_customers.services.statistics import rebuild_statistics
from wagtail_customers.services.watchlist import add_to_watchlist

pytestmark = pytest.mark.django_db

CUSTOMER_TABLE = Customer._meta.db_table


def fresh_summary():
    """``{(account id, segment): figures}`` summed here over every customer, row by row."""
    watched = set(WatchlistEntry.objects.values_list("customer_id", flat=True))
    summary = {}
    for customer in Customer.objects.order_by("pk"):
        is_watched = customer.pk in watched
        segments = ["all"]
        segments += ["returned"] if customer.returned_units > 0 else []
        segments += ["promo"] if customer.promo_codes_used > 0 else []
        segments += ["watched"] if is_watched else []
        for segment in segments:
            figures = summary.setdefault(
                (customer.account_id, segment), dict.fromkeys(ListingSummary.FIGURES, 0) | {"amount_spent": Decimal(0)}
            )
            figures["customers"] += 1
            figures["repeat_customers"] += customer.orders_count >= 2
            figures["orders"] += customer.orders_count
            figures["units"] += customer.units
            figures["returned_units"] += customer.returned_units
            figures["promo_customers"] += customer.promo_codes_used > 0
            figures["negative_feedbacks"] += customer.negative_feedbacks
            figures["watched"] += is_watched
            figures["amount_spent"] += customer.amount_spent
            figures["unconverted_orders"] += customer.unconverted_orders
    return summary


def stored_summary():
    """The summary's rows that are not all zero (a segment emptied keeps its row at zero)."""
    stored = {}
    for row in ListingSummary.objects.values("account_id", "segment", *ListingSummary.FIGURES):
        figures = stored.setdefault(
            (row.pop("account_id"), row.pop("segment")),
            dict.fromkeys(ListingSummary.FIGURES, 0) | {"amount_spent": Decimal(0)},
        )
        for name, value in row.items():
            figures[name] += value
    return {key: figures for key, figures in stored.items() if any(figures.values())}


def assert_summary_is_fresh():
    assert stored_summary() == fresh_summary()
    # The customers' watched flag, kept by other triggers (services/watched_flag.py), follows the same writes.
    watched = set(WatchlistEntry.objects.values_list("customer_id", flat=True))
    assert set(Customer.objects.filter(watched=True).values_list("pk", flat=True)) == watched


@pytest.fixture
def shops(account, other_account):
    """Two accounts in two currencies with customers in every segment."""
    record_orders(
        account,
        [
            order_data("A1", email="ada@example.com", lines=((2, "10.00"),)),
            order_data("A2", email="ada@example.com", day=3, lines=((1, "5.50"),), promo_codes=("WELCOME",)),
            order_data("A3", email="bob@example.com", rating=1, refunded="2.25"),
            order_data("A4", email="cy@example.com", status="cancelled"),
        ],
    )
    returned = order_data("A5", email="dee@example.com", lines=((3, "7.10"),))
    returned.lines[0].returned_quantity = 2
    record_order(account, returned)
    record_orders(
        other_account,
        [
            order_data("B1", email="eve@example.org", lines=((4, "3.33"),)),
            order_data("B2", email="eve@example.org", day=5),
            order_data("B3", email="fay@example.org", promo_codes=("X", "Y")),
        ],
    )
    return account, other_account


def customer_of(email):
    return Customer.objects.get(email=email)


def test_ingestion_fills_the_summary(shops):
    assert stored_summary()  # not empty
    assert_summary_is_fresh()


def test_updated_orders_and_an_order_moving_to_another_customer(shops):
    account, _ = shops
    changed = order_data("A1", email="ada@example.com", lines=((5, "10.00"),), refunded="1.00")
    changed.lines[0].returned_quantity = 1
    record_order(account, changed)
    assert_summary_is_fresh()
    # The same order now names another buyer: it moves from Bob to a new customer.
    record_order(account, order_data("A3", email="gus@example.com", rating=1))
    assert_summary_is_fresh()


def test_watchlist_eye_and_bulk(admin_client, shops):
    ada, bob, eve = customer_of("ada@example.com"), customer_of("bob@example.com"), customer_of("eve@example.org")
    admin_client.post(reverse("wagtail_customers:watchlist_toggle", args=(ada.pk,)))
    assert WatchlistEntry.objects.filter(customer=ada).exists()
    assert_summary_is_fresh()
    query = f"id={bob.pk}&id={eve.pk}&next=/admin/customers/"
    admin_client.post(reverse("wagtail_customers:bulk_action", args=("all", "watchlist-add")) + "?" + query)
    assert WatchlistEntry.objects.count() == 3
    assert_summary_is_fresh()
    admin_client.post(reverse("wagtail_customers:watchlist_toggle", args=(ada.pk,)))
    admin_client.post(reverse("wagtail_customers:bulk_action", args=("watchlist", "watchlist-remove")) + "?" + query)
    assert not WatchlistEntry.objects.exists()
    assert_summary_is_fresh()


def test_deletes_single_and_bulk(admin_client, shops, superuser):
    ada, bob, dee = customer_of("ada@example.com"), customer_of("bob@example.com"), customer_of("dee@example.com")
    add_to_watchlist([ada, bob], superuser)
    admin_client.post(reverse("wagtail_customers:delete", args=(ada.pk,)))
    assert not Customer.objects.filter(pk=ada.pk).exists()
    assert_summary_is_fresh()
    admin_client.post(reverse("wagtail_customers:bulk_action", args=("all", "delete")) + f"?id={bob.pk}&id={dee.pk}")
    assert not Customer.objects.filter(pk__in=[bob.pk, dee.pk]).exists()
    assert_summary_is_fresh()
    Customer.objects.filter(email__endswith=".org").delete()
    assert_summary_is_fresh()


def test_deleting_a_seller_account_leaves_its_rows_at_zero(shops, superuser):
    account, _ = shops
    add_to_watchlist([customer_of("ada@example.com")], superuser)
    account.delete()
    assert_summary_is_fresh()


def test_merge_and_undo(shops, superuser):
    account, _ = shops
    kept = customer_of("ada@example.com")
    merged = customer_of("bob@example.com")
    add_to_watchlist([merged], superuser)
    merge = merge_customers(kept, merged, superuser)
    assert_summary_is_fresh()
    undo_merge(merge, superuser)
    assert_summary_is_fresh()


def test_merge_and_undo_with_both_customers_watched(shops, superuser):
    kept, merged = customer_of("ada@example.com"), customer_of("bob@example.com")
    add_to_watchlist([kept, merged], superuser)
    merge = merge_customers(kept, merged, superuser)
    assert list(WatchlistEntry.objects.values_list("customer_id", flat=True)) == [kept.pk]
    assert_summary_is_fresh()
    undo_merge(merge, superuser)
    assert WatchlistEntry.objects.filter(customer_id=merged.pk).exists()
    assert_summary_is_fresh()


def test_erasure(shops, superuser):
    erase_customers(Customer.objects.filter(email__in=["ada@example.com", "eve@example.org"]), superuser)
    assert Customer.objects.filter(erased_at__isnull=False).count() == 2
    assert_summary_is_fresh()


def test_raw_update_and_the_statistics_rebuild(shops, superuser):
    add_to_watchlist([customer_of("bob@example.com")], superuser)
    with connection.cursor() as cursor:
        # Figures corrupted behind the ingestion's back: the summary follows them ...
        cursor.execute(
            f"UPDATE {CUSTOMER_TABLE} SET orders_count = orders_count + 7, returned_units = 3, "
            "promo_codes_used = 0, amount_spent = amount_spent + 1.05 WHERE email IN (%s, %s)",
            ["bob@example.com", "fay@example.org"],
        )
    assert_summary_is_fresh()
    # ... and the rebuild's set-based UPDATE puts both back.
    assert rebuild_statistics() == 2
    assert_summary_is_fresh()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's triggers run row by row, each a statement")
def test_the_summary_triggers_plan_their_joins_whatever_the_statement_firing_them_set(shops):
    """The rebuild's UPDATE runs without nested loops, and its SET LOCAL would hold in the triggers it fires: each
    trigger function allows them again for itself (its join of the changed rows with the watchlist)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT proname, proconfig FROM pg_proc WHERE proname LIKE 'wc_summary_%%'")
        settings_by_function = dict(cursor.fetchall())
    assert len(settings_by_function) == 6
    assert all(config == ["enable_nestloop=on"] for config in settings_by_function.values()), settings_by_function


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner settings are PostgreSQL's")
def test_the_rebuilds_put_the_planner_settings_they_change_back(shops, superuser):
    """The statistics rebuild plans without nested loops and the summary's rebuild without JIT compilation, each for
    its own statements: a caller's transaction goes on with its own settings."""

    def settings():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_nestloop'), current_setting('jit')")
            return cursor.fetchone()

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = on")
    before = settings()
    assert before == ("on", "on")
    Customer.objects.filter(email="bob@example.com").update(orders_count=99)
    assert rebuild_statistics() == 1
    rebuild_summary()
    assert settings() == before
    assert_summary_is_fresh()


def test_the_rebuild_repairs_a_corrupted_summary(shops):
    account, other_account = shops
    ListingSummary.objects.filter(account=account).update(customers=999, amount_spent=Decimal("1.23"))
    ListingSummary.objects.filter(account=other_account, segment="all").delete()
    rebuild_statistics(account)
    assert stored_summary() != fresh_summary()  # only the account asked for
    rebuild_summary()
    assert_summary_is_fresh()
    ListingSummary.objects.update(orders=-1)
    rebuild_statistics()
    assert_summary_is_fresh()


def band_pairs(user, params_list):
    """``(summary band, aggregate band)`` for every tab and each of ``params_list``."""
    for tab in TABS:
        for params in params_list:
            listing = CustomerListing(user, tab, params)
            assert not listing.narrows_beyond_accounts
            yield tab.slug, params, listing.statistics(), listing_statistics(listing.filtered_queryset)


def test_unfiltered_band_equals_the_aggregate_band(shops, superuser):
    account, other_account = shops
    third = SellerAccount.objects.create(name="Shop C", channel=Channel.SHOPIFY, currency="USD")
    record_order(third, order_data("C1", email="hal@example.com", day=2, promo_codes=("Z",)))
    add_to_watchlist([customer_of("ada@example.com"), customer_of("eve@example.org")], superuser)
    # A new customer on every tab (a return, a promo code, watched): the live count has something to count.
    recent = order_data("C2", email="ivy@example.com", promo_codes=("NEW",))
    recent.placed_at = timezone.now()
    recent.lines[0].returned_quantity = 1
    record_order(third, recent)
    add_to_watchlist([customer_of("ivy@example.com")], superuser)
    params_list = [{}, {"account": [account.pk]}, {"account": [account.pk, third.pk]}, {"account": [other_account.pk]}]
    for slug, params, band, aggregate in band_pairs(superuser, params_list):
        assert band == aggregate, (slug, params)
    for tab in TABS:
        assert CustomerListing(superuser, tab.slug, {}).statistics()["new_customers"] == 1, tab.slug


def test_band_is_scoped_to_granted_enabled_accounts(shops):
    account, other_account = shops
    user = staff_user("viewer", {account: {"can_view": True}, other_account: {"can_view": True}})
    SellerAccount.objects.filter(pk=other_account.pk).update(is_enabled=False)
    for slug, params, band, aggregate in band_pairs(user, [{}, {"account": [other_account.pk]}]):
        assert band == aggregate, (slug, params)
    assert (
        CustomerListing(user, "all", {}).statistics()["customers"] == Customer.objects.filter(account=account).count()
    )
    assert CustomerListing(user, "all", {"account": [other_account.pk]}).statistics()["customers"] == 0


def test_filtered_band_is_still_the_aggregate(shops, superuser):
    listing = CustomerListing(superuser, "all", {"q": "dee@example.com"})
    assert listing.narrows_beyond_accounts
    assert listing.statistics()["customers"] == 1


AGGREGATE_ON_CUSTOMERS = re.compile(r"\b(SUM|COUNT)\s*\(", re.IGNORECASE)


@pytest.mark.parametrize("tab", TABS, ids=lambda tab: tab.slug)
def test_unfiltered_page_runs_no_aggregate_over_the_customers(admin_client, shops, tab):
    path = reverse(f"wagtail_customers:{tab.url_name}")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(path)
    assert response.status_code == 200
    aggregates = [
        query["sql"]
        for query in queries.captured_queries
        if AGGREGATE_ON_CUSTOMERS.search(query["sql"]) and CUSTOMER_TABLE in query["sql"]
    ]
    # Only the live "new customers" count, bounded by the (account, first_order_at) index.
    assert len(aggregates) == 1, aggregates
    assert "first_order_at" in aggregates[0]


# version_neutral: the summary's own bookkeeping over generated sequences; the tests above run each step at the floors.
@pytest.mark.version_neutral
@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["orders", "orders", "watch", "unwatch", "delete", "rebuild"]),
            st.integers(min_value=0, max_value=1),
            st.lists(orders(), min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_summary_equals_a_fresh_aggregate_after_random_sequences(steps):
    """Random sequences through the ingestion service (the statistics property test's orders), the
    watchlist, deletes and the rebuild, over two seller accounts in two currencies."""
    SellerAccount.objects.all().delete()
    accounts = [
        SellerAccount.objects.create(name="P", currency="USD"),
        SellerAccount.objects.create(name="Q", currency="EUR"),
    ]
    for action, which, batch in steps:
        account = accounts[which]
        customers = Customer.objects.filter(account=account).order_by("pk")
        if action == "orders":
            record_orders(account, batch, batch_size=3)
        elif action == "watch":
            add_to_watchlist(customers[: len(batch)], None)
        elif action == "unwatch":
            WatchlistEntry.objects.filter(customer__in=customers[: len(batch)]).delete()
        elif action == "delete" and customers:
            customers.filter(pk=customers[0].pk).delete()
        elif action == "rebuild":
            rebuild_statistics()
        assert_summary_is_fresh()


def test_compacting_folds_the_delta_rows_and_keeps_the_figures(shops, superuser):
    account, other_account = shops
    ada = customer_of("ada@example.com")
    for _ in range(30):
        add_to_watchlist([ada], superuser)
        WatchlistEntry.objects.filter(customer=ada).delete()
    before = stored_summary()
    other_rows = ListingSummary.objects.filter(account=other_account).count()
    compact_summary([account.pk])
    assert stored_summary() == before == fresh_summary()
    assert ListingSummary.objects.filter(account=account).count() == 4  # one row per segment
    assert ListingSummary.objects.filter(account=other_account).count() == other_rows  # not asked for
    compact_summary()
    assert stored_summary() == fresh_summary()


def test_reading_a_long_summary_compacts_it(shops, superuser):
    account, _ = shops
    ada = customer_of("ada@example.com")
    for _ in range(SUMMARY_ROWS_BEFORE_COMPACTING):
        add_to_watchlist([ada], superuser)
        WatchlistEntry.objects.filter(customer=ada).delete()
    listing = CustomerListing(superuser, "all", {"account": [account.pk]})
    band = listing.statistics()
    assert ListingSummary.objects.filter(account=account, segment="all").count() == 1
    assert band == listing.statistics() == listing_statistics(listing.filtered_queryset)
