"""A text file's separator: comma, semicolon (Excel's "CSV" where the decimal point is a comma) or tab, guessed
from the header row by the layout's column names; amounts with a decimal comma are refused, never misread."""

import io

import openpyxl
import pytest
from django.utils import translation
from django.utils.translation import trans_real
from django.utils.translation.trans_real import CONTEXT_SEPARATOR

from wagtail_customers.importers import FORMATS, ImportFileError, run_import
from wagtail_customers.importers.base import check_columns, group_rows, parse_decimal, parse_int, parse_moment
from wagtail_customers.importers.generic import GenericFormat
from wagtail_customers.importers.reading import guess_delimiter
from wagtail_customers.models import Customer, ImportJob, Order, OrderLine
from wagtail_customers.services.inputs import CustomerData, LineData, OrderData

from .test_import_screen import upload
from .test_message_translations import Pseudo

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
    # Split by commas the header has more cells (5: the quoted name holds four commas) than by semicolons (4), but
    # none of Shopify's columns.
    header = 'Name;"Created at";Email;"Note, for the packer, and more, and more, and more"'
    assert len(header.split(",")) == 5 and len(header.split(";")) == 4
    content = f"{header}\n#1;2024-01-01 10:00:00 -0500;a@example.com;fragile\n".encode()
    report = run_import(account, content, format_name="shopify")
    assert report.orders_created == 1
    assert report.unknown_columns == ["Note, for the packer, and more, and more, and more"]


@pytest.mark.parametrize(
    "header, expected",
    [
        ("order_id,placed_at,customer_email", ","),
        ("order_id;placed_at;customer_email", ";"),
        ("order_id\tplaced_at\tcustomer_email", "\t"),
        # A separator inside a quoted name does not count.
        ('order_id,placed_at,customer_email,"notes; internal; packer"', ","),
        ('"order_id";"placed_at";"customer, email"', ";"),
        # No known name: the rule of the releases before semicolons, tab if more tabs than commas, else comma.
        ("Bestellnummer;Datum;E-Mail", ","),
        ("Bestellnummer\tDatum;E-Mail;Name", "\t"),
        ("a,b;c", ","),
        ("", ","),
        # Known names tie: the old rule's separator wins.
        ("order_id,x;placed_at", ","),
    ],
)
def test_guess_delimiter(header, expected):
    assert guess_delimiter(header + "\n", ("order_id", "placed_at", "customer_email")) == expected


@pytest.mark.parametrize(
    "header, expected",
    [
        # The quote is not at the start of its field split by semicolons: the CSV parser counts the semicolons in it.
        ('order_id,total,"Name; first; last; middle"', ","),
        ("Order\tItems; qty", "\t"),
        ("Order;Items;qty", ","),
        ("Order,Items\tqty\tx", "\t"),
        ("Order,Items\tqty", ","),
        ('"a\tb\tc",d', "\t"),  # every tab counts, quoted or not, as it did
    ],
)
@pytest.mark.parametrize("columns", [None, (), ("placed_at", "customer_email")])
def test_without_known_names_found_the_separator_is_the_one_it_was_before_semicolons(header, expected, columns):
    assert guess_delimiter(header + "\n", columns) == expected


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


def one_cell_workbook(separator):
    """A workbook whose header and row are each one cell of text separated by ``separator`` (a CSV pasted in)."""
    book = openpyxl.Workbook()
    book.active.append([separator.join(("order_id", "placed_at", "customer_email"))])
    book.active.append([separator.join(("1", "2024-01-01", "a@example.com"))])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_workbook_holding_each_csv_row_in_one_cell_says_so(account):
    message = import_error(account, one_cell_workbook(";"), filename="orders.xlsx")
    assert message == (
        "Missing column: 'order_id'. The file's header row has none of this layout's columns and holds semicolons: "
        "each row seems to be in one cell. Upload the CSV file itself, or open it in your spreadsheet program with "
        "semicolons as the separator before saving it as a workbook."
    )


def test_a_header_of_another_layout_gets_the_plain_message(account):
    content = b"Bestellnummer,Datum,E-Mail\n1,2024-01-01,a@example.com\n"
    assert import_error(account, content) == "Missing column: 'order_id'."


def test_a_semicolon_header_of_another_layout_is_read_with_commas_and_named(account):
    # None of the layout's names whatever the separator: read as the releases before semicolons read it.
    content = b"Bestellnummer;Datum;E-Mail\n1;2024-01-01;a@example.com\n"
    assert import_error(account, content) == (
        "Missing column: 'order_id'. The file seems to separate its columns with semicolons, not commas: its "
        "header row has none of this layout's columns. Check that you chose the right file layout, or save the "
        "file with commas between its columns."
    )


