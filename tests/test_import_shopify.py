"""Shopify's orders export, on the real exports in shared/realdata/shopify and on the newer layouts' headers."""

import csv
import io
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from wagtail_customers.importers import ImportFileError, run_import
from wagtail_customers.importers.shopify import KNOWN
from wagtail_customers.models import Customer, Order, OrderLine, PromoCodeUsage, SellerAccount

pytestmark = pytest.mark.django_db

STORE_A = "shopify/storeA_orders_export_1.pseudonymised.csv"
STORE_A_CUSTOMERS = "shopify/storeA_customers_export_1.pseudonymised.csv"
#: The two shared e-mails whose figures differ from Shopify's, and why (read from the export):
DIFFERING = {
    # Order J-939719 (79.00, "Payment Method" manual, "Source" 3525187, a "J-" name instead of "#"): an
    # order created by a sales-channel app and marked paid by hand. Shopify counts it in the customer's
    # "Total Orders" (8) but not in "Total Spent" (732.30 = 811.30 - 79.00).
    "customer0035@example.com": (8, Decimal("811.30"), 8, Decimal("732.30")),
    # Order #1046: its line "Aurora Bra Top - Mauve / S" (88.00, 79.20 after the order's 10% code) is still
    # "pending" in an order whose fulfilment is "fulfilled": that line never shipped (removed from the order
    # after it was placed, by the look of it). Shopify's "Total Spent" leaves it out (2827.15 = 2906.35 -
    # 79.20) while the export's "Total" and "Refunded Amount" still include it.
    "customer0036@example.com": (15, Decimal("2906.35"), 15, Decimal("2827.15")),
}


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def usd_account(db):
    return SellerAccount.objects.create(name="Store A", channel="shopify", currency="USD")


def test_store_a_matches_shopifys_own_customer_totals_for_294_of_296_emails(realdata, usd_account):
    report = run_import(usd_account, (realdata / STORE_A).read_bytes(), format_name="shopify")
    assert (report.rows, report.orders, report.orders_created) == (811, 409, 409)
    assert report.unknown_columns == [] and report.errors == []

    shopify = {row["Email"].lower(): row for row in read_csv(realdata / STORE_A_CUSTOMERS) if row["Email"]}
    ours = {customer.email.lower(): customer for customer in Customer.objects.exclude(email="")}
    shared = set(shopify) & set(ours)
    assert len(shared) == 296
    agree, differ = [], {}
    for email in sorted(shared):
        mine = (ours[email].orders_count, ours[email].amount_spent)
        theirs = (int(shopify[email]["Total Orders"]), Decimal(shopify[email]["Total Spent"]))
        (agree.append(email) if mine == theirs else differ.__setitem__(email, mine + theirs))
    assert len(agree) == 294
    assert differ == DIFFERING


def test_store_a_orders_lines_refunds_cancellations_and_codes_follow_the_file(realdata, usd_account):
    rows = read_csv(realdata / STORE_A)
    run_import(usd_account, (realdata / STORE_A).read_bytes(), format_name="shopify")
    first = {}
    for row in rows:
        first.setdefault(row["Name"], row)
    lines = Counter(row["Name"] for row in rows)
    assert sum(1 for count in lines.values() if count > 1) == 241  # multi-line orders
    orders = {order.external_id: order for order in Order.objects.all()}
    assert set(orders) == set(first)
    assert dict(Counter(OrderLine.objects.values_list("order__external_id", flat=True))) == dict(lines)
    for name, row in first.items():
        order = orders[name]
        assert order.total == Decimal(row["Total"])
        assert order.refunded == Decimal(row["Refunded Amount"])
        assert order.discount == Decimal(row["Discount Amount"])
        assert (order.cancelled_at is not None) == bool(row["Cancelled at"])
    statuses = Counter(order.status for order in orders.values())
    assert statuses["cancelled"] == 20 == sum(1 for row in first.values() if row["Cancelled at"])
    assert statuses["refunded"] == sum(
        1 for row in first.values() if row["Financial Status"] == "refunded" and not row["Cancelled at"]
    )
    assert statuses["partially_refunded"] == 26
    with_code = [row for row in first.values() if row["Discount Code"]]
    assert len(with_code) == 213
    codes = sum(len([c for c in row["Discount Code"].replace("+", ",").split(",") if c.strip()]) for row in with_code)
    assert PromoCodeUsage.objects.count() == codes
    multi = orders["#1058"]  # "SECRETCODE50 + PIA20 + SECRETSHIP10", 199.50 off
    assert list(multi.promo_codes.values_list("code", "discount")) == [
        ("SECRETCODE50", Decimal("199.50")),
        ("PIA20", Decimal("0.00")),
        ("SECRETSHIP10", Decimal("0.00")),
    ]
    # Continuation rows carry only Name, Email, Created at and the line: the order keeps the first row's data.
    continued = orders["#1370"]
    assert continued.ship_city and list(continued.lines.values_list("unit_price", flat=True)) == [
        Decimal("125.00"),
        Decimal("265.00"),
    ]


