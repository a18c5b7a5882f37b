"""The header of the customer and order pages (Wagtail's slim header with the page's actions), measured in Chromium.

On a phone (390 x 844) and in a desktop window, every action (E-mail customer, Export orders, the "..." Actions menu
and its items) is wholly in the window and takes a click there, and a long title (a customer's long name, an order's
long id) is cut with an ellipsis, whole elsewhere on the page. At 390 px Wagtail's header put the actions out of the
window, past the title, and cut the title with no sign of it. Runs on Wagtail 7.0's markup too (the phone width).
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.geometry import box
from tests.factories import order_data
from wagtail_customers.models import Channel, Order, SellerAccount
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Maximiliane Wolfensteiner-Hohenzollern von Berlin-Charlottenburg"
EMAIL = "maximiliane.wolfensteiner-hohenzollern@example-buchhandlung.de"
ORDER_ID = "2024-MARKETPLACE-DE-000123456789"
PHONE = (390, 844)
#: At the lowest versions (``version_neutral``) the phone alone: the desktop window measures the same markup.
SIZES = (PHONE, pytest.param((1280, 900), marks=pytest.mark.version_neutral))
ACTIONS = "#w-slim-header-buttons"


@pytest.fixture
def order(db):
    account = SellerAccount.objects.create(name="Berliner Buchhandlung GmbH", channel=Channel.SHOPIFY, currency="EUR")
    record_orders(account, [order_data(ORDER_ID, email=EMAIL, name=NAME, lines=((2, "10.00"), (1, "4.50")))])
    return Order.objects.get(account=account, external_id=ORDER_ID)


@pytest.fixture
def open_page(live_server, login, browser_admin):
    """``open_page(path, size)``: the admin page at ``path`` in a window of ``size`` (width, height)."""

    def open_at(path, size):
        page = login("browseradmin", "browser-pw")
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.goto(f"{live_server.url}{path}")
        return page

    return open_at


def assert_in_window(page, control, size):
    """The control is wholly in the window where it is, takes a click there, and nothing had to scroll to show it."""
    width, height = size
    expect(control).to_be_visible()
    # Not ``ratio=1``: a control's edges can fall between pixels.
    expect(control).to_be_in_viewport(ratio=0.99)
    found = box(control)
    assert -0.5 <= found["left"] and found["right"] <= width + 0.5, found
    assert -0.5 <= found["top"] and found["bottom"] <= height + 0.5, found
    control.click(trial=True)
    # The click's checks scroll a control into view: this one was in view already, not hidden in an overflowing box.
    assert box(control) == found


def assert_header_actions_usable(page, size, names):
    actions = page.locator(ACTIONS)
    for name in names:
        expect(
            actions.get_by_role("link", name=name, exact=True).or_(actions.get_by_role("button", name=name, exact=True))
        ).to_have_count(1)
    controls = actions.locator("a[href]:visible, button:visible")
    assert controls.count() >= len(names)
    for control in controls.all():
        assert_in_window(page, control, size)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("window.scrollX") == 0


def assert_title_cut_with_an_ellipsis(page, size, full_title):
    """The breadcrumbs' last item (the title Wagtail shows) is in the window, cut with an ellipsis if it is cut."""
    title = page.locator(".w-slim-header .w-breadcrumbs ol > li").last.locator("xpath=./*[1]")
    expect(title).to_contain_text(full_title)
    found = box(title)
    assert found["right"] <= size[0] + 0.5, found
    shown = title.evaluate(
        """el => { const s = getComputedStyle(el);
            return {cut: el.scrollWidth > el.clientWidth, ellipsis: s.textOverflow, overflow: s.overflowX,
                    lines: Math.round(el.getBoundingClientRect().height / (parseFloat(s.lineHeight) || 20))}; }"""
    )
    # This title is too long for the header's line in these windows: cut, and the ellipsis says so (Chromium draws
    # none with ``overflow: clip``).
    assert shown["cut"], shown
    assert shown["ellipsis"] == "ellipsis" and shown["overflow"] == "hidden", shown
    # The whole title stays in the page for screen readers (Wagtail's hidden h1).
    expect(page.locator(".w-slim-header h1")).to_contain_text(full_title)


def assert_whole_in_window(locator, text, size):
    expect(locator).to_have_text(text)
    expect(locator).to_be_in_viewport()
    found = box(locator)
    assert found["right"] <= size[0] + 0.5, found
    assert locator.evaluate("el => el.scrollWidth <= el.clientWidth")


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}px")
def test_the_customer_page_header_fits_the_window(open_page, order, size):
    customer = order.customer
    page = open_page(reverse("wagtail_customers_customer:detail", args=(customer.pk,)), size)
    assert_header_actions_usable(page, size, ("E-mail customer", "Export orders", "Actions"))
    assert_title_cut_with_an_ellipsis(page, size, NAME)
    # The whole name and e-mail address: in the summary under the header, wrapped in the window.
    assert_whole_in_window(page.locator(".wc-customer-summary__name"), NAME, size)
    assert_whole_in_window(page.locator(".wc-customer-summary__meta").get_by_text(EMAIL), EMAIL, size)

    # The "..." menu opens with each of its items in the window.
    page.locator(ACTIONS).get_by_role("button", name="Actions", exact=True).click()
    menu = page.locator("[data-w-dropdown-target=content]:visible")
    expect(menu.get_by_role("menuitem", name="Delete").or_(menu.get_by_role("link", name="Delete"))).to_be_visible()
    items = menu.locator("a[href], button")
    assert items.count() >= 3
    for item in items.all():
        assert_in_window(page, item, size)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}px")
def test_the_order_page_header_fits_the_window(open_page, order, size):
    page = open_page(reverse("wagtail_customers_customer:order", args=(order.pk,)), size)
    assert_header_actions_usable(page, size, ("Customer", "E-mail customer about this order"))
    if size == PHONE:
        assert_title_cut_with_an_ellipsis(page, size, f"Order {ORDER_ID}")
    # The whole order id, and the customer's whole name, under the header.
    assert_whole_in_window(page.locator(".wc-customer-summary__name"), f"Order {ORDER_ID}", size)
    assert_whole_in_window(page.locator(".wc-customer-summary__meta").get_by_role("link", name=NAME), NAME, size)
