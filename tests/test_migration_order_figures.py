"""Migrations 0028-0030: each order's figures (units, returned units, promo codes, feedback rating), added without
rewriting the orders' table (0028), filled from the orders' lines, promo codes and feedback (0029), and the index of
orders still without figures built CONCURRENTLY on PostgreSQL (0030)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import order_data
from tests.migration_support import back_to_the_latest_schema, migrate  # noqa: F401 (a fixture)
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.statistics import rebuild_statistics

BEFORE = [("wagtail_customers", "0027_saved_view_name_key")]
AFTER = [("wagtail_customers", "0030_order_figures_missing_index")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_stored_orders_get_their_figures_and_the_statistics_stay_the_same():
    apps = migrate(BEFORE)
    SellerAccount, Customer, Order, OrderLine, PromoCodeUsage, Feedback = (
        apps.get_model("wagtail_customers", name)
        for name in ("SellerAccount", "Customer", "Order", "OrderLine", "PromoCodeUsage", "Feedback")
    )
    account = SellerAccount.objects.create(name="Shop", currency="EUR")
    # The figures the lines, promo codes and feedback below give, as the statistics then kept them.
    placed = timezone.make_aware(datetime.datetime(2024, 1, 5, 12))
    ada = Customer.objects.create(
        account=account, identity_key="email:ada@example.com", orders_count=3, units=5, returned_units=3,
        promo_codes_used=2, negative_feedbacks=1, amount_spent=Decimal("30.00"), first_order_at=placed,
        last_order_at=placed,
    )  # fmt: skip

    def order(number, status="paid"):
        return Order.objects.create(
            account=account, customer=ada, external_id=number, placed_at=placed, currency="EUR", status=status,
            subtotal=Decimal("10"), total=Decimal("10"), account_total=Decimal("10"), account_refunded=0, refunded=0,
        )  # fmt: skip

    first, cancelled = order("1"), order("2", status="cancelled")
    order("3")  # no lines, promo codes or feedback
    for quantity, returned in ((2, 1), (3, 0)):
        OrderLine.objects.create(order=first, quantity=quantity, returned_quantity=returned, unit_price=1, line_total=1)
    OrderLine.objects.create(order=cancelled, quantity=4, returned_quantity=2, unit_price=1, line_total=1)
    PromoCodeUsage.objects.create(order=first, code="WELCOME", discount=1)
    PromoCodeUsage.objects.create(order=first, code="SPRING", discount=1)
    Feedback.objects.create(order=first, rating=2)
    Feedback.objects.create(order=cancelled, rating=4)

    with CaptureQueriesContext(connection) as forwards:
        apps = migrate(AFTER)
    Order = apps.get_model("wagtail_customers", "Order")
    fields = ("units", "returned_units", "promo_codes_count", "feedback_rating")
    assert {row[0]: row[1:] for row in Order.objects.values_list("external_id", *fields)} == {
        "1": (5, 1, 2, 2),
        "2": (4, 2, 0, 4),
        "3": (0, 0, 0, None),
    }
    # Neither database remade the orders' table to add the columns; PostgreSQL built the index concurrently.
    assert not [q["sql"] for q in forwards if "CREATE TABLE" in q["sql"]]
    (created,) = [q["sql"] for q in forwards if "wc_order_figures_missing" in q["sql"] and "CREATE INDEX" in q["sql"]]
    assert ("CONCURRENTLY" in created) == (connection.vendor == "postgresql")

    migrate(MigrationLoader(connection).graph.leaf_nodes())
    assert rebuild_statistics() == 0  # the statistics summed from the orders' figures are the ones kept


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_a_fill_stopped_part_way_goes_on_when_migrate_runs_again(account):
    record_orders(account, [order_data("1", lines=((2, "5.00"),)), order_data("2", lines=((3, "5.00"),), rating=1)])
    apps = migrate([("wagtail_customers", "0028_order_figures")])
    Order = apps.get_model("wagtail_customers", "Order")
    # As a first run of 0029 leaves them when stopped after its first range: that one filled, the next not.
    Order.objects.update(units=None, returned_units=None, promo_codes_count=None, feedback_rating=None)
    Order.objects.filter(external_id="1").update(units=2, returned_units=0, promo_codes_count=0)

    apps = migrate(AFTER)
    Order = apps.get_model("wagtail_customers", "Order")
    fields = ("units", "returned_units", "promo_codes_count", "feedback_rating")
    assert {row[0]: row[1:] for row in Order.objects.values_list("external_id", *fields)} == {
        "1": (2, 0, 0, None),
        "2": (3, 0, 0, 1),
    }