# --- a site's own layouts -----------------------------------------------------------------------------------


class SiteLayout:
    """A site's own layout as docs/howto/add-channel.md describes one, with no ``known`` attribute."""

    name = "site_layout"
    label = "Site layout"
    delimiter = None
    required = [("order_id",)]
    columns = ("order_id", "placed_at", "email", "total", "qty")

    def parse(self, table, report):
        check_columns(table, self.required, self.columns, report)
        orders = []
        for order_id, rows in group_rows(table, "order_id", report).items():
            with report.collecting_errors():
                row, cells = rows[0]
                quantity = parse_int(cells.get("qty", ""), row, "qty", default=1)
                orders.append(
                    OrderData(
                        external_id=order_id,
                        placed_at=parse_moment(cells.get("placed_at", "2024-01-01"), row, "placed_at"),
                        customer=CustomerData(email=cells.get("email", "a@example.com")),
                        lines=[LineData(sku="MUG", quantity=quantity)],
                        total=parse_decimal(cells.get("total", ""), row, "total"),
                    )
                )
        return orders


class PipeLayout(SiteLayout):
    name = "pipe_layout"
    delimiter = "|"


class SemicolonLayout(SiteLayout):
    name = "semicolon_layout"
    delimiter = ";"


class GermanGeneric(GenericFormat):
    """A subclass of a built-in layout reading other columns: it inherits ``known`` from GenericFormat."""

    name = "german_generic"

    def parse(self, table, report):
        translated = {"Bestellnummer": "order_id", "Datum": "placed_at", "E-Mail": "customer_email"}
        table.headers = [translated.get(header, header) for header in table.headers]
        table.rows = [(row, {translated.get(k, k): v for k, v in cells.items()}) for row, cells in table.rows]
        return super().parse(table, report)


@pytest.fixture
def site_layouts(monkeypatch):
    for layout in (SiteLayout, PipeLayout, SemicolonLayout, GermanGeneric):
        monkeypatch.setitem(FORMATS, layout.name, layout)


def test_a_site_layout_without_known_reads_a_quoted_name_with_semicolons_as_before(account, site_layouts):
    # Split by semicolons the header has 4 cells, by commas 3: the cell count chose semicolons, the old rule commas.
    content = b'order_id,total,"Name; first; last; middle"\nA1,12.50,Ann\n'
    report = run_import(account, content, format_name="site_layout")
    assert report.orders_created == 1 and report.unknown_columns == ["Name; first; last; middle"]
    assert str(Order.objects.get().total) == "12.50"


def test_a_site_layout_without_known_reads_a_tab_file_as_before(account, site_layouts):
    content = b"order_id\ttotal; net\n1\t5.00\n"
    report = run_import(account, content, format_name="site_layout")
    assert report.orders_created == 1 and report.unknown_columns == ["total; net"]


def test_a_subclass_of_a_built_in_layout_reading_other_columns_splits_as_before(account, site_layouts):
    # Split by semicolons the header has 5 cells, by commas 4: the cell count chose semicolons, the old rule commas.
    header = 'Bestellnummer,Datum,E-Mail,"Notiz; intern; Packer; mehr; noch"'
    content = f"{header}\n1,2024-01-01,a@example.com,zerbrechlich\n".encode()
    report = run_import(account, content, format_name="german_generic")
    assert report.orders_created == 1 and report.unknown_columns == ["Notiz; intern; Packer; mehr; noch"]


def test_a_layout_of_another_separator_missing_a_column_gets_the_plain_message(account, site_layouts):
    # The header holds a semicolon, which the message for another separator would name; "|" has no name there.
    content = b"Bestellnummer;Datum|E-Mail\n1;2024-01-01|a@example.com\n"
    assert import_error(account, content, format_name="pipe_layout") == "Missing column: 'order_id'."


def test_a_layout_of_another_separator_is_read(account, site_layouts):
    report = run_import(account, b"order_id|total\n1|12.50\n", format_name="pipe_layout")
    assert report.orders_created == 1


# --- numbers that a semicolon or tab file may write with a dot between thousands --------------------------------


SEMICOLON_HEADER = "order_id;placed_at;customer_email;sku;quantity;unit_price"


