"""UCI Online Retail and Online Retail II, on the samples in shared/realdata/online_retail."""

import csv
from decimal import Decimal

import pytest

from wagtail_customers.importers import ImportFileError, run_import
from wagtail_customers.models import Customer, Order, OrderLine, SellerAccount

pytestmark = pytest.mark.django_db

SAMPLES = {
    "online_retail/OnlineRetail_first1071rows.csv": "M/D/YYYY H:MM dates",
    "online_retail/online_retail_random2709rows.csv": "extra unnamed index column, NA ids",
    "online_retail/online_retail_sample4792rows_modified.csv": "ISO dates, float ids, 0.0 for none",
    "online_retail/online_retail_II_header_first99rows.csv": "Online Retail II header, UTF-8 BOM",
}


@pytest.fixture
def gbp_account(db):
    return SellerAccount.objects.create(name="UK wholesale", channel="website", currency="GBP")


def read_rows(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    renamed = {"Invoice": "InvoiceNo", "Price": "UnitPrice", "Customer ID": "CustomerID"}
    return [{renamed.get(k, k): v for k, v in row.items()} for row in rows]


#: The dataset's stock codes that are no goods: postage, a discount, or charges and adjustments skipped.
MONEY_CODES = {"POST", "DOT", "C2", "D"}
SKIPPED_CODES = {"M", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS", "B", "S"}


def is_goods(row):
    return row["StockCode"].upper() not in MONEY_CODES | SKIPPED_CODES


def customer_id(text):
    text = text.removesuffix(".0")
    return "" if text in ("", "NA", "0") else text


@pytest.mark.parametrize("sample", SAMPLES)
def test_each_sample_imports_with_its_cancellations_as_returns(realdata, gbp_account, sample):
    rows = read_rows(realdata / sample)
    report = run_import(gbp_account, (realdata / sample).read_bytes(), format_name="online_retail")
    assert report.errors == [] and report.unknown_columns == []
    cancellations = [row for row in rows if row["InvoiceNo"].startswith("C") and is_goods(row)]
    sales = [r for r in rows if r["InvoiceNo"][0].isdigit() and int(r["Quantity"]) > 0 and is_goods(r)]
    adjustments = [r for r in rows if not r["InvoiceNo"].startswith("C") and r not in sales and is_goods(r)]
    charges = [r for r in rows if r["StockCode"].upper() in SKIPPED_CODES]
    sale_invoices = {row["InvoiceNo"] for row in sales}
    # Postage and discounts of an invoice with no goods in the sample, or of a cancellation with no earlier order of
    # its customer in it (every one in these samples), are skipped too.
    money_skipped = [r for r in rows if r["StockCode"].upper() in MONEY_CODES and r["InvoiceNo"] not in sale_invoices]
    assert report.rows_skipped == len(adjustments) + len(charges) + len(money_skipped)
    # Every cancelled unit of goods is a returned unit, on an earlier purchase or on a returned order of its own.
    returned_units = sum(-int(row["Quantity"]) for row in cancellations)
    assert sum(OrderLine.objects.values_list("returned_quantity", flat=True)) == returned_units
    assert sum(Customer.objects.values_list("returned_units", flat=True)) == returned_units
    refunds = sum((-int(r["Quantity"]) * Decimal(r["UnitPrice"]) for r in cancellations), Decimal(0))
    assert sum(Order.objects.values_list("refunded", flat=True), Decimal(0)) == refunds.quantize(Decimal("0.01"))
    # Every sale invoice is an order; each line keeps the file's quantity.
    assert sale_invoices <= set(Order.objects.values_list("external_id", flat=True))
    assert sum(OrderLine.objects.exclude(order__external_id__startswith="C").values_list("quantity", flat=True)) == sum(
        int(row["Quantity"]) for row in sales
    )
    # Buyers are their CustomerID as written (17850.0 is 17850); rows without one are guests (one per invoice).
    buyers = {customer_id(row["CustomerID"]) for row in sales + cancellations} - {""}
    assert OrderLine.objects.filter(sku__in=MONEY_CODES | SKIPPED_CODES).count() == 0
    assert set(Customer.objects.exclude(external_id="").values_list("external_id", flat=True)) == buyers
    guest_invoices = {row["InvoiceNo"] for row in sales if not customer_id(row["CustomerID"])}
    assert Customer.objects.filter(identity_key__startswith="order:").count() >= len(guest_invoices)


def test_first_1071_rows_returns_on_earlier_purchases(realdata, gbp_account):
    path = realdata / "online_retail/OnlineRetail_first1071rows.csv"
    report = run_import(gbp_account, path.read_bytes(), format_name="online_retail")
    # 66 orders and 49 buyers: C536379 (customer 14527) is only a discount, no goods.
    assert report.orders == 66 and Customer.objects.exclude(external_id="").count() == 49
    # C536391 (customer 17548) cancels units bought before the file starts: a returned order of its own.
    own = Order.objects.get(external_id="C536391")
    assert own.status == "returned" and own.refunded == own.total > 0
    assert all(line.returned_quantity == line.quantity for line in own.lines.all())
    assert own.customer.external_id == "17548"
    # The other returns land on that customer's earlier lines of the same stock code.
    partly = Order.objects.get(status="partially_refunded")
    returned_lines = partly.lines.filter(returned_quantity__gt=0)
    assert returned_lines.exists() and partly.refunded > 0 and partly.returned_at > partly.placed_at
    assert Order.objects.get(external_id="536365").placed_at.isoformat() == "2010-12-01T08:26:00+00:00"


def test_first_1071_rows_postage_and_discount_are_no_goods(realdata, gbp_account):
    path = realdata / "online_retail/OnlineRetail_first1071rows.csv"
    report = run_import(gbp_account, path.read_bytes(), format_name="online_retail")
    # Customer 12583's invoice 536370: 20 rows, 449 units, 3 of them POSTAGE at 18: 446 units of goods and 54 of
    # shipping.
    customer = Customer.objects.get(external_id="12583")
    order = Order.objects.get(external_id="536370")
    assert (customer.orders_count, customer.units, customer.returned_units) == (1, 446, 0)
    assert order.lines.count() == 19 and not order.lines.filter(sku="POST").exists()
    assert order.shipping == Decimal("54.00") and order.total == order.subtotal + Decimal("54.00")
    assert customer.amount_spent == order.total
    # Customer 14527's only row is C536379, "Discount" 27.50 given back on a purchase before the file starts: no
    # returned order of 1 unit, the row is skipped and said so.
    assert not Customer.objects.filter(external_id="14527").exists()
    assert not Order.objects.filter(external_id="C536379").exists()
    assert any("1 postage or discount row of a cancellation" in warning for warning in report.warnings)


def test_postage_discount_and_charges(gbp_account):
    content = "\n".join(
        [
            HEADER,
            "3001,MUG,Mug,4,1/5/2011 9:00,2.50,100,United Kingdom",
            "3001,POST,POSTAGE,2,1/5/2011 9:00,18,100,United Kingdom",
            "3001,D,Discount,1,1/5/2011 9:00,1.50,100,United Kingdom",
            "3001,m,Manual,1,1/5/2011 9:00,4.95,100,United Kingdom",
            "3002,CAP,Cap,1,1/6/2011 9:00,5.00,100,United Kingdom",
            # A later discount and a mug back: the money and the unit are refunded on the order the mug came from.
            "C3003,D,Discount,-1,1/7/2011 9:00,3.00,100,United Kingdom",
            "C3003,MUG,Mug,-1,1/7/2011 9:00,2.50,100,United Kingdom",
            # Postage paid back alone: refunded on the customer's latest order before it, no unit returned.
            "C3004,C2,CARRIAGE,-1,1/8/2011 9:00,2.00,100,United Kingdom",
            "C3005,AMAZONFEE,AMAZON FEE,-1,1/8/2011 9:00,8.00,NA,United Kingdom",
            "C3006,CRUK,CRUK Commission,-1,1/8/2011 9:00,1.60,100,United Kingdom",
        ]
    ).encode()
    report = run_import(gbp_account, content, format_name="online_retail")
    assert report.rows_skipped == 3
    assert any("3 rows with a stock code that is no goods (AMAZONFEE, CRUK, M)" in w for w in report.warnings)
    first, second = Order.objects.get(external_id="3001"), Order.objects.get(external_id="3002")
    assert [(line.sku, line.quantity, line.returned_quantity) for line in first.lines.all()] == [("MUG", 4, 1)]
    assert (first.subtotal, first.shipping, first.discount, first.total) == (
        Decimal("10.00"),
        Decimal("36.00"),
        Decimal("1.50"),
        Decimal("44.50"),
    )
    assert (first.status, first.refunded) == ("partially_refunded", Decimal("5.50"))
    assert (second.status, second.refunded, second.returned_at) == ("partially_refunded", Decimal("2.00"), None)
    assert second.refunded_at.day == 8 and not second.lines.filter(returned_quantity__gt=0).exists()
    assert not Order.objects.filter(external_id__startswith="C").exists()
    customer = Customer.objects.get(external_id="100")
    assert (customer.orders_count, customer.units, customer.returned_units) == (2, 5, 1)
    assert customer.amount_spent == Decimal("44.50") + Decimal("5.00") - Decimal("5.50") - Decimal("2.00")


def test_money_paid_back_beyond_an_orders_total_is_left_out_and_said_so(gbp_account):
    """Postage or a discount paid back on a cancellation is refunded on the customer's order, never more than the
    order's total: the preview names the invoice and the amount left out (before, it was capped without a word)."""
    content = "\n".join(
        [
            HEADER,
            "3101,MUG,Mug,1,1/5/2011 9:00,2.50,100,United Kingdom",
            # 6.00 of postage paid back on an order of 2.50, in two cancellations.
            "C3102,POST,POSTAGE,-1,1/6/2011 9:00,4.00,100,United Kingdom",
            "C3103,D,Discount,-1,1/7/2011 9:00,2.00,100,United Kingdom",
            # Customer 200's refund fits its order: nothing to say.
            "3201,CAP,Cap,2,1/5/2011 9:00,5.00,200,United Kingdom",
            "C3202,POST,POSTAGE,-1,1/6/2011 9:00,4.00,200,United Kingdom",
        ]
    ).encode()
    preview = run_import(gbp_account, content, format_name="online_retail", dry_run=True)
    left_out = [warning for warning in preview.warnings if "left out" in warning]
    assert left_out == [
        "Invoice 3101 is refunded 6.00 by C3102, C3103, more than its total of 2.50: the 3.50 above it was left out."
    ]
    assert not Order.objects.exists()

    report = run_import(gbp_account, content, format_name="online_retail")
    assert report.warnings == preview.warnings and report.rows_skipped == preview.rows_skipped == 0
    capped, fitting = Order.objects.get(external_id="3101"), Order.objects.get(external_id="3201")
    assert (capped.status, capped.total, capped.refunded) == ("refunded", Decimal("2.50"), Decimal("2.50"))
    assert (fitting.status, fitting.refunded) == ("partially_refunded", Decimal("4.00"))
    assert Customer.objects.get(external_id="100").amount_spent == Decimal("0.00")


def test_the_preview_names_twenty_over_refunded_invoices_then_counts_the_rest(gbp_account):
    rows = [HEADER]
    for n in range(22):
        rows.append(f"{4000 + n},MUG,Mug,1,1/5/2011 9:{n:02d},2.50,{500 + n},United Kingdom")
        rows.append(f"C{5000 + n},POST,POSTAGE,-1,1/6/2011 9:00,3.00,{500 + n},United Kingdom")
    report = run_import(gbp_account, "\n".join(rows).encode(), format_name="online_retail", dry_run=True)
    left_out = [warning for warning in report.warnings if "left out" in warning]
    assert len(left_out) == 21
    assert left_out[0] == (
        "Invoice 4000 is refunded 3.00 by C5000, more than its total of 2.50: the 0.50 above it was left out."
    )
    assert left_out[19].startswith("Invoice 4019 ")
    assert left_out[20] == "2 more invoices are refunded more than their totals: 1.00 above them was left out."


def test_online_retail_ii_header_with_a_bom(realdata, gbp_account):
    path = realdata / "online_retail/online_retail_II_header_first99rows.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    report = run_import(gbp_account, path.read_bytes(), format_name="online_retail")
    assert (report.rows, report.orders, report.unknown_columns) == (99, 14, [])
    assert Customer.objects.get(external_id="17850").orders_count > 0


HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


def test_cancellations_match_the_latest_earlier_purchase_first(gbp_account):
    content = "\n".join(
        [
            HEADER,
            "1001,MUG,Mug,4,1/5/2011 9:00,2.50,100.0,United Kingdom",
            "1002,MUG,Mug,3,1/9/2011 9:00,2.40,100.0,United Kingdom",
            "1002,CAP,Cap,1,1/9/2011 9:00,5.00,100.0,United Kingdom",
            # 5 mugs back: 3 from 1002 (the latest), then 2 from 1001.
            "C1003,MUG,Mug,-5,1/10/2011 9:00,2.40,100.0,United Kingdom",
            # Bought before this file (no earlier CAP of customer 200): its own returned order.
            "C1004,CAP,Cap,-2,1/10/2011 9:00,5.00,200,France",
            # A cancellation dated before the purchase cannot return it.
            "C0999,CAP,Cap,-1,1/1/2011 9:00,5.00,100,United Kingdom",
            # Stock adjustment, not a sale.
            "1005,MUG,damages,-10,1/11/2011 9:00,0,NA,United Kingdom",
        ]
    ).encode()
    report = run_import(gbp_account, content, format_name="online_retail")
    assert report.rows_skipped == 1
    lines = {(ln.order.external_id, ln.sku): ln.returned_quantity for ln in OrderLine.objects.select_related("order")}
    assert lines == {
        ("1001", "MUG"): 2,
        ("1002", "MUG"): 3,
        ("1002", "CAP"): 0,
        ("C1004", "CAP"): 2,
        ("C0999", "CAP"): 1,
    }
    first, second = Order.objects.get(external_id="1001"), Order.objects.get(external_id="1002")
    assert (first.status, first.refunded) == ("partially_refunded", Decimal("4.80"))
    assert (second.status, second.refunded) == ("partially_refunded", Decimal("7.20"))
    assert Order.objects.get(external_id="C1004").customer.external_id == "200"
    customer = Customer.objects.get(external_id="100")
    assert (customer.orders_count, customer.units, customer.returned_units) == (3, 9, 6)
    assert customer.amount_spent == Decimal("10.00") + Decimal("12.20") - Decimal("4.80") - Decimal("7.20")


def test_a_fully_returned_invoice_is_returned(gbp_account):
    content = f"{HEADER}\n2001,MUG,Mug,2,1/5/2011 9:00,2.50,7,UK\nC2002,MUG,Mug,-2,1/6/2011 9:00,2.50,7,UK\n"
    run_import(gbp_account, content.encode(), format_name="online_retail")
    order = Order.objects.get()
    assert (order.status, order.fulfilment_status, order.refunded) == ("returned", "returned", Decimal("5.00"))


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # A date that can only be day first makes the whole file day first: 01/12 is the 1st of December.
        ("01/12/2010 08:26", "13/12/2010 09:00", [(2010, 12, 1), (2010, 12, 13)]),
        # Otherwise month first, as the dataset writes it.
        ("12/1/2010 8:26", "12/9/2010 9:00", [(2010, 12, 1), (2010, 12, 9)]),
    ],
)
def test_slash_dates_are_read_in_one_order_for_the_whole_file(gbp_account, first, second, expected):
    content = f"{HEADER}\n536365,MUG,Mug,6,{first},2.55,17850,UK\n537000,MUG,Mug,2,{second},2.55,17850,UK\n"
    run_import(gbp_account, content.encode(), format_name="online_retail")
    placed = [order.placed_at for order in Order.objects.order_by("external_id")]
    assert [(moment.year, moment.month, moment.day) for moment in placed] == expected


