"""Export selected, in Chromium: the file downloads and the user is taken back to the listing with a message."""

import re

import pytest
from playwright.sync_api import expect

from tests.export_support import make_customers, read_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_export_selected_downloads_then_goes_back_to_the_listing(live_server, login, browser_admin, account):
    make_customers(account, 8)
    page = login("browseradmin", "browser-pw")
    start = f"{live_server.url}/admin/customers/highest-value/?per_page=10"
    page.goto(start)
    checkboxes = page.locator("table.listing tbody input.bulk-action-checkbox")
    for index in range(3):
        checkboxes.nth(index).check()
    footer = page.locator("[data-bulk-action-footer]")
    footer.get_by_role("link", name="Export selected").click()
    page.wait_for_url(re.compile(r"/admin/customers/bulk/highest-value/export/\?"))
    expect(page.locator("main")).to_contain_text("Export these 3 customers?")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows = read_csv(open(download.path(), "rb").read())
    assert len(rows) == 4  # the header and the three rows

    page.wait_for_url(start)
    expect(page.locator(".messages")).to_contain_text("Your export of 3 customers is downloading as customers-")
    # The cookie that told the page the download had started is gone.
    assert "wc_export_download" not in page.evaluate("document.cookie")


# version_neutral: test_exports opens the same export panel and downloads.
@pytest.mark.version_neutral
def test_the_listings_export_panel_downloads_then_says_so(live_server, login, browser_admin, account):
    make_customers(account, 8)
    page = login("browseradmin", "browser-pw")
    start = f"{live_server.url}/admin/customers/most-orders/?per_page=10"
    page.goto(start)
    page.locator("summary", has_text="Export").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export this page").click()
    assert download_info.value.suggested_filename.endswith(".csv")
    page.wait_for_load_state("load")
    expect(page.locator(".messages")).to_contain_text("Your export of 8 customers is downloading as customers-")
    assert page.url == start
