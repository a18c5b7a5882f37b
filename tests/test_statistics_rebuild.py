"""The set-based statistics rebuild puts back every figure, writes only the rows that differ and runs the same
number of queries whatever the number of customers: the one-process rebuild (one read of every customer's figures
into a table of the corrections, then one UPDATE) and a range's (one statement; the chunks of the rebuild on
several workers).

Both of their SQL forms run here: ``UPDATE ... FROM`` (PostgreSQL, SQLite 3.33+) and, on SQLite, the row-value
form used by SQLite 3.31-3.32.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.factories import order_data
from wagtail_customers.models import Customer, Order
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.statistics import (
    EMPTY,
    _rebuild_in_one_read,
    compute_statistics,
    read_corrections,
    rebuild_range,
    rebuild_statistics,
    write_corrections,
)

pytestmark = pytest.mark.django_db

FORMS = [pytest.param(True, id="update-from"), pytest.param(False, id="row-values")]
WAYS = [pytest.param("one-read", id="one-read"), pytest.param("range", id="range")]


def _form(update_from):
    if not update_from and connection.vendor != "sqlite":
        pytest.skip("the row-value form is SQLite's")
    return update_from


def _rebuild(way, update_from):
    """Every customer rebuilt the one-process way (its write, without the summary) or as one range."""
    if way == "one-read":
        return _rebuild_in_one_read(connection, None, update_from=update_from)
    return rebuild_range(0, 10**9, update_from=update_from)


def _orders():
    """Orders exercising every figure: lines, cancellations, returns, refunds, discounts, promo codes,
    negative and positive feedback, an order in a currency no rate table knows."""
    return [
        order_data("1", email="a@example.com", lines=((2, "10.00"), (1, "3.33")), discount="1.10", promo_codes=["X"]),
        order_data("2", email="a@example.com", day=3, status="cancelled", lines=((5, "1.00"),), rating=1),
        order_data("3", email="a@example.com", day=9, refunded="2.50", rating=5, promo_codes=["Y", "Z"]),
        order_data("4", email="b@example.com", day=1, lines=((1, "0.10"), (2, "0.20")), rating=2),
        order_data("5", email="c@example.com", day=2, currency="XTS", lines=((1, "99.99"),)),
        order_data("6", email="c@example.com", day=4, lines=((3, "33.33"),), discount="0.01"),
        order_data("7", email="gone@example.com", day=5),
    ]


def _figures(queryset=None):
    queryset = Customer.objects.all() if queryset is None else queryset
    return {row[0]: row[1:] for row in queryset.order_by("pk").values_list("pk", *Customer.STATISTICS_FIELDS)}


@pytest.fixture
def recorded(account):
    record_orders(account, _orders())
    # A customer whose orders were deleted behind the service's back: the rebuild gives it the empty figures.
    Order.objects.filter(external_id="7").delete()
    return account


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("update_from", FORMS)
def test_rebuild_puts_back_every_figure_and_writes_only_changed_rows(recorded, update_from, way):
    update_from = _form(update_from)
    gone = Customer.objects.get(email="gone@example.com")
    assert _rebuild(way, update_from) == 1  # only the customer whose orders were deleted
    assert _figures(Customer.objects.filter(pk=gone.pk))[gone.pk] == tuple(EMPTY.values())
    fresh = _figures()
    assert Customer.objects.filter(unconverted_orders=1).count() == 1
    assert Customer.objects.filter(negative_feedbacks=0).count() == 2

    # Every field of every customer wrong, dates to NULL or moved, amounts off by a cent.
    Customer.objects.update(
        orders_count=7,
        units=-1,
        amount_spent=Decimal("0.01"),
        discount_total=Decimal("12.34"),
        unconverted_orders=3,
        promo_codes_used=9,
        negative_feedbacks=9,
        returned_units=9,
        first_order_at=None,
        last_order_at=None,
    )
    assert _rebuild(way, update_from) == len(fresh)
    assert _figures() == fresh
    assert _rebuild(way, update_from) == 0

    # One field, one customer: only that row is written.
    some = Customer.objects.filter(orders_count__gt=0).first()
    Customer.objects.filter(pk=some.pk).update(last_order_at=some.last_order_at + timedelta(seconds=1))
    assert _rebuild(way, update_from) == 1
    assert _figures() == fresh


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("update_from", FORMS)
def test_rebuild_equals_the_figures_the_ingestion_service_keeps(recorded, update_from, way):
    update_from = _form(update_from)
    Order.objects.filter(external_id="7").delete()
    Customer.objects.filter(email="gone@example.com").delete()
    kept = _figures()
    computed = compute_statistics({"gte": 0})
    assert kept == {pk: tuple(computed[pk].values()) for pk in kept}
    assert _rebuild(way, update_from) == 0


def test_rebuild_of_one_account_leaves_the_others(recorded, other_account):
    record_orders(other_account, [order_data("1", email="z@example.com")])
    Customer.objects.update(orders_count=42)
    assert rebuild_statistics(account=recorded) == Customer.objects.filter(account=recorded).count()
    assert Customer.objects.get(account=other_account).orders_count == 42
    assert set(Customer.objects.filter(account=recorded).values_list("orders_count", flat=True)) == {0, 1, 2, 3}
    assert rebuild_statistics() == 1


def test_rebuild_queries_do_not_grow_with_the_customers(account):
    record_orders(account, [order_data(str(i), email=f"{i}@example.com") for i in range(3)])
    with CaptureQueriesContext(connection) as few:
        assert rebuild_statistics() == 0
    record_orders(account, [order_data(str(i), email=f"{i}@example.com") for i in range(3, 30)])
    Customer.objects.update(orders_count=0)
    with CaptureQueriesContext(connection) as many:
        assert rebuild_statistics() == 30
    assert len(many) == len(few)
    assert set(Customer.objects.values_list("orders_count", flat=True)) == {1}


@pytest.mark.parametrize("update_from", FORMS)
def test_a_customer_whose_figures_changed_after_the_read_keeps_them(recorded, update_from):
    """An order recorded between the read and the write: the ingestion service refreshed that customer from all
    its orders, so the figures read before are older and are not written; the other corrections are."""
    update_from = _form(update_from)
    Customer.objects.update(orders_count=99)
    later = order_data("8", email="a@example.com", day=20)
    with transaction.atomic(), connection.cursor() as cursor:
        read_corrections(cursor)
        record_orders(recorded, [later])
        corrected = write_corrections(cursor, update_from=update_from)
    assert corrected == Customer.objects.count() - 1
    assert Customer.objects.get(email="a@example.com").orders_count == 4  # three, and the one recorded later
    assert _rebuild("range", update_from) == 0
    # The table went with the write: another read creates it again.
    assert _rebuild_in_one_read(connection, None, update_from=update_from) == 0