@pytest.mark.parametrize(
    ("first", "second", "warned"),
    [
        # Days 1 to 12 only: 01/03 may be 3 January or 1 March; read month first, and said so.
        ("01/03/2011 08:26", "12/04/2011 09:00", True),
        # A number above 12 tells the order, first (day first) or second (month first); ISO dates have none to tell.
        ("01/03/2011 08:26", "13/04/2011 09:00", False),
        ("01/03/2011 08:26", "04/13/2011 09:00", False),
        ("2011-03-01 08:26", "2011-04-12 09:00", False),
    ],
)
def test_a_file_whose_dates_do_not_tell_their_order_is_imported_with_a_warning(gbp_account, first, second, warned):
    content = f"{HEADER}\n536365,MUG,Mug,6,{first},2.55,17850,UK\n537000,MUG,Mug,2,{second},2.55,17850,UK\n"
    report = run_import(gbp_account, content.encode(), format_name="online_retail")
    warning = (
        "Dates were read as month/day: no date in the file has a day or month above 12, so the order could not be "
        "told from the data. If the file writes the day first (01/03/2011 for 1 March), its orders are imported on "
        "the wrong dates."
    )
    assert (warning in report.warnings) is warned
    if warned:  # the guess itself is unchanged: month first
        assert Order.objects.get(external_id="536365").placed_at.month == 1


