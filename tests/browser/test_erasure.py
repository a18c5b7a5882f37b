"""Erasing personal data in Chromium, by every way in: the customer page's "Actions" menu, the listing's row menu
and the bulk bar. Each is cancelled first (nothing changes), then confirmed: the customer shows under a
pseudonym with the same figures, and the listing's band is unchanged. The confirmation page is checked by axe.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import run_axe
from tests.browser.test_destructive_actions import NAME, NAMES, assert_no_error_page, select_rows
from tests.factories import order_data
from tests.permission_world import PASSWORD, grant, make_staff
from wagtail_customers.models import Channel, Customer, SellerAccount
from wagtail_customers.permissions import Action
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BAND = "dl.wc-stats"


@pytest.fixture
def shop(db):
    account = SellerAccount.objects.create(name="Shopify EU", channel=Channel.SHOPIFY, currency="EUR")
    record_orders(
        account,
        [
            order_data(
                f"S-{i}-{n}", email=f"buyer{i}@example.com", name=f"Buyer {i:02d}", day=i * 3 + n, lines=((1, "10.00"),)
            )
            for i in range(5)
            for n in range(i % 2 + 1)
        ],
    )
    return account


@pytest.fixture
def eraser_page(live_server, login, shop):
    """A colleague who may view and erase on the shop (not delete), at 1280 px."""
    grant(make_staff("dpo"), shop, Action.VIEW, Action.ERASE, Action.SEE_PERSONAL_DATA)
    page = login("dpo", PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})
    return page


def band_text(page, live_server):
    page.goto(f"{live_server.url}/admin/customers/")
    return re.sub(r"\s+", " ", page.locator("main").locator(BAND).first.inner_text())


def assert_erased(customer, name):
    customer.refresh_from_db()
    assert customer.is_erased and customer.email == "" and customer.name != name
    assert customer.name.startswith("Erased customer ")


def test_erase_from_the_customer_page(eraser_page, live_server, axe_script, screenshot):
    page = eraser_page
    band = band_text(page, live_server)
    customer = Customer.objects.get(name="Buyer 03")
    figures = [getattr(customer, f) for f in Customer.STATISTICS_FIELDS]
    detail = f"{live_server.url}/admin/customers/{customer.pk}/"
    page.goto(detail)

    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Erase personal data").click()
    page.wait_for_url(re.compile(rf"/admin/customers/{customer.pk}/erase/\?next="))
    expect(page.locator("main")).to_contain_text("Erase the personal data of the customer Buyer 03")
    expect(page.locator("[data-wc-erasure-summary]")).to_contain_text("2 orders")
    assert run_axe(page, axe_script) == []
    screenshot(page, "customer-erase-confirmation")
    page.get_by_role("link", name="No, don't erase").click()
    page.wait_for_url(detail)
    assert_no_error_page(page)
    expect(page.locator("h1")).to_contain_text("Buyer 03")
    assert not Customer.objects.get(pk=customer.pk).is_erased

    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Erase personal data").click()
    page.get_by_role("button", name="Yes, erase").click()
    page.wait_for_url(detail)
    assert_no_error_page(page)
    assert_erased(customer, "Buyer 03")
    expect(page.locator(".messages")).to_contain_text(f"the customer is now '{customer.name}'")
    expect(page.locator("h1")).to_contain_text(customer.name)
    expect(page.locator("main")).not_to_contain_text("buyer3@example.com")
    expect(page.locator("[data-wc-erased]")).to_contain_text("Personal data erased on")
    assert run_axe(page, axe_script) == []
    # Nothing left to erase: no more "Erase personal data" (this user had nothing else in the "Actions" menu).
    expect(page.get_by_role("button", name="Actions")).to_have_count(0)
    expect(page.get_by_role("link", name="Erase personal data")).to_have_count(0)
    assert [getattr(customer, f) for f in Customer.STATISTICS_FIELDS] == figures
    assert band_text(page, live_server) == band


# version_neutral: the customers' row menu (the plugin's) is driven at the floors by test_destructive_actions.py.
@pytest.mark.version_neutral
def test_erase_from_the_row_menu(eraser_page, live_server):
    page = eraser_page
    start = f"{live_server.url}/admin/customers/most-orders/?q=buyer"
    page.goto(start)
    customer = Customer.objects.get(name="Buyer 01")

    def open_menu():
        row = page.locator("table.listing tbody tr", has=page.locator(NAME, has_text="Buyer 01"))
        row.get_by_role("button", name="More options for 'Buyer 01'").click()
        return row

    row = open_menu()
    # No Delete for a user who may only erase.
    expect(row.get_by_role("link", name="Delete")).to_have_count(0)
    row.get_by_role("link", name="Erase personal data").click()
    page.wait_for_url(re.compile(rf"/admin/customers/{customer.pk}/erase/\?next="))
    page.get_by_role("link", name="No, don't erase").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(NAMES, has_text="Buyer 01")).to_have_count(1)

    open_menu().get_by_role("link", name="Erase personal data").click()
    page.get_by_role("button", name="Yes, erase").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    assert_erased(customer, "Buyer 01")
    expect(page.locator(".messages")).to_contain_text("Personal data erased")
    # The search for the old name no longer finds them; the pseudonym does.
    expect(page.locator(NAMES, has_text="Buyer 01")).to_have_count(0)
    page.goto(f"{live_server.url}/admin/customers/?q={customer.name.split()[-1]}")
    expect(page.locator(NAMES, has_text=customer.name)).to_have_count(1)


# version_neutral: Wagtail's bulk bar is driven at the floors by test_destructive_actions.py, and this confirmation
# page opened there by test_accessibility.py.
@pytest.mark.version_neutral
def test_erase_from_the_bulk_bar(eraser_page, live_server):
    page = eraser_page
    band = band_text(page, live_server)
    start = f"{live_server.url}/admin/customers/?q=buyer"
    page.goto(start)

    select_rows(page, "Buyer 00", "Buyer 02").get_by_role("link", name="Erase personal data").click()
    page.wait_for_url(re.compile(r"/admin/customers/bulk/all/erase/\?"))
    expect(page.locator("main")).to_contain_text("Erase the personal data of these 2 customers?")
    page.get_by_role("link", name="No, go back").click()
    page.wait_for_url(re.compile(r"/admin/customers/\?q=buyer$"))
    assert_no_error_page(page)
    assert not Customer.objects.filter(erased_at__isnull=False).exists()

    select_rows(page, "Buyer 00", "Buyer 02").get_by_role("link", name="Erase personal data").click()
    page.get_by_role("button", name="Yes, erase").click()
    page.wait_for_url(re.compile(r"/admin/customers/\?q=buyer$"))
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Personal data of 2 customers erased.")
    assert Customer.objects.filter(erased_at__isnull=False).count() == 2
    assert not Customer.objects.filter(name__in=["Buyer 00", "Buyer 02"]).exists()
    assert band_text(page, live_server) == band
