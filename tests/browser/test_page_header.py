"""The header of the customer and order pages (Wagtail's slim header with the page's actions), measured in Chromium.

On a phone (390 x 844) and in a desktop window, every action (E-mail customer, Export orders, the "..." Actions menu
and its items) is wholly in the window and takes a click there, and a long title (a customer's long name, an order's
long id) is cut with an ellipsis, whole elsewhere on the page. At 390 px Wagtail's header put the actions out of the
window, past the title, and cut the title with no sign of it. Runs on Wagtail 7.0's markup too (the phone width).

On a phone the customer page's and the order page's headers, which Wagtail pins to the top, are one line: the title
and one "Actions" menu with every action of the header in it. With the actions as buttons on two more lines each was
133 px high, a sixth of the screen, pinned while scrolling.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.geometry import box
from tests.browser.test_accessibility import run_axe
from tests.factories import order_data
from wagtail_customers.models import Channel, Customer, Order, SellerAccount
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Maximiliane Wolfensteiner-Hohenzollern von Berlin-Charlottenburg"
EMAIL = "maximiliane.wolfensteiner-hohenzollern@example-buchhandlung.de"
ORDER_ID = "2024-MARKETPLACE-DE-000123456789"
PHONE = (390, 844)
DESKTOP = (1280, 900)
#: At the lowest versions (``version_neutral``) the phone alone: the desktop window measures the same markup.
SIZES = (PHONE, pytest.param(DESKTOP, marks=pytest.mark.version_neutral))
ACTIONS = "#w-slim-header-buttons"
#: The customer page's header for a superuser, in its order: its buttons, then the items of its "..." menu.
HEADER_BUTTONS = ("Add to watchlist", "E-mail customer", "Export orders")
MORE_ITEMS = ("Download personal data (access request)", "Erase personal data", "Merge with…", "Delete")
#: The order page's header for a superuser, in its order.
ORDER_HEADER_BUTTONS = ("E-mail customer about this order", "Customer")
#: The pinned header's height on a phone: one line (Wagtail's slim header is 50 px).
ONE_LINE_HEADER = 70


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
    # On a phone the actions are in the "Actions" menu (test_on_a_phone_the_customer_page_header_is_one_line).
    names = ("Actions",) if size == PHONE else ("E-mail customer", "Export orders", "Actions")
    assert_header_actions_usable(page, size, names)
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
    # On a phone the actions are in the "Actions" menu (test_on_a_phone_the_order_page_header_is_one_line).
    assert_header_actions_usable(page, size, ("Actions",) if size == PHONE else ORDER_HEADER_BUTTONS)
    if size == PHONE:
        assert_title_cut_with_an_ellipsis(page, size, f"Order {ORDER_ID}")
    # The whole order id, and the customer's whole name, under the header.
    assert_whole_in_window(page.locator(".wc-customer-summary__name"), f"Order {ORDER_ID}", size)
    assert_whole_in_window(page.locator(".wc-customer-summary__meta").get_by_role("link", name=NAME), NAME, size)


def menu_items(menu):
    """The names of the menu's items (links and buttons), in order."""
    return [" ".join(item.inner_text().split()) for item in menu.locator("a[href], button").all()]


def assert_one_line_header_with_an_actions_menu(page, names, axe_script):
    """On a phone: the header's only control is the "Actions" menu's button, on the title's line, the header one line
    pinned at the top while the page scrolls; the menu opens with the keyboard and lists ``names``, every action of
    the header, each once and wholly in the window; Escape closes it, the focus back on its button. Returns the
    button and the menu, closed."""
    header = page.locator(ACTIONS)
    # The only control in the header's actions: the menu's button, named by its visible label, closed.
    controls = header.locator("a[href]:visible, button:visible")
    expect(controls).to_have_count(1)
    toggle = header.get_by_role("button", name="Actions", exact=True)
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    # One line, pinned at the top while the page scrolls under it (Wagtail's main box scrolls, not the window).
    pinned = page.locator("div.w-sticky:has(> header.w-slim-header)")
    page.mouse.move(PHONE[0] / 2, PHONE[1] / 2)
    page.mouse.wheel(0, 500)
    page.wait_for_function("document.querySelector('main').scrollTop > 300")
    found = box(pinned)
    assert found["top"] == 0 and found["bottom"] <= ONE_LINE_HEADER, found
    assert_in_window(page, toggle, PHONE)

    # Opened with the keyboard: every action of the header, each a link or a button, wholly in the window.
    toggle.focus()
    page.keyboard.press("Enter")
    menu = page.locator(".wc-header-menu [data-w-dropdown-target=content]")
    expect(menu).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    assert menu_items(menu) == list(names)
    for name in names:
        item = menu.get_by_role("link", name=name, exact=True).or_(menu.get_by_role("button", name=name, exact=True))
        expect(item).to_have_count(1)
        assert_in_window(page, item, PHONE)
        # Once on the page for the keyboard and screen readers: the header's own button is out of both.
        expect(
            page.get_by_role("link", name=name, exact=True).or_(page.get_by_role("button", name=name, exact=True))
        ).to_have_count(1)
    # axe-core finds nothing serious with the menu open (tests/browser/test_accessibility.py checks the wide pages).
    assert not run_axe(page, axe_script)
    # The items follow the button in the tab order; Escape from one closes the menu, the focus back on the button.
    page.keyboard.press("Tab")
    first = menu.locator("a[href], button").first
    expect(first).to_be_focused()
    expect(first).to_have_text(names[0])
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    # Escape from the button itself, the menu opened with the keyboard.
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(toggle).to_be_focused()
    # The button stays in the tab order once the focus leaves it.
    page.keyboard.press("Shift+Tab")
    expect(toggle).not_to_be_focused()
    assert toggle.get_attribute("tabindex") in (None, "0")
    return toggle, menu


