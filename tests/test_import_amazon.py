"""Amazon: the "Amazon Sale Report" sample in shared/realdata/amazon and the "All Orders" flat file layout."""

import csv
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from wagtail_customers.importers import ImportFileError, run_import
from wagtail_customers.models import Customer, Order, OrderLine, SellerAccount

pytestmark = pytest.mark.django_db

SALE_REPORT = "amazon/amazon_sale_report_first796rows.csv"
#: Written out here independently of the importer: Amazon's status -> the ledger's status.
EXPECTED_STATUS = {
    "Shipped": "shipped",
    "Shipped - Delivered to Buyer": "delivered",
    "Cancelled": "cancelled",
    "Shipped - Returned to Seller": "returned",
    "Shipped - Rejected by Buyer": "returned",
}


@pytest.fixture
def inr_account(db):
    return SellerAccount.objects.create(name="Amazon.in", channel="amazon", currency="INR")


def sale_report_rows(realdata):
    with open(realdata / SALE_REPORT, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_sale_report_imports_all_755_orders_with_their_statuses(realdata, inr_account):
    rows = sale_report_rows(realdata)
    assert "Sales Channel " in rows[0]  # the header's trailing space, as Amazon wrote it
    report = run_import(inr_account, (realdata / SALE_REPORT).read_bytes(), format_name="amazon_sale_report")
    assert (report.rows, report.orders, report.orders_created, report.unknown_columns) == (796, 755, 755, [])
    status_of = {row["Order ID"]: EXPECTED_STATUS[row["Status"]] for row in rows}
    assert dict(Order.objects.values_list("external_id", "status")) == status_of
    assert Counter(Order.objects.values_list("status", flat=True)) == Counter(status_of.values())
    # No buyer id, no e-mail: each order is its own customer.
    assert Customer.objects.count() == 755
    assert set(Customer.objects.values_list("identity_key", flat=True)) == {f"order:{o}" for o in status_of}


def test_sale_report_amounts_lines_returns_and_cancellations(realdata, inr_account):
    rows = sale_report_rows(realdata)
    run_import(inr_account, (realdata / SALE_REPORT).read_bytes(), format_name="amazon_sale_report")
    amounts = defaultdict(Decimal)
    for row in rows:
        amounts[row["Order ID"]] += Decimal(row["Amount"] or 0)
    orders = {order.external_id: order for order in Order.objects.all()}
    assert OrderLine.objects.count() == 796
    for order_id, amount in amounts.items():
        order = orders[order_id]
        assert order.subtotal == amount
        # Amazon charges on shipment: a cancelled order was never paid for.
        assert order.total == (0 if order.status == "cancelled" else amount)
        assert order.refunded == (amount if order.status == "returned" else 0)
    returned = OrderLine.objects.filter(order__status="returned")
    assert returned.count() == 5 and all(line.returned_quantity == line.quantity for line in returned)
    returned_ids = {row["Order ID"] for row in rows if EXPECTED_STATUS[row["Status"]] == "returned"}
    assert set(Customer.objects.filter(returned_units__gt=0).values_list("identity_key", flat=True)) == {
        f"order:{order_id}"
        for order_id in returned_ids
        if any(r["Qty"] != "0" for r in rows if r["Order ID"] == order_id)
    }
    spent = sum(Customer.objects.values_list("amount_spent", flat=True), Decimal(0))
    kept = [o for o in orders.values() if o.status not in ("cancelled", "returned")]
    assert spent == sum((amounts[o.external_id] for o in kept), Decimal(0))
    first = Order.objects.get(external_id="171-9198151-1101146")
    assert (first.ship_city, first.ship_postal_code, first.ship_country, first.currency) == (
        "BENGALURU",
        "560085",
        "IN",
        "INR",
    )
    assert first.placed_at.date().isoformat() == "2022-04-30"
    assert first.promo_codes.count() > 1  # its promotion-ids


FLAT_HEADER = (
    "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\t"
    "sales-channel\torder-channel\turl\tship-service-level\tproduct-name\tsku\tasin\titem-status\tquantity\t"
    "currency\titem-price\titem-tax\tshipping-price\tshipping-tax\tgift-wrap-price\tgift-wrap-tax\t"
    "item-promotion-discount\tship-promotion-discount\tship-city\tship-state\tship-postal-code\tship-country\t"
    "promotion-ids\tis-business-order\tpurchase-order-number\tprice-designation"
)


def flat_row(order_id, status, sku, quantity, price, tax="0.00", shipping="0.00", promo="", date="2024-05-01"):
    values = dict.fromkeys(FLAT_HEADER.split("\t"), "")
    values.update(
        {
            "amazon-order-id": order_id,
            "purchase-date": f"{date}T10:00:00+00:00",
            "order-status": status,
            "sales-channel": "Amazon.com",
            "product-name": f"Product {sku}",
            "sku": sku,
            "item-status": status,
            "quantity": str(quantity),
            "currency": "USD",
            "item-price": price,
            "item-tax": tax,
            "shipping-price": shipping,
            "item-promotion-discount": promo,
            "ship-city": "SEATTLE",
            "ship-postal-code": "98101",
            "ship-country": "US",
        }
    )
    return "\t".join(values[column] for column in FLAT_HEADER.split("\t"))


def test_the_all_orders_flat_file(realdata, account):
    header_line = (realdata / "HEADERS.txt").read_text(encoding="utf-8").split('## Amazon "All Orders"')[1]
    assert header_line.splitlines()[1] == FLAT_HEADER  # the 32 columns, verbatim
    content = "\n".join(
        [
            FLAT_HEADER,
            flat_row("111-1", "Shipped", "MUG", 2, "30.00", tax="2.40", shipping="4.99", promo="-5.00"),
            flat_row("111-1", "Shipped", "CAP", 1, "12.00"),
            flat_row("111-2", "Pending", "MUG", 1, "15.00"),
            flat_row("111-3", "Cancelled", "MUG", 0, "0.00"),
            flat_row("111-4", "Shipped - Returned to Seller", "CAP", 1, "12.00"),
        ]
    ).encode()
    report = run_import(account, content, format_name="amazon_orders")
    assert (report.rows, report.orders_created, report.customers_created) == (5, 4, 4)
    first = Order.objects.get(external_id="111-1")
    assert first.status == "shipped" and first.channel == "amazon"
    # item-price is for the whole quantity: 2 mugs for 30.00 are 15.00 each.
    assert list(first.lines.values_list("sku", "quantity", "unit_price", "line_total")) == [
        ("MUG", 2, Decimal("15.00"), Decimal("30.00")),
        ("CAP", 1, Decimal("12.00"), Decimal("12.00")),
    ]
    assert (first.subtotal, first.discount, first.shipping, first.tax, first.total) == (
        Decimal("42.00"),
        Decimal("5.00"),
        Decimal("4.99"),
        Decimal("2.40"),
        Decimal("44.39"),
    )
    assert dict(Order.objects.values_list("external_id", "status")) == {
        "111-1": "shipped",
        "111-2": "pending",
        "111-3": "cancelled",
        "111-4": "returned",
    }
    returned = Order.objects.get(external_id="111-4")
    assert returned.refunded == returned.total == Decimal("12.00")
    assert returned.lines.get().returned_quantity == 1


def test_an_unknown_amazon_status_names_the_row(account):
    content = "\n".join(
        [FLAT_HEADER, flat_row("1", "Shipped", "A", 1, "1.00"), flat_row("2", "Teleported", "B", 1, "1.00")]
    )
    with pytest.raises(ImportFileError, match="Row 3: order-status 'Teleported' is not an Amazon order status"):
        run_import(account, content.encode(), format_name="amazon_orders")
    assert not Order.objects.exists()


def test_a_comma_separated_file_chosen_as_the_flat_file_is_refused_clearly(account):
    content = FLAT_HEADER.replace("\t", ",") + "\n111-1,,2024-05-01,,Shipped\n"
    with pytest.raises(ImportFileError, match="Missing column: 'amazon-order-id'"):
        run_import(account, content.encode(), format_name="amazon_orders")


def test_sale_report_bad_amount_and_date(inr_account):
    header = "index,Order ID,Date,Status,Qty,currency,Amount"
    good = "0,1,04-30-22,Shipped,1,INR,10.0"
    for row, message in [
        ("1,2,04-31-22,Shipped,1,INR,10.0", "Row 3: '04-31-22' in Date is not a date"),
        ("1,2,04-30-22,Shipped,1,INR,ten", "Row 3: 'ten' in Amount is not a number"),
        ("1,2,04-30-22,Shipped,1,INR,-3", "Row 3: Amount is negative"),
    ]:
        with pytest.raises(ImportFileError, match=message):
            run_import(inr_account, f"{header}\n{good}\n{row}\n".encode(), format_name="amazon_sale_report")
    assert not Order.objects.exists()
