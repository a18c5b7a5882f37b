"""The listing's toolbar menus in a 390 px window, measured in Chromium: each panel opens wholly inside the window
(the Saved views and Columns panels were 418 px wide, their right edge and the Name box cut off), and Escape closes
the open menu and gives the focus back to its button (the menu stayed open and the focus went to the sidebar's
toggle)."""

import pytest
from playwright.sync_api import expect

from tests.browser.geometry import box
from tests.factories import order_data
from wagtail_customers.models import Channel, SellerAccount
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = 390

#: The menu's class, and what its panel shows once loaded (the Saved views and Columns panels are fetched when
#: first opened; the others come with the page).
MENUS = {
    "wc-saved-views": "#wc-saved-view-name",
    "wc-column-picker": "button[type=submit]",
}


@pytest.fixture
def phone_listing(live_server, login, browser_admin):
    for name, currency in (("Berliner Buchhandlung GmbH", "EUR"), ("Amazon US", "USD")):
        account = SellerAccount.objects.create(name=name, channel=Channel.SHOPIFY, currency=currency)
        record_orders(account, [order_data(f"{currency}-{i}", email=f"{currency}{i}@example.com") for i in range(3)])
    page = login("browseradmin", "browser-pw")
    page.set_viewport_size({"width": PHONE, "height": 844})
    page.goto(f"{live_server.url}/admin/customers/")
    expect(page.locator("table.listing tbody tr")).to_have_count(6)
    return page


def after_the_toggle(page):
    """Once the details' "toggle" event (which places the panel, in a task of its own) has run."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def test_every_toolbar_menu_opens_inside_the_window_and_closes_with_escape(phone_listing):
    page = phone_listing
    menus = page.locator(".wc-toolbar details.wc-disclosure")
    classes = [menus.nth(index).get_attribute("class") for index in range(menus.count())]
    assert all(any(name in found.split() for found in classes) for name in MENUS), classes
    for index, menu_class in enumerate(classes):
        menu = menus.nth(index)
        summary = menu.locator("> summary")
        summary.click()
        panel = menu.locator("> .wc-disclosure__panel")
        loaded = next((shown for name, shown in MENUS.items() if name in menu_class.split()), None)
        if loaded:
            expect(panel.locator(loaded).first).to_be_visible()
        expect(panel).to_be_visible()
        after_the_toggle(page)
        found = box(panel)
        assert 0 <= found["left"] and found["right"] <= PHONE, (menu_class, found)
        for control in panel.locator("input:visible, button:visible, select:visible").all():
            inside = box(control)
            assert 0 <= inside["left"] and inside["right"] <= PHONE, (menu_class, inside)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        # Escape from inside the panel (its first field) closes it and gives the focus back to its button.
        panel.locator("input:visible, button:visible, a:visible").first.focus()
        page.keyboard.press("Escape")
        expect(menu).not_to_have_attribute("open", "")
        expect(panel).to_be_hidden()
        expect(summary).to_be_focused()
        # And from the button itself, opened with the keyboard.
        page.keyboard.press("Enter")
        expect(menu).to_have_attribute("open", "")
        page.keyboard.press("Escape")
        expect(menu).not_to_have_attribute("open", "")
        expect(summary).to_be_focused()
