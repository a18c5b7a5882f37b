"""Export contents: every cell against the database, in CSV and XLSX, for each scope; formula injection;
numbers stay numbers; bounded queries; the management command; one customer's orders."""

import datetime
import errno
import html
import re
import tempfile
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import ModelLogEntry

from tests.export_support import (
    ALL_COLUMNS,
    FORMULA_CORPUS,
    START_URL,
    as_csv_text,
    as_xlsx_value,
    decode_xlsx_escapes,
    expected_cells,
    expected_from_start_or_end,
    export_headings,
    exported_columns,
    exporter,
    make_customers,
    neutralised,
    read_csv,
    read_xlsx,
    response_bytes,
)
from tests.factories import order_data
from wagtail_customers.columns import DEFAULT_COLUMNS
from wagtail_customers.exports.neutralise import neutralise
from wagtail_customers.exports.query import CustomerExport, ExportSpec
from wagtail_customers.exports.resources import CustomerResource
from wagtail_customers.exports.service import LOG_ACTION, write_file
from wagtail_customers.exports.writers import write_xlsx
from wagtail_customers.listing import customer_listing_queryset
from wagtail_customers.models import Customer, WatchlistEntry
from wagtail_customers.permissions import Action
from wagtail_customers.services.ingestion import record_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(account, other_account):
    """30 customers in ``account`` (exportable), 5 in ``other_account`` (the exporter may not export it)."""
    make_customers(account, 30)
    make_customers(other_account, 5, prefix="x")
    return account


def export_post(client, **data):
    data.setdefault("tab", "all")
    data.setdefault("scope", "all")
    return client.post(START_URL, data)


def expected_rows(user, tab, params, columns, now=None):
    queryset = customer_listing_queryset(user, tab, params, action=Action.EXPORT).select_related("account")
    return [expected_cells(customer, exported_columns(columns), now) for customer in queryset]


# --- contents, cell by cell ---------------------------------------------------------------------


@pytest.mark.parametrize("tab", ["all", "highest-value", "most-orders"])
def test_csv_all_pages_matches_the_database_cell_by_cell(client, shop, other_account, tab):
    user = exporter("csvuser", shop, columns=ALL_COLUMNS)
    client.force_login(user)
    started = timezone.now()
    response = export_post(client, format="csv", tab=tab)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = read_csv(response_bytes(response))
    assert rows[0] == export_headings(ALL_COLUMNS)
    assert rows[0][rows[0].index("Amount spent") + 1] == "Currency"
    assert len(expected_rows(user, tab, {}, ["name"])) == 30  # the other account's customers are not exportable
    assert rows[1:] in expected_from_start_or_end(
        started,
        lambda now: [[as_csv_text(value) for value in row] for row in expected_rows(user, tab, {}, ALL_COLUMNS, now)],
    )


def test_xlsx_all_pages_matches_the_database_cell_by_cell_with_native_types(client, shop):
    user = exporter("xlsxuser", shop, columns=ALL_COLUMNS)
    client.force_login(user)
    started = timezone.now()
    response = export_post(client, format="xlsx", tab="highest-value")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = read_xlsx(response_bytes(response))
    assert rows[0] == export_headings(ALL_COLUMNS)
    assert [[decode_xlsx_escapes(value) for value in row] for row in rows[1:]] in expected_from_start_or_end(
        started,
        lambda now: [
            [as_xlsx_value(value) for value in row]
            for row in expected_rows(user, "highest-value", {}, ALL_COLUMNS, now)
        ],
    )
    first, written = rows[1], exported_columns(ALL_COLUMNS)
    assert isinstance(first[written.index("amount_spent")], float)
    assert first[written.index("currency")] == shop.currency
    assert isinstance(first[written.index("orders_count")], int)
    assert isinstance(first[written.index("last_order_at")], datetime.datetime)
    # Highest value first.
    amounts = [row[written.index("amount_spent")] for row in rows[1:]]
    assert amounts == sorted(amounts, reverse=True)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_every_amount_carries_its_accounts_currency_in_a_file_of_two_currencies(
    client, account, other_account, file_format
):
    make_customers(account, 3)  # USD
    make_customers(other_account, 2, prefix="x")  # EUR
    # An order in a currency no rate table knows: its customer's amount spent leaves it out.
    record_order(account, order_data("z1", email="c0@example.com", name="Customer c0", currency="XYZ", day=300))
    client.force_login(exporter("twocurrencies", account, other_account, columns=["name", "amount_spent", "account"]))
    content = response_bytes(export_post(client, format=file_format, query="ordering=name"))
    rows = read_xlsx(content) if file_format == "xlsx" else read_csv(content)
    assert rows[0] == ["Customer", "Amount spent", "Currency", "Orders without exchange rate", "Seller account"]
    by_name = {row[0]: row for row in rows[1:]}
    for customer in Customer.objects.select_related("account"):
        name, amount, currency, unconverted, account_name = by_name[customer.name]
        assert (currency, account_name) == (customer.account.currency, customer.account.name)
        assert Decimal(str(amount)) == customer.amount_spent  # a plain number, in CSV as in XLSX
        assert int(unconverted) == customer.unconverted_orders
    assert sorted(row[2] for row in rows[1:]) == ["EUR", "EUR", "USD", "USD", "USD"]
    assert [int(row[3]) for row in rows[1:]].count(1) == 1  # Customer c0's order in XYZ


