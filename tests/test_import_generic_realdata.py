"""The generic template fed with real transactions: the statistics match a computation made here, independently."""

import csv
import io
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from wagtail_customers.importers import run_import
from wagtail_customers.models import Customer, SellerAccount

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


def parse_when(text):
    for fmt in ("%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise AssertionError(text)


def sales(path):
    """The file's sale lines of known customers: (invoice, customer, when, stock code, name, quantity, price)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            customer = row["CustomerID"].removesuffix(".0")
            if row["InvoiceNo"][0].isdigit() and int(row["Quantity"]) > 0 and customer not in ("", "NA", "0"):
                yield (
                    row["InvoiceNo"],
                    customer,
                    parse_when(row["InvoiceDate"]),
                    row["StockCode"],
                    row["Description"],
                    int(row["Quantity"]),
                    Decimal(row["UnitPrice"]),
                )


@pytest.mark.parametrize(
    "sample",
    ["online_retail/OnlineRetail_first1071rows.csv", "online_retail/online_retail_sample4792rows_modified.csv"],
)
def test_generic_import_of_real_transactions_matches_an_independent_computation(realdata, sample):
    lines = list(sales(realdata / sample))
    # An invoice's lines may be stamped a minute apart: the order's date is its first line's.
    placed = {}
    for invoice, _customer, when, *_rest in lines:
        placed[invoice] = min(placed.get(invoice, when), when)

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["order_id", "placed_at", "customer_id", "sku", "product_name", "quantity", "unit_price", "line_total"]
    )
    for invoice, customer, _when, sku, name, quantity, price in lines:
        placed_at = placed[invoice].strftime("%Y-%m-%d %H:%M")
        writer.writerow([invoice, placed_at, customer, sku, name, quantity, price, (quantity * price).quantize(CENT)])

    expected = defaultdict(lambda: {"orders": set(), "units": 0, "spent": Decimal(0), "last": None})
    for invoice, customer, _when, _sku, _name, quantity, price in lines:
        figures = expected[customer]
        figures["orders"].add(invoice)
        figures["units"] += quantity
        figures["spent"] += (quantity * price).quantize(CENT)
        figures["last"] = max(figures["last"] or placed[invoice], placed[invoice])

    account = SellerAccount.objects.create(name="Retail", channel="website", currency="GBP")
    report = run_import(account, buffer.getvalue().encode(), format_name="generic")
    assert report.orders == len(placed) and report.customers_created == len(expected)

    got = {
        c.external_id: (c.orders_count, c.units, c.amount_spent, c.last_order_at)
        for c in Customer.objects.filter(account=account)
    }
    want = {
        customer: (len(f["orders"]), f["units"], f["spent"], timezone.make_aware(f["last"]))
        for customer, f in expected.items()
    }
    assert got == want
    assert len(want) > 40 and any(len(f["orders"]) > 3 for f in expected.values())
