"""The import preview's currency warning in Chromium: the real storeA Shopify export (USD) uploaded into a
seller account kept in EUR, and a file with orders no exchange rate converts; both pass axe."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.browser.test_accessibility import run_axe
from wagtail_customers.importers import jobs
from wagtail_customers.models import Channel, Order, SellerAccount

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STORE_A = "shopify/storeA_orders_export_1.pseudonymised.csv"


def currency_row(table, code):
    """The Currencies table's row of ``code`` (its row header is the code)."""
    return table.get_by_role("row", name=re.compile(rf"^{code} "))


# version_neutral: the plugin's own warning on the preview page test_import_browser reaches.
@pytest.mark.version_neutral
def test_store_a_in_usd_into_a_eur_account_warns_before_anything_is_written(
    live_server, login, browser_admin, realdata, screenshot, axe_script
):
    eur = SellerAccount.objects.create(name="Shop EU", channel=Channel.SHOPIFY, currency="EUR")
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/import/")
    page.get_by_label("Seller account").select_option(label=eur.name)
    page.get_by_label("File layout").select_option("shopify")
    page.get_by_label("File to import").set_input_files(str(realdata / STORE_A))
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/import/*/")

    # The warning is a region named by its heading, which screen readers hear as a warning.
    warning = page.get_by_role("region", name="Warning: 409 orders are in USD, not in the seller account's currency")
    assert warning.is_visible()
    assert "will be converted at the order's date" in warning.inner_text()
    assert page.locator("[data-wc-orders-without-rate]").count() == 0  # the ECB table has every date of the file
    currencies = page.get_by_role("table", name="Currencies")
    row = currency_row(currencies, "USD")
    assert row.get_by_role("cell").nth(0).inner_text() == "409"
    assert "409 orders at the site's exchange rate of each order's date" in row.inner_text()
    assert row.locator("[data-wc-without-rate]").inner_text() == "0"
    assert page.get_by_role("button", name="Import 409 orders").is_visible()
    assert not Order.objects.exists()
    warning.scroll_into_view_if_needed()
    screenshot(page, "import-preview-currencies")
    assert run_axe(page, axe_script) == []


# version_neutral: the plugin's own warning on the preview page test_import_browser reaches.
@pytest.mark.version_neutral
def test_orders_without_an_exchange_rate_are_counted_in_the_warning(live_server, login, browser_admin, axe_script):
    eur = SellerAccount.objects.create(name="Shop EU", channel=Channel.SHOPIFY, currency="EUR")
    content = (
        b"order_id,placed_at,customer_email,currency,order_total\n"
        b"1,2024-03-01,a@example.com,EUR,10.00\n"
        b"2,2024-03-04,b@example.com,USD,20.00\n"
        b"3,2024-03-05,c@example.com,XYZ,30.00\n"
        b"4,2024-03-06,c@example.com,XYZ,40.00\n"
    )
    job = jobs.create_job(browser_admin, eur, "generic", SimpleUploadedFile("mixed.csv", content))
    jobs.run_phase(job.pk, jobs.CHECK)
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/import/{job.pk}/")

    # Other currencies by number of orders.
    warning = page.get_by_role("region", name="Warning: 3 orders are in XYZ, USD, not in the seller account's")
    assert warning.is_visible()
    missing = warning.locator("[data-wc-orders-without-rate]")
    assert missing.locator("strong").inner_text() == "2 orders have no exchange rate into EUR for their dates."
    assert "marked incomplete" in missing.inner_text()
    currencies = page.get_by_role("table", name="Currencies")
    assert currency_row(currencies, "XYZ").locator("[data-wc-without-rate]").inner_text() == "2"
    assert currency_row(currencies, "USD").locator("[data-wc-without-rate]").inner_text() == "0"
    assert "Not converted: the seller account's currency" in currency_row(currencies, "EUR").inner_text()
    assert run_axe(page, axe_script) == []