def test_without_an_amount_column_there_is_no_currency_column(client, shop):
    client.force_login(exporter("noamounts", shop, columns=["name", "email", "orders_count"]))
    rows = read_csv(response_bytes(export_post(client, format="csv")))
    assert rows[0] == ["Customer", "E-mail", "Orders"]


def test_columns_are_the_users_view_in_the_users_order(client, shop):
    user = exporter("viewuser", shop, columns=["amount_spent", "name", "country"])
    client.force_login(user)
    rows = read_csv(response_bytes(export_post(client, format="csv")))
    assert rows[0] == ["Amount spent", "Currency", "Orders without exchange rate", "Customer", "Country"]
    exporter_without_name = exporter("noname", shop, columns=["country", "email"])
    client.force_login(exporter_without_name)
    rows = read_csv(response_bytes(export_post(client, format="csv")))
    assert rows[0] == ["Customer", "Country", "E-mail"]  # the listing always shows the name


def test_a_tab_adds_the_columns_it_always_shows(client, account):
    record_order(account, order_data("p1", email="promo@example.com", promo_codes=("SAVE10",)))
    user = exporter("promouser", account, columns=["name", "email"])
    client.force_login(user)
    rows = read_csv(response_bytes(export_post(client, format="csv", tab="promo-codes")))
    assert rows[0] == [
        "Customer",
        "Promo codes used",
        "Discount received",
        "Currency",
        "Orders without exchange rate",
        "E-mail",
    ]
    assert rows[1][:2] == ["Ada Lovelace", "1"]


def test_default_columns_without_a_saved_view(client, shop):
    client.force_login(exporter("plain", shop))
    rows = read_csv(response_bytes(export_post(client, format="csv")))
    assert rows[0] == export_headings(DEFAULT_COLUMNS)


# --- scopes ---------------------------------------------------------------------------------------


def test_current_page_exports_the_rows_of_that_page(client, shop):
    user = exporter("pageuser", shop, columns=["name", "email"])
    client.force_login(user)
    response = export_post(client, format="csv", scope="page", tab="highest-value", query="per_page=10&p=2")
    rows = read_csv(response_bytes(response))
    expected = expected_rows(user, "highest-value", {}, ["name", "email"])[10:20]
    assert rows[1:] == expected


def test_current_page_beyond_the_last_page_is_the_last_page(client, shop):
    user = exporter("lastpage", shop, columns=["name"])
    client.force_login(user)
    rows = read_csv(response_bytes(export_post(client, format="csv", scope="page", query="per_page=25&p=999")))
    assert [row[0] for row in rows[1:]] == [row[0] for row in expected_rows(user, "all", {}, ["name"])[25:]]


