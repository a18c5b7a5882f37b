"""The listing's layout at common window widths, measured in Chromium: the table scrolls in its own box
with the name column sticky, and the toolbar's panels and the bulk bar show their whole content.
Saves a screenshot of the listing at each width for the docs."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.geometry import box, settled
from tests.factories import order_data
from tests.permission_world import grant, make_staff
from wagtail_customers.columns import COLUMNS
from wagtail_customers.models import (
    AlertNotification,
    Channel,
    ExportJob,
    JobState,
    ListingPreference,
    Order,
    SellerAccount,
    WatchlistEntry,
)
from wagtail_customers.models.watchlist_rules import WatchlistRule, WatchlistRuleCondition
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


def test_the_cells_of_a_table_in_its_box_keep_their_words_whole(listing):
    """Wagtail 7.0 breaks a listing's cells anywhere (``overflow-wrap: anywhere``), and in a box that scrolls the
    browser then squeezed the columns: "noah.kel / ly.1018 / @exam / ple.com". Not version_neutral: 7.0 is the case."""
    page = listing(1280, columns=[column.name for column in COLUMNS])
    cell = page.locator("table.listing tbody tr").first.locator("td").nth(2)
    assert cell.evaluate("el => getComputedStyle(el).overflowWrap") == "normal"
    email = page.locator("table.listing tbody td", has_text="@example.com").first
    line = email.evaluate("el => parseFloat(getComputedStyle(el).lineHeight) || 20")
    text_height = email.evaluate(
        "el => { const r = document.createRange(); r.selectNodeContents(el); return r.getBoundingClientRect().height; }"
    )
    assert text_height < 2 * line, (text_height, line)


# version_neutral: the same markup as the 1024 px box test, with more room.
@pytest.mark.version_neutral
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


# version_neutral: the plugin's own radios; the export form is opened at the floors by test_exports.py.
@pytest.mark.version_neutral
def test_export_format_radios_are_centred_on_their_labels(listing):
    page = listing(1280)
    page.locator("summary", has_text="Export").click()
    assert_radios_centred_on_their_labels(page.locator(".wc-export-controls input[type=radio]"))


# version_neutral: the same radios as the test above, on the selected rows' form.
@pytest.mark.version_neutral
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
    # The list scrolled, not the page, and no column lies under Save and Reset: each takes a click (the list ran
    # on under the buttons, which took the clicks meant for its checkboxes, while a fieldset was the scroll box).
    assert picker.locator(".wc-column-picker__choices").evaluate("el => el.scrollTop") > 0
    for item in (last, picker.locator("li", has_text="E-mail")):
        item.scroll_into_view_if_needed()
        item.locator("input[type=checkbox]").first.click(trial=True, timeout=2000)


# -- On a phone (390 px): every wide table scrolls in its own box, and the bulk bar wraps -------------------------

PHONE = 390


@pytest.fixture
def phone(live_server, login, browser_admin):
    """``phone(path)``: the admin page at ``path`` in a 390 x 844 window."""

    def open_at(path):
        page = login("browseradmin", "browser-pw")
        page.set_viewport_size({"width": PHONE, "height": 844})
        page.goto(f"{live_server.url}{path}")
        return page

    return open_at


def assert_reachable(page, control):
    """The control is reached by scrolling its table's box: then wholly in the window, and takes a click there;
    the document itself never scrolls sideways."""
    control.scroll_into_view_if_needed()
    # Then wholly in its box: Playwright may stop scrolling the box a pixel short of the control's far edge.
    control.evaluate("el => el.scrollIntoView({block: 'nearest', inline: 'nearest'})")
    # Not ``ratio=1``: a table cell's edges fall between pixels.
    expect(control).to_be_in_viewport(ratio=0.99)
    found = box(control)
    assert -0.5 <= found["left"] and found["right"] <= PHONE + 0.5, found
    control.click(trial=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("window.scrollX") == 0
    # The box is the listing's: a named region that takes the focus, to scroll it with the keyboard.
    scroller = control.locator("xpath=ancestor::*[@data-wc-table-scroll][1]")
    expect(scroller).to_have_count(1)
    expect(scroller).to_have_class(re.compile(r"\bwc-table-scroll\b"))
    expect(scroller).to_have_attribute("role", "region")
    expect(scroller).to_have_attribute("tabindex", "0")
    expect(scroller).to_have_attribute("aria-label", re.compile(r"\S"))


@pytest.mark.version_neutral
def test_the_orders_tab_scrolls_in_its_own_box_on_a_phone(phone, shop):
    customer = shop.customers.get(name="Maximiliane Wolfensteiner 00")
    page = phone(reverse("wagtail_customers_customer:detail", args=(customer.pk,)))
    page.locator('[role=tab][href="#tab-orders"]').click()
    table = page.locator("#tab-orders table")
    expect(table.locator("tbody tr")).to_have_count(1)
    # The last column's header: a sort link.
    assert_reachable(page, table.locator("thead th").last.locator("a").first)
    assert_reachable(page, table.locator("tbody tr td").last)


#: Long order ids: Amazon's, and a 30-character one (the field takes 100).
LONG_ORDER_IDS = ("114-1234567-1234567", "ORD2026A1B2C3D4E5F6G7H8I9J0K1L")


def test_long_order_ids_stay_on_one_line_on_a_phone(phone, shop):
    """At 390 px the Order column was squeezed and its ids broke mid-word ("114-1234567-" over "1234567"); they
    stay whole on one line, and the table scrolls in its box instead."""
    email = "customer.with.a.long.address0@example.com"
    record_orders(
        shop, [order_data(order_id, email=email, name="Maximiliane Wolfensteiner 00") for order_id in LONG_ORDER_IDS]
    )
    customer = shop.customers.get(name="Maximiliane Wolfensteiner 00")
    page = phone(reverse("wagtail_customers_customer:detail", args=(customer.pk,)))
    page.locator('[role=tab][href="#tab-orders"]').click()
    table = page.locator("#tab-orders table")
    expect(table.locator("tbody tr")).to_have_count(3)
    for order_id in LONG_ORDER_IDS:
        link = table.get_by_role("link", name=order_id, exact=True)
        expect(link).to_have_text(order_id)
        lines = link.evaluate("el => el.getClientRects().length")
        assert lines == 1, f"{order_id!r} is on {lines} lines"
        # Its "..." menu is still reached, by scrolling the table's box.
        menu = table.get_by_role("button", name=f"More options for order {order_id}")
        assert_reachable(page, menu)
    assert_reachable(page, table.locator("tbody tr td").last)


@pytest.mark.version_neutral
def test_the_order_lines_scroll_in_their_own_box_on_a_phone(phone, shop):
    order = Order.objects.get(account=shop, external_id="L-3")
    page = phone(reverse("wagtail_customers_customer:order", args=(order.pk,)))
    lines = page.locator("table", has=page.get_by_text("Order lines"))
    expect(lines.locator("thead th").last).to_have_text("Returned")
    assert_reachable(page, lines.locator("tbody tr td").last)


@pytest.mark.version_neutral
def test_the_download_button_of_an_export_is_reachable_on_a_phone(phone, browser_admin):
    ExportJob.objects.create(
        user=browser_admin,
        file_format="xlsx",
        fingerprint="phone-done",
        state=JobState.DONE,
        total_rows=12,
        rows_written=12,
        size_bytes=2048,
        file="exports/customers.xlsx",
        finished_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=24),
    )
    page = phone(reverse("wagtail_customers_exports:index"))
    assert_reachable(page, page.get_by_role("link", name=re.compile(r"^Download ")))


def test_the_shared_access_list_keeps_a_phones_width(phone, shop, browser_admin):
    """The list of who has access was 406 px wide at 390 px: the page scrolled sideways under the header."""
    colleague = make_staff("maximiliane.wolfensteiner", first_name="Maximiliane", last_name="Wolfensteiner-Brandt")
    grant(colleague, shop, "view", "export", "delete", by=browser_admin)
    page = phone(reverse("wagtail_customers_sharing:index"))
    row = page.get_by_role("row", name=re.compile("Wolfensteiner-Brandt"))
    assert_reachable(page, row.locator("td").last)
    # The pointer off the last cell, whose date's tooltip it showed (a phone has no pointer to hover with).
    page.mouse.move(0, 0)
    # And gone: the tooltip fades out for a moment, following its date out of the window while the box scrolls back.
    expect(page.locator("[data-tippy-root]")).to_have_count(0)
    menu = row.get_by_role("button", name=re.compile("More options"))
    assert_reachable(page, menu)
    menu.click()
    assert_reachable(page, row.get_by_role("link", name="Change"))
    # The name keeps a readable width: the table scrolls rather than break it a few letters a line.
    name_cell = box(row.locator("td.title").first)
    assert name_cell["right"] - name_cell["left"] >= 150  # 12em


@pytest.mark.version_neutral
def test_the_actions_of_a_watchlist_rule_are_reachable_on_a_phone(phone, shop, browser_admin):
    rule = WatchlistRule.objects.create(account=shop, name="Many orders", created_by=browser_admin)
    WatchlistRuleCondition.objects.create(rule=rule, metric="orders", operator="gte", value=5)
    page = phone(reverse("wagtail_customers_watchlist_rules:index"))
    row = page.locator("table[data-wc-watchlist-rules] tbody tr")
    for name in ("Disable Many orders", "Run now Many orders", "Delete Many orders"):
        assert_reachable(page, row.get_by_role("link", name=name).or_(row.get_by_role("button", name=name)))


@pytest.mark.version_neutral
def test_mark_as_read_is_reachable_on_a_phone(phone, shop, browser_admin):
    WatchlistEntry.objects.create(customer=shop.customers.get(name="Maximiliane Wolfensteiner 01"))
    WatchlistEntry.objects.update(created_at=datetime(2020, 1, 1, tzinfo=UTC))
    record_orders(
        shop,
        [order_data("L-1b", email="customer.with.a.long.address1@example.com", name="Maximiliane Wolfensteiner 01")],
    )
    assert AlertNotification.objects.filter(user=browser_admin, read_at__isnull=True).count() == 1
    page = phone(reverse("wagtail_customers_alerts:index"))
    assert_reachable(page, page.locator("table[data-wc-alerts] tbody").get_by_role("button", name="Mark as read"))


def tab_lands_on(page, region):
    """Focus the last control before the box in the document, press Tab: whether the box takes the focus."""
    region.evaluate(
        """el => {
            const before = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
                .filter(c => c.tabIndex >= 0 && !c.disabled && c.getClientRects().length && !el.contains(c)
                             && (c.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING));
            before[before.length - 1].focus();
        }"""
    )
    page.keyboard.press("Tab")
    return region.evaluate("el => document.activeElement === el")


def test_a_table_box_is_a_tab_stop_only_while_its_table_overflows_it(phone, shop):
    """A box that scrolls takes the focus, to be scrolled with the keyboard (WCAG 2.1.1); one whose table fits is
    no tab stop (table-scroll-controller.js), and the window's width decides, as it changes."""
    order = Order.objects.get(account=shop, external_id="L-3")
    page = phone(reverse("wagtail_customers_customer:order", args=(order.pk,)))
    region = page.locator(SCROLLER)
    expect(region).to_have_count(1)
    for width in (PHONE, 1280, PHONE):
        # The box keeps its tab stop while it has the focus (Tab left it on the last turn): move on first.
        page.evaluate("document.activeElement.blur()")
        page.set_viewport_size({"width": width, "height": 844})
        overflows = width == PHONE
        sizes = region.evaluate("el => ({scroll: el.scrollWidth, client: el.clientWidth})")
        assert (sizes["scroll"] > sizes["client"]) == overflows, (width, sizes)
        if overflows:
            expect(region).to_have_attribute("tabindex", "0")
        else:
            expect(region).not_to_have_attribute("tabindex", re.compile(r".*"))
        assert tab_lands_on(page, region) == overflows, width
        # A region all the same, with its name.
        expect(region).to_have_attribute("role", "region")
        expect(region).to_have_attribute("aria-label", "Order lines table")


