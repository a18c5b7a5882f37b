"""Every way in to every destructive action, in Chromium, each cancelled and then confirmed.

Deleting a customer (the listing row's "..." menu, the bulk bar, the customer page header),
removing customers from the watchlist (the bulk bar, the watchlist entries' row menu) and revoking
a share grant (its row menu). Cancelling must land on the page the user came from with nothing
changed; confirming must land on a working page with a message. Each runs at 1280 and 1440 px.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import order_data
from tests.permission_world import grant, make_staff
from wagtail_customers.models import AccessGrant, Channel, Customer, SellerAccount, WatchlistEntry
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "td.title [id^=customer_]"
NAMES = f"table.listing tbody {NAME}"
#: At the lowest versions (``version_neutral``) 1280 px alone: 1440 px takes the same Wagtail menus and pages.
WIDTHS = [1280, pytest.param(1440, marks=pytest.mark.version_neutral)]


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def width(request):
    return request.param


@pytest.fixture
def shop(db):
    account = SellerAccount.objects.create(name="Shopify EU", channel=Channel.SHOPIFY, currency="EUR")
    record_orders(
        account,
        [
            order_data(f"S-{i}", email=f"buyer{i}@example.com", name=f"Buyer {i:02d}", day=i, lines=((1, "10.00"),))
            for i in range(6)
        ],
    )
    return account


@pytest.fixture
def admin_page(live_server, login, browser_admin, shop, width):
    page = login("browseradmin", "browser-pw")
    page.set_viewport_size({"width": width, "height": 900})
    return page


def assert_no_error_page(page):
    expect(page.locator("body")).not_to_contain_text("Server Error")
    expect(page.locator("body")).not_to_contain_text("Page not found")


def open_row_menu(page, name):
    row = page.locator("table.listing tbody tr", has=page.locator(NAME, has_text=name))
    row.get_by_role("button", name=f"More options for '{name}'").click()
    return row


def test_delete_from_the_row_menu(admin_page, live_server):
    page = admin_page
    start = f"{live_server.url}/admin/customers/most-orders/?q=buyer&per_page=10"
    page.goto(start)

    open_row_menu(page, "Buyer 03").get_by_role("link", name="Delete").click()
    page.wait_for_url(re.compile(r"/admin/customers/\d+/delete/\?next="))
    expect(page.locator("main")).to_contain_text("Delete the customer Buyer 03")
    page.get_by_role("link", name="No, don't delete").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(NAMES, has_text="Buyer 03")).to_have_count(1)

    open_row_menu(page, "Buyer 03").get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Customer 'Buyer 03' deleted.")
    expect(page.locator(NAMES, has_text="Buyer 03")).to_have_count(0)
    assert not Customer.objects.filter(name="Buyer 03").exists()

    # The menu of the last row opens over the table's bottom edge and its links take clicks.
    last = page.locator(NAMES).last.inner_text()
    open_row_menu(page, last).get_by_role("link", name="Delete").click(trial=True)


def select_rows(page, *names):
    for name in names:
        row = page.locator("table.listing tbody tr", has=page.locator(NAME, has_text=name))
        row.locator("input.bulk-action-checkbox").check()
    footer = page.locator("[data-bulk-action-footer]")
    expect(footer).to_be_visible()
    return footer


def test_delete_from_the_bulk_bar(admin_page, live_server):
    page = admin_page
    start = f"{live_server.url}/admin/customers/?q=buyer"
    page.goto(start)

    select_rows(page, "Buyer 01", "Buyer 02").get_by_role("link", name="Delete").click()
    page.wait_for_url(re.compile(r"/admin/customers/bulk/all/delete/\?"))
    expect(page.locator("main")).to_contain_text("Delete these 2 customers?")
    page.get_by_role("link", name="No, go back").click()
    page.wait_for_url(re.compile(r"/admin/customers/\?q=buyer$"))
    assert_no_error_page(page)
    assert Customer.objects.filter(name__in=["Buyer 01", "Buyer 02"]).count() == 2

    select_rows(page, "Buyer 01", "Buyer 02").get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    page.wait_for_url(re.compile(r"/admin/customers/\?q=buyer$"))
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("2 customers deleted.")
    assert not Customer.objects.filter(name__in=["Buyer 01", "Buyer 02"]).exists()


def test_delete_from_the_customer_page_header(admin_page, live_server):
    page = admin_page
    customer = Customer.objects.get(name="Buyer 04")
    detail = f"{live_server.url}/admin/customers/{customer.pk}/"
    page.goto(detail)

    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Delete").click()
    page.wait_for_url(re.compile(rf"/admin/customers/{customer.pk}/delete/\?next="))
    page.get_by_role("link", name="No, don't delete").click()
    page.wait_for_url(detail)
    assert_no_error_page(page)
    expect(page.locator("h1")).to_contain_text("Buyer 04")

    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/")
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Customer 'Buyer 04' deleted.")
    assert not Customer.objects.filter(pk=customer.pk).exists()


# version_neutral: the bulk bar is driven at the floors by test_delete_from_the_bulk_bar, and this confirmation
# page opened there by test_accessibility.py.
@pytest.mark.version_neutral
def test_remove_from_the_watchlist_with_the_bulk_bar(admin_page, live_server, browser_admin):
    page = admin_page
    watched = Customer.objects.filter(name__in=["Buyer 01", "Buyer 02"])
    for customer in watched:
        WatchlistEntry.objects.create(customer=customer, added_by=browser_admin, note="Check address")
    start = f"{live_server.url}/admin/customers/watchlist/"
    page.goto(start)

    select_rows(page, "Buyer 01", "Buyer 02").get_by_role("link", name="Remove from watchlist").click()
    page.wait_for_url(re.compile(r"/admin/customers/bulk/watchlist/watchlist-remove/\?"))
    expect(page.locator("main")).to_contain_text("Remove these 2 customers from the watchlist?")
    page.get_by_role("link", name="No, go back").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    assert WatchlistEntry.objects.count() == 2

    select_rows(page, "Buyer 01", "Buyer 02").get_by_role("link", name="Remove from watchlist").click()
    page.get_by_role("button", name="Yes, go ahead").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("2 customers removed from the watchlist.")
    assert not WatchlistEntry.objects.exists()


def test_delete_a_watchlist_entry_from_its_row_menu(admin_page, live_server, browser_admin):
    page = admin_page
    customer = Customer.objects.get(name="Buyer 05")
    WatchlistEntry.objects.create(customer=customer, added_by=browser_admin, note="Chargeback risk")
    # The watchlist entries' own listing (with notes), from the Customers > Watchlist menu.
    page.goto(f"{live_server.url}/admin/customers/")
    page.get_by_role("button", name="Customers").first.click()
    # The menu's item, not the listing's Watchlist tab of the same name (which the page shows already).
    page.get_by_role("complementary", name="Sidebar").get_by_role("link", name="Watchlist", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/customers/watchlist-entries/"))
    page.wait_for_load_state("load")
    start = page.url
    expect(page.locator("main")).to_contain_text("Chargeback risk")

    row = page.locator("table.listing tbody tr", has_text="Buyer 05")
    row.get_by_role("button", name=re.compile("More options")).click()
    row.get_by_role("link", name=re.compile("Delete")).click()
    page.wait_for_url(re.compile(r"/delete/"))
    page.get_by_role("link", name=re.compile("No, don't delete|Cancel")).click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    assert WatchlistEntry.objects.filter(customer=customer).exists()

    row.get_by_role("button", name=re.compile("More options")).click()
    row.get_by_role("link", name=re.compile("Delete")).click()
    page.get_by_role("button", name="Yes, delete").click()
    page.wait_for_load_state("load")
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("deleted")
    assert not WatchlistEntry.objects.filter(customer=customer).exists()


# version_neutral: a row menu of the plugin's, as the customers' one driven at the floors by
# test_delete_from_the_row_menu (Wagtail's own by test_delete_a_watchlist_entry_from_its_row_menu).
@pytest.mark.version_neutral
def test_revoke_a_share_grant_from_its_row_menu(admin_page, live_server, shop):
    page = admin_page
    colleague = make_staff("grace", email="grace@example.com", first_name="Grace", last_name="Hopper")
    grant(colleague, shop, "view")
    start = f"{live_server.url}/admin/customers/sharing/"
    page.goto(start)

    row = page.get_by_role("row", name=re.compile("Grace Hopper"))
    row.get_by_role("button", name=re.compile("More options")).click()
    row.get_by_role("link", name="Revoke").click()
    page.wait_for_url(re.compile(r"/sharing/\d+/revoke/"))
    expect(page.locator("main")).to_contain_text("Revoke the access of grace")
    page.get_by_role("link", name="No, keep it").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    assert AccessGrant.objects.filter(user=colleague).exists()

    row.get_by_role("button", name=re.compile("More options")).click()
    row.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Yes, revoke").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Access of grace to Shopify EU revoked.")
    assert not AccessGrant.objects.filter(user=colleague).exists()