def test_all_pages_keeps_search_filters_and_account_selection(client, account, other_account):
    make_customers(account, 12)
    make_customers(other_account, 12, prefix="x")
    user = exporter("filtered", account, other_account, columns=["name", "email"])
    client.force_login(user)
    query = f"q=customer+c1&account={account.pk}&orders_min=1"
    response = export_post(client, format="csv", tab="most-orders", query=query)
    rows = read_csv(response_bytes(response))
    expected = expected_rows(user, "most-orders", {"q": "customer c1", "account": [str(account.pk)]}, ["name", "email"])
    assert rows[1:] == expected
    assert {row[0] for row in rows[1:]} == {f"Customer c{i}" for i in (1, 10, 11)}


def test_listing_parameters_as_separate_fields_like_the_bulk_action_form(client, account, other_account):
    make_customers(account, 5)
    make_customers(other_account, 5, prefix="x")
    user = exporter("fields", account, other_account, columns=["name"])
    client.force_login(user)
    response = export_post(client, format="csv", account=str(other_account.pk), ordering="name")
    assert [row[0] for row in read_csv(response_bytes(response))[1:]] == [f"Customer x{i}" for i in range(5)]


def test_selected_rows_beyond_the_1000_field_cap_in_one_field(client, account, other_account, settings):
    make_customers(account, 1200)
    make_customers(other_account, 3, prefix="x")
    outsider = Customer.objects.filter(account=other_account).first()
    user = exporter("selector", account, columns=["name", "email"])
    client.force_login(user)
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXPORT_SYNC_MAX_ROWS": 5000}
    mine = list(Customer.objects.filter(account=account).order_by("pk").values_list("pk", flat=True))
    chosen = mine[:1150]
    ids = ",".join(str(pk) for pk in [*reversed(chosen), outsider.pk, 999999999])
    response = export_post(client, format="csv", scope="selected", tab="highest-value", ids=ids)
    assert response.status_code == 200
    rows = read_csv(response_bytes(response))
    expected = [
        cells
        for cells, pk in zip(
            expected_rows(user, "highest-value", {}, ["name", "email"]),
            customer_listing_queryset(user, "highest-value", {}, action=Action.EXPORT).values_list("pk", flat=True),
            strict=True,
        )
        if pk in set(chosen)
    ]
    assert len(rows) - 1 == 1150 == len(expected)
    assert rows[1:] == expected  # in the tab's order; the other account's customer and the unknown id are left out


def test_selected_rows_as_a_json_list(client, shop):
    user = exporter("jsonsel", shop, columns=["name"])
    client.force_login(user)
    pks = list(Customer.objects.filter(account=shop).order_by("pk").values_list("pk", flat=True)[:3])
    response = export_post(client, format="csv", scope="selected", ids=str(pks))
    assert sorted(row[0] for row in read_csv(response_bytes(response))[1:]) == sorted(
        Customer.objects.get(pk=pk).name for pk in pks
    )


def test_watchlist_tab_exports_only_watched_customers(client, shop):
    watched = Customer.objects.filter(account=shop).order_by("pk")[:2]
    for customer in watched:
        WatchlistEntry.objects.create(customer=customer)
    client.force_login(exporter("watcher", shop, columns=["email"]))
    rows = read_csv(response_bytes(export_post(client, format="csv", tab="watchlist")))
    assert sorted(row[1] for row in rows[1:]) == sorted(customer.email for customer in watched)


# --- formula injection, numbers, control characters -----------------------------------------------


def storable_corpus():
    """The corpus, less NUL on PostgreSQL (its text columns cannot hold it; the writers' own tests cover it)."""
    if connection.vendor == "postgresql":
        return [text for text in FORMULA_CORPUS if "\0" not in text]
    return FORMULA_CORPUS


@pytest.fixture
def hostile(account):
    """A customer per corpus entry, the entry in the name and (kept valid) in the e-mail's local part."""
    for i, text in enumerate(storable_corpus()):
        record_order(account, order_data(f"h{i}", email=f"h{i}@example.com", name=f"n{i}", lines=((1, "5.00"),)))
        Customer.objects.filter(email=f"h{i}@example.com").update(name=text, email=f"{text}h{i}@example.com")
    # A genuine negative number stays a number (written behind the ingestion service's back on purpose).
    Customer.objects.filter(email__startswith="=1+1h").update(amount_spent=Decimal("-12.50"))
    return account