@pytest.mark.parametrize(
    "width", (PHONE, *(pytest.param(width, marks=pytest.mark.version_neutral) for width in (900, 1280)))
)
def test_the_bulk_bar_wraps_its_actions_and_shows_the_whole_count(listing, width):
    page = listing(width)
    checkboxes = page.locator("table.listing tbody input.bulk-action-checkbox")
    for index in range(3):
        checkboxes.nth(index).check()
    bar = page.locator("[data-bulk-action-footer] .footer__container")
    count = bar.locator("[data-bulk-action-num-objects]")
    expect(count).to_contain_text("3")
    found = box(bar)
    assert 0 <= found["left"] and found["right"] <= width, found
    sizes = bar.evaluate("el => ({scroll: el.scrollWidth, client: el.clientWidth})")
    assert sizes["scroll"] <= sizes["client"], sizes
    sizes = count.evaluate("el => ({scroll: el.scrollWidth, client: el.clientWidth, height: el.offsetHeight})")
    assert sizes["scroll"] <= sizes["client"], sizes
    # On one line: "3 customers / selected" broken over two is the clipped count's other face.
    line = count.evaluate("el => parseFloat(getComputedStyle(el).lineHeight) || 0")
    assert not line or sizes["height"] < 2 * line, (sizes, line)
    buttons = bar.locator("[data-bulk-action-button]")
    assert buttons.count() >= 4
    for button in buttons.all():
        # Below a narrow window's listing rather than fixed at its foot: scrolled to, not sideways.
        button.scroll_into_view_if_needed()
        expect(button).to_be_in_viewport(ratio=1)
        right = box(button)["right"]
        assert right <= width, (button.text_content(), right)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def scroll_the_admin_to_its_end(page):
    """Scroll the element that scrolls the admin's content to its end, at once, and return what it is.

    Wagtail's admin does not scroll the document: its content area (``main.content-wrapper`` on Wagtail 7.0 to 8)
    does, smoothly (``scroll-behavior: smooth``), so the scroll is made instant here. Found from the table up, as
    the first ancestor that scrolls, so a change of scroller in a later Wagtail is followed rather than missed."""
    found = page.locator("table.listing").evaluate(
        """table => {
            let el = table.parentElement;
            while (el && !(/(auto|scroll)/.test(getComputedStyle(el).overflowY) && el.scrollHeight > el.clientHeight)) {
                el = el.parentElement;
            }
            const scroller = el || document.scrollingElement;
            scroller.scrollTo({top: scroller.scrollHeight, behavior: 'instant'});
            return {
                scroller: scroller.tagName.toLowerCase() + [...scroller.classList].map(c => '.' + c).join(''),
                end: scroller.scrollHeight - scroller.clientHeight - scroller.scrollTop,
            };
        }"""
    )
    assert abs(found["end"]) <= 1, found
    return found["scroller"]


