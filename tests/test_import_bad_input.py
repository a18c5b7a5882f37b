"""Hostile and broken files, for every format: a clear reason (with the row), and nothing written."""

import io
import re

import openpyxl
import pytest
from django.urls import reverse

from wagtail_customers.importers import FORMATS, ImportFileError, run_import
from wagtail_customers.importers.base import MAX_REPORTED_ERRORS
from wagtail_customers.models import Customer, ImportJob, Order, OrderLine

from .test_import_screen import upload

pytestmark = pytest.mark.django_db

#: A minimal good file for each format: (header, one good row, delimiter).
MINIMAL = {
    "generic": ("order_id,placed_at,customer_email,customer_name,sku", "1,2024-01-01,a@example.com,Ann,MUG", ","),
    "shopify": (
        "Name,Created at,Email,Billing Name,Lineitem sku",
        "#1,2024-01-01 10:00:00 -0500,a@example.com,Ann,MUG",
        ",",
    ),
    "amazon_orders": (
        "amazon-order-id\tpurchase-date\torder-status\tsku",
        "111-1\t2024-01-01T10:00:00+00:00\tShipped\tMUG",
        "\t",
    ),
    "amazon_sale_report": ("Order ID,Date,Status,SKU", "405-1,04-30-22,Shipped,MUG", ","),
    "online_retail": (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID",
        "536365,MUG,Ann,1,12/1/2010 8:26,2.55,17850",
        ",",
    ),
}
#: Where a hostile text lands: (format, column) -> how to read it back from the database.
TEXT_COLUMN = {
    "generic": "customer_name",
    "shopify": "Billing Name",
    "amazon_orders": "sku",
    "amazon_sale_report": "SKU",
    "online_retail": "Description",
}
HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\tTab first",
    "Bell\x07 and escape\x1b[31m red",
    "<script>alert(1)</script>",
]


def stored_text(fmt):
    if fmt in ("generic", "shopify"):
        return Customer.objects.get().name
    if fmt == "online_retail":
        return OrderLine.objects.get().product_name
    return OrderLine.objects.get().sku


def make_file(fmt, *rows):
    header, good, delimiter = MINIMAL[fmt]
    return "\n".join([header, *(rows or [good])]).encode() + b"\n"