def test_formula_corpus_is_neutralised_in_csv(client, hostile):
    client.force_login(exporter("csvsafe", hostile, columns=["name", "email", "amount_spent"]))
    rows = read_csv(response_bytes(export_post(client, format="csv", query="ordering=name")))
    names = {row[0] for row in rows[1:]}
    assert names == {neutralised(text) for text in storable_corpus()}
    for name, email, amount, currency, _unconverted in rows[1:]:
        assert name.startswith("'") and email.startswith("'")
        assert not amount.startswith("'") and currency == hostile.currency
    assert "-12.50" in {row[2] for row in rows[1:]}  # a negative amount is a number, not neutralised text


def test_formula_corpus_is_neutralised_in_xlsx_and_numbers_stay_numbers(client, hostile):
    client.force_login(exporter("xlsxsafe", hostile, columns=["name", "email", "amount_spent", "orders_count"]))
    rows = read_xlsx(response_bytes(export_post(client, format="xlsx")))
    names = {decode_xlsx_escapes(row[0]) for row in rows[1:]}
    assert names == {neutralised(text) for text in storable_corpus()}
    for name, email, amount, _currency, _unconverted, orders in rows[1:]:
        assert decode_xlsx_escapes(name).startswith("'") and decode_xlsx_escapes(email).startswith("'")
        # XLSX has one number type: older XlsxWriter releases write 5.00 as "5", newer ones as "5.00", which readers
        # then give back as int or float. What matters is that it is a number, not text.
        assert isinstance(amount, int | float) and isinstance(orders, int)
    assert -12.5 in {row[2] for row in rows[1:]}


def test_neutralise_touches_only_the_triggers():
    assert neutralise("Ada") == "Ada"
    assert neutralise("") == ""
    assert neutralise("a=b") == "a=b"
    for trigger in ("=", "+", "-", "@", "\t", "\r", "\0"):
        assert neutralise(f"{trigger}x") == f"'{trigger}x"


def test_control_characters_never_crash_the_xlsx_writer(tmp_path):
    hostile_texts = ["a\x00b", "\x01\x02\x1f", "cr\rlf\n", "\ufffe\uffff", "lone \ud800 surrogate", "_x0041_", "\x7f"]
    path = tmp_path / "control.xlsx"
    assert write_xlsx(["text"], [[text] for text in hostile_texts], path) == len(hostile_texts)
    rows = read_xlsx(path.read_bytes())
    assert len(rows) == len(hostile_texts) + 1
    assert decode_xlsx_escapes(rows[1][0]) == "a\x00b"
    assert rows[5][0] == "lone \ufffd surrogate"


def test_promo_codes_are_neutralised_in_a_customers_orders_export(client, account):
    codes = ("=SUM(A1:A9)", "+PROMO", "-10OFF", "@CODE", "SAFE")
    record_order(account, order_data("o1", email="codes@example.com", promo_codes=codes))
    customer = Customer.objects.get(email="codes@example.com")
    client.force_login(exporter("codes", account))
    response = client.get(f"/admin/customers/exports/customer/{customer.pk}/", {"format": "csv"})
    rows = read_csv(response_bytes(response))
    header = rows[0]
    codes_cell = rows[1][header.index("Promo codes")]
    assert codes_cell == "'" + ", ".join(codes)  # one text cell: its first character decides
    response = client.get(f"/admin/customers/exports/customer/{customer.pk}/", {"format": "xlsx"})
    rows = read_xlsx(response_bytes(response))
    assert rows[1][rows[0].index("Promo codes")] == "'" + ", ".join(codes)


# --- one customer's orders ------------------------------------------------------------------------


