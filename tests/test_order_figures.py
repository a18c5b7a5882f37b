"""Each order's own figures (units, returned units, promo codes, feedback rating): written by the ingestion service
with the order, filled from the lines where missing or wrong, and what the customers' statistics sum."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail_customers.exports.orders import CustomerOrdersExport
from wagtail_customers.models import Customer, Feedback, Order, OrderLine, PromoCodeUsage
from wagtail_customers.models.orders import STATISTICS_COLUMNS
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.inputs import LineData
from wagtail_customers.services.order_figures import fill_order_figures
from wagtail_customers.services.statistics import _orders_aggregate, rebuild_statistics, refresh_statistics
from wagtail_customers.views.customer_page.orders import orders_table

from .factories import order_data

pytestmark = pytest.mark.django_db


def figures(external_id):
    return Order.objects.values_list(*Order.FIGURE_FIELDS).get(external_id=external_id)


def with_returns(data, returned):
    data.lines = [LineData(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price,
                           returned_quantity=returned) for line in data.lines]  # fmt: skip
    return data


def test_the_ingestion_service_writes_each_orders_figures_with_it(account):
    record_orders(
        account,
        [
            order_data("A1", lines=((2, "10.00"), (3, "5.00")), promo_codes=("WELCOME", "SPRING"), rating=2),
            order_data("A2", lines=((1, "10.00"),), status="cancelled", rating=5),
            order_data("A3", lines=()),
        ],
    )
    assert figures("A1") == (5, 0, 2, 2)
    assert figures("A2") == (1, 0, 0, 5)  # a cancelled order keeps its units; the statistics leave them out
    assert figures("A3") == (0, 0, 0, None)
    # Recorded again with a return, without its promo codes and feedback: the figures follow.
    record_orders(account, [with_returns(order_data("A1", lines=((2, "10.00"), (3, "5.00"))), 1)])
    assert figures("A1") == (5, 2, 0, None)
    ada = Customer.objects.get(email="ada@example.com")
    assert (ada.units, ada.returned_units, ada.promo_codes_used, ada.negative_feedbacks) == (5, 2, 0, 0)


def test_a_customers_statistics_are_one_query_over_the_orders(account):
    record_orders(account, [order_data("A1", promo_codes=("WELCOME",), rating=1)])
    ada = Customer.objects.get()
    Customer.objects.filter(pk=ada.pk).update(units=0, promo_codes_used=0, negative_feedbacks=0)
    with CaptureQueriesContext(connection) as queries:
        refresh_statistics([ada.pk])
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    # The customer locked and read, then one aggregate over the orders: no line, promo code or feedback read.
    assert len(reads) == 2
    assert not any(model._meta.db_table in reads[1] for model in (OrderLine, PromoCodeUsage, Feedback))
    ada.refresh_from_db()
    assert (ada.units, ada.promo_codes_used, ada.negative_feedbacks) == (2, 1, 1)


@pytest.mark.parametrize("update_from", [pytest.param(True, id="update-from"), pytest.param(False, id="temp-table")])
def test_missing_figures_are_filled_from_the_lines_and_only_those(account, update_from):
    if not update_from and connection.vendor != "sqlite":
        pytest.skip("the temporary-table form is SQLite's (before 3.33)")
    record_orders(
        account,
        [
            order_data("A1", lines=((2, "10.00"), (3, "5.00")), promo_codes=("WELCOME",), rating=1),
            order_data("A2", email="bob@example.com", lines=((4, "10.00"),)),
            order_data("A3", email="cy@example.com", lines=()),
        ],
    )
    # As an older release records them during a rolling deploy: no figures. And one wrong, which only a full fill
    # sees.
    Order.objects.filter(external_id__in=["A1", "A3"]).update(
        units=None, returned_units=None, promo_codes_count=None, feedback_rating=None
    )
    Order.objects.filter(external_id="A2").update(units=40)

    assert fill_order_figures(update_from=update_from) == 2
    assert (figures("A1"), figures("A3")) == ((5, 0, 1, 1), (0, 0, 0, None))
    assert figures("A2")[0] == 40
    assert fill_order_figures(update_from=update_from) == 0

    assert fill_order_figures(only_missing=False, update_from=update_from) == 1
    assert figures("A2") == (4, 0, 0, None)
    assert fill_order_figures(only_missing=False, update_from=update_from) == 0

    # More missing than a statement takes: the next ones are filled by the next statements.
    Order.objects.update(units=None, returned_units=None, promo_codes_count=None, feedback_rating=None)
    assert fill_order_figures(update_from=update_from, batch_size=2) == 3
    assert (figures("A1"), figures("A2"), figures("A3")) == ((5, 0, 1, 1), (4, 0, 0, None), (0, 0, 0, None))


def test_the_rebuild_fills_missing_figures_first_and_checks_every_order_when_asked(account):
    record_orders(account, [order_data("A1", lines=((2, "10.00"), (3, "5.00")), rating=2)])
    ada = Customer.objects.get()
    Order.objects.update(units=None, returned_units=None, promo_codes_count=None, feedback_rating=None)
    Customer.objects.update(units=0, negative_feedbacks=0)
    assert rebuild_statistics() == 1
    ada.refresh_from_db()
    assert (ada.units, ada.negative_feedbacks) == (5, 1)

    # Written behind the ingestion service's back: the orders' figures no longer say it, until checked.
    OrderLine.objects.update(returned_quantity=1)
    PromoCodeUsage.objects.create(order=Order.objects.get(), code="LATE")
    Feedback.objects.update(rating=5)
    assert rebuild_statistics() == 0
    assert rebuild_statistics(order_figures=True) == 1
    ada.refresh_from_db()
    assert (ada.returned_units, ada.promo_codes_used, ada.negative_feedbacks) == (2, 1, 0)


def test_the_rebuild_command_checks_the_orders_figures_when_asked(account):
    record_orders(account, [order_data("A1", lines=((2, "10.00"),))])
    OrderLine.objects.update(quantity=7)
    out = io.StringIO()
    call_command("customers_rebuild_stats", "--order-figures", stdout=out)
    assert out.getvalue().splitlines() == [
        "Order figures checked: 1 order(s) corrected.",
        "Statistics rebuilt: 1 customer row(s) corrected.",
    ]
    assert Customer.objects.get().units == 7


def test_the_orders_tab_and_the_orders_export_read_each_orders_units(account):
    """Both show the order's own units; an order an earlier release recorded without them (until the next
    rebuild fills them) shows its lines' quantities, in the table, its sort and the file."""
    record_orders(account, [order_data("A1", lines=((2, "10.00"), (3, "5.00"))), order_data("A2", day=3)])
    Order.objects.filter(external_id="A2").update(units=None)
    ada = Customer.objects.get()
    # Lines written around the service: the stored figure is what the order shows, as the statistics sum it.
    OrderLine.objects.filter(order__external_id="A1").update(quantity=9)

    table, _page = orders_table(ada, ordering="-units", page_number=1, per_page=10, can_email=False)
    assert [(order.external_id, order.units_count) for order in table.data] == [("A1", 5), ("A2", 2)]
    table, _page = orders_table(ada, ordering="units", page_number=1, per_page=10, can_email=False)
    assert [order.external_id for order in table.data] == ["A2", "A1"]

    export = CustomerOrdersExport(ada, None)
    units = export.field_names.index("units")
    with CaptureQueriesContext(connection) as queries:
        rows = list(export.rows())
    assert [row[units] for row in rows] == [2, 5]  # newest first: A2, then A1
    assert len(queries.captured_queries) == 3


def test_a_customers_statistics_are_summed_from_an_index_alone(account):
    """The aggregate reads only columns the index of a customer's orders holds (models/orders.py,
    ``STATISTICS_COLUMNS``): a statistic summing another column of the orders needs it added there. SQLite then
    reads that index alone; PostgreSQL plans an index-only scan where the table's pages are all-visible."""
    record_orders(account, [order_data("A1")])
    sql, params = _orders_aggregate({"gte": 1, "lt": 1000}).query.sql_with_params()
    table = Order._meta.db_table
    read = {Order._meta.get_field(name).column for name in ("customer", "id", "placed_at", *STATISTICS_COLUMNS)}
    [index] = [index for index in Order._meta.indexes if index.name == "wc_order_customer_figures"]
    assert read == {Order._meta.get_field(name.lstrip("-")).column for name in index.fields}
    assert set(re.findall(rf'"{table}"\."(\w+)"', sql)) == read
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            assert "USING COVERING INDEX wc_order_customer_figures" in str(cursor.fetchall())
