"""The demo data looks like a real shop (issue 12): dates up to now, no customer with a large share of the
orders, refunds never above what was paid, a second currency on one account, countries as ISO codes."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from tests.listing_support import row_ids
from wagtail_customers.countries import is_country_code
from wagtail_customers.demo.generator import (
    ACCOUNTS,
    CHANNEL_FIGURES_DAYS,
    SECOND_CURRENCY,
    generate_orders,
    max_orders_per_customer,
)
from wagtail_customers.exchange_rates import rate_for
from wagtail_customers.listing import listing_statistics
from wagtail_customers.models import Customer, Order, RateSource
from wagtail_customers.services.conversion import in_account_currency, rate_date

END = datetime(2026, 11, 20, 9, tzinfo=UTC)
MILESTONES = ("paid_at", "shipped_at", "delivered_at", "cancelled_at", "returned_at", "refunded_at")


@pytest.fixture(scope="module")
def demo():
    """The command's default size, generated (not stored): ``[(account index, OrderData), ...]``."""
    return list(generate_orders(2000, 10000, seed=1, end=END))


def fingerprint(orders):
    return [(account, o.external_id, o.placed_at, o.total, o.refunded, o.customer.email) for account, o in orders]


def test_the_same_seed_and_end_give_the_same_data(demo):
    assert fingerprint(generate_orders(2000, 10000, seed=1, end=END)) == fingerprint(demo)
    assert fingerprint(generate_orders(2000, 10000, seed=2, end=END)) != fingerprint(demo)


def test_dates_run_up_to_now_with_orders_in_the_last_days(demo):
    placed = [order.placed_at for _, order in demo]
    assert placed == sorted(placed)
    assert END - timedelta(days=730) <= placed[0] and placed[-1] <= END
    assert END - placed[-1] < timedelta(hours=12)
    assert sum(1 for moment in placed if moment > END - timedelta(days=3)) >= 10
    first_orders = {}
    for _, order in demo:
        first_orders.setdefault(order.customer.email, order.placed_at)
    assert sum(1 for moment in first_orders.values() if moment > END - timedelta(days=30)) >= 20
    # No milestone in the future; recent orders are not delivered yet, nor returned.
    for _, order in demo:
        moments = [getattr(order, name) for name in MILESTONES if getattr(order, name)]
        assert all(order.placed_at <= moment <= END for moment in moments), order.external_id
        if order.returned_at:
            assert order.delivered_at and order.delivered_at <= order.returned_at
    assert {order.status for _, order in demo if order.placed_at > END - timedelta(hours=20)} <= {"paid", "cancelled"}


def test_no_customer_holds_a_large_share_of_the_orders(demo):
    per_customer = Counter(order.customer.email for _, order in demo)
    assert len(per_customer) == 2000
    assert max(per_customer.values()) <= max_orders_per_customer(2000, 10000) == 50  # 0.5 % of the orders
    # Still a long tail: many buy once, some come back often.
    assert 0.3 < sum(1 for count in per_customer.values() if count == 1) / 2000 < 0.5
    assert sum(1 for count in per_customer.values() if count >= 20) >= 20
    small = Counter(order.customer.email for _, order in generate_orders(150, 600, seed=7, end=END))
    assert max(small.values()) / 600 <= 0.02


def test_refunds_never_exceed_what_was_paid(demo):
    for _, order in demo:
        assert 0 <= order.refunded <= order.total, order.external_id
        if order.account_total is not None:
            assert order.account_refunded <= order.account_total
    statuses = Counter(order.status for _, order in demo)
    assert statuses["returned"] and statuses["cancelled"] and statuses["partially_refunded"]


def test_one_account_takes_a_share_of_its_orders_in_a_second_currency(demo):
    currencies = {index: Counter() for index in range(len(ACCOUNTS))}
    for account, order in demo:
        currencies[account][order.currency] += 1
    for index, account in enumerate(ACCOUNTS):
        expected = {account["currency"]}
        if index == SECOND_CURRENCY["account"]:
            expected.add(SECOND_CURRENCY["currency"])
        assert set(currencies[index]) == expected
    shopify = currencies[SECOND_CURRENCY["account"]]
    assert 0.08 < shopify[SECOND_CURRENCY["currency"]] / shopify.total() < 0.22
    # Recent ones carry the channel's own figures; older ones are left to the rate table.
    for account, order in demo:
        recent = order.placed_at >= END - timedelta(days=CHANNEL_FIGURES_DAYS)
        second = order.currency != ACCOUNTS[account]["currency"]
        assert (order.account_total is not None) == (second and recent)


def test_ids_and_places_look_like_the_channels(demo):
    ids = Counter((account, order.external_id) for account, order in demo)
    assert max(ids.values()) == 1
    shopify = [order.external_id for account, order in demo if account == SECOND_CURRENCY["account"]]
    assert shopify[:3] == ["#1001", "#1002", "#1003"]
    assert all(is_country_code(order.ship_to.country) for _, order in demo)
    assert len({order.ship_to.country for _, order in demo}) >= 8


@pytest.mark.django_db
def test_the_loaded_demo_converts_the_second_currency_and_finds_its_buyers(admin_client):
    call_command("customers_demo_data", "--customers", "150", "--orders", "600", "--seed", "3")
    assert listing_statistics(Customer.objects.all())["new_customers"] > 0
    assert all(is_country_code(country) for country in Customer.objects.values_list("country", flat=True))
    second = Order.objects.filter(currency=SECOND_CURRENCY["currency"], account__name="Shopify EU")
    assert second.exists()
    for order in second:
        assert order.refunded <= order.total
        if order.rate_source != RateSource.UNKNOWN:
            assert order.account_refunded <= order.account_total
        if order.rate_source == RateSource.CHANNEL:
            continue
        # Older orders: the ingestion service's table rate of the order's date, or "unknown" when the installed
        # table has none (an old table under the lowest versions).
        rate = rate_for(order.currency, "EUR", rate_date(order.placed_at))
        if rate is None:
            assert order.rate_source == RateSource.UNKNOWN
        else:
            assert (order.rate_source, order.account_total) == (
                RateSource.TABLE,
                in_account_currency(order.total, rate, "EUR"),
            )
    assert second.filter(rate_source=RateSource.CHANNEL).exists()
    # A Shopify order id finds its buyer, with or without the "#".
    order = Order.objects.get(account__name="Shopify EU", external_id="#1046")
    for term in ("#1046", "1046"):
        assert row_ids(admin_client.get("/admin/customers/", {"q": term})) == [order.customer_id]
