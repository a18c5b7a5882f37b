"""Migration 0007 fills the money in the account's currency for orders stored before it, and corrects the
statistics of the customers whose orders in another currency were left out until then."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from currency_converter import CurrencyConverter
from django.utils import timezone

from tests.migration_support import back_to_the_latest_schema, migrate  # noqa: F401 (a fixture)

BEFORE = [("wagtail_customers", "0006_country_codes")]
AFTER = [("wagtail_customers", "0007_order_account_currency")]
CENT = Decimal("0.01")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_existing_orders_are_converted_and_their_customers_corrected():
    apps = migrate(BEFORE)
    SellerAccount = apps.get_model("wagtail_customers", "SellerAccount")
    Customer = apps.get_model("wagtail_customers", "Customer")
    Order = apps.get_model("wagtail_customers", "Order")
    OrderLine = apps.get_model("wagtail_customers", "OrderLine")
    account = SellerAccount.objects.create(name="EU", currency="EUR")
    placed = timezone.make_aware(datetime.datetime(2024, 1, 5, 12))
    # Figures as the old definition kept them: the EUR order only.
    same = Customer.objects.create(
        account=account, identity_key="email:a@example.com", orders_count=1, amount_spent=Decimal("40.00")
    )
    mixed = Customer.objects.create(
        account=account,
        identity_key="email:b@example.com",
        orders_count=3,
        amount_spent=Decimal("50.00"),
        discount_total=Decimal("2.00"),
    )

    def order(customer, number, currency, total, refunded="0", discount="0"):
        return Order.objects.create(
            account=account,
            customer=customer,
            external_id=number,
            placed_at=placed,
            currency=currency,
            subtotal=Decimal(total),
            total=Decimal(total),
            refunded=Decimal(refunded),
            discount=Decimal(discount),
        )

    order(same, "1", "EUR", "40.00")
    eur = order(mixed, "2", "EUR", "50.00", discount="1.00")
    OrderLine.objects.create(order=eur, unit_price=Decimal("51"), line_total=Decimal("51"), discount=Decimal("1.00"))
    usd = order(mixed, "3", "USD", "110.00", refunded="10.00", discount="5.00")
    OrderLine.objects.create(order=usd, unit_price=Decimal("115"), line_total=Decimal("115"), discount=Decimal("2.50"))
    order(mixed, "4", "XTS", "99.00")

    apps = migrate(AFTER)
    Order = apps.get_model("wagtail_customers", "Order")
    Customer = apps.get_model("wagtail_customers", "Customer")
    ecb = CurrencyConverter(decimal=True)

    def eur_of(amount):
        return ecb.convert(Decimal(amount), "USD", "EUR", date=placed.date()).quantize(CENT, rounding=ROUND_HALF_UP)

    rows = {o.external_id: o for o in Order.objects.all()}
    assert (rows["1"].rate_source, rows["1"].exchange_rate, rows["1"].account_total) == ("same", 1, Decimal("40.00"))
    assert rows["2"].account_discount == Decimal("2.00")  # order discount + line discount
    assert rows["3"].rate_source == "table"
    assert rows["3"].account_total == eur_of("110.00")
    assert rows["3"].account_refunded == eur_of("10.00")
    assert rows["3"].account_discount == eur_of("7.50")
    assert (rows["4"].rate_source, rows["4"].account_total, rows["4"].exchange_rate) == ("unknown", None, None)

    same, mixed = (
        Customer.objects.get(identity_key="email:a@example.com"),
        Customer.objects.get(identity_key="email:b@example.com"),
    )
    assert (same.amount_spent, same.unconverted_orders) == (Decimal("40.00"), 0)
    assert mixed.amount_spent == Decimal("50.00") + eur_of("110.00") - eur_of("10.00")
    assert mixed.discount_total == Decimal("2.00") + eur_of("7.50")
    assert mixed.unconverted_orders == 1
