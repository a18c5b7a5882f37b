"""The set-based statistics rebuild: one UPDATE per range of customer ids puts back every figure,
writes only the rows that differ and runs the same number of queries whatever the number of customers.

Both of its SQL forms run here: ``UPDATE ... FROM`` (PostgreSQL, SQLite 3.33+) and, on SQLite, the
temporary-table form used by SQLite 3.31-3.32.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Max, Min
from django.test.utils import CaptureQueriesContext

from tests.factories import order_data
from wagtail_customers.models import Customer, Order
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.statistics import EMPTY, compute_statistics, rebuild_range, rebuild_statistics

pytestmark = pytest.mark.django_db

FORMS = [pytest.param(True, id="update-from"), pytest.param(False, id="temp-table")]


def _form(update_from):
    if not update_from and connection.vendor != "sqlite":
        pytest.skip("the temporary-table form is SQLite's")
    return update_from


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


@pytest.mark.parametrize("update_from", FORMS)
def test_rebuild_puts_back_every_figure_and_writes_only_changed_rows(recorded, update_from):
    update_from = _form(update_from)
    gone = Customer.objects.get(email="gone@example.com")
    assert rebuild_range(0, 10**9, update_from=update_from) == 1  # only the customer whose orders were deleted
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
    assert rebuild_range(0, 10**9, update_from=update_from) == len(fresh)
    assert _figures() == fresh
    assert rebuild_range(0, 10**9, update_from=update_from) == 0

    # One field, one customer: only that row is written.
    some = Customer.objects.filter(orders_count__gt=0).first()
    Customer.objects.filter(pk=some.pk).update(last_order_at=some.last_order_at + timedelta(seconds=1))
    assert rebuild_range(0, 10**9, update_from=update_from) == 1
    assert _figures() == fresh


@pytest.mark.parametrize("update_from", FORMS)
def test_rebuild_equals_the_figures_the_ingestion_service_keeps(recorded, update_from):
    update_from = _form(update_from)
    Order.objects.filter(external_id="7").delete()
    Customer.objects.filter(email="gone@example.com").delete()
    kept = _figures()
    computed = compute_statistics({"gte": 0})
    assert kept == {pk: tuple(computed[pk].values()) for pk in kept}
    assert rebuild_range(0, 10**9, update_from=update_from) == 0


def test_rebuild_of_one_account_leaves_the_others(recorded, other_account):
    record_orders(other_account, [order_data("1", email="z@example.com")])
    Customer.objects.update(orders_count=42)
    assert rebuild_statistics(account=recorded) == Customer.objects.filter(account=recorded).count()
    assert Customer.objects.get(account=other_account).orders_count == 42
    assert set(Customer.objects.filter(account=recorded).values_list("orders_count", flat=True)) == {0, 1, 2, 3}
    assert rebuild_statistics() == 1


def _three_ranges():
    """A range size that splits the customers' ids into three ranges."""
    bounds = Customer.objects.aggregate(low=Min("pk"), high=Max("pk"))
    return (bounds["high"] - bounds["low"]) // 3 + 1


def test_rebuild_ranges_cover_every_customer_and_queries_do_not_grow(account):
    record_orders(account, [order_data(str(i), email=f"{i}@example.com") for i in range(3)])
    with CaptureQueriesContext(connection) as few:
        assert rebuild_statistics(id_range=_three_ranges()) == 0
    record_orders(account, [order_data(str(i), email=f"{i}@example.com") for i in range(3, 30)])
    Customer.objects.update(orders_count=0)
    with CaptureQueriesContext(connection) as many:
        assert rebuild_statistics(id_range=_three_ranges()) == 30
    assert len(many) == len(few)
    assert set(Customer.objects.values_list("orders_count", flat=True)) == {1}