def test_customer_orders_export_matches_the_orders(client, account):
    record_order(account, order_data("o1", email="buyer@example.com", lines=((2, "10.00"), (1, "5.50")), day=1))
    record_order(account, order_data("o2", email="buyer@example.com", lines=((3, "1.00"),), day=5, refunded="1.00"))
    customer = Customer.objects.get(email="buyer@example.com")
    client.force_login(exporter("orders", account))
    url = f"/admin/customers/exports/customer/{customer.pk}/"
    rows = read_xlsx(response_bytes(client.get(url, {"format": "xlsx"})))
    header = rows[0]
    by_id = {row[header.index("Order id")]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert [row[header.index("Order id")] for row in rows[1:]] == ["o2", "o1"]  # newest first
    for order in customer.orders.all():
        row = by_id[order.external_id]
        assert row["Total"] == float(order.total)
        assert row["Refunded"] == float(order.refunded)
        assert row["Units"] == sum(line.quantity for line in order.lines.all())
        assert row["Status"] == order.get_status_display()
    csv_rows = read_csv(response_bytes(client.get(url, {"format": "csv"})))
    assert [row[0] for row in csv_rows[1:]] == ["o2", "o1"]


ACCOUNT_MONEY = [
    "Total in the account's currency",
    "Refunded in the account's currency",
    "Discount in the account's currency",
]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_customer_orders_export_keeps_each_orders_currency_and_adds_the_accounts(client, account, file_format):
    """The account is in USD; one order in USD, one in EUR (converted with the table's rate of its date), one in
    a currency no table knows (account amounts empty, never 0)."""
    email = "traveller@example.com"
    record_order(account, order_data("same", email=email, lines=((1, "10.00"),), day=1))
    record_order(account, order_data("euro", email=email, lines=((2, "20.00"),), day=2, currency="EUR", refunded="5"))
    record_order(account, order_data("odd", email=email, lines=((1, "30.00"),), day=3, currency="XYZ"))
    customer = Customer.objects.get(email=email)
    client.force_login(exporter("converted", account))
    content = response_bytes(client.get(f"/admin/customers/exports/customer/{customer.pk}/", {"format": file_format}))
    rows = read_xlsx(content) if file_format == "xlsx" else read_csv(content)
    header = rows[0]
    refunded = header.index("Refunded")
    assert header[refunded + 1 : refunded + 7] == ["Account currency", *ACCOUNT_MONEY, "Exchange rate", "Rate source"]
    assert header[header.index("Currency")] == "Currency"  # the order's own currency stays
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}

    def number(value):
        return None if value in ("", None) else Decimal(str(value))

    for order in customer.orders.all():
        row = by_id[order.external_id]
        assert (row["Currency"], row["Account currency"]) == (order.currency, "USD")
        assert number(row["Total"]) == order.total
        assert number(row["Total in the account's currency"]) == order.account_total
        assert number(row["Refunded in the account's currency"]) == order.account_refunded
        assert number(row["Discount in the account's currency"]) == order.account_discount
        assert row["Rate source"] == order.get_rate_source_display()
    assert (by_id["same"]["Rate source"], number(by_id["same"]["Exchange rate"])) == ("Same currency", 1)
    euro = customer.orders.get(external_id="euro")
    assert by_id["euro"]["Rate source"] == "Exchange-rate table"
    assert number(by_id["euro"]["Total in the account's currency"]) == (euro.total * euro.exchange_rate).quantize(
        Decimal("0.01")
    )
    # Every digit of the rate is kept (XLSX: a number of full precision, not rounded to cents).
    assert abs(number(by_id["euro"]["Exchange rate"]) - euro.exchange_rate) < Decimal("1e-9")
    assert by_id["odd"]["Rate source"] == "No rate known"
    empty = "" if file_format == "csv" else None
    assert [by_id["odd"][name] for name in [*ACCOUNT_MONEY, "Exchange rate"]] == [empty] * 4


def test_customer_orders_export_outside_the_users_scope_is_404(client, account, other_account):
    record_order(other_account, order_data("b1", email="theirs@example.com"))
    theirs = Customer.objects.get(email="theirs@example.com")
    record_order(account, order_data("a1", email="mine@example.com"))
    mine = Customer.objects.get(email="mine@example.com")
    client.force_login(exporter("scoped", account))
    assert client.get(f"/admin/customers/exports/customer/{theirs.pk}/").status_code == 404
    assert client.get(f"/admin/customers/exports/customer/{mine.pk}/", {"format": "pdf"}).status_code == 404
    # View access without the export grant is not enough.
    viewer = exporter("viewonly", account)
    viewer.customer_access_grants.update(can_export=False)
    client.force_login(viewer)
    assert client.get(f"/admin/customers/exports/customer/{mine.pk}/").status_code == 404


