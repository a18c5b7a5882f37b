"""The statistics band of a searched or filtered listing in Chromium: the table comes first, with a
"Calculating…" placeholder, then the band fills in from its own URL (views/listing/statistics.py)."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import run_axe
from tests.browser.test_listing import NAMES, stores  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BAND = "[data-wc-deferred-statistics]"


def test_a_filtered_listing_shows_its_band_after_load(live_server, login, browser_admin, stores):  # noqa: F811
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/?q=amy+customer+1")
    expect(page.locator(NAMES)).to_have_count(5)  # Amy Customer 10 to 14
    band = page.locator(BAND)
    expect(band).to_have_attribute("aria-live", "polite")
    expect(band.locator("[data-wc-stat=customers]")).to_have_text("5")
    expect(band).to_have_attribute("aria-busy", "false")
    expect(band).not_to_contain_text("Calculating")
    # Amy Customer i spends 10 x (i + 1) dollars on Amazon US: 110 + 120 + ... + 150.
    expect(band.locator("[data-wc-stat=revenue]")).to_contain_text("$650.00")


# version_neutral: the band's script and a search refreshed in place are both driven at the floors (the test above,
# test_listing.py); this checks the plugin's script follows the one with the other.
@pytest.mark.version_neutral
def test_the_band_follows_a_search_refreshed_in_place(live_server, login, browser_admin, stores):  # noqa: F811
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/")
    expect(page.locator("[data-wc-stat=customers]")).to_have_text("55")  # unfiltered: in the page at once
    page.get_by_role("textbox", name="Search term").fill("sam customer")
    expect(page.locator(f"{BAND} [data-wc-stat=customers]")).to_have_text("40")
    # Not counted before the table (FILTERED_COUNT_LIMIT 0): the band says how many, the footer does not.
    expect(page.locator("[data-wc-rows]")).to_contain_text("Showing 1–25 of the matching customers")


# version_neutral: axe runs on every plugin screen at the floors in test_accessibility.py.
@pytest.mark.version_neutral
def test_the_filtered_listing_and_the_band_page_pass_axe(live_server, login, browser_admin, stores, axe_script):  # noqa: F811
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/?q=amy+customer+1")
    expect(page.locator(f"{BAND} [data-wc-stat=customers]")).to_have_text("5")
    assert run_axe(page, axe_script) == []
    # The no-JavaScript link's page.
    page.goto(f"{live_server.url}/admin/customers/statistics/all/?q=amy+customer+1")
    expect(page.locator("[data-wc-stat=customers]")).to_have_text("5")
    assert run_axe(page, axe_script) == []
