"""An order recorded while the statistics rebuild runs keeps its place in the customer's figures.

The rebuild writes one range of customers with one ``UPDATE ... FROM (fresh figures)`` (services/statistics.py).
On PostgreSQL that statement reads the orders as they were when it started; a customer whose row it must write
but which the ingestion service holds (recording an order) is waited for, and then written with the figures read
before that order. PostgreSQL re-checks the statement's conditions on the row as it now is (its "EvalPlanQual"),
not the figures read from the orders, so without a guard the rebuild wrote the figures without the new order over
the service's. Each refresh by the service now increases the customer's ``statistics_version``, and the rebuild
writes a row only while it is still the version read with the figures. SQLite runs one writing transaction at a
time (``transaction_mode`` IMMEDIATE): the rebuild starts after the order commits and reads it.

Real threads, each with its own database connection.
"""

import threading

import pytest
from django.db import connection, transaction

from tests.factories import order_data
from tests.test_erasure_parallel import in_thread
from tests.test_watchlist_parallel import parallel_database  # noqa: F401 (the fixture)
from wagtail_customers.models import Channel, Customer, Order, SellerAccount
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.statistics import compute_statistics, rebuild_range

#: How long the recording keeps its transaction open on SQLite once the rebuild has started (it then waits).
HOLD_SECONDS = 1.5


def rebuild_waits_for_a_row():
    """Whether a rebuild's ``UPDATE`` waits for a row lock (PostgreSQL), else after a pause (SQLite shows no one
    who waits: its rebuild waits for the database's write lock)."""
    if connection.vendor != "postgresql":
        threading.Event().wait(HOLD_SECONDS)
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE%%'")
        return cursor.fetchone()[0] > 0


def record_while_rebuilding(account, orders):
    """Record ``orders`` in a transaction that commits once a rebuild of every customer waits for it."""
    recorded, committing, errors = threading.Event(), threading.Event(), []

    def record():
        with transaction.atomic():
            record_orders(account, orders)
            recorded.set()
            assert committing.wait(30), "the rebuild never waited"

    def rebuild():
        assert recorded.wait(30), "the order was never recorded"
        return rebuild_range(1, 10**9)

    threads = [in_thread(record, errors), in_thread(rebuild, errors)]
    waited = False
    try:
        for _attempt in range(300):
            waited = rebuild_waits_for_a_row()
            if waited or not threads[1].is_alive():
                break
            threading.Event().wait(0.1)
    finally:
        committing.set()
        for thread in threads:
            thread.join(60)
    assert not errors, errors
    # The case under test: the rebuild started before the order committed, and had to write the customer's row.
    assert waited


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

    record_while_rebuilding(account, [order_data("2", email="ada@example.com", day=2, lines=((3, "5.00"),))])

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

    record_while_rebuilding(account, [again])

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