# --- queries ---------------------------------------------------------------------------------------


def count_export_queries(user, spec, path):
    user = type(user).objects.get(pk=user.pk)  # no permission cache carried over from a previous run
    export = CustomerExport(user, spec)
    with CaptureQueriesContext(connection) as queries:
        write_file(export, path)
    return len(queries)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_queries_do_not_grow_with_rows(account, tmp_path, file_format):
    user = exporter("counter", account, columns=ALL_COLUMNS)
    make_customers(account, 10)
    spec = ExportSpec(file_format=file_format, tab="highest-value", columns=ALL_COLUMNS)
    few = count_export_queries(user, spec, tmp_path / f"few.{file_format}")
    make_customers(account, 300, start=10)
    many = count_export_queries(user, spec, tmp_path / f"many.{file_format}")
    assert few == many
    assert many <= 5


def test_selected_export_queries_grow_per_batch_not_per_row(account, tmp_path):
    user = exporter("batcher", account, columns=["name"])
    make_customers(account, 1100)
    ids = list(Customer.objects.values_list("pk", flat=True))
    spec = ExportSpec(file_format="csv", scope="selected", ids=ids, columns=["name"])
    queries = count_export_queries(user, spec, tmp_path / "selected.csv")
    assert queries <= 8  # the id pass, then one query per 500 selected rows


# --- bad requests ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"format": "pdf"},
        {"format": "csv", "scope": "everything"},
        {"format": "csv", "tab": "../../etc"},
        {"format": "csv", "scope": "selected", "ids": "1,two,3"},
        {"format": "csv", "scope": "selected", "ids": "[1, {}]"},
        # Nested past Python's recursion limit: json.loads raised RecursionError (a 500).
        {"format": "csv", "scope": "selected", "ids": "[" * 100_000},
        {"format": "csv", "scope": "selected", "ids": ""},
        {"format": "csv", "scope": "selected", "ids": "9" * 40},
        {"format": "csv", "query": "ordering=password&per_page=-1&p=abc&account=x&q=" + "a" * 5000},
    ],
)
def test_hostile_requests_never_fail_with_a_server_error(client, shop, data):
    client.force_login(exporter("hostile", shop))
    response = client.post(START_URL, {"tab": "all", **data})
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        messages = [str(message) for message in response.wsgi_request._messages]
        assert messages, "a refused export says why"


@pytest.mark.parametrize(
    "data",
    [
        {"format": "bogus", "next": "foo"},
        {"format": "csv", "scope": "selected", "next": "foo"},
        {"format": "bogus", "next": "admin/customers/"},
        {"format": "bogus", "next": "//evil.example/"},
    ],
)
def test_a_refused_export_with_a_next_that_is_no_site_path_goes_back_to_the_listing(admin_client, shop, data):
    """``next=foo`` passes Wagtail's check, and ``redirect("foo")`` would look it up as a URL name (a 500)."""
    response = admin_client.post(START_URL, {"tab": "all", **data})
    assert response.status_code == 302
    assert response["Location"] == "/admin/customers/"


