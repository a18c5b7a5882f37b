"""A text file's separator: comma, semicolon (Excel's "CSV" where the decimal point is a comma) or tab, guessed
from the header row by the layout's column names; amounts with a decimal comma are refused, never misread."""

import io

import openpyxl
import pytest

from wagtail_customers.importers import ImportFileError, run_import
from wagtail_customers.importers.reading import guess_delimiter
from wagtail_customers.models import Customer, ImportJob, Order, OrderLine

from .test_import_screen import upload

pytestmark = pytest.mark.django_db


def import_error(account, content, **kwargs):
    with pytest.raises(ImportFileError) as error:
        run_import(account, content, **kwargs)
    assert not Order.objects.exists()
    return str(error.value)


def test_a_semicolon_csv_as_european_excel_writes_it_is_read(account):
    content = (
        '\ufeff"order_id";"placed_at";"customer_email";"customer_name";"sku";"quantity";"unit_price"\r\n'
        '"1";"2024-03-01";"a@example.com";"Müller, Anna";"MUG";"2";"12.50"\r\n'
    ).encode()
    report = run_import(account, content)
    assert report.orders_created == 1 and report.unknown_columns == []
    assert Customer.objects.get().name == "Müller, Anna"
    line = OrderLine.objects.get()
    assert (line.sku, line.quantity, str(line.unit_price)) == ("MUG", 2, "12.50")


def test_the_separator_that_gives_the_layouts_columns_wins_over_the_one_giving_most_cells(account):
    # Split by commas the header has more cells (the quoted name holds three), but none of Shopify's columns.
    header = 'Name;"Created at";Email;"Note, for the packer, and more, and more"'
    content = f"{header}\n#1;2024-01-01 10:00:00 -0500;a@example.com;fragile\n".encode()
    report = run_import(account, content, format_name="shopify")
    assert report.orders_created == 1
    assert report.unknown_columns == ["Note, for the packer, and more, and more"]


@pytest.mark.parametrize(
    "header, expected",
    [
        ("order_id,placed_at,customer_email", ","),
        ("order_id;placed_at;customer_email", ";"),
        ("order_id\tplaced_at\tcustomer_email", "\t"),
        # A separator inside a quoted name does not count.
        ('order_id,placed_at,customer_email,"notes; internal; packer"', ","),
        ('"order_id";"placed_at";"customer, email"', ";"),
        # No known name: the separator giving most cells, a tie keeping comma first.
        ("Bestellnummer;Datum;E-Mail", ";"),
        ("a,b;c", ","),
        ("", ","),
    ],
)
def test_guess_delimiter(header, expected):
    assert guess_delimiter(header + "\n", ("order_id", "placed_at", "customer_email")) == expected


@pytest.mark.parametrize("fmt", ["generic", "online_retail", "amazon_sale_report"])
def test_every_layout_that_guesses_reads_semicolons(account, fmt):
    from .test_import_bad_input import MINIMAL

    header, good, delimiter = MINIMAL[fmt]
    content = f"{header.replace(delimiter, ';')}\n{good.replace(delimiter, ';')}\n".encode()
    assert run_import(account, content, format_name=fmt).orders_created == 1


@pytest.mark.parametrize(
    "text",
    ["12,50", "1.234,56", "€ 12,50", "-0,99", "1,234.56"],
)
def test_an_amount_with_a_decimal_comma_is_refused_with_the_way_to_write_it(account, text):
    content = f'order_id;placed_at;customer_email;sku;unit_price\n1;2024-01-01;a@example.com;MUG;"{text}"\n'.encode()
    message = import_error(account, content)
    assert message == (
        f"Row 2: '{text}' in unit_price is not a number: amounts are written with a dot as the decimal point and "
        "no thousands separator (1234.56)."
    )


def test_a_decimal_comma_is_never_read_as_a_bigger_amount(account):
    """In a comma-separated file, "12,50" unquoted is two cells: refused for the surplus cell, not read as 1250."""
    content = b"order_id,placed_at,customer_email,order_total\n1,2024-01-01,a@example.com,12,50\n"
    assert "The row has 5 cells but the header row has 4 columns" in import_error(account, content)


def test_a_comma_file_chosen_as_amazons_tab_separated_report_says_so(account):
    content = b"amazon-order-id,purchase-date,order-status,sku\n111-1,2024-01-01T10:00:00+00:00,Shipped,MUG\n"
    message = import_error(account, content, format_name="amazon_orders")
    assert message == (
        "Missing column: 'amazon-order-id'. The file seems to separate its columns with commas, not tabs: its "
        "header row has none of this layout's columns. Check that you chose the right file layout, or save the "
        "file with tabs between its columns."
    )


def test_a_workbook_holding_each_csv_row_in_one_cell_says_so(account):
    book = openpyxl.Workbook()
    book.active.append(["order_id;placed_at;customer_email"])
    book.active.append(["1;2024-01-01;a@example.com"])
    buffer = io.BytesIO()
    book.save(buffer)
    message = import_error(account, buffer.getvalue(), filename="orders.xlsx")
    assert message == (
        "Missing column: 'order_id'. The file's header row has none of this layout's columns and holds semicolons: "
        "each row seems to be in one cell. Upload the CSV file itself, or open it in your spreadsheet program with "
        "semicolons as the separator before saving it as a workbook."
    )


def test_a_header_of_another_layout_gets_the_plain_message(account):
    content = b"Bestellnummer;Datum;E-Mail\n1;2024-01-01;a@example.com\n"
    assert import_error(account, content) == "Missing column: 'order_id'."


def test_a_semicolon_file_uploaded_on_the_import_screen_is_previewed(admin_client, account):
    content = b"order_id;placed_at;customer_email\n1;2024-01-01;a@example.com\n2;2024-01-02;b@example.com\n"
    response = upload(admin_client, account, content)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.state == "pending" and job.preview["report"]["orders_created"] == 2
    assert not Order.objects.exists()