def file_of(delimiter, *rows):
    """A generic file separated by ``delimiter``: each row ``(order id, quantity, unit price)``."""
    lines = [SEMICOLON_HEADER.replace(";", delimiter)]
    lines += [
        delimiter.join((order_id, "2024-01-01", f"{order_id}@example.com", "MUG", quantity, unit_price))
        for order_id, quantity, unit_price in rows
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("delimiter", [";", "\t"])
@pytest.mark.parametrize(
    "quantity, unit_price, column, value, decimal, whole",
    [
        ("1.000", "12", "quantity", "1.000", "1.000", "1000"),
        ("1.234", "12", "quantity", "1.234", "1.234", "1234"),
        ("2", "1.234", "unit_price", "1.234", "1.234", "1234"),
        ("2", "€ 1.234.567", "unit_price", "€ 1.234.567", "1.234.567", "1234567"),
        ("2", "-12.500", "unit_price", "-12.500", "-12.500", "-12500"),
    ],
)
def test_a_number_with_a_dot_between_thousands_in_a_semicolon_or_tab_file_is_refused(
    account, delimiter, quantity, unit_price, column, value, decimal, whole
):
    """Excel writes its "CSV" with semicolons, and its "Text" with tabs, in its locale's number format."""
    content = file_of(delimiter, ("1", quantity, unit_price))
    assert import_error(account, content) == (
        f"Row 2: “{value}” in {column} could be {decimal} or {whole}: write numbers with a dot for decimals and no "
        "thousands separator."
    )
    assert not Customer.objects.exists() and not OrderLine.objects.exists()


def test_every_ambiguous_number_of_a_semicolon_file_is_listed_and_nothing_written(account):
    content = file_of(";", ("1", "2", "12"), ("2", "1.000", "3"), ("3", "1", "1.234"))
    with pytest.raises(ImportFileError) as error:
        run_import(account, content)
    assert [(e["row"], e["message"].split(" could")[0]) for e in error.value.errors] == [
        (3, "“1.000” in quantity"),
        (4, "“1.234” in unit_price"),
    ]
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_ambiguous_numbers_past_the_listed_errors_are_counted(account):
    content = file_of(";", *[(str(number), "1.000", "12") for number in range(1, 601)])
    with pytest.raises(ImportFileError) as error:
        run_import(account, content)
    assert (len(error.value.errors), error.value.errors_total) == (500, 600)
    assert not Order.objects.exists()


@pytest.mark.parametrize("delimiter", [";", "\t"])
@pytest.mark.parametrize("settling", ["12.50", "0.425", "1234.5", "€ 2.0"])
def test_a_file_whose_dot_is_a_decimal_point_elsewhere_reads_every_dot_so(account, delimiter, settling):
    """One number a thousands separator cannot make (in any row: here after the others) settles the file's dots."""
    content = file_of(delimiter, ("1", "1.000", "1.234"), ("2", "2", "-12.500"), ("3", "1", settling))
    assert run_import(account, content).orders_created == 3
    read = {line.order.external_id: (line.quantity, str(line.unit_price)) for line in OrderLine.objects.all()}
    assert (read["1"], read["2"]) == ((1, "1.23"), (2, "-12.50"))


def test_a_three_decimal_currencys_amounts_in_a_semicolon_file_are_read_with_one_that_settles_it(account):
    """A KWD seller writes 1.250 for one dinar and a quarter; an amount under one dinar (0.500) says the dot is
    the decimal point."""
    content = file_of(";", ("1", "1", "1.250"), ("2", "2", "12.375"), ("3", "1", "0.500"))
    assert run_import(account, content).orders_created == 3
    assert sorted(str(line.unit_price) for line in OrderLine.objects.all()) == ["0.50", "1.25", "12.38"]


@pytest.mark.parametrize("settled_first", [True, False])
def test_a_cell_that_fails_read_with_a_decimal_point_in_a_settled_file_says_so(account, settled_first):
    """Whichever row settles the file's dots, before or after: "1.234" is then no whole number and "1.234.567" no
    number (before the file is settled either could be a number with thousands separators)."""
    settling, failing = ("1", "1", "12.50"), [("2", "1.234", "3"), ("3", "2", "1.234.567")]
    rows = [settling, *failing] if settled_first else [*failing, settling]
    with pytest.raises(ImportFileError) as error:
        run_import(account, file_of(";", *rows))
    first = 3 if settled_first else 2
    assert [(e["row"], e["message"]) for e in error.value.errors] == [
        (first, "'1.234' in quantity is not a whole number."),
        (first + 1, "'1.234.567' in unit_price is not a number."),
    ]
    assert not Order.objects.exists()


def test_ambiguous_numbers_are_listed_in_row_order_with_the_other_errors(account):
    """The ambiguous cells are known at the end of the file: listed among the layout's errors by row, the first
    row's first, even past the listed errors' limit."""
    rows = [("1", "1", "1.234"), *[(str(number), "x", "3") for number in range(2, 602)]]
    with pytest.raises(ImportFileError) as error:
        run_import(account, file_of(";", *rows))
    assert (len(error.value.errors), error.value.errors_total) == (500, 601)
    assert error.value.errors[0]["row"] == 2 and "could be 1.234 or 1234" in error.value.errors[0]["message"]
    assert [e["row"] for e in error.value.errors] == sorted(e["row"] for e in error.value.errors)
    assert str(error.value).startswith("Row 2: “1.234” in unit_price could be")


def test_a_site_layouts_numbers_in_a_semicolon_file_are_checked_too(account, site_layouts):
    content = b"order_id;placed_at;total\n1;2024-01-01;1.234\n"
    assert import_error(account, content, format_name="semicolon_layout") == (
        "Row 2: “1.234” in total could be 1.234 or 1234: write numbers with a dot for decimals and no thousands "
        "separator."
    )


@pytest.mark.parametrize(
    "quantity, unit_price, stored",
    [("2", "12.50", (2, "12.50")), ("2.0", "0.425", (2, "0.43")), ("1000", "1234", (1000, "1234.00"))],
)
def test_other_numbers_of_a_semicolon_file_read_as_before(account, quantity, unit_price, stored):
    content = f"{SEMICOLON_HEADER}\n1;2024-01-01;a@example.com;MUG;{quantity};{unit_price}\n".encode()
    assert run_import(account, content).orders_created == 1
    line = OrderLine.objects.get()
    assert (line.quantity, str(line.unit_price)) == stored


def test_in_a_comma_file_a_dot_is_the_decimal_point(account):
    """As it has always been read: a comma file does not use a dot between thousands (Excel writes its "CSV" with
    semicolons where it would)."""
    content = file_of(",", ("1", "1.000", "1.234"))
    assert run_import(account, content).orders_created == 1
    line = OrderLine.objects.get()
    assert (line.quantity, str(line.unit_price)) == (1, "1.23")


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_a_quantity_with_decimals_is_refused(account, delimiter):
    header = SEMICOLON_HEADER.replace(";", delimiter)
    content = f"{header}\n1{delimiter}2024-01-01{delimiter}a@example.com{delimiter}MUG{delimiter}2.5{delimiter}3\n"
    assert import_error(account, content.encode()) == "Row 2: '2.5' in quantity is not a whole number."


# --- the separators' names in translations ------------------------------------------------------------------


class PseudoWithContexts(Pseudo):
    """The pseudo-translation, translating a message with a context (``pgettext``) to itself in brackets too."""

    def gettext(self, message):
        return f"[{message.split(CONTEXT_SEPARATOR, 1)[-1]}]"


@pytest.fixture
def pseudo(monkeypatch):
    monkeypatch.setitem(trans_real._translations, "xx", PseudoWithContexts())
    with translation.override("xx"):
        yield


@pytest.mark.usefixtures("pseudo")
def test_the_other_separator_message_is_one_sentence_in_a_translation(account):
    content = b"amazon-order-id,purchase-date,order-status,sku\n111-1,2024-01-01T10:00:00+00:00,Shipped,MUG\n"
    message = import_error(account, content, format_name="amazon_orders")
    # The pseudo-translation brackets each translated string: one pair, no separator's name translated alone.
    assert message.startswith("[Missing column: 'amazon-order-id'. The file seems to separate its columns with commas")
    assert message.count("[") == 1 and message.endswith("between its columns.]")


@pytest.mark.usefixtures("pseudo")
def test_the_one_cell_message_is_one_sentence_in_a_translation(account):
    message = import_error(account, one_cell_workbook("\t"), filename="orders.xlsx")
    assert message.startswith("[Missing column: 'order_id'. The file's header row has none of this layout's columns")
    assert "holds tabs: each row" in message and message.count("[") == 1


def test_a_semicolon_file_uploaded_on_the_import_screen_is_previewed(admin_client, account):
    content = b"order_id;placed_at;customer_email\n1;2024-01-01;a@example.com\n2;2024-01-02;b@example.com\n"
    response = upload(admin_client, account, content)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.state == "pending" and job.preview["report"]["orders_created"] == 2
    assert not Order.objects.exists()