def test_every_format_is_covered():
    assert set(MINIMAL) == set(FORMATS) == set(TEXT_COLUMN)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_minimal_file_imports(account, fmt):
    report = run_import(account, make_file(fmt), format_name=fmt)
    assert report.orders_created == 1


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_cell_values_are_kept_verbatim_as_text(account, fmt, value):
    header, good, delimiter = MINIMAL[fmt]
    columns = header.split(delimiter)
    cells = good.split(delimiter)
    cells[columns.index(TEXT_COLUMN[fmt])] = '"' + value.replace('"', '""') + '"'
    run_import(account, make_file(fmt, delimiter.join(cells)), format_name=fmt)
    # Leading/trailing whitespace is trimmed like any cell's; everything else is kept as written.
    assert stored_text(fmt) == value.strip()


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_columns_are_reported_and_ignored(account, fmt):
    header, good, delimiter = MINIMAL[fmt]
    content = f"{header}{delimiter}Gift note{delimiter}\n{good}{delimiter}Happy birthday{delimiter}x\n".encode()
    report = run_import(account, content, format_name=fmt)
    assert report.unknown_columns == ["Gift note"] and report.orders_created == 1


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "The file is empty (0 bytes)."),
        (b"\n\n", "The file has no header row."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not utf-8 text"),
        (b"PK\x03\x04 not really a workbook", "The file is not an Excel workbook (.xlsx), or it is damaged."),
    ],
)
def test_unreadable_files(account, fmt, content, message):
    with pytest.raises(ImportFileError, match=re.escape(message)):
        run_import(account, content, format_name=fmt)
    assert not Order.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_header_only(account, fmt):
    with pytest.raises(ImportFileError, match="header row but no data rows"):
        run_import(account, MINIMAL[fmt][0].encode() + b"\n", format_name=fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_row_with_more_cells_than_the_header(account, fmt):
    header, good, delimiter = MINIMAL[fmt]
    content = make_file(fmt, good, good + delimiter + "surplus" + delimiter + "more")
    with pytest.raises(ImportFileError, match=r"Row 3: The row has \d+ cells but the header row has \d+ columns"):
        run_import(account, content, format_name=fmt)
    assert not Order.objects.exists()


def test_wrong_encoding_is_named_and_the_right_one_works(account):
    content = "order_id,placed_at,customer_email,customer_name\n1,2024-01-01,a@example.com,Zoë Müller\n"
    latin = content.encode("cp1252")
    with pytest.raises(ImportFileError, match=r"not utf-8 text \(byte 0xeb at position \d+\)"):
        run_import(account, latin)
    assert not Order.objects.exists()
    run_import(account, latin, encoding="cp1252")
    assert Customer.objects.get().name == "Zoë Müller"


def test_utf16_with_a_byte_order_mark_is_read_whatever_encoding_was_chosen(account):
    content = "order_id\tplaced_at\tcustomer_email\tcustomer_name\n1\t2024-01-01\ta@example.com\tZoë\n"
    run_import(account, content.encode("utf-16"))
    assert Customer.objects.get().name == "Zoë"


def test_an_unknown_encoding_is_an_error_not_a_crash(account):
    with pytest.raises(ImportFileError, match="Unknown text encoding 'klingon'"):
        run_import(account, make_file("generic"), encoding="klingon")


def test_control_characters_and_long_values_in_an_xlsx(account):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["order_id", "placed_at", "customer_email", "sku", "product_name", "quantity", "unit_price"])
    sheet.append(["X1", "2024-01-01", "a@example.com", "S" * 300, "N" * 2000, 2, 1.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    run_import(account, buffer.getvalue(), filename="orders.xlsx")
    line = OrderLine.objects.get()
    assert (len(line.sku), len(line.product_name), line.quantity) == (100, 500, 2)


@pytest.mark.parametrize("fmt", ["generic", "shopify"])
def test_a_bad_row_deep_in_a_big_file_names_its_row_and_writes_nothing(account, fmt, settings):
    settings.WAGTAIL_CUSTOMERS = {"INGEST_BATCH_SIZE": 500}
    if fmt == "generic":
        header = "order_id,placed_at,customer_email,quantity,unit_price"
        rows = [f"{n},2024-01-01,c{n % 300}@example.com,1,2.00" for n in range(20_000)]
        rows[19_997] = "19997,2024-01-01,z@example.com,1,2,00"
        message = "Row 19999: The row has 6 cells"
    else:
        header = "Name,Created at,Email,Total"
        rows = [f"#{n},2024-01-01 10:00:00 -0500,c{n % 300}@example.com,2.00" for n in range(20_000)]
        rows[19_997] = "#19997,2024-01-01 10:00:00 -0500,z@example.com,2.OO"
        message = "Row 19999: '2.OO' in Total is not a number"
    with pytest.raises(ImportFileError) as error:
        run_import(account, ("\n".join([header, *rows]) + "\n").encode(), format_name=fmt)
    assert message in str(error.value)
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_every_error_is_listed_up_to_a_limit_with_the_total(account):
    rows = [f"{n},not a date,c{n}@example.com" for n in range(MAX_REPORTED_ERRORS + 100)]
    content = ("order_id,placed_at,customer_email\n" + "\n".join(rows)).encode()
    with pytest.raises(ImportFileError) as error:
        run_import(account, content)
    assert len(error.value.errors) == MAX_REPORTED_ERRORS
    assert error.value.errors_total == MAX_REPORTED_ERRORS + 100
    assert [e["row"] for e in error.value.errors[:3]] == [2, 3, 4]
    assert str(error.value).endswith(f"(and {MAX_REPORTED_ERRORS + 99} more errors)")


def test_the_errors_listed_are_those_of_the_lowest_rows_whatever_order_they_are_found_in(account):
    # Rows 2-11 have a bad date, rows 12-611 no order id; empty order ids are found before any order is parsed.
    dates = [f"{n},not a date,c{n}@example.com" for n in range(10)]
    no_ids = [f",2024-01-01,d{n}@example.com" for n in range(MAX_REPORTED_ERRORS + 100)]
    content = ("order_id,placed_at,customer_email\n" + "\n".join(dates + no_ids)).encode()
    with pytest.raises(ImportFileError) as error:
        run_import(account, content)
    rows = [listed["row"] for listed in error.value.errors]
    assert error.value.errors_total == MAX_REPORTED_ERRORS + 110
    assert rows == list(range(2, MAX_REPORTED_ERRORS + 2))
    assert "not a date" in error.value.errors[0]["message"] and "is empty" in error.value.errors[10]["message"]


def test_error_messages_quoting_hostile_cells_are_escaped_on_the_job_page(admin_client, account):
    content = b'order_id,placed_at,customer_email\n1,"<script>alert(1)</script>",a@example.com\n'
    upload(admin_client, account, content)
    job = ImportJob.objects.get()
    html = admin_client.get(reverse("wagtail_customers_imports:job", args=[job.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_upload_form_refuses_an_empty_file(admin_client, account):
    response = upload(admin_client, account, b"")
    assert response.status_code == 200 and "The submitted file is empty" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_command_lists_every_error_and_names_the_formats(account, tmp_path, capsys):
    from django.core.management import CommandError, call_command

    path = tmp_path / "bad.csv"
    path.write_bytes(b"order_id,placed_at,customer_email\n1,never,a@example.com\n2,2024-01-01,\n3,soon,c@example.com\n")
    with pytest.raises(CommandError, match=r"Nothing was imported. Row 2: 'never' .* \(and 2 more errors\)"):
        call_command("customers_import", str(path), "--account", account.name)
    err = capsys.readouterr().err
    assert "Error: Row 3: customer_id and customer_email are both empty." in err
    assert "Error: Row 4: 'soon' in placed_at is not a date" in err
    shopify = tmp_path / "shopify.csv"
    shopify.write_bytes(b"Name,Created at,Email,Total\n#1,2024-01-01 10:00:00 -0500,a@example.com,5.00\n")
    call_command("customers_import", str(shopify), "--account", account.name, "--format", "shopify")
    assert "Imported 1 order(s)" in capsys.readouterr().out
    with pytest.raises(CommandError, match="invalid choice: 'ebay'"):
        call_command("customers_import", str(shopify), "--account", account.name, "--format", "ebay")


@pytest.mark.parametrize(
    "text, expected",
    [("12.345", "12.35"), ("12.355", "12.36"), ("-0.005", "-0.01"), ("€ 1 234.50", "1234.50"), (" 12 ", "12.00")],
)
def test_amounts_are_rounded_half_up_as_the_ledger_rounds_them(text, expected):
    from decimal import Decimal

    from wagtail_customers.importers.base import parse_decimal

    assert parse_decimal(text, 2, "order_total") == Decimal(expected)


@pytest.mark.parametrize("text", ["1_234", "1.234,56", "1,234.56", "(12.00)"])
def test_amounts_written_otherwise_than_with_a_dot_and_no_separators_are_refused(text):
    from wagtail_customers.importers.base import ImportFileError, parse_decimal

    with pytest.raises(ImportFileError, match="is not a number"):
        parse_decimal(text, 2, "order_total")
