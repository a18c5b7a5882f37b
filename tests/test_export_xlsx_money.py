"""Amounts in Excel exports are shown with their currency's decimals (``services.conversion.minor_unit``): ``#,##0``
for a JPY or KRW seller account's amounts, ``#,##0.00`` for a USD one's, the cell holding the number as stored. Every
kind of XLSX export: the customers listing's (at once, as a job, chunked) and a customer's orders (the order's own
currency, and the seller account's for the ``account_*`` columns). CSV files stay as they were."""

import io
from decimal import Decimal

import openpyxl
import pytest

from tests.export_support import START_URL, exporter, file_of, read_csv, response_bytes
from tests.factories import order_data
from wagtail_customers.exports import jobs
from wagtail_customers.exports.query import ExportSpec
from wagtail_customers.exports.tasks import run_export_job
from wagtail_customers.exports.writers import XlsxFormats, write_xlsx
from wagtail_customers.exports.xlsx_rows import MONEY_FORMATS, MONEY_STYLES
from wagtail_customers.models import Channel, Customer, SellerAccount
from wagtail_customers.services.ingestion import record_order

pytestmark = pytest.mark.django_db

WHOLE, CENTS = "#,##0", "#,##0.00"
#: The customers' amount columns (each in the seller account's currency), and the columns exported with them.
AMOUNTS = ["Amount spent", "Discount received", "Average order value"]
COLUMNS = ["name", "amount_spent", "discount_total", "average_order_value", "orders_count", "account"]


@pytest.fixture
def yen_account(db):
    return SellerAccount.objects.create(name="Tokyo shop", channel=Channel.AMAZON, currency="JPY")


@pytest.fixture
def won_account(db):
    return SellerAccount.objects.create(name="Seoul shop", channel=Channel.SHOPIFY, currency="KRW")


def sheet_rows(content):
    """The data rows of the first sheet as ``{heading: cell}`` (openpyxl's cells: value and number format)."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    rows = list(workbook.worksheets[0].iter_rows())
    headings = [cell.value for cell in rows[0]]
    return [dict(zip(headings, row, strict=True)) for row in rows[1:]]


def by_name(content):
    return {row["Customer"].value: row for row in sheet_rows(content)}


def shop_customers(yen_account, won_account, dollar_account):
    """Two customers of the JPY account (one with a fraction of a yen, recorded as given), one of the KRW account,
    two of the USD account."""
    record_order(
        yen_account, order_data("y1", email="hana@example.jp", name="Hana", lines=((2, "814"),), discount="100")
    )
    record_order(yen_account, order_data("y2", email="ken@example.jp", name="Ken", lines=((1, "1628.40"),)))
    record_order(won_account, order_data("k1", email="minji@example.kr", name="Minji", lines=((3, "15000"),)))
    record_order(dollar_account, order_data("u1", email="ada@example.com", name="Ada", lines=((2, "814.00"),)))
    record_order(dollar_account, order_data("u2", email="bob@example.com", name="Bob", lines=((1, "16.25"),)))


def assert_amounts_in_their_currencys_decimals(rows):
    """Every customer's amounts: the stored number, shown with its account's currency's decimals."""
    customers = Customer.objects.select_related("account")
    assert sorted(rows) == sorted(customer.name for customer in customers)
    for customer in customers:
        row = rows[customer.name]
        assert row["Currency"].value == customer.account.currency
        expected = WHOLE if customer.account.currency in ("JPY", "KRW") else CENTS
        stored = [customer.amount_spent, customer.discount_total, customer.average_order_value]
        for heading, amount in zip(AMOUNTS, stored, strict=True):
            assert (heading, row[heading].number_format) == (heading, expected), customer.name
            assert row[heading].value == float(amount), (customer.name, heading)
        # Counts are no amounts: as before.
        assert row["Orders"].number_format == "General"


def test_a_customers_export_shows_each_accounts_amounts_with_its_currencys_decimals(
    client, account, yen_account, won_account
):
    shop_customers(yen_account, won_account, account)
    client.force_login(exporter("currencies", account, yen_account, won_account, columns=COLUMNS))
    content = response_bytes(
        client.post(START_URL, {"format": "xlsx", "tab": "all", "scope": "all", "query": "ordering=name"})
    )
    rows = by_name(content)
    assert_amounts_in_their_currencys_decimals(rows)
    # "1,628" in Excel, yet the cell holds the amount as recorded (to the cent as given), not a rounded one.
    assert Customer.objects.get(name="Ken").amount_spent == Decimal("1628.40")
    assert (rows["Ken"]["Amount spent"].value, rows["Ken"]["Amount spent"].number_format) == (1628.4, WHOLE)
    assert (rows["Ada"]["Amount spent"].value, rows["Ada"]["Amount spent"].number_format) == (1628, CENTS)

    # The CSV file of the same export is unchanged: the amounts as stored, whatever their currency.
    csv_rows = read_csv(
        response_bytes(
            client.post(START_URL, {"format": "csv", "tab": "all", "scope": "all", "query": "ordering=name"})
        )
    )
    spent = csv_rows[0].index("Amount spent")
    by_csv_name = {row[0]: row for row in csv_rows[1:]}
    for customer in Customer.objects.all():
        assert by_csv_name[customer.name][spent] == str(customer.amount_spent)
    assert (by_csv_name["Ken"][spent], by_csv_name["Ada"][spent]) == ("1628.40", "1628.00")