# 900 px, where the bar is tallest (its wrapped actions); 1280 px, one line of them. (Below 50em the bar is not fixed:
# test_the_bulk_bar_wraps_its_actions_and_shows_the_whole_count scrolls to each of its buttons there.)
@pytest.mark.parametrize("width", (900, pytest.param(1280, marks=pytest.mark.version_neutral)))
def test_the_bulk_bar_leaves_the_end_of_the_listing_in_view(listing, width):
    """From 50em up Wagtail fixes the bulk bar at the window's foot; its buttons wrap onto several lines here
    (listing.css), taller than the room Wagtail's content area leaves at its end (4em). Scrolled to the end, the bar
    covered the listing's foot: at 900 px the rows count, "Rows per page" and the pagination, 132 px of it, and at
    1280 px 35 px. Scrolled to its end, the listing's last row and its foot are above the bar."""
    page = listing(width)
    checkboxes = page.locator("table.listing tbody input.bulk-action-checkbox")
    for index in range(3):
        checkboxes.nth(index).check()
    footer = page.locator("[data-bulk-action-footer]")
    bar = footer.locator(".footer__container")
    expect(bar).to_be_visible()
    settled(footer)
    # Over the listing, at the window's foot, before the scroll as after it.
    assert abs(box(bar)["bottom"] - 900) <= 2, box(bar)
    assert scroll_the_admin_to_its_end(page) == "main.content-wrapper.w-overflow-x-hidden"
    assert page.evaluate("window.scrollY") == 0
    top = box(bar)["top"]
    last_row = box(page.locator("table.listing tbody tr").last)
    assert last_row["bottom"] <= top + 0.5, (last_row, top)
    foot = box(page.locator(".wc-footer"))
    assert foot["bottom"] <= top + 0.5, (foot, top)
    # Nothing covers the foot's controls either: each takes a click at its centre.
    per_page = page.get_by_label("Rows per page")
    expect(per_page).to_be_in_viewport(ratio=1)
    per_page.click(trial=True)
    # The bar stays at the window's foot, whole, as it was: in the window, its bottom on the window's (less the
    # content area's 1 px bottom border, and a fraction of a pixel).
    found = box(bar)
    assert 0 <= found["top"] and abs(found["bottom"] - 900) <= 2, found


