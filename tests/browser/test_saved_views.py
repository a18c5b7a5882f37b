"""Saved views in Chromium: save the listing as it is from its "Saved views" menu, then open the view again
from the Customers menu's Saved views page and from the listing's menu (axe-core on both screens)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import run_axe
from tests.factories import order_data
from wagtail_customers.models import Channel, ListingPreference, SavedView, SellerAccount
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = "table.listing tbody td.title [id^=customer_]"


@pytest.fixture
def stores(db):
    """Two seller accounts: 12 "Sam" customers and 6 "Amy" customers; customer i spends 10 x (i + 1)."""
    shopify = SellerAccount.objects.create(name="Shopify EU", channel=Channel.SHOPIFY, currency="EUR")
    amazon = SellerAccount.objects.create(name="Amazon US", channel=Channel.AMAZON, currency="USD")
    for account, count, prefix in ((shopify, 12, "sam"), (amazon, 6, "amy")):
        record_orders(
            account,
            [
                order_data(
                    f"{prefix}-{i}",
                    email=f"{prefix}{i}@example.com",
                    name=f"{prefix.title()} Customer {i:02d}",
                    lines=((i + 1, "10.00"),),
                    day=i,
                )
                for i in range(count)
            ],
        )
    return shopify, amazon


def header_labels(page):
    return [label.strip() for label in page.locator("table.listing thead th").all_inner_texts() if label.strip()]


def test_save_the_listing_as_a_view_and_open_it_from_the_menu(
    live_server, login, browser_admin, stores, axe_script, screenshot
):
    page = login("browseradmin", "browser-pw")
    # The search comes in the address: typing it would leave a results refresh pending (the box's "change" when
    # it loses focus) that re-renders the toolbar while the menu is open.
    page.goto(f"{live_server.url}/admin/customers/highest-value/?q=amy")
    expect(page.locator(NAMES)).to_have_count(6)

    # Save it from the listing's "Saved views" menu.
    page.locator("summary", has_text="Saved views").click()
    page.get_by_label("Name", exact=True).fill("Amy's best")
    screenshot(page, "customers-saved-views")
    page.get_by_role("button", name="Save view").click()
    page.wait_for_url(re.compile(r"/admin/customers/highest-value/\?.*saved_view="))
    view = SavedView.objects.get()
    assert (view.owner, view.tab, view.params) == (browser_admin, "highest-value", {"q": ["amy"]})
    expect(page.locator("summary", has_text="View: Amy's best")).to_be_visible()

    # Back to the plain listing, then the view from the Customers menu's Saved views page.
    page.goto(f"{live_server.url}/admin/customers/")
    expect(page.locator(NAMES)).to_have_count(18)
    page.locator("#wagtail-sidebar").get_by_role("button", name="Customers").click()
    page.locator("#wagtail-sidebar").get_by_role("link", name="Saved views").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/saved-views/")
    assert run_axe(page, axe_script) == []
    page.get_by_role("link", name="Amy's best", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/customers/highest-value/\?.*q=amy"))
    expect(page.locator(NAMES)).to_have_count(6)
    expect(page.locator(NAMES).first).to_have_text("Amy Customer 05")

    # The listing's own menu lists it too, and its markup passes axe with the menu open.
    page.goto(f"{live_server.url}/admin/customers/")
    page.locator("summary", has_text="Saved views").click()
    # The menu's panel is fetched when it opens: axe checks it, not the placeholder.
    expect(page.get_by_role("navigation", name="Saved views")).to_be_visible()
    assert run_axe(page, axe_script) == []
    page.get_by_role("navigation", name="Saved views").get_by_role("link", name="Amy's best").click()
    page.wait_for_url(re.compile(r"saved_view="))
    expect(page.locator(NAMES)).to_have_count(6)
    # The user's own column view was left as it was.
    assert not ListingPreference.objects.filter(user=browser_admin).exclude(columns=[]).exists()


# version_neutral: the saved views' menu and columns are driven at the floors by the test above.
@pytest.mark.version_neutral
def test_a_view_keeps_its_columns_for_its_page_only(live_server, login, browser_admin, stores):
    view = SavedView.objects.create(owner=browser_admin, name="Narrow", columns=["name", "amount_spent"])
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/saved-views/{view.pk}/")
    page.wait_for_url(re.compile(r"saved_view="))
    assert header_labels(page) == ["Customer", "Amount spent"]
    page.goto(f"{live_server.url}/admin/customers/")
    assert "E-mail" in header_labels(page)


# version_neutral: the plugin's own form; the test above saves through the same menu at the floors.
@pytest.mark.version_neutral
def test_a_refused_save_keeps_the_typed_name_and_visibility(live_server, login, browser_admin, stores, axe_script):
    """A name the seller already has: back on the listing, its "Saved views" menu is open with the form as they
    sent it, the error beside the name (described by it, focused), the search kept in the address."""
    SavedView.objects.create(owner=browser_admin, name="Amy's best")
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/highest-value/?q=amy")
    expect(page.locator(NAMES)).to_have_count(6)
    page.locator("summary", has_text="Saved views").click()
    page.get_by_label("Name", exact=True).fill("AMY'S BEST")
    page.get_by_label("Shared with chosen users and groups").check()
    page.get_by_role("button", name="Save view").click()

    page.wait_for_url(re.compile(r"/admin/customers/highest-value/\?q=amy$"))
    expect(page.locator(NAMES)).to_have_count(6)
    name = page.get_by_label("Name", exact=True)
    expect(name).to_be_visible()
    expect(name).to_have_value("AMY'S BEST")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_be_focused()
    error = page.locator("#wc-saved-view-name-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("You already have a view named “AMY'S BEST”. Choose another name.")
    assert "wc-saved-view-name-error" in name.get_attribute("aria-describedby").split()
    expect(page.get_by_label("Shared with chosen users and groups")).to_be_checked()
    expect(page.get_by_label("Only me")).not_to_be_checked()
    assert run_axe(page, axe_script) == []

    # Corrected, it saves as chosen (shared: on to choosing people).
    name.fill("Amy's shared")
    page.get_by_role("button", name="Save view").click()
    page.wait_for_url(re.compile(r"/admin/customers/saved-views/\d+/edit/"))
    assert SavedView.objects.filter(name="Amy's shared", visibility="shared").exists()
