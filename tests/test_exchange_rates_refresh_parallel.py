"""Orders written while the orders without a rate are being converted keep what they were written with.

``convert_unconverted_orders`` reads a chunk of orders, converts them in Python, then writes them. An order the
ingestion service records again in between (new amounts, converted then at the table in use) was written over with
the conversion of its old amounts, and so was an order another refresh converted meanwhile. The write is now
guarded on the order's ``updated_at``, its customer and its rate still being unknown, so an order written or moved
meanwhile is left for the next refresh, and the customers refreshed are those locked before the write. (The refresh
now waits for the customer's lock rather than the order's.) Real threads, each with its own database connection;
the stored rate table goes to the tests' private storage (conftest's ``_media_root``).
"""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.factories import order_data
from tests.parallel_support import assert_every_customer_counts_its_own_orders, record_while
from tests.test_exchange_rates_refresh import days, ecb_csv, placed  # noqa: F401 (days: the fixture)
from tests.test_watchlist_parallel import parallel_database  # noqa: F401 (the fixture)
from wagtail_customers.exchange_rates import store_rate_table
from wagtail_customers.models import Channel, Customer, Order, RateSource, SellerAccount
from wagtail_customers.services.ingestion import record_order
from wagtail_customers.services.merge import merge_customers
from wagtail_customers.services.rate_refresh import convert_unconverted_orders
from wagtail_customers.services.statistics import compute_statistics

CENT = Decimal("0.01")


def usd_order(day, amount):
    data = order_data("1", lines=((1, amount),), currency="USD")
    data.placed_at = placed(day)
    return data


@pytest.mark.django_db(transaction=True)
def test_an_order_recorded_again_during_the_conversion_keeps_its_new_amounts(parallel_database, days):  # noqa: F811
    account = SellerAccount.objects.create(name="EU shop", channel=Channel.SHOPIFY, currency="EUR")
    record_order(account, usd_order(days[0], "110.00"))
    assert Order.objects.get().rate_source == RateSource.UNKNOWN
    # The table that knows the day's rate, stored without converting anything yet.
    store_rate_table(ecb_csv(days), "eurofxref-hist.csv")
    results = []

    # Recorded again at 120.00 (converted then) while the conversion, which read it at 110.00, waits to write it.
    record_while(lambda: results.append(convert_unconverted_orders()), account, [usd_order(days[0], "120.00")])

    order = Order.objects.get()
    rate = 1 / Decimal("1.1")
    assert order.rate_source == RateSource.TABLE
    assert order.total == Decimal("120.00")
    assert order.account_total == (Decimal("120.00") * rate).quantize(CENT, ROUND_HALF_UP)
    assert results[0].orders_converted == 0
    customer = Customer.objects.get()
    assert {name: getattr(customer, name) for name in compute_statistics({"in": [customer.pk]})[customer.pk]} == (
        compute_statistics({"in": [customer.pk]})[customer.pk]
    )
    assert customer.unconverted_orders == 0 and customer.amount_spent == order.account_total


@pytest.mark.django_db(transaction=True)
def test_an_order_another_refresh_converts_meanwhile_keeps_that_conversion(parallel_database, days):  # noqa: F811
    account = SellerAccount.objects.create(name="EU shop", channel=Channel.SHOPIFY, currency="EUR")
    record_order(account, usd_order(days[0], "110.00"))
    store_rate_table(ecb_csv(days), "eurofxref-hist.csv")
    results = []

    def converted_by_another_refresh():
        # What a refresh with another table writes (the conversion's own write leaves updated_at alone).
        Order.objects.update(rate_source=RateSource.TABLE, exchange_rate=Decimal("0.5"), account_total=Decimal("55.00"))

    record_while(lambda: results.append(convert_unconverted_orders()), account, [], hold=converted_by_another_refresh)

    order = Order.objects.get()
    assert (order.exchange_rate, order.account_total) == (Decimal("0.5"), Decimal("55.00"))
    assert results[0].orders_converted == 0


@pytest.mark.django_db(transaction=True)
def test_an_order_a_merge_moves_meanwhile_waits_for_the_next_refresh(parallel_database, days):  # noqa: F811
    account = SellerAccount.objects.create(name="EU shop", channel=Channel.SHOPIFY, currency="EUR")
    record_order(account, order_data("2", email="ada@example.com", lines=((1, "50.00"),)))
    moved = usd_order(days[0], "110.00")
    moved.customer.email = "ada.l@example.com"
    record_order(account, moved)
    kept, merged = Customer.objects.order_by("pk")
    store_rate_table(ecb_csv(days), "eurofxref-hist.csv")
    results = []

    # The seller merges the second address into Ada while the refresh, which read the order as the merged
    # customer's, waits for that customer.
    record_while(
        lambda: results.append(convert_unconverted_orders()), account, [], hold=lambda: merge_customers(kept, merged)
    )

    # Left for the next refresh: converted then, the refresh would have refreshed the merged customer (gone) and
    # not Ada, whose amount spent would have missed the order.
    assert results[0].orders_converted == 0
    assert_every_customer_counts_its_own_orders()
    assert convert_unconverted_orders().orders_converted == 1
    kept.refresh_from_db()
    converted = Order.objects.get(external_id="1").account_total
    assert kept.unconverted_orders == 0 and kept.amount_spent == Decimal("50.00") + converted
    assert_every_customer_counts_its_own_orders()
