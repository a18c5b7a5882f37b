"""The generic import template: good files, and bad ones that must leave the database untouched."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from wagtail_customers.importers import ImportFileError, run_import
from wagtail_customers.models import Customer, Order, OrderLine, PromoCodeUsage

pytestmark = pytest.mark.django_db

HEADER = (
    "order_id,placed_at,customer_email,customer_name,city,country,sku,quantity,unit_price,promo_code,order_discount"
)
GOOD = "\n".join(
    [
        HEADER,
        "1001,2024-03-01,ada@example.com,Ada Lovelace,London,GB,MUG,2,12.50,WELCOME,5.00",
        "1001,2024-03-01,,,,,TEE,1,20.00,,",
        "1002,2024-04-02 10:30,ada@example.com,Ada Lovelace,Paris,FR,MUG,1,12.50,,",
        "1003,2024-04-03T09:00:00+02:00,grace@example.com,Grace Hopper,NYC,US,CAP,3,10.00,,",
    ]
).encode()


def test_generic_csv_creates_orders_customers_and_statistics(account):
    report = run_import(account, GOOD, filename="orders.csv")
    assert (report.orders, report.orders_created, report.customers_created) == (3, 3, 2)
    ada = Customer.objects.get(email="ada@example.com")
    assert ada.orders_count == 2
    assert ada.units == 4
    assert ada.amount_spent == Decimal("45.00") - Decimal("5.00") + Decimal("12.50")
    assert ada.discount_total == Decimal("5.00")
    assert ada.promo_codes_used == 1
    assert ada.city == "Paris"  # from the latest order
    assert OrderLine.objects.filter(order__external_id="1001").count() == 2
    assert PromoCodeUsage.objects.get().code == "WELCOME"


def test_a_promo_code_repeated_in_the_cell_counts_once(account):
    run_import(account, f'{HEADER}\n1001,2024-03-01,ada@example.com,Ada,,,MUG,2,12.50,"SAVE10, SAVE10",5.00\n'.encode())
    assert list(PromoCodeUsage.objects.values_list("code", "discount")) == [("SAVE10", Decimal("5.00"))]
    assert Customer.objects.get().promo_codes_used == 1


def test_reimporting_the_same_file_changes_nothing(account):
    run_import(account, GOOD)
    snapshot = (
        list(Customer.objects.values()),
        list(OrderLine.objects.values("order__external_id", "sku", "quantity")),
    )
    updated_at = list(Order.objects.values_list("updated_at", flat=True))
    report = run_import(account, GOOD)
    # Nothing differs from what is stored: counted as unchanged, not updated, and left alone.
    assert (report.orders_created, report.orders_updated, report.orders_unchanged) == (0, 0, 3)
    assert (report.customers_created, report.customers_updated, report.customers_unchanged) == (0, 0, 2)
    assert (
        list(Customer.objects.values()),
        list(OrderLine.objects.values("order__external_id", "sku", "quantity")),
    ) == snapshot
    assert list(Order.objects.values_list("updated_at", flat=True)) == updated_at


@pytest.mark.parametrize(
    "old, new",
    [
        ("MUG,1,12.50,,", "MUG,1,12.60,,"),  # a line's amount
        ("Paris,FR,MUG,1,12.50,,", "Lyon,FR,MUG,1,12.50,,"),  # the ship-to address
        ("MUG,1,12.50,,", "MUG,1,12.50,SPRING,"),  # a promo code
        ("1002,2024-04-02 10:30", "1002,2024-04-02 10:31"),  # the order date
    ],
)
def test_reimporting_with_one_order_changed_counts_one_update(account, old, new):
    run_import(account, GOOD)
    changed = GOOD.decode().replace(old, new).encode()
    assert changed != GOOD
    report = run_import(account, changed)
    assert (report.orders_created, report.orders_updated, report.orders_unchanged) == (0, 1, 2)
    assert (report.customers_created, report.customers_updated, report.customers_unchanged) == (0, 1, 1)
    order = Order.objects.get(external_id="1002")
    assert order.lines.count() == 1 and OrderLine.objects.count() == 4


def test_reimport_command_says_unchanged(account, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(GOOD)
    call_command("customers_import", str(path), account="Shop A", stdout=io.StringIO())
    out = io.StringIO()
    call_command("customers_import", str(path), account="Shop A", stdout=out)
    assert "0 created, 0 updated, 3 unchanged" in out.getvalue()


def test_dry_run_reports_exact_counts_and_writes_nothing(account):
    report = run_import(account, GOOD, dry_run=True)
    assert (report.orders_created, report.customers_created) == (3, 2)
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_xlsx_file(account):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for line in GOOD.decode().splitlines():
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run_import(account, buffer.getvalue(), filename="orders.xlsx")
    assert report.orders_created == 3
    assert Customer.objects.get(email="grace@example.com").units == 3


def test_unknown_columns_are_reported_and_ignored(account):
    content = b"order_id,placed_at,customer_email,gift_message\n1,2024-01-01,a@example.com,Happy birthday\n"
    report = run_import(account, content)
    assert report.unknown_columns == ["gift_message"]
    assert Order.objects.count() == 1


def test_a_formula_in_a_name_is_stored_as_text(account):
    content = (
        b'order_id,placed_at,customer_email,customer_name\n1,2024-01-01,a@example.com,"=HYPERLINK(""http://x"")"\n'
    )
    run_import(account, content)
    assert Customer.objects.get().name == '=HYPERLINK("http://x")'


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty (0 bytes)"),
        (HEADER.encode() + b"\n", "no data rows"),
        (b"order_id,customer_email\n1,a@example.com\n", "Missing column: 'placed_at'"),
        (b"order_id,placed_at\n1,2024-01-01\n", "Missing column: 'customer_id' or 'customer_email'"),
        (GOOD + b"\n1004,2024-13-45,x@example.com,X,,,,1,1.00,,", "Row 6: '2024-13-45' in placed_at is not a date"),
        (GOOD + b"\n1004,2024-01-05,x@example.com,X,,,SKU,-2,1.00,,", "Row 6: quantity is negative"),
        (GOOD + b"\n1004,2024-01-05,x@example.com,X,,,SKU,1,abc,,", "Row 6: 'abc' in unit_price is not a number"),
        (GOOD + b"\n1004,2024-01-05,,X,,,SKU,1,1.00,,", "Row 6: customer_id and customer_email are both empty"),
        (
            "order_id,placed_at,customer_email,customer_name\n1,2024-01-01,a@example.com,Zoë\n".encode("latin-1"),
            "not utf-8",
        ),
        (b"order_id,placed_at,customer_email\n1,2024-01-01,a@x.com\x00\n", "NUL"),
    ],
)
def test_bad_files_stop_with_the_reason_and_write_nothing(account, content, message):
    with pytest.raises(ImportFileError) as error:
        run_import(account, content)
    assert message.lower() in str(error.value).lower()
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_an_error_after_the_first_batch_still_writes_nothing(account, settings):
    settings.WAGTAIL_CUSTOMERS = {"INGEST_BATCH_SIZE": 2}
    rows = [f"{n},2024-01-01,c{n}@example.com,USD," for n in range(10)]
    # The service refuses the last order, after four batches were recorded: all must be rolled back. (Each line is
    # an amount; their sum is more than the ledger holds, which only the service adds up.)
    rows += ["99,2024-01-01,z@example.com,USD,600000000000.00"] * 2
    content = "\n".join(["order_id,placed_at,customer_email,currency,line_total", *rows]).encode()
    with pytest.raises(ImportFileError, match="the total .* is too large for an amount"):
        run_import(account, content)
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_import_command_dry_run_and_real_run(account, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_bytes(GOOD)
    call_command("customers_import", str(path), "--account", account.name, "--dry-run")
    assert "Dry run" in capsys.readouterr().out
    assert not Order.objects.exists()
    call_command("customers_import", str(path), "--account", account.name)
    assert "Imported 3 order(s)" in capsys.readouterr().out
    assert Order.objects.count() == 3


def test_import_command_errors_are_clear(account, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(HEADER.encode() + b"\n1,yesterday,a@example.com,A,,,S,1,1,,\n")
    with pytest.raises(CommandError, match="Nothing was imported. Row 2: 'yesterday' in placed_at is not a date"):
        call_command("customers_import", str(bad), "--account", account.name)
    with pytest.raises(CommandError, match="No seller account named 'Nope'"):
        call_command("customers_import", str(bad), "--account", "Nope")
    with pytest.raises(CommandError, match="No such file"):
        call_command("customers_import", str(tmp_path / "missing.csv"), "--account", account.name)


@pytest.mark.parametrize(
    ("status", "fulfilment", "expected"),
    [
        ("delivered", "", "fulfilled"),
        ("shipped", "", "fulfilled"),
        ("returned", "", "returned"),
        ("cancelled", "", "cancelled"),
        ("paid", "", "unfulfilled"),
        ("placed", "", "unfulfilled"),
        ("refunded", "", "unfulfilled"),
        ("", "", "unfulfilled"),
        # A fulfilment the file gives is kept, whatever the status.
        ("delivered", "partial", "partial"),
        ("Delivered", "UNFULFILLED", "unfulfilled"),
    ],
)
def test_an_empty_fulfilment_follows_the_status(account, status, fulfilment, expected):
    header = "order_id,placed_at,customer_email,status,fulfillment_status"
    run_import(account, f"{header}\n9001,2024-03-01,ada@example.com,{status},{fulfilment}\n".encode())
    assert Order.objects.get(external_id="9001").fulfilment_status == expected


def import_rows(account, header, *rows):
    return run_import(account, "\n".join([header, *rows]).encode(), filename="orders.csv")


def refusal_of(account, header, *rows):
    """The ImportFileError the rows are refused with; nothing was written."""
    with pytest.raises(ImportFileError) as error:
        import_rows(account, header, *rows)
    assert not Order.objects.exists() and not Customer.objects.exists()
    return error.value


def test_the_default_total_takes_the_line_discounts_off(account):
    header = "order_id,placed_at,customer_email,sku,quantity,unit_price,line_discount,order_discount,shipping,tax"
    import_rows(account, header, "3001,2024-03-01,ada@example.com,MUG,2,10.00,5.00,1.00,4.00,2.00")
    order = Order.objects.get()
    assert order.total == Decimal("20.00") - Decimal("5.00") - Decimal("1.00") + Decimal("4.00") + Decimal("2.00")
    ada = Customer.objects.get()
    assert (ada.amount_spent, ada.discount_total) == (Decimal("20.00"), Decimal("6.00"))


def test_refunded_returned_and_cancelled_orders_count_nothing_spent_unless_the_file_says(account):
    header = "order_id,placed_at,customer_email,status,sku,quantity,unit_price,refunded,returned_quantity"
    import_rows(
        account,
        header,
        "2001,2024-03-01,ada@example.com,refunded,MUG,2,12.50,,",
        "2002,2024-03-02,ada@example.com,returned,MUG,3,12.50,,",
        "2003,2024-03-03,ada@example.com,cancelled,MUG,1,12.50,,",
        # What the file gives wins: a partial refund, one unit of two back.
        "2004,2024-03-04,ada@example.com,returned,MUG,2,10.00,10.00,1",
        "2005,2024-03-05,ada@example.com,paid,MUG,1,7.00,,",
    )
    orders = {order.external_id: order for order in Order.objects.prefetch_related("lines")}
    assert {key: order.refunded for key, order in orders.items()} == {
        "2001": Decimal("25.00"),
        "2002": Decimal("37.50"),
        "2003": Decimal("12.50"),
        "2004": Decimal("10.00"),
        "2005": Decimal("0.00"),
    }
    assert [line.returned_quantity for line in orders["2002"].lines.all()] == [3]
    assert [line.returned_quantity for line in orders["2004"].lines.all()] == [1]
    ada = Customer.objects.get()
    assert ada.amount_spent == Decimal("10.00") + Decimal("7.00")
    assert ada.returned_units == 4


@pytest.mark.parametrize(
    ("header", "row", "message"),
    [
        (
            "order_id,placed_at,customer_email,order_discount",
            "1,2024-03-01,a@example.com,-5.00",
            "Row 2: order_discount",
        ),
        ("order_id,placed_at,customer_email,refunded", "1,2024-03-01,a@example.com,-20", "Row 2: refunded"),
        ("order_id,placed_at,customer_email,shipping", "1,2024-03-01,a@example.com,-1", "Row 2: shipping"),
        (
            "order_id,placed_at,customer_email,sku,line_discount",
            "1,2024-03-01,a@example.com,S,-1",
            "Row 2: line_discount",
        ),
        ("order_id,placed_at,customer_email,sku,unit_cost", "1,2024-03-01,a@example.com,S,-0.01", "Row 2: unit_cost"),
    ],
)
def test_a_negative_discount_refund_or_cost_is_refused_on_its_row(account, header, row, message):
    assert f"{message} must not be negative" in str(refusal_of(account, header, row))


def test_rows_of_one_order_that_disagree_are_refused_each_on_its_row(account):
    header = "order_id,placed_at,customer_id,customer_email,currency,sku,quantity,unit_price"
    error = refusal_of(
        account,
        header,
        "1001,2024-03-01,,ada@example.com,EUR,MUG,1,10.00",
        # The same e-mail in capitals and no currency: the same order.
        "1001,2024-03-01,,ADA@example.com,,TEE,1,20.00",
        "1001,2024-03-01,C-77,bob@example.com,USD,CAP,1,20.00",
    )
    assert [(e["row"], e["message"].split(";")[0]) for e in error.errors] == [
        (4, "Order 1001: customer_email is 'bob@example.com' here and 'ada@example.com' on row 2"),
        (4, "Order 1001: currency is 'USD' here and 'EUR' on row 2"),
    ]


def test_a_currency_or_channel_that_is_not_one_is_refused_on_the_row_that_gives_it(account):
    header = "order_id,placed_at,customer_email,sku,quantity,unit_price,currency,channel"
    error = refusal_of(
        account,
        header,
        "1001,2024-03-01,ada@example.com,MUG,1,10.00,,",
        "1001,2024-03-01,,TEE,1,20.00,US$,",
        "1002,2024-03-02,bob@example.com,MUG,1,10.00,€,",
        "1003,2024-03-02,cy@example.com,MUG,1,10.00,,etsyy",
    )
    assert [(e["row"], e["message"].split(" is not")[0]) for e in error.errors] == [
        (3, "currency 'US$'"),
        (4, "currency '€'"),
        (5, "channel 'etsyy'"),
    ]