def with_root_font_size(page, font_size):
    """The admin at a root font size of ``font_size`` px (a reader's larger default font): the bar's lines, its
    paddings and its buttons grow with it; the media queries' 50em does not (it is the browser's 16 px em)."""
    if font_size != 16:
        page.add_style_tag(content=f"html {{ font-size: {font_size}px; }}")


# At 900 px, where the bar is tallest (at 1280 px it is one line, under Wagtail's own 100 px of room).
@pytest.mark.parametrize(
    "font_size", (16, pytest.param(20, marks=pytest.mark.version_neutral)), ids=("16px font", "20px font")
)
def test_a_row_reached_with_tab_is_not_under_the_bulk_bar(listing, font_size, width=900):
    """Tab going down the listing row by row scrolls each row into view above the bar, not under it (WCAG 2.4.11):
    the browser scrolls a focused control only out of the room the scroller keeps free at its foot, which Wagtail
    sets to 100 px for its one-line bar, and ours is up to 188 px tall at the default font size. A fixed 188 px was
    too little at a 20 px font (the bar 235 px tall at 900 px): the room is the bar's measured height."""
    height = 600
    page = listing(width, height=height)
    with_root_font_size(page, font_size)
    rows = page.locator("table.listing tbody tr")
    rows.first.locator("input.bulk-action-checkbox").check()
    footer = page.locator("[data-bulk-action-footer]")
    settled(footer)
    bar_top = box(footer.locator(".footer__container"))["top"]
    scroller = page.locator("main.content-wrapper")
    scroller.evaluate("el => { el.style.scrollBehavior = 'auto'; }")
    # A row in the middle of the listing scrolled to just under the bar's top edge: where the next row is when Tab
    # goes down the listing (in the window, so the browser scrolls only if it is in the room kept free at the foot).
    target = rows.nth(6).locator("input.bulk-action-checkbox")
    shift = box(target)["top"] - (bar_top + 5)
    scroller.evaluate("(el, shift) => el.scrollBy({top: shift, behavior: 'instant'})", shift)
    assert box(target)["top"] > bar_top, (box(target), bar_top)
    rows.nth(5).locator("input.bulk-action-checkbox").evaluate("el => el.focus({preventScroll: true})")
    for _step in range(10):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            break
    else:
        raise AssertionError("Tab did not reach the next row's checkbox")
    found = box(target)
    assert found["bottom"] <= bar_top + 0.5, (found, bar_top)


