"""Orders recorded while the statistics and the listing summary are rebuilt keep their place in both.

The rebuild writes one range of customers with one ``UPDATE ... FROM (fresh figures)`` (services/statistics.py).
On PostgreSQL that statement reads the orders as they were when it started; a customer whose row it must write
but which the ingestion service holds (recording an order) is waited for, and then written with the figures read
before that order. PostgreSQL re-checks the statement's conditions on the row as it now is (its "EvalPlanQual"),
not the figures read from the orders, so without a guard the rebuild wrote the figures without the new order over
the service's. Each refresh by the service now moves the customer's ``statistics_version`` on, and the rebuild
writes a row only while it is still the version read with the figures. The listing summary's rebuild deleted its
rows and summed the customers in two statements, so an order committed in between was counted twice; it is one
statement now. SQLite runs one writing transaction at a time (``transaction_mode`` IMMEDIATE): a rebuild starts
after the order commits and reads it.

Real threads, each with its own database connection.
"""

import threading

import pytest
from django.db import connection, transaction

from tests.factories import order_data
from tests.parallel_support import in_thread, record_while
from tests.test_listing_summary import fresh_summary, stored_summary
from tests.test_watchlist_parallel import parallel_database  # noqa: F401 (the fixture)
from wagtail_customers.models import Channel, Customer, ListingSummary, Order, SellerAccount
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.listing_summary import SUMMARY_LOCK_KEY, compact_summary, rebuild_summary
from wagtail_customers.services.order_figures import fill_order_figures
from wagtail_customers.services.statistics import compute_statistics, rebuild_range


def rebuild_everyone():
    rebuild_range(1, 10**9)


def figures(customer):
    customer.refresh_from_db()
    return {name: getattr(customer, name) for name in compute_statistics({"in": [customer.pk]})[customer.pk]}


@pytest.mark.django_db(transaction=True)
def test_an_order_recorded_during_the_rebuild_is_not_written_over(parallel_database):  # noqa: F811
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    record_orders(account, [order_data("1", email="ada@example.com")])
    customer = Customer.objects.get()
    # Wrong figures (written behind the service's back): the rebuild must write this customer's row.
    Customer.objects.filter(pk=customer.pk).update(orders_count=7, units=70)

    record_while(rebuild_everyone, account, [order_data("2", email="ada@example.com", day=2, lines=((3, "5.00"),))])

    assert figures(customer) == compute_statistics({"in": [customer.pk]})[customer.pk]
    assert (customer.orders_count, customer.units) == (2, 5)


@pytest.mark.django_db(transaction=True)
def test_an_order_recorded_again_during_the_rebuild_keeps_its_figures(parallel_database):  # noqa: F811
    # The figures already count an order deleted behind the service's back; the rebuild reads it gone, and the
    # sync records it again meanwhile. The service's refresh then finds nothing to change, and the rebuild must
    # still not write the figures without it (one of the cases a guard on the figures alone could not see).
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    again = order_data("2", email="ada@example.com", day=2)
    record_orders(account, [order_data("1", email="ada@example.com"), again])
    customer = Customer.objects.get()
    Order.objects.filter(external_id="2").delete()

    record_while(rebuild_everyone, account, [again])

    assert figures(customer) == compute_statistics({"in": [customer.pk]})[customer.pk]
    assert customer.orders_count == 2


@pytest.mark.django_db
def test_the_version_moves_on_with_each_order_written_and_only_then(account):
    first, second = order_data("1", email="ada@example.com"), order_data("2", email="ada@example.com", day=2)

    def version():
        return Customer.objects.values_list("statistics_version", flat=True).get()

    record_orders(account, [first])
    assert version() == 1
    record_orders(account, [first])  # the same order again: nothing written, nothing moved on
    assert version() == 1
    record_orders(account, [second])
    assert version() == 2
    # Deleted behind the service's back and recorded again: the figures come out the same, the version moves on.
    figures_before = Customer.objects.values_list(*Customer.STATISTICS_FIELDS).get()
    Order.objects.filter(external_id="2").delete()
    record_orders(account, [second])
    assert Customer.objects.values_list(*Customer.STATISTICS_FIELDS).get() == figures_before
    assert version() == 3


@pytest.mark.django_db(transaction=True)
def test_an_order_recorded_during_the_summary_s_rebuild_is_counted_once(parallel_database):  # noqa: F811
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    record_orders(account, [order_data("1", email="ada@example.com"), order_data("2", email="bob@example.com")])

    def lock_a_summary_row():
        # The rebuild's DELETE meets it and waits: the order's delta rows commit while the rebuild runs.
        # The oldest row: one committed before this transaction (its own delta rows come after).
        list(ListingSummary.objects.select_for_update().filter(account=account).order_by("pk")[:1])

    record_while(rebuild_summary, account, [order_data("3", email="cy@example.com")], hold=lock_a_summary_row)

    # Before, on PostgreSQL, the rebuild summed the customers after the order committed and kept its delta rows too.
    assert stored_summary() == fresh_summary()
    assert stored_summary()[(account.pk, "all")]["customers"] == 3


@pytest.mark.django_db(transaction=True)
def test_a_compaction_while_the_summary_is_rebuilt_is_left_for_later(parallel_database):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time; the lock is PostgreSQL's")
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    for number in range(3):
        record_orders(account, [order_data(str(number), email=f"c{number}@example.com")])
    rows = ListingSummary.objects.count()
    rebuilding, done, errors = threading.Event(), threading.Event(), []

    def hold_the_rebuild_s_lock():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SUMMARY_LOCK_KEY])
            rebuilding.set()
            assert done.wait(30)

    thread = in_thread(hold_the_rebuild_s_lock, errors)
    try:
        assert rebuilding.wait(30)
        compact_summary()  # does not wait, folds nothing
        assert ListingSummary.objects.count() == rows
    finally:
        done.set()
        thread.join(30)
    assert not errors, errors
    compact_summary()
    assert ListingSummary.objects.count() < rows
    assert stored_summary() == fresh_summary()


@pytest.mark.django_db(transaction=True)
def test_an_order_recorded_again_while_the_orders_figures_are_checked_keeps_its_figures(parallel_database):  # noqa: F811
    # The check (``customers_rebuild_stats --order-figures``) must write this order (its figures are wrong), which the
    # service holds while recording it again with other lines. Were the figures read before the service's commit,
    # PostgreSQL would write them over the new ones (its re-check sees the row's new figures differ from them too);
    # the check locks the orders first, then reads the lines as they are once it holds them.
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    record_orders(account, [order_data("1", email="ada@example.com", lines=((2, "5.00"),))])
    Order.objects.update(units=99)
    again = order_data("1", email="ada@example.com", lines=((3, "5.00"), (1, "2.00")), promo_codes=("LATE",))

    record_while(lambda: fill_order_figures(only_missing=False), account, [again])

    assert Order.objects.values_list(*Order.FIGURE_FIELDS).get() == (4, 0, 1, None)
    assert Customer.objects.values_list("units", "promo_codes_used").get() == (4, 1)