@pytest.mark.parametrize(
    "row, message",
    [
        ("3,MUG,Mug,2,13/45/2011 9:00,2.50,7,UK", "Row 3: '13/45/2011 9:00' in InvoiceDate is not a date"),
        # Digits that are not ASCII, or too many of them, are no day: the row's message, never an error of the import.
        ("3,MUG,Mug,2,\u00b2/1/2011 9:00,2.50,7,UK", "Row 3: '\u00b2/1/2011 9:00' in InvoiceDate is not a date"),
        (
            f"3,MUG,Mug,2,{'9' * 5000}/1/2011 9:00,2.50,7,UK",
            "Row 3: '999999999999999999999999999999999999…' in InvoiceDate",
        ),
        ("3,MUG,Mug,two,1/5/2011 9:00,2.50,7,UK", "Row 3: 'two' in Quantity is not a whole number"),
        ("3,MUG,Mug,2,1/5/2011 9:00,-2.50,7,UK", "Row 3: UnitPrice is negative"),
        ("C3,MUG,Mug,2,1/5/2011 9:00,2.50,7,UK", "Row 3: Quantity 2 is positive on cancellation invoice C3"),
    ],
)
def test_bad_rows(gbp_account, row, message):
    content = f"{HEADER}\n1,MUG,Mug,1,1/5/2011 9:00,2.50,7,UK\n{row}\n".encode()
    with pytest.raises(ImportFileError, match=message):
        run_import(gbp_account, content, format_name="online_retail")
    assert not Order.objects.exists()