def export_job_file(user, columns, settings, chunk_rows):
    """The file of an export job run eagerly, chunked when ``chunk_rows`` is given; the job removed afterwards."""
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXPORT_CHUNK_ROWS": chunk_rows}
    spec = ExportSpec(file_format="xlsx", tab="all", columns=columns, query={"ordering": ["name"]})
    account_ids = [grant.account_id for grant in user.customer_access_grants.all()]
    job, created = jobs.find_or_create_job(user, spec, total_rows=1, account_ids=account_ids)
    assert created
    assert run_export_job.delay(str(job.pk)).get() == ("chunked" if chunk_rows else "done")
    return file_of(job)


def test_a_chunked_export_gives_the_amounts_the_same_formats_as_one_task(settings, account, yen_account, won_account):
    shop_customers(yen_account, won_account, account)
    user = exporter("chunked", account, yen_account, won_account, columns=COLUMNS)
    single = export_job_file(user, COLUMNS, settings, None)
    # Two customers a chunk: the JPY, KRW and USD rows written by different chunks, then joined.
    chunked = export_job_file(user, COLUMNS, settings, 2)
    assert_amounts_in_their_currencys_decimals(by_name(single))
    assert_amounts_in_their_currencys_decimals(by_name(chunked))

    def cells(content):
        return [[(cell.value, cell.number_format) for cell in row.values()] for row in sheet_rows(content)]

    assert cells(chunked) == cells(single)


def test_a_customers_orders_export_shows_each_amount_with_its_own_currencys_decimals(client, account, yen_account):
    """In a JPY account: an order in yen and one in dollars (converted by the rate table). The order's own amounts
    take the order's currency's decimals, those in the account's currency whole yen; the rate keeps every digit."""
    email = "traveller@example.com"
    record_order(yen_account, order_data("yen", email=email, lines=((2, "814"),), day=1, discount="100"))
    record_order(yen_account, order_data("usd", email=email, lines=((1, "20.50"),), day=2, currency="USD"))
    customer = Customer.objects.get(email=email)
    client.force_login(exporter("orders", yen_account))
    url = f"/admin/customers/exports/customer/{customer.pk}/"
    rows = {row["Order id"].value: row for row in sheet_rows(response_bytes(client.get(url, {"format": "xlsx"})))}

    own = ["Subtotal", "Order discount", "Shipping", "Tax", "Total", "Refunded"]
    converted = ["Total in the account's currency", "Refunded in the account's currency"]
    converted.append("Discount in the account's currency")
    yen, usd = rows["yen"], rows["usd"]
    assert (yen["Currency"].value, usd["Currency"].value, usd["Account currency"].value) == ("JPY", "USD", "JPY")
    assert [yen[heading].number_format for heading in own + converted] == [WHOLE] * 9
    assert [usd[heading].number_format for heading in own] == [CENTS] * 6
    assert [usd[heading].number_format for heading in converted] == [WHOLE] * 3
    assert usd["Exchange rate"].number_format == "General"
    order = customer.orders.get(external_id="usd")
    assert (usd["Total"].value, usd["Total in the account's currency"].value) == (20.5, float(order.account_total))
    assert yen["Total"].value == float(customer.orders.get(external_id="yen").total)


def test_the_writer_formats_amounts_by_the_currency_in_their_row(tmp_path):
    """``write_xlsx`` with ``money_columns``: each amount by its row's currency cell; a currency no one knows or no
    currency has two decimals; a value that is no amount as any other cell; without ``money_columns``, as before."""
    path = tmp_path / "money.xlsx"
    rows = [
        ["JPY", Decimal("1628.00"), Decimal("0.5")],
        ["KRW", Decimal("45000.00"), Decimal("1.234567")],
        ["USD", Decimal("1628.00"), Decimal("12.50")],
        ["KWD", Decimal("1.23"), None],
        ["", Decimal("5.00"), None],
        ["XYZ", Decimal("5.00"), None],
        ["JPY", None, None],
        ["JPY", 7, None],
        ["JPY", Decimal("0.000123"), None],
    ]
    write_xlsx(["Currency", "Amount", "Rate"], rows, path, money_columns=[(1, 0)])
    sheet = openpyxl.load_workbook(path).active
    written = [(row[1].value, row[1].number_format) for row in sheet.iter_rows(min_row=2)]
    assert written == [
        (1628, WHOLE),
        (45000, WHOLE),
        (1628, CENTS),
        (1.23, CENTS),
        (5, CENTS),
        (5, CENTS),
        (None, "General"),
        (7, "General"),
        (0.000123, WHOLE),
    ]
    # The column with no currency keeps the writer's rule: two decimals at most as money, finer in full.
    assert [row[2].number_format for row in sheet.iter_rows(min_row=2, max_row=3)] == [CENTS, "General"]

    plain = tmp_path / "plain.xlsx"
    write_xlsx(["Currency", "Amount"], [["JPY", Decimal("1628.00")]], plain)
    assert openpyxl.load_workbook(plain).active["B2"].number_format == CENTS


def test_every_workbook_has_one_format_per_number_of_decimals_at_its_style_id(tmp_path):
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(tmp_path / "styles.xlsx"))
    formats = XlsxFormats(workbook)
    assert (
        {decimals: cell_format.num_format for decimals, cell_format in formats.money_by_decimals.items()}
        == {
            0: "#,##0",
            1: "#,##0.0",
            2: "#,##0.00",
        }
        == MONEY_FORMATS
    )
    assert {
        decimals: cell_format._get_xf_index() for decimals, cell_format in formats.money_by_decimals.items()
    } == MONEY_STYLES
    assert formats.money is formats.money_by_decimals[2]
    workbook.close()
