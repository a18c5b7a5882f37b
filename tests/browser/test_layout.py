"""The listing's layout at common window widths, measured in Chromium: the table scrolls in its own box
with the name column sticky, and the toolbar's panels and the bulk bar show their whole content.
Saves a screenshot of the listing at each width for the docs."""

import pytest
from playwright.sync_api import expect

from tests.factories import order_data
from wagtail_customers.columns import COLUMNS
from wagtail_customers.models import Channel, ListingPreference, SellerAccount
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: At the lowest versions (``version_neutral``) the narrowest alone: the others measure the same markup with more room.
WIDTHS = (1024, *(pytest.param(width, marks=pytest.mark.version_neutral) for width in (1280, 1440, 1920)))
SCROLLER = "[data-wc-table-scroll]"


@pytest.fixture
def shop(db):
    account = SellerAccount.objects.create(name="Berliner Buchhandlung GmbH", channel=Channel.SHOPIFY, currency="EUR")
    record_orders(
        account,
        [
            order_data(
                f"L-{i}",
                email=f"customer.with.a.long.address{i}@example.com",
                name=f"Maximiliane Wolfensteiner {i:02d}",
                lines=((i + 1, "10.00"),),
                day=i,
                city="Berlin-Charlottenburg",
            )
            for i in range(12)
        ],
    )
    return account


@pytest.fixture
def listing(live_server, login, browser_admin, shop):
    def open_at(width, height=900, columns=()):
        if columns:
            ListingPreference.objects.update_or_create(user=browser_admin, defaults={"columns": list(columns)})
        page = login("browseradmin", "browser-pw")
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/admin/customers/")
        expect(page.locator("table.listing tbody tr")).to_have_count(12)
        return page

    return open_at


def box(locator):
    return locator.evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }"
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_table_scrolls_in_its_own_box_with_the_name_column_sticky(listing, width, screenshot):
    page = listing(width, columns=[column.name for column in COLUMNS])
    screenshot(page, f"customers-listing-{width}px")
    scroller = page.locator(SCROLLER)
    sizes = scroller.evaluate("el => ({scroll: el.scrollWidth, client: el.clientWidth})")
    # Every column is shown: wider than the window even at 1920 px, so the table's box scrolls...
    assert sizes["scroll"] > sizes["client"], sizes
    # ...and nothing else does: not the page, not the content area (which hides what overflows it).
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    content = page.locator("main").evaluate("el => ({scroll: el.scrollWidth, client: el.clientWidth})")
    assert content["scroll"] <= content["client"], content
    # The header band (statistics, tabs, toolbar) stays within the window.
    for band in (".wc-stats", ".wc-toolbar"):
        assert box(page.locator(band))["right"] <= width, band

    name_cell = page.locator("table.listing tbody tr").first.locator("td.wc-name-column")
    name_before = box(name_cell)
    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    frame = box(scroller)
    last_header = page.locator("table.listing thead th").last
    expect(last_header).to_have_text(str(COLUMNS[-1].label))
    last = box(last_header)
    assert frame["left"] <= last["left"] and last["right"] <= frame["right"] + 1, (last, frame)
    # The name column stayed in view, at the box's left edge, painted over the columns scrolled under it.
    name_after = box(name_cell)
    assert frame["left"] - 1 <= name_after["left"] <= name_before["left"] + 1
    centre_x = (name_after["left"] + name_after["right"]) / 2
    centre_y = (name_after["top"] + name_after["bottom"]) / 2
    assert name_cell.evaluate(f"el => el.contains(document.elementFromPoint({centre_x}, {centre_y}))")
    expect(name_cell.locator("[id^=customer_]")).to_be_visible()
    screenshot(page, f"customers-listing-{width}px-scrolled")


def test_the_default_columns_fit_at_1920_px(listing):
    page = listing(1920)
    sizes = page.locator(SCROLLER).evaluate("el => ({scroll: el.scrollWidth, client: el.clientWidth})")
    assert sizes["scroll"] <= sizes["client"], sizes


def test_a_host_admin_that_does_not_hide_overflow_does_not_scroll_sideways(listing):
    """In a host site (bakerydemo on Wagtail 7.4) the content area did not hide what overflows it, and
    the whole page scrolled sideways at 1366 px: the table's box keeps the page at the window's width."""
    page = listing(1366, columns=[column.name for column in COLUMNS])
    page.add_style_tag(content="html, body, .wrapper, main, .content { overflow: visible !important; }")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    sizes = page.locator(SCROLLER).evaluate("el => ({scroll: el.scrollWidth, client: el.clientWidth})")
    assert sizes["scroll"] > sizes["client"], sizes


