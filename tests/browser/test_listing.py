"""The customers listing in Chromium: tabs, search, accounts, rows per page, sorting, column views,
the watchlist eye and bulk delete. Saves the screenshots the docs show."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.geometry import settled
from tests.factories import order_data
from wagtail_customers.models import Channel, Customer, ListingPreference, SellerAccount
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "table.listing tbody tr"
NAMES = "table.listing tbody td.title [id^=customer_]"


@pytest.fixture
def stores(db):
    """Two seller accounts with 40 and 15 customers; customer i has i + 1 units and spends 10 x (i + 1)."""
    shopify = SellerAccount.objects.create(name="Shopify EU", channel=Channel.SHOPIFY, currency="EUR")
    amazon = SellerAccount.objects.create(name="Amazon US", channel=Channel.AMAZON, currency="USD")
    for account, count, prefix in ((shopify, 40, "sam"), (amazon, 15, "amy")):
        record_orders(
            account,
            [
                order_data(
                    f"{prefix}-{i}",
                    email=f"{prefix}{i}@example.com",
                    name=f"{prefix.title()} Customer {i:02d}",
                    lines=((i + 1, "10.00"),),
                    day=i,
                    promo_codes=["WELCOME"] if i % 5 == 0 else (),
                    city="Berlin" if account is shopify else "Seattle",
                )
                for i in range(count)
            ],
        )
    return shopify, amazon


@pytest.fixture
def listing(live_server, login, browser_admin, stores):
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/")
    return page


def header_labels(page):
    return [label.strip() for label in page.locator("table.listing thead th").all_inner_texts() if label.strip()]


def test_switch_tabs_keeps_the_search(listing, live_server, screenshot):
    page = listing
    expect(page.locator(NAMES)).to_have_count(25)
    screenshot(page, "customers-listing")
    page.get_by_role("link", name="Highest value", exact=True).click()
    page.wait_for_url(f"{live_server.url}/admin/customers/highest-value/**")
    expect(page.locator(NAMES).first).to_have_text("Sam Customer 39")
    page.get_by_role("link", name="Promo codes", exact=True).click()
    page.wait_for_url(f"{live_server.url}/admin/customers/promo-codes/**")
    expect(page.locator(NAMES)).to_have_count(11)
    expect(page.locator("table.listing thead")).to_contain_text("Discount received")


def test_search_refreshes_the_results_in_place(listing, live_server):
    page = listing
    page.get_by_role("textbox", name="Search term").fill("amy customer 1")
    expect(page.locator(NAMES)).to_have_count(5)  # Amy Customer 10 to 14
    expect(page).to_have_url(re.compile(r"q=amy\+customer\+1"))
    page.get_by_role("link", name="Most orders", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/customers/most-orders/\?q=amy"))
    expect(page.locator(NAMES)).to_have_count(5)


def test_change_the_account_selection_and_it_is_remembered(listing, live_server, stores, browser_admin, screenshot):
    page = listing
    shopify, amazon = stores
    page.locator("summary", has_text="Seller accounts").click()
    page.locator(".wc-account-selector").get_by_role("checkbox", name="Amazon US (Amazon, USD)").check()
    screenshot(page, "customers-account-selector")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.locator(NAMES)).to_have_count(15)
    expect(page.locator("[data-wc-stat=customers]")).to_have_text("15")
    page.goto(f"{live_server.url}/admin/customers/highest-value/")
    expect(page.locator(NAMES)).to_have_count(15)
    assert ListingPreference.objects.get(user=browser_admin).account_ids == [amazon.pk]
    page.locator("summary", has_text="Seller accounts").click()
    page.get_by_role("button", name="All accounts").click()
    expect(page.locator("[data-wc-stat=customers]")).to_have_text("55")


def test_rows_per_page(listing, live_server):
    page = listing
    for per_page, expected in ((10, 10), (50, 50), (100, 55), (25, 25)):
        page.get_by_label("Rows per page").select_option(str(per_page))
        page.wait_for_load_state("load")
        expect(page.locator(NAMES)).to_have_count(expected)
        expect(page.locator("[data-wc-rows]")).to_contain_text("of 55 customers")


# version_neutral: the plugin's own control, driven at the floors by test_rows_per_page.
@pytest.mark.version_neutral
def test_rows_per_page_chosen_with_the_keyboard_wait_for_apply(listing, live_server):
    # An arrow key on the closed select changes its value: the page must not reload on it (WCAG 3.2.2).
    page = listing
    url = page.url
    select = page.get_by_label("Rows per page")
    select.focus()
    select.press("ArrowDown")
    expect(page.get_by_role("button", name="Apply")).to_be_visible()
    assert page.url == url
    expect(page.locator(NAMES)).to_have_count(25)
    with page.expect_navigation():
        select.press("Enter")
    expect(page.locator(NAMES)).to_have_count(50)


def test_sort_by_a_column(listing, live_server):
    page = listing
    page.locator("table.listing thead").get_by_role("link", name="Amount spent").click()
    page.wait_for_url(re.compile(r"ordering=amount_spent"))
    expect(page.locator(NAMES).first).to_have_text("Amy Customer 00")
    page.locator("table.listing thead").get_by_role("link", name="Amount spent").click()
    page.wait_for_url(re.compile(r"ordering=-amount_spent"))
    expect(page.locator(NAMES).first).to_have_text("Sam Customer 39")


def test_hide_a_column_drag_another_reload_then_reset(listing, live_server, screenshot):
    page = listing
    default = header_labels(page)
    assert default[:4] == ["Customer", "E-mail", "City", "Country"]
    page.locator("summary", has_text="Columns").click()
    picker = page.locator("[data-controller=wc-column-picker]")
    picker.get_by_role("checkbox", name="City").uncheck()
    units = picker.locator("li[data-column=units]")
    email = picker.locator("li[data-column=email]")
    units.drag_to(email, target_position={"x": 20, "y": 2})
    expect(picker.locator("li").nth(1)).to_have_attribute("data-column", "units")
    screenshot(page, "customers-column-picker")
    picker.get_by_role("button", name="Save as my default").click()
    page.wait_for_load_state("load")
    page.reload()
    labels = header_labels(page)
    assert labels[:3] == ["Customer", "Units", "E-mail"]
    assert "City" not in labels
    # Keyboard users: the move buttons.
    page.locator("summary", has_text="Columns").click()
    page.get_by_role("button", name="Move E-mail up").click()
    expect(page.locator("[data-controller=wc-column-picker] li").nth(1)).to_have_attribute("data-column", "email")
    page.get_by_role("button", name="Reset to the default columns").click()
    page.wait_for_load_state("load")
    assert header_labels(page) == default


# version_neutral: the plugin's column picker, opened at the floors by the drag test above.
@pytest.mark.version_neutral
def test_the_columns_menu_loads_its_form_once_and_says_so_when_it_cannot(listing, live_server):
    """The form is fetched when the menu is first opened (views/listing/column_picker.py); a failed fetch says
    so in the menu, and the next opening tries again."""
    page = listing
    fetched = []
    page.on("request", lambda request: "/preferences/columns/form/" in request.url and fetched.append(request.url))
    menu = page.locator("details.wc-column-picker")
    assert menu.locator("[data-controller=wc-column-picker]").count() == 0
    held = []
    page.route("**/preferences/columns/form/**", lambda route: held.append(route))
    menu.locator("> summary").click()
    # While the form loads, the open menu shows nothing half-made (the placeholder is for pages without JavaScript).
    placeholder = menu.locator("[data-wc-lazy-panel-target=panel]")
    expect(placeholder).to_have_attribute("aria-busy", "true")
    expect(placeholder).to_be_hidden()
    while not held:
        page.wait_for_timeout(20)
    held[0].fulfill(status=500, body="down")
    failed = "The columns could not be loaded. Close and open the menu to try again."
    expect(menu.get_by_text(failed).first).to_be_visible()
    expect(placeholder).to_have_attribute("aria-busy", "false")
    expect(menu.get_by_role("link", name="Choose the columns on a page of their own")).to_be_visible()
    menu.locator("> summary").click()
    page.unroute("**/preferences/columns/form/**")
    menu.locator("> summary").click()
    picker = menu.locator("[data-controller=wc-column-picker]")
    expect(picker.get_by_role("checkbox", name="City")).to_be_checked()
    menu.locator("> summary").click()
    menu.locator("> summary").click()
    expect(picker).to_be_visible()
    assert len(fetched) == 2, fetched
    assert all("next=%2Fadmin%2Fcustomers%2F" in url for url in fetched), fetched


# version_neutral: the plugin's columns page, whose form the drag test above saves at the floors.
@pytest.mark.version_neutral
def test_without_javascript_the_columns_link_opens_a_page_that_saves_the_view(
    browser, live_server, stores, browser_admin
):  # noqa: E501
    """The Columns menu's placeholder link: the form on a page of its own, with the checkboxes (moving needs
    JavaScript, so its buttons are not offered), saved and back to the listing."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1400, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("input[name=username]", "browseradmin")
        page.fill("input[name=password]", "browser-pw")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/**")
        page.goto(f"{live_server.url}/admin/customers/highest-value/")
        page.locator("summary", has_text="Columns").click()
        page.get_by_role("link", name="Choose the columns on a page of their own").click()
        page.wait_for_url(re.compile(r"/preferences/columns/form/"))
        expect(page.get_by_role("button", name="Move E-mail up")).to_have_count(0)
        page.get_by_role("checkbox", name="City").uncheck()
        page.get_by_role("button", name="Save as my default").click()
        page.wait_for_url(f"{live_server.url}/admin/customers/highest-value/")
        assert "City" not in header_labels(page)
    finally:
        context.close()


# version_neutral: the plugin's columns page, whose form the drag test above saves at the floors.
@pytest.mark.version_neutral
def test_with_javascript_the_columns_page_of_its_own_moves_columns(listing, live_server):
    page = listing
    page.goto(f"{live_server.url}/admin/customers/preferences/columns/form/?next=/admin/customers/")
    page.get_by_role("button", name="Move City up").click()
    expect(page.locator("[data-controller=wc-column-picker] li").nth(1)).to_have_attribute("data-column", "city")
    page.get_by_role("button", name="Save as my default").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/")
    assert header_labels(page)[:3] == ["Customer", "City", "E-mail"]


def test_toggle_the_eye_and_find_the_customer_in_the_watchlist(listing, live_server, screenshot):
    page = listing
    first_name = page.locator(NAMES).first.inner_text()
    eye = page.locator("table.listing tbody tr").first.locator("button.wc-eye")
    expect(eye).to_have_attribute("aria-pressed", "false")
    page.evaluate("window.__wcNoReload = true")
    eye.click()
    expect(eye).to_have_attribute("aria-pressed", "true")
    # The page did not reload: the marker set on the window is still there.
    assert page.evaluate("window.__wcNoReload") is True
    expect(eye.locator("use")).to_have_attribute("href", "#icon-view")
    page.get_by_role("link", name="Watchlist", exact=True).click()
    page.wait_for_url(f"{live_server.url}/admin/customers/watchlist/**")
    expect(page.locator(NAMES)).to_have_text([first_name])
    expect(page.locator("[data-wc-stat=watched]")).to_have_text("1")
    screenshot(page, "customers-watchlist-tab")


# version_neutral: test_destructive_actions takes Wagtail's bulk bar to the same confirmation.
@pytest.mark.version_neutral
def test_bulk_delete_behind_the_confirmation(listing, live_server, screenshot):
    page = listing
    names = page.locator(NAMES).all_inner_texts()[:2]
    checkboxes = page.locator("table.listing tbody input.bulk-action-checkbox")
    checkboxes.nth(0).check()
    checkboxes.nth(1).check()
    footer = page.locator("[data-bulk-action-footer]")
    expect(footer).to_be_visible()
    # Once the bar has slid in: the docs showed it halfway.
    settled(footer)
    screenshot(page, "customers-bulk-actions")
    footer.get_by_role("link", name="Delete").click()
    page.wait_for_url(re.compile(r"/admin/customers/bulk/all/delete/\?"))
    expect(page.locator("main")).to_contain_text("Delete these 2 customers?")
    expect(page.locator("[data-wc-deletes=orders]")).to_contain_text("2 orders")
    screenshot(page, "customers-bulk-delete-confirmation")
    assert Customer.objects.filter(name__in=names).count() == 2
    page.get_by_role("button", name="Yes, delete").click()
    page.wait_for_url(re.compile(r"/admin/customers/(\?.*)?$"))
    expect(page.locator(".messages")).to_contain_text("2 customers deleted")
    assert not Customer.objects.filter(name__in=names).exists()


# version_neutral: a screenshot for the docs, taken at the newest versions.
@pytest.mark.version_neutral
def test_filters_screenshot(listing, live_server, screenshot):
    page = listing
    page.goto(f"{live_server.url}/admin/customers/?channel=amazon&used_promo_code=yes")
    expect(page.locator(NAMES)).to_have_count(3)
    expect(page.locator(".w-active-filters, [data-w-active-filter-id]").first).to_be_visible()
    screenshot(page, "customers-filters")
