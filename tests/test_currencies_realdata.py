"""A real US Shopify store's orders (USD) imported into a seller account kept in EUR.

Every order's money must arrive converted at the ECB rate of the order's date, checked against a computation
made here independently: the amounts read from the file itself, the day from its "Created at", the rate from
currencyconverter used directly. The customers' statistics must then be exactly the sums of those amounts,
and the rebuild must find nothing to correct.
"""

import csv
import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from currency_converter import CurrencyConverter
from django.conf import settings

from wagtail_customers.importers import run_import
from wagtail_customers.models import Customer, Order, RateSource, SellerAccount
from wagtail_customers.services.statistics import rebuild_statistics

pytestmark = pytest.mark.django_db

STORE_A = "shopify/storeA_orders_export_1.pseudonymised.csv"
CENT = Decimal("0.01")


def file_orders(path):
    """Name -> (day in the site's time zone, total, refunded, e-mail) from each order's first row."""
    zone = ZoneInfo(settings.TIME_ZONE)
    orders = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] in orders or not row["Total"]:
                continue
            placed = datetime.datetime.strptime(row["Created at"], "%Y-%m-%d %H:%M:%S %z")
            orders[row["Name"]] = (
                placed.astimezone(zone).date(),
                Decimal(row["Total"]),
                Decimal(row["Refunded Amount"] or "0"),
            )
    return orders


def test_store_a_into_a_eur_account_is_converted_at_each_orders_date(realdata):
    account = SellerAccount.objects.create(name="Store A in EUR", channel="shopify", currency="EUR")
    report = run_import(account, (realdata / STORE_A).read_bytes(), format_name="shopify")
    assert (report.orders, report.errors) == (409, [])

    ecb = CurrencyConverter(decimal=True, fallback_on_missing_rate=True, fallback_on_missing_rate_method="last_known")
    expected = file_orders(realdata / STORE_A)
    assert len(expected) == 409

    def eur(amount, day):
        return ecb.convert(amount, "USD", "EUR", date=day).quantize(CENT, rounding=ROUND_HALF_UP)

    spent = defaultdict(Decimal)
    stored = Order.objects.filter(account=account).select_related("customer")
    weekend_orders = 0
    for order in stored:
        day, total, refunded = expected[order.external_id]
        assert order.currency == "USD" and order.rate_source == RateSource.TABLE, order.external_id
        assert (order.total, order.refunded) == (total, refunded), order.external_id
        assert order.account_total == eur(total, day), (order.external_id, day)
        assert order.account_refunded == eur(refunded, day), (order.external_id, day)
        assert order.exchange_rate == ecb.convert(Decimal(1), "USD", "EUR", date=day).quantize(Decimal("1E-10"))
        spent[order.customer_id] += eur(total, day) - eur(refunded, day)
        weekend_orders += day.weekday() >= 5
    assert weekend_orders > 0  # the rates of days without a quote are exercised

    customers = Customer.objects.filter(account=account)
    assert customers.count() == len(spent)
    for customer in customers:
        assert customer.amount_spent == spent[customer.pk], str(customer)
        assert customer.unconverted_orders == 0 and customer.amount_spent_is_complete
    # Nothing counts as 0: the account's money is the whole file's, converted.
    total_spent = sum(spent.values())
    assert sum(customers.values_list("amount_spent", flat=True)) == total_spent > Decimal("10000")
    assert rebuild_statistics(account) == 0