def test_store_a_status_mapping(realdata, usd_account):
    run_import(usd_account, (realdata / STORE_A).read_bytes(), format_name="shopify")
    first = {}
    for row in read_csv(realdata / STORE_A):
        first.setdefault(row["Name"], row)

    def expected(row):
        if row["Cancelled at"]:
            return "cancelled"
        if row["Financial Status"] == "paid":
            return "shipped" if row["Fulfillment Status"] == "fulfilled" else "paid"
        return row["Financial Status"]

    assert {o.external_id: o.status for o in Order.objects.all()} == {n: expected(r) for n, r in first.items()}
    fulfilled = {o.external_id for o in Order.objects.filter(fulfilment_status="fulfilled")}
    assert fulfilled == {name for name, row in first.items() if row["Fulfillment Status"] == "fulfilled"}


def test_reimporting_store_a_changes_nothing(realdata, usd_account):
    content = (realdata / STORE_A).read_bytes()
    run_import(usd_account, content, format_name="shopify")
    before = list(Customer.objects.order_by("pk").values())
    report = run_import(usd_account, content, format_name="shopify")
    assert (report.orders_created, report.orders_updated, report.orders_unchanged) == (0, 0, 409)
    assert (report.customers_created, report.customers_updated) == (0, 0)
    assert list(Customer.objects.order_by("pk").values()) == before


def test_store_b_78_columns(realdata, usd_account):
    path = realdata / "shopify/storeB_orders_export_1.pseudonymised.csv"
    rows = read_csv(path)
    assert len(rows[0]) == 78
    report = run_import(usd_account, path.read_bytes(), format_name="shopify")
    assert (report.rows, report.orders_created, report.unknown_columns) == (98, 81, [])
    totals = defaultdict(Decimal)
    for row in rows:
        if row["Total"]:
            totals[row["Name"]] += Decimal(row["Total"]) - Decimal(row["Refunded Amount"] or 0)
    spent = sum(Customer.objects.values_list("amount_spent", flat=True), Decimal(0))
    assert spent == sum(totals.values())
    # Orders without e-mail are each their own customer; the others group by e-mail.
    emails = {row["Email"].lower() for row in rows if row["Email"]}
    no_email = {row["Name"] for row in rows if row["Total"] and not row["Email"]}
    assert Customer.objects.count() == len(emails) + len(no_email)


def test_panalysis_10_columns_and_apostrophe_zips(realdata):
    account = SellerAccount.objects.create(name="AU", channel="shopify", currency="AUD")
    path = realdata / "shopify/panalysis_orders_export_reduced_columns.csv"
    rows = read_csv(path)
    report = run_import(account, path.read_bytes(), format_name="shopify")
    assert (report.rows, report.orders_created) == (1057, 1057)
    darwin = Order.objects.get(external_id="#1030")
    assert (darwin.ship_postal_code, darwin.ship_city, darwin.ship_state, darwin.ship_country) == (
        "0812",
        "Darwin",
        "NT",
        "AU",
    )
    assert darwin.total == Decimal("100.63") and darwin.subtotal == Decimal("88.88")
    assert not Order.objects.filter(ship_postal_code__startswith="'").exists()
    assert sum(Order.objects.values_list("total", flat=True), Decimal(0)) == sum(Decimal(r["Total"]) for r in rows)