def test_a_control_of_the_bulk_bar_takes_the_focus_without_scrolling_the_listing(listing, width=900):
    """The bar lies in the room the scroller keeps free at its foot for rows reached with Tab: a control in it that
    took the focus (Tab from the rows, a click, a script) would be scrolled above that room, and the listing would
    jump by the bar's height under a bar that stays where it is. Mid-listing, the focus goes to the bar's checkbox
    and buttons and the listing stays put."""
    page = listing(width, height=600)
    rows = page.locator("table.listing tbody tr")
    rows.first.locator("input.bulk-action-checkbox").check()
    rows.nth(1).locator("input.bulk-action-checkbox").check()
    footer = page.locator("[data-bulk-action-footer]")
    settled(footer)
    scroller = page.locator("main.content-wrapper")
    scroller.evaluate("el => { el.style.scrollBehavior = 'auto'; }")
    middle = scroller.evaluate(
        "el => { el.scrollTo({top: Math.round((el.scrollHeight - el.clientHeight) / 2), behavior: 'instant'});"
        " return el.scrollTop; }"
    )
    assert middle > 0
    select_all = footer.locator("input[type=checkbox]").first
    delete = footer.get_by_role("link", name="Delete")
    for control in (select_all, delete):
        control.evaluate("el => el.focus()")
        assert control.evaluate("el => el === document.activeElement")
        assert scroller.evaluate("el => el.scrollTop") == middle, control
    # With the keyboard: from the bar's checkbox to its first action; then back out of the bar, to the listing's
    # foot before it ("Rows per page"), scrolled into view above the bar: the room is kept again.
    select_all.evaluate("el => el.focus()")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('[data-bulk-action-footer]') !== null")
    assert scroller.evaluate("el => el.scrollTop") == middle
    bar_top = box(footer.locator(".footer__container"))["top"]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("document.activeElement.getBoundingClientRect().bottom")
    assert focused <= bar_top + 0.5, (focused, bar_top)