@pytest.mark.parametrize("width", (1024, pytest.param(1440, marks=pytest.mark.version_neutral)))
def test_every_toolbar_menu_opens_wholly_inside_the_content_area(listing, width):
    """The panels open right-aligned under their button; one near the left of the toolbar went under the
    sidebar, where the content area's overflow cut it (Save as my default was 59 % visible)."""
    page = listing(width)
    area = box(page.locator("main"))
    menus = page.locator(".wc-toolbar details.wc-disclosure")
    assert menus.count() >= 3
    for index in range(menus.count()):
        menu = menus.nth(index)
        menu.locator("> summary").click()
        panel = menu.locator("> .wc-disclosure__panel")
        expect(panel).to_be_visible()
        # The panel is placed on the details' "toggle" event, which the browser fires in a task of its own after
        # the panel shows: read its place once that has run (a read just before it failed once at 1024 px).
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        found = box(panel)
        assert area["left"] <= found["left"] and found["right"] <= area["right"], (menu.get_attribute("class"), found)
        menu.locator("> summary").click()


def test_bulk_action_labels_are_whole(listing):
    page = listing(1280)
    page.locator("table.listing tbody input.bulk-action-checkbox").first.check()
    buttons = page.locator("[data-bulk-action-footer] .bulk-action-btn")
    expect(buttons.filter(has_text="Remove from watchlist")).to_be_visible()
    for sizes in buttons.evaluate_all("els => els.map(el => [el.textContent.trim(), el.scrollWidth, el.clientWidth])"):
        label, scroll_width, client_width = sizes
        assert scroll_width <= client_width, f"{label!r} is cut: {sizes}"


def assert_radios_centred_on_their_labels(radios):
    expect(radios).to_have_count(2)
    for radio in radios.all():
        found = radio.evaluate(
            """el => {
                const label = el.closest('label');
                const text = [...label.childNodes].find(node => node.nodeType === 3 && node.textContent.trim());
                const range = document.createRange();
                range.selectNodeContents(text);
                const r = el.getBoundingClientRect(), l = label.getBoundingClientRect();
                const t = range.getBoundingClientRect();
                return {radio: (r.top + r.bottom) / 2, text: (t.top + t.bottom) / 2, top: l.top, bottom: l.bottom};
            }"""
        )
        assert found["top"] <= found["radio"] <= found["bottom"], found
        assert abs(found["radio"] - found["text"]) <= 2, found


def test_export_format_radios_are_centred_on_their_labels(listing):
    page = listing(1280)
    page.locator("summary", has_text="Export").click()
    assert_radios_centred_on_their_labels(page.locator(".wc-export-controls input[type=radio]"))


def test_export_selected_format_radios_are_centred_on_their_labels(listing, live_server, shop):
    page = listing(1280)
    ids = "&".join(f"id={pk}" for pk in shop.customers.values_list("pk", flat=True)[:2])
    page.goto(f"{live_server.url}/admin/customers/bulk/all/export/?{ids}")
    assert_radios_centred_on_their_labels(page.locator("main input[type=radio][name=format]"))


@pytest.mark.parametrize("height", (pytest.param(800, marks=pytest.mark.version_neutral), 600))
def test_the_columns_panel_keeps_save_and_reset_in_the_window(listing, height):
    page = listing(1280, height=height)
    page.locator("summary", has_text="Columns").click()
    picker = page.locator("[data-controller=wc-column-picker]")
    for name in ("Save as my default", "Reset to the default columns"):
        expect(picker.get_by_role("button", name=name)).to_be_in_viewport(ratio=1)
        button = box(picker.get_by_role("button", name=name))
        assert 0 <= button["top"] and button["bottom"] <= height, (name, button)
    assert box(picker)["bottom"] <= height
    # The last column of the list is reached by scrolling inside the panel; Save is still in the window.
    last = picker.locator("li").last
    last.scroll_into_view_if_needed()
    expect(last).to_be_in_viewport()
    assert box(picker.get_by_role("button", name="Save as my default"))["bottom"] <= height
