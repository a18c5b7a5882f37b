"""Migration 0019 adds the average order value and the return rate as stored generated columns to a customers table
that already has rows (SQLite refuses to add a stored column to such a table with ALTER TABLE), and the database
fills them for the rows already there."""

from decimal import Decimal

import pytest

from tests.migration_support import back_to_the_latest_schema, migrate  # noqa: F401 (a fixture)

BEFORE = [("wagtail_customers", "0018_alerts")]
AFTER = [("wagtail_customers", "0019_customer_figures")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_the_figures_are_added_to_existing_customers_and_computed_for_them():
    apps = migrate(BEFORE)
    SellerAccount = apps.get_model("wagtail_customers", "SellerAccount")
    Customer = apps.get_model("wagtail_customers", "Customer")
    account = SellerAccount.objects.create(name="Shop", currency="EUR")
    Customer.objects.create(
        account=account,
        identity_key="email:a@example.com",
        orders_count=3,
        unconverted_orders=1,
        amount_spent=Decimal("66.00"),
        units=35,
        returned_units=1,
    )
    Customer.objects.create(account=account, identity_key="email:b@example.com")
    apps = migrate(AFTER)
    Customer = apps.get_model("wagtail_customers", "Customer")
    figures = dict(Customer.objects.values_list("identity_key", "average_order_value"))
    rates = dict(Customer.objects.values_list("identity_key", "return_rate"))
    # 66.00 over the 2 orders with a known amount; 1 unit returned of 35: fractions kept on both databases.
    assert figures == {"email:a@example.com": Decimal("33.00"), "email:b@example.com": None}
    assert rates == {"email:a@example.com": Decimal("2.9"), "email:b@example.com": None}