@pytest.mark.version_neutral
def test_the_bulk_bar_sits_at_the_foot_of_a_window_taller_than_the_listing(listing):
    """The bar is in the content area's flow while it shows (listing.css): on a listing shorter than the window it
    is still at the window's foot, not just under the listing's own foot."""
    page = listing(1280, height=3000)
    # Sampled at each frame from the tick until the bar has slid in: Wagtail slides it 200 px up, and in the flow
    # that made the content area overflow (a scrollbar flashing with classic scrollbars) for 0.2 s.
    page.locator("main").evaluate(
        """el => {
            window.wcOverflow = [];
            const sample = () => {
                window.wcOverflow.push(el.scrollHeight - el.clientHeight);
                if (window.wcOverflow.length < 90) requestAnimationFrame(sample);
            };
            requestAnimationFrame(sample);
        }"""
    )
    page.locator("table.listing tbody input.bulk-action-checkbox").first.check()
    footer = page.locator("[data-bulk-action-footer]")
    bar = footer.locator(".footer__container")
    expect(bar).to_be_visible()
    settled(footer)
    page.wait_for_function("window.wcOverflow.length >= 90")
    overflow = page.evaluate("window.wcOverflow")
    assert max(overflow) <= 0, overflow
    assert page.locator("main").evaluate("el => el.scrollHeight <= el.clientHeight")
    found = box(bar)
    assert abs(found["bottom"] - 3000) <= 2, found
    assert box(page.locator(".wc-footer"))["bottom"] <= found["top"]
    # Unticked, it leaves as in Wagtail: out of the window, and the content area does not scroll.
    page.locator("table.listing tbody input.bulk-action-checkbox").first.uncheck()
    expect(footer).to_have_class(re.compile(r"\bhidden\b"))
    settled(footer)
    expect(bar).not_to_be_in_viewport()
    assert page.locator("main").evaluate("el => el.scrollHeight <= el.clientHeight")
