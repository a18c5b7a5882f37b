"""The listing's heading and its live "On the watchlist" card, in Chromium."""

import pytest
from playwright.sync_api import expect

from tests.factories import order_data
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def listing(live_server, login, browser_admin, account):
    record_orders(
        account, [order_data(f"W-{i}", email=f"w{i}@example.com", name=f"Watcher {i}", day=i) for i in range(3)]
    )
    page = login("browseradmin", "browser-pw")
    page.set_viewport_size({"width": 1280, "height": 900})
    return page


# version_neutral: the plugin's own headings, rendered by every listing test at the floors.
@pytest.mark.version_neutral
def test_the_heading_names_customers_and_the_tab(listing, live_server):
    page = listing
    page.goto(f"{live_server.url}/admin/customers/highest-value/")
    # The collapsed breadcrumbs show their last item only (the others are ``hidden``, out of the role tree).
    # By its accessible name: Wagtail 8 marks the breadcrumbs ``data-w-breadcrumbs``, 7.0 does not.
    heading = page.get_by_role("navigation", name="Breadcrumb").get_by_role("listitem").last
    expect(heading).to_contain_text("Customers")
    expect(heading.locator(".w-breadcrumbs__sublabel")).to_be_visible()
    expect(heading.locator(".w-breadcrumbs__sublabel")).to_have_text("Highest value")


# version_neutral: the plugin's own eye and card; test_listing's eye test takes the same steps.
@pytest.mark.version_neutral
def test_the_watchlist_card_follows_the_eye(listing, live_server):
    page = listing
    page.goto(f"{live_server.url}/admin/customers/")
    card = page.locator("[data-wc-stat=watched]")
    expect(card).to_have_text("0")
    page.evaluate("window.__wcNoReload = true")
    eyes = page.locator("table.listing tbody button.wc-eye")
    eyes.nth(0).click()
    expect(eyes.nth(0)).to_have_attribute("aria-pressed", "true")
    expect(card).to_have_text("1")
    eyes.nth(1).click()
    expect(card).to_have_text("2")
    eyes.nth(0).click()
    expect(eyes.nth(0)).to_have_attribute("aria-pressed", "false")
    expect(card).to_have_text("1")
    assert page.evaluate("window.__wcNoReload") is True
    page.reload()
    expect(card).to_have_text("1")