def _layout(realdata, title):
    text = (realdata / "HEADERS.txt").read_text(encoding="utf-8")
    return text.split(title, 1)[1].splitlines()[1].split(",")


@pytest.mark.parametrize("columns", [79, 78, 73])
def test_every_layout_maps_by_name_in_any_column_order(realdata, usd_account, columns):
    header = _layout(realdata, "## Shopify orders export, 79 columns")
    if columns == 78:
        header = header[:-1]
    if columns == 73:
        header = _layout(realdata, "## Shopify orders export, 73 columns")
    assert len(header) == columns and set(header) <= set(KNOWN)
    header = list(reversed(header))  # by name, never by position
    values = {
        "Name": "#5001",
        "Email": "Zoe@Example.com",
        "Financial Status": "partially_refunded",
        "Fulfillment Status": "fulfilled",
        "Fulfilled at": "2026-04-02 10:00:00 +0200",
        "Currency": "EUR",
        "Total": "110.00",
        "Discount Code": "SPRING10",
        "Discount Amount": "10.00",
        "Shipping": "5.00",
        "Taxes": "15.00",
        "Refunded Amount": "20.00",
        "Created at": "2026-04-01 09:30:00 +0200",
        "Lineitem quantity": "2",
        "Lineitem name": "Mug",
        "Lineitem price": "50.00",
        "Lineitem sku": "MUG",
        "Lineitem discount": "0.00",
        "Shipping City": "Lyon",
        "Shipping Zip": "69001",
        "Shipping Country": "FR",
    }
    continuation = {"Name": "#5001", "Email": "Zoe@Example.com", "Created at": values["Created at"]}
    continuation.update({"Lineitem quantity": "1", "Lineitem name": "Cap", "Lineitem price": "0.50"})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header, extrasaction="ignore")
    writer.writeheader()
    writer.writerow(values)
    writer.writerow(continuation)
    run_import(usd_account, buffer.getvalue().encode(), format_name="shopify")
    order = Order.objects.get()
    assert (order.status, order.currency, order.total, order.refunded) == (
        "partially_refunded",
        "EUR",
        Decimal("110.00"),
        Decimal("20.00"),
    )
    assert order.placed_at.isoformat() == "2026-04-01T07:30:00+00:00"
    assert list(order.lines.values_list("quantity", "line_total")) == [(2, Decimal("100.00")), (1, Decimal("0.50"))]
    assert Customer.objects.get().email == "Zoe@Example.com"


def test_unknown_columns_are_reported_and_ignored(usd_account):
    content = b"Name,Created at,Email,Total,Gift note\n#1,2024-01-01 10:00:00 -0500,a@example.com,5.00,Hi\n"
    report = run_import(usd_account, content, format_name="shopify")
    assert report.unknown_columns == ["Gift note"] and Order.objects.get().total == Decimal("5.00")


@pytest.mark.parametrize(
    "row, message",
    [
        ("#2,2024-01-01 10:00:00 -0500,b@example.com,paid,,abc", "Row 3: 'abc' in Total is not a number"),
        ("#2,last week,b@example.com,paid,,5.00", "Row 3: 'last week' in Created at is not a date"),
        ("#2,2024-01-01 10:00:00 -0500,b@example.com,settled,,5.00", "Row 3: Financial Status 'settled'"),
        ("#2,2024-01-01 10:00:00 -0500,b@example.com,paid,shipped-ish,5.00", "Row 3: Fulfillment Status"),
        (",2024-01-01 10:00:00 -0500,b@example.com,paid,,5.00", "Row 3: Name is empty"),
    ],
)
def test_bad_rows_stop_the_import_with_their_row_number(usd_account, row, message):
    header = "Name,Created at,Email,Financial Status,Fulfillment Status,Total"
    content = f"{header}\n#1,2024-01-01 10:00:00 -0500,a@example.com,paid,fulfilled,5.00\n{row}\n".encode()
    with pytest.raises(ImportFileError) as error:
        run_import(usd_account, content, format_name="shopify")
    assert message in str(error.value)
    assert not Order.objects.exists()


def test_missing_required_columns(usd_account):
    with pytest.raises(ImportFileError, match="Missing column: 'Created at'"):
        run_import(usd_account, b"Name,Email\n#1,a@example.com\n", format_name="shopify")