def test_on_a_phone_the_customer_page_header_is_one_line(open_page, order, axe_script):
    """A phone's pinned header: the title and one "Actions" menu, whose button is named, opens with the keyboard, lists
    every action of the header (made from the same buttons) and closes with Escape, the focus back on its button. From
    50em up the header's buttons and "..." menu are as they were, and this menu is not there."""
    customer = order.customer
    # Orders enough for the page to scroll under the pinned header.
    record_orders(order.account, [order_data(f"{ORDER_ID}-{n}", email=EMAIL, name=NAME) for n in range(6)])
    assert Customer.objects.count() == 1
    url = reverse("wagtail_customers_customer:detail", args=(customer.pk,))

    page = open_page(url, DESKTOP)
    header = page.locator(ACTIONS)
    for name in HEADER_BUTTONS:
        expect(header.get_by_role("link", name=name).or_(header.get_by_role("button", name=name))).to_be_visible()
    expect(page.locator(".wc-header-menu")).to_be_hidden()
    header.get_by_role("button", name="Actions", exact=True).click()
    more = page.locator("[data-w-dropdown-target=content]:visible")
    expect(more.get_by_role("link", name="Delete")).to_be_visible()
    assert menu_items(more) == list(MORE_ITEMS)

    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    page.reload()
    toggle, menu = assert_one_line_header_with_an_actions_menu(page, (*HEADER_BUTTONS, *MORE_ITEMS), axe_script)
    assert_title_cut_with_an_ellipsis(page, PHONE, NAME)

    # A destructive action still leads to its confirmation.
    toggle.click()
    menu.get_by_role("link", name="Delete", exact=True).click()
    page.wait_for_url(f"**/{customer.pk}/delete/?next=*")
    expect(page.get_by_role("button", name="Yes, delete")).to_be_visible()
    assert Customer.objects.filter(pk=customer.pk).exists()


# version_neutral: the same header markup as the customer page's, driven at the floors.
@pytest.mark.version_neutral
def test_on_a_phone_the_order_page_header_is_one_line(open_page, order, axe_script):
    """The order page's pinned header on a phone: the title and the same "Actions" menu (133 px high with its two
    buttons on a line of their own); from 50em up its two buttons beside the title, as they were, and no menu."""
    url = reverse("wagtail_customers_customer:order", args=(order.pk,))

    page = open_page(url, DESKTOP)
    header = page.locator(ACTIONS)
    title = page.locator(".w-slim-header .w-breadcrumbs ol > li").last
    for name in ORDER_HEADER_BUTTONS:
        button = header.get_by_role("link", name=name, exact=True)
        expect(button).to_be_visible()
        # On the title's line.
        found, beside = box(button), box(title)
        assert found["top"] < beside["bottom"] and beside["top"] < found["bottom"], (found, beside)
    expect(header.locator("a[href]:visible, button:visible")).to_have_count(len(ORDER_HEADER_BUTTONS))
    expect(page.locator(".wc-header-menu")).to_be_hidden()
    expect(page.get_by_role("button", name="Actions", exact=True)).to_have_count(0)

    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    page.reload()
    toggle, menu = assert_one_line_header_with_an_actions_menu(page, ORDER_HEADER_BUTTONS, axe_script)
    assert_title_cut_with_an_ellipsis(page, PHONE, f"Order {ORDER_ID}")

    # The menu's links lead where the header's buttons do.
    toggle.click()
    menu.get_by_role("link", name="E-mail customer about this order", exact=True).click()
    page.wait_for_url(f"**/{order.customer_id}/email/?order={order.pk}")
    expect(page.locator("input[name=order]")).to_have_value(ORDER_ID)
