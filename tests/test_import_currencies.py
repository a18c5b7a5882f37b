"""The import preview's currencies: which currencies the file has, how each is converted into the seller
account's currency, and a warning for orders in another currency and for those with no exchange rate, before
anything is written. On the real storeA Shopify export (USD) and on small generic files."""

import csv
import io
from collections import Counter
from html import unescape

import pytest
from django.core.management import call_command

from tests.test_import_screen import job_url, upload
from wagtail_customers.importers import run_import
from wagtail_customers.models import Channel, Customer, ImportJob, Order, SellerAccount

pytestmark = pytest.mark.django_db

STORE_A = "shopify/storeA_orders_export_1.pseudonymised.csv"

MIXED = (
    b"order_id,placed_at,customer_email,currency,order_total\n"
    b"e1,2024-03-01,ada@example.com,EUR,10.00\n"
    b"e2,2024-03-02,ada@example.com,,20.00\n"  # no currency: the account's
    b"u1,2024-03-04,grace@example.com,USD,30.00\n"
    b"u2,2024-03-05,grace@example.com,usd,40.00\n"
    b"x1,2024-03-06,alan@example.com,XYZ,50.00\n"  # a code no rate table knows
)


def account_in(currency, name=None):
    return SellerAccount.objects.create(name=name or f"Shop {currency}", channel=Channel.SHOPIFY, currency=currency)