def test_a_refused_export_goes_back_to_a_next_on_this_site(admin_client, shop):
    response = admin_client.post(START_URL, {"tab": "all", "format": "bogus", "next": "/admin/customers/?q=x"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/customers/?q=x"


def test_nothing_to_export_says_so(client, account):
    client.force_login(exporter("empty", account))
    response = client.post(START_URL, {"format": "csv", "tab": "all", "scope": "all"})
    assert response.status_code == 302
    assert "no customers to export" in str(list(response.wsgi_request._messages)[0])


class DiskFullResource(CustomerResource):
    """The disk fills up while the file is written: at its third row."""

    def dehydrate_address(self, row):
        self.rows_read = getattr(self, "rows_read", 0) + 1
        if self.rows_read == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().dehydrate_address(row)


class BrokenResource(CustomerResource):
    """A bug of the site's resource, met at the file's third row."""

    def dehydrate_address(self, row):
        self.rows_read = getattr(self, "rows_read", 0) + 1
        if self.rows_read == 3:
            raise ValueError("a bug")
        return super().dehydrate_address(row)


NOT_WRITTEN = (
    "The file could not be written: the database or the server's temporary storage did not answer (the disk may "
    "be full). Nothing was downloaded; try again in a moment, and if it keeps failing, ask the site's "
    "administrators, who find the details in the server log."
)
UNEXPECTED = (
    "The export failed on an unexpected error; the site's administrators can find the details in the server log."
)


def export_entries():
    return ModelLogEntry.objects.filter(action=LOG_ACTION).count()


def page_messages(client, response):
    return html.unescape(client.get(response["Location"]).content.decode())


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("atomic_requests", [False, True])
@pytest.mark.parametrize(("resource", "reason"), [("DiskFullResource", NOT_WRITTEN), ("BrokenResource", UNEXPECTED)])
def test_an_xlsx_export_that_fails_while_written_says_why_and_is_not_in_the_history(
    client, account, settings, monkeypatch, atomic_requests, resource, reason
):
    """The history said "Export started" for a file never delivered, and the user got a server error. (The start
    view is outside ATOMIC_REQUESTS' transaction, so the entry was committed with it on too.)"""
    make_customers(account, 10)
    client.force_login(exporter("diskfull", account, columns=["name", "address", "email"]))
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", atomic_requests)
    plugin = settings.WAGTAIL_CUSTOMERS
    settings.WAGTAIL_CUSTOMERS = {**plugin, "EXPORT_RESOURCE": f"{__name__}.{resource}"}
    before = export_entries()

    response = export_post(client, format="xlsx", next="/admin/customers/?q=c")
    assert response.status_code == 302 and response["Location"] == "/admin/customers/?q=c"
    assert reason in page_messages(client, response)
    assert export_entries() == before

    settings.WAGTAIL_CUSTOMERS = plugin  # the disk has room again
    response = export_post(client, format="xlsx")
    assert response.status_code == 200 and len(read_xlsx(response_bytes(response))) == 11
    assert export_entries() == before + 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("atomic_requests", [False, True])
def test_a_customers_orders_xlsx_that_cannot_be_written_says_why_and_is_not_in_the_history(
    client, account, monkeypatch, tmp_path, atomic_requests
):
    record_order(account, order_data("o1", email="buyer@example.com"))
    customer = Customer.objects.get(email="buyer@example.com")
    client.force_login(exporter("ordersfail", account))
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", atomic_requests)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))  # the temporary folder is not there
    url = f"/admin/customers/exports/customer/{customer.pk}/"
    before = export_entries()

    response = client.get(url, {"format": "xlsx"})
    assert response.status_code == 302 and response["Location"] == f"/admin/customers/{customer.pk}/"
    assert NOT_WRITTEN in page_messages(client, response)
    assert export_entries() == before

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    response = client.get(url, {"format": "xlsx"})
    assert response.status_code == 200 and len(read_xlsx(response_bytes(response))) == 2
    assert export_entries() == before + 1


def test_start_needs_post_and_the_export_grant(client, shop):
    user = exporter("noexport", shop)
    client.force_login(user)
    assert client.get(START_URL).status_code == 405
    user.customer_access_grants.update(can_export=False)
    assert client.post(START_URL, {"format": "csv"}).status_code == 403


# --- the management command ----------------------------------------------------------------------------


def test_customers_export_command_writes_the_tab(account, other_account, tmp_path, capsys):
    make_customers(account, 7)
    make_customers(other_account, 4, prefix="x")
    output = tmp_path / "out.xlsx"
    call_command(
        "customers_export", "--account", account.name, "--tab", "highest-value", "--format", "xlsx", "-o", output
    )
    rows = read_xlsx(output.read_bytes())
    assert rows[0] == export_headings(DEFAULT_COLUMNS)
    queryset = Customer.objects.filter(account=account).order_by("-amount_spent", "pk")
    assert [row[0] for row in rows[1:]] == [customer.name for customer in queryset]
    assert "Wrote 7 customer(s)" in capsys.readouterr().out
    assert not (tmp_path / "out.xlsx.part").exists()


def test_customers_export_command_as_a_user_and_errors(account, other_account, tmp_path):
    make_customers(account, 3)
    user = exporter("scripted", account, columns=["email"])
    output = tmp_path / "out.csv"
    call_command("customers_export", "--account", account.name, "--user", user.username, "-o", output)
    assert read_csv(output.read_bytes())[0] == ["Customer", "E-mail"]
    with pytest.raises(CommandError, match="may not export"):
        call_command("customers_export", "--account", other_account.name, "--user", user.username, "-o", output)
    with pytest.raises(CommandError, match="No seller account"):
        call_command("customers_export", "--account", "Nope", "-o", output)
    other_account.is_enabled = False
    other_account.save()
    with pytest.raises(CommandError, match="Disabled"):
        call_command("customers_export", "--account", other_account.name, "-o", output)


def test_customers_export_command_refuses_accounts_the_user_may_not_export(account, other_account, tmp_path):
    # Before, the accounts the user may export were written and the others left out without a word.
    make_customers(account, 3)
    make_customers(other_account, 4, prefix="x")
    user = exporter("scripted", account, columns=["email"])
    output = tmp_path / "out.csv"
    before = ModelLogEntry.objects.count()
    with pytest.raises(CommandError, match=f"may not export the seller account\\(s\\) {other_account.name};"):
        call_command(
            "customers_export", "--account", account.name, "--account", other_account.name,
            "--user", user.username, "-o", output,
        )  # fmt: skip
    assert not output.exists()
    assert ModelLogEntry.objects.count() == before


def test_customers_export_command_to_a_folder_that_does_not_exist(account, tmp_path):
    # Before: a raw FileNotFoundError, and a history entry of an export that never happened.
    make_customers(account, 3)
    before = ModelLogEntry.objects.count()
    with pytest.raises(CommandError, match="does not exist"):
        call_command("customers_export", "--account", account.name, "-o", tmp_path / "missing" / "out.csv")
    assert ModelLogEntry.objects.count() == before
    call_command("customers_export", "--account", account.name, "-o", tmp_path / "out.csv")
    assert ModelLogEntry.objects.count() == before + 1


# --- the listing's export controls ------------------------------------------------------------------------


def test_the_listing_offers_export_controls_to_exporters_only(client, shop):
    user = exporter("lister", shop)
    client.force_login(user)
    page = client.get("/admin/customers/highest-value/", {"q": "customer", "per_page": "10", "p": "2"}).content.decode()
    assert 'action="/admin/customers/exports/start/"' in page
    assert 'name="tab" value="highest-value"' in page
    assert 'name="query" value="q=customer&amp;per_page=10&amp;p=2"' in page
    # A search is not counted before the table (FILTERED_COUNT_LIMIT 0): no number on the button.
    assert "Export all matching customers" in page
    unfiltered = client.get("/admin/customers/highest-value/").content.decode()
    assert "Export all 30 customers" in unfiltered
    viewer = exporter("lookonly", shop)
    viewer.customer_access_grants.update(can_export=False)
    client.force_login(viewer)
    page = client.get("/admin/customers/highest-value/").content.decode()
    assert "/admin/customers/exports/start/" not in page


def test_the_export_selected_bulk_action_form_posts_what_start_reads(client, shop):
    """The listing's "Export selected" confirmation page posts its own form to the start view."""
    user = exporter("bulkexport", shop, columns=["name"])
    client.force_login(user)
    chosen = list(Customer.objects.filter(account=shop).order_by("pk").values_list("pk", flat=True)[:3])
    query = "&".join(f"id={pk}" for pk in chosen)
    page = client.get(f"/admin/customers/bulk/highest-value/export/?{query}&q=customer").content.decode()
    form = page[page.index('action="/admin/customers/exports/start/"') :]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
    assert fields["scope"] == "selected" and fields["tab"] == "highest-value"
    response = client.post(START_URL, {**fields, "format": "csv"})
    rows = read_csv(response_bytes(response))
    assert sorted(row[0] for row in rows[1:]) == sorted(Customer.objects.get(pk=pk).name for pk in chosen)
