"""Finding a buyer by an order id in Chromium: the results refresh in place and say whose order it is."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import order_data
from wagtail_customers.models import Channel, SellerAccount
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = "table.listing tbody td.title [id^=customer_]"


@pytest.fixture
def shop(db):
    account = SellerAccount.objects.create(name="Shopify EU", channel=Channel.SHOPIFY, currency="EUR")
    record_orders(
        account,
        [order_data(f"#{1040 + i}", email=f"buyer{i}@example.com", name=f"Buyer {i:02d}", day=i) for i in range(12)],
    )
    return account


# version_neutral: test_listing's search test drives the same in-place refresh; the notice is the plugin's.
@pytest.mark.version_neutral
def test_an_order_id_finds_its_buyer_and_says_so(live_server, login, browser_admin, shop, screenshot):
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/")
    expect(page.locator(NAMES)).to_have_count(12)
    page.get_by_role("textbox", name="Search term").fill("1046")
    expect(page.locator(NAMES)).to_have_count(1)
    notice = page.locator("[data-wc-order-match]")
    expect(notice).to_have_text("Order #1046 is from Buyer 06.")
    screenshot(page, "customers-search-order-id")
    notice.get_by_role("link", name="Buyer 06").click()
    page.wait_for_url(re.compile(r"/admin/customers/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Buyer 06")