def store_a_orders_by_currency(realdata):
    """The file's orders per currency, read straight from the CSV: an order is a distinct Name."""
    with open(realdata / STORE_A, encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    currency_of = {}
    for row in rows:
        if row["Currency"]:
            currency_of.setdefault(row["Name"], row["Currency"])
    return Counter(currency_of.values()), len({row["Name"] for row in rows})


def preview_html(client, account, content, name="orders.csv", fmt="generic"):
    upload(client, account, content, name=name, fmt=fmt)
    job = ImportJob.objects.latest("created_at")
    return job, unescape(client.get(job_url(job)).content.decode())


def test_store_a_in_usd_into_a_eur_account_warns_in_the_preview_and_writes_nothing(admin_client, realdata):
    eur = account_in("EUR")
    by_currency, orders = store_a_orders_by_currency(realdata)
    assert by_currency == Counter({"USD": orders})  # the file is in USD only

    job, html = preview_html(admin_client, eur, (realdata / STORE_A).read_bytes(), name="storeA.csv", fmt="shopify")
    report = job.preview["report"]
    assert report["account_currency"] == "EUR"
    # Every date of the file (2019-2022) is in the ECB table: all converted at the table's rate of their date.
    assert report["currencies"] == [
        {"currency": "USD", "orders": orders, "same": 0, "channel": 0, "table": orders, "without_rate": 0}
    ]
    assert report["orders_without_rate"] == 0
    assert not Order.objects.exists() and not Customer.objects.exists()

    assert "data-wc-currency-warning" in html
    assert f"{orders} orders are in USD, not in the seller account's currency (EUR)" in html
    assert "will be converted at the order's date" in html
    assert "data-wc-orders-without-rate" not in html
    assert f"{orders} orders at the site's exchange rate of each order's date" in html
    assert 'aria-labelledby="wc-currency-warning-heading"' in html and "Warning:" in html


def test_store_a_into_an_account_in_a_currency_without_rates_warns_that_no_order_is_converted(admin_client, realdata):
    ars = account_in("ARS")  # the ECB does not quote the Argentine peso
    job, html = preview_html(admin_client, ars, (realdata / STORE_A).read_bytes(), name="storeA.csv", fmt="shopify")
    orders = job.preview["report"]["orders"]
    assert job.preview["report"]["currencies"] == [
        {"currency": "USD", "orders": orders, "same": 0, "channel": 0, "table": 0, "without_rate": orders}
    ]
    assert job.preview["report"]["orders_without_rate"] == orders
    assert f"{orders} orders have no exchange rate into ARS for their dates." in html
    assert "marked incomplete" in html
    assert f"{orders} orders not converted: no exchange rate for their dates" in html


def test_a_file_of_three_currencies_is_listed_per_currency_with_how_each_is_converted(admin_client):
    eur = account_in("EUR")
    job, html = preview_html(admin_client, eur, MIXED)
    report = job.preview["report"]
    assert report["currencies"] == [
        {"currency": "EUR", "orders": 2, "same": 2, "channel": 0, "table": 0, "without_rate": 0},
        {"currency": "USD", "orders": 2, "same": 0, "channel": 0, "table": 2, "without_rate": 0},
        {"currency": "XYZ", "orders": 1, "same": 0, "channel": 0, "table": 0, "without_rate": 1},
    ]
    assert report["orders_without_rate"] == 1
    assert "3 orders are in USD, XYZ, not in the seller account's currency (EUR)" in html
    assert "1 order has no exchange rate into EUR for its date." in html
    table = html[html.index("data-wc-currencies") : html.index("</table>", html.index("data-wc-currencies"))]
    assert table.index('data-wc-currency="EUR"') < table.index('data-wc-currency="USD"') < table.index("XYZ")
    assert "Not converted: the seller account's currency" in table
    assert "2 orders at the site's exchange rate of each order's date" in table
    assert "1 order not converted: no exchange rate for its date" in table
    assert not Order.objects.exists()

    # Applied, the page says what was done, and the orders are stored as the preview said.
    admin_client.post(job_url(job, "apply"))
    job.refresh_from_db()
    assert job.result["currencies"] == report["currencies"]
    stored = Counter(Order.objects.values_list("currency", "rate_source"))
    assert stored == Counter({("EUR", "same"): 2, ("USD", "table"): 2, ("XYZ", "unknown"): 1})
    html = unescape(admin_client.get(job_url(job)).content.decode())
    assert "were converted at the order's date" in html
    assert "1 order has no exchange rate into EUR for its date." in html


def test_a_file_in_the_accounts_currency_says_so_without_a_warning(admin_client):
    usd = account_in("USD")
    content = (
        b"order_id,placed_at,customer_email,currency\n1,2024-01-01,a@example.com,USD\n2,2024-01-02,b@example.com,\n"
    )
    job, html = preview_html(admin_client, usd, content)
    assert job.preview["report"]["currencies"] == [
        {"currency": "USD", "orders": 2, "same": 2, "channel": 0, "table": 0, "without_rate": 0}
    ]
    assert "All 2 orders are in USD, the seller account's currency: nothing to convert." in html
    assert "data-wc-currency-warning" not in html and "data-wc-currencies=" not in html


def test_a_preview_made_before_currencies_were_reported_still_shows(admin_client):
    usd = account_in("USD")
    job, _html = preview_html(admin_client, usd, MIXED)
    for key in ("currencies", "account_currency", "orders_without_rate"):
        del job.preview["report"][key]
    job.save(update_fields=["preview"])
    page = admin_client.get(job_url(job))
    assert page.status_code == 200 and "Import 5 orders" in page.content.decode()
    assert "data-wc-currency-warning" not in page.content.decode()


def test_the_dry_run_report_counts_what_the_import_stores(realdata):
    """``run_import``'s figures are read from the orders as recorded: the dry run's equal the real run's."""
    eur = account_in("EUR")
    content = (realdata / STORE_A).read_bytes()
    dry = run_import(eur, content, format_name="shopify", dry_run=True)
    real = run_import(eur, content, format_name="shopify")
    assert dry.currencies == real.currencies
    assert Order.objects.filter(account=eur, rate_source="table").count() == real.currencies[0]["table"]


def test_the_import_command_warns_about_other_currencies(tmp_path):
    eur = account_in("EUR", name="EU shop")
    path = tmp_path / "mixed.csv"
    path.write_bytes(MIXED)
    out, err = io.StringIO(), io.StringIO()
    call_command("customers_import", str(path), "--account", eur.name, "--dry-run", stdout=out, stderr=err)
    errors = err.getvalue()
    assert "2 order(s) in USD, not in the account's currency (EUR): 0 converted with the channel's own" in errors
    assert "1 order(s) in XYZ" in errors and "1 with no exchange rate (not counted in amount spent)" in errors