def test_customer_details_come_from_the_latest_order_across_batches(usd_account, settings):
    settings.WAGTAIL_CUSTOMERS = {"INGEST_BATCH_SIZE": 1}
    content = (
        b"Name,Created at,Email,Billing Name,Shipping City,Total\n"
        b"#3,2024-03-01 10:00:00 -0500,ann@example.com,Ann Newname,Paris,5.00\n"
        b"#2,2024-02-01 10:00:00 -0500,ann@example.com,Ann Middle,Rome,5.00\n"
        b"#1,2024-01-01 10:00:00 -0500,ann@example.com,Ann Oldname,Oslo,5.00\n"
    )
    run_import(usd_account, content, format_name="shopify")
    customer = Customer.objects.get()
    assert (customer.name, customer.city, customer.orders_count) == ("Ann Newname", "Paris", 3)
    assert customer.amount_spent == Decimal("15.00") and customer.last_order_at.month == 3


def test_a_discount_on_a_line_is_counted_once(usd_account):
    # Shopify's "Discount Amount" is the order's whole discount, the lines' share included.
    header = (
        "Name,Email,Financial Status,Created at,Currency,Subtotal,Total,Discount Code,Discount Amount,"
        "Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount"
    )
    rows = [
        "#1001,ada@example.com,paid,2024-03-01 10:00:00 +0000,USD,45.00,47.00,SPRING,7.00,1,Mug,50.00,MUG,5.00",
        "#1001,,,,,,,,,1,Tee,2.00,TEE,0.00",
    ]
    run_import(usd_account, "\n".join([header, *rows]).encode(), format_name="shopify")
    order = Order.objects.get()
    assert (order.discount, sum(line.discount for line in order.lines.all())) == (Decimal("2.00"), Decimal("5.00"))
    assert Customer.objects.get().discount_total == Decimal("7.00")
    assert PromoCodeUsage.objects.get().discount == Decimal("7.00")  # what the code gave in all


@pytest.mark.parametrize(
    ("financial", "cancelled_at", "total"),
    [
        # Never charged: an authorisation voided or expired, or an order cancelled before it was paid.
        ("voided", "2024-03-02 10:00:00 +0000", "0.00"),
        ("expired", "", "0.00"),
        ("pending", "2024-03-02 10:00:00 +0000", "0.00"),
        ("authorized", "2024-03-02 10:00:00 +0000", "0.00"),
        # Paid, then cancelled without a refund (yet): the money was taken.
        ("paid", "2024-03-02 10:00:00 +0000", "50.00"),
        # Not cancelled: a pending order keeps its total.
        ("pending", "", "50.00"),
    ],
)
def test_a_cancelled_order_whose_buyer_was_never_charged_counts_nothing_spent(
    usd_account, financial, cancelled_at, total
):
    header = "Name,Email,Financial Status,Created at,Cancelled at,Total,Lineitem quantity,Lineitem price"
    row = f"#7,ada@example.com,{financial},2024-03-01 10:00:00 +0000,{cancelled_at},50.00,1,50.00"
    run_import(usd_account, f"{header}\n{row}\n".encode(), format_name="shopify")
    assert Order.objects.get().total == Decimal(total)
    assert Customer.objects.get().amount_spent == Decimal(total)


def test_an_order_without_lines_keeps_its_goods_before_the_discount(usd_account):
    from wagtail_customers.services.profit import profit_and_loss

    # Shopify's Subtotal is after the discount: 90.00 of goods after 10.00 off.
    header = "Name,Email,Financial Status,Created at,Currency,Subtotal,Shipping,Taxes,Total,Discount Amount"
    row = "#1,a@example.com,paid,2024-03-01 10:00:00 +0000,USD,90.00,5.00,0,95.00,10.00"
    run_import(usd_account, f"{header}\n{row}\n".encode(), format_name="shopify")
    order = Order.objects.get()
    assert (order.subtotal, order.discount, order.total) == (Decimal("100.00"), Decimal("10.00"), Decimal("95.00"))
    pl = profit_and_loss(order)
    assert (pl.revenue.amount, pl.discounts.amount, pl.net_revenue) == (
        Decimal("105.00"),
        Decimal("10.00"),
        Decimal("95.00"),
    )
