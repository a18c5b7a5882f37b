"""The ways in to actions that only Django's test client took before, each taken in Chromium as a user takes it.

The watchlist snippet's bulk delete (cancelled, then confirmed; and as a colleague who may not see the customers'
personal data), "Merge…" from the customers listing's bulk bar (with two rows ticked, and with one), undoing a merge
from the customer page's Actions menu and from its merges panel, deleting a watchlist entry from its edit page's
header, a watchlist rule from the rules page and a saved view from the Saved views page.

The paths through Wagtail's own snippet views run at the lowest versions too; those through the plugin's own
screens, which other browser tests already take there, only at the newest (``version_neutral``).
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_destructive_actions import assert_no_error_page, select_rows
from tests.factories import order_data
from tests.permission_world import PASSWORD, grant, make_staff
from wagtail_customers.models import (
    Channel,
    Customer,
    CustomerMerge,
    Order,
    SavedView,
    SellerAccount,
    WatchlistEntry,
)
from wagtail_customers.models.watchlist_rules import WatchlistRule, WatchlistRuleCondition
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.merge import merge_customers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: The watchlist snippet's own listing (Customers > Watchlist).
ENTRIES = "/admin/customers/watchlist-entries/"


@pytest.fixture
def shop(db):
    """Buyer 00 to Buyer 05, one order each; Buyer 01 has a second one (so a merge keeps Buyer 01)."""
    account = SellerAccount.objects.create(name="Shopify EU", channel=Channel.SHOPIFY, currency="EUR")
    orders = [
        order_data(f"S-{i}", email=f"buyer{i}@example.com", name=f"Buyer {i:02d}", day=i, lines=((1, "10.00"),))
        for i in range(6)
    ]
    orders.append(order_data("S-1b", email="buyer1@example.com", name="Buyer 01", day=7, lines=((1, "10.00"),)))
    record_orders(account, orders)
    return account


@pytest.fixture
def admin_page(live_server, login, browser_admin, shop):
    page = login("browseradmin", "browser-pw")
    page.set_viewport_size({"width": 1280, "height": 900})
    return page


def customer(name):
    return Customer.objects.get(name=name)


def watch(*names, by=None):
    return [WatchlistEntry.objects.create(customer=customer(name), added_by=by, note="Check address") for name in names]


#: Where Wagtail's bulk bar sends "Delete selected snippets": the ids in the query. Checked by the address alone
#: (a failure names the address the page went to instead), not by the page's "load", which on a busy machine once
#: took longer than the 15 s a navigation is given.
BULK_DELETE_URL = re.compile(r"/admin/bulk/wagtail_customers/watchlistentry/delete/\?")
NAVIGATION_MS = 30_000


def entry_row(page, text):
    return page.locator("table.listing tbody tr", has_text=text)


# -- 1. The watchlist snippet's bulk delete ----------------------------------------------------------------------


def test_bulk_delete_on_the_watchlist_snippet_listing(admin_page, live_server, browser_admin):
    page = admin_page
    watch("Buyer 01", "Buyer 02", "Buyer 03", by=browser_admin)
    start = f"{live_server.url}{ENTRIES}"
    page.goto(start)
    expect(page.locator("table.listing tbody tr")).to_have_count(3)

    def tick_and_delete():
        for name in ("Buyer 01", "Buyer 02"):
            entry_row(page, name).locator("input.bulk-action-checkbox").check()
        footer = page.locator("[data-bulk-action-footer]")
        expect(footer).to_be_visible()
        # Wagtail names the button "Delete selected snippets" (its aria-label) for screen readers.
        footer.get_by_role("link", name="Delete selected snippets").click()
        expect(page).to_have_url(BULK_DELETE_URL, timeout=NAVIGATION_MS)
        assert_no_error_page(page)
        expect(page.locator("main")).to_contain_text("Are you sure you want to delete 2 watchlist entries?")
        expect(page.locator("main")).to_contain_text("Buyer 01")
        expect(page.locator("main")).to_contain_text("Buyer 02")

    tick_and_delete()
    page.get_by_role("link", name="No, don't delete").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator("table.listing tbody tr")).to_have_count(3)
    assert WatchlistEntry.objects.count() == 3

    tick_and_delete()
    page.get_by_role("button", name="Yes, delete").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("2 Watchlist entries deleted.")
    expect(page.locator("table.listing tbody tr")).to_have_count(1)
    assert list(WatchlistEntry.objects.values_list("customer__name", flat=True)) == ["Buyer 03"]


# version_neutral: the same Wagtail bulk delete as the test above, for another user.
@pytest.mark.version_neutral
def test_bulk_delete_on_the_watchlist_snippet_listing_without_personal_data(live_server, login, shop):
    colleague = make_staff("watcher")
    grant(colleague, shop, "view", "manage_watchlist")
    (entry,) = watch("Buyer 04")
    label = f"Customer #{entry.customer_id}"
    page = login("watcher", PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})
    start = f"{live_server.url}{ENTRIES}"
    page.goto(start)
    expect(entry_row(page, label)).to_have_count(1)

    entry_row(page, label).locator("input.bulk-action-checkbox").check()
    footer = page.locator("[data-bulk-action-footer]")
    expect(footer).to_be_visible()
    footer.get_by_role("link", name="Delete selected snippets").click()
    expect(page).to_have_url(BULK_DELETE_URL, timeout=NAVIGATION_MS)
    assert_no_error_page(page)
    expect(page.locator("main")).to_contain_text(label)
    expect(page.locator("body")).not_to_contain_text("Buyer 04")
    expect(page.locator("body")).not_to_contain_text("buyer4@example.com")
    assert "Buyer 04" not in page.title()

    page.get_by_role("button", name="Yes, delete").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("deleted")
    # The message names the entry as the user may see it, too.
    expect(page.locator(".messages")).not_to_contain_text("Buyer 04")
    assert not WatchlistEntry.objects.exists()


# -- 2. "Merge…" from the customers listing's bulk bar -----------------------------------------------------------


@pytest.mark.version_neutral
def test_merge_two_customers_from_the_bulk_bar(admin_page, live_server):
    page = admin_page
    kept, duplicate = customer("Buyer 01"), customer("Buyer 02")
    page.goto(f"{live_server.url}/admin/customers/?q=buyer")

    select_rows(page, "Buyer 01", "Buyer 02").get_by_role("link", name="Merge…").click()
    # The one with more orders is kept.
    page.wait_for_url(re.compile(rf"/admin/customers/{kept.pk}/merge/\?other={duplicate.pk}$"))
    assert_no_error_page(page)
    table = page.locator("[data-wc-merge-table]")
    expect(table).to_contain_text("buyer1@example.com")
    expect(table).to_contain_text("buyer2@example.com")

    page.get_by_role("button", name="Yes, merge").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/{kept.pk}/")
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Buyer 02 merged into Buyer 01")
    assert not Customer.objects.filter(pk=duplicate.pk).exists()
    assert set(Order.objects.filter(customer=kept).values_list("external_id", flat=True)) == {"S-1", "S-1b", "S-2"}


@pytest.mark.version_neutral
def test_merge_from_the_bulk_bar_with_one_customer_ticked(admin_page, live_server, shop):
    page = admin_page
    start = f"{live_server.url}/admin/customers/?q=buyer"
    page.goto(start)

    footer = select_rows(page, "Buyer 03")
    # The listing sends the browser back to the URL it is already on: wait for that navigation to end, not for
    # the URL (already a match before the click).
    with page.expect_navigation(url=start):
        footer.get_by_role("link", name="Merge…").click()
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text(
        "Select exactly two customers of the same seller account to merge them."
    )
    assert Customer.objects.filter(account=shop).count() == 6
    assert not CustomerMerge.objects.exists()


# -- 3. Undoing a merge from the customer page ------------------------------------------------------------------


@pytest.mark.version_neutral
def test_undo_the_latest_merge_from_the_actions_menu(admin_page, live_server, browser_admin):
    page = admin_page
    kept, duplicate = customer("Buyer 01"), customer("Buyer 02")
    duplicate_pk = duplicate.pk
    merge_customers(kept, duplicate, browser_admin)
    detail = f"{live_server.url}/admin/customers/{kept.pk}/"
    page.goto(detail)

    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Undo the latest merge").click()
    page.wait_for_url(re.compile(rf"/admin/customers/{kept.pk}/merge/undo/"))
    assert_no_error_page(page)
    expect(page.locator("main")).to_contain_text("Undo the merge of Buyer 02 into Buyer 01")
    page.get_by_role("button", name="Yes, undo the merge").click()
    page.wait_for_url(detail)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Merge undone: Buyer 02 is a customer of its own again.")
    restored = Customer.objects.get(pk=duplicate_pk)
    assert restored.name == "Buyer 02"
    assert list(restored.orders.values_list("external_id", flat=True)) == ["S-2"]
    assert set(kept.orders.values_list("external_id", flat=True)) == {"S-1", "S-1b"}
    assert CustomerMerge.objects.get().undone_at is not None


@pytest.mark.version_neutral
def test_undo_a_merge_from_the_merges_panel(admin_page, live_server, browser_admin):
    page = admin_page
    kept = customer("Buyer 01")
    earlier, latest = customer("Buyer 02"), customer("Buyer 03")
    earlier_pk, latest_pk = earlier.pk, latest.pk
    merge_customers(kept, earlier, browser_admin)
    merge_customers(kept, latest, browser_admin)
    detail = f"{live_server.url}/admin/customers/{kept.pk}/"
    page.goto(detail)

    panel = page.locator("[data-wc-merges]")
    expect(panel).to_contain_text("Buyer 02 was merged into this customer")
    expect(panel).to_contain_text("Buyer 03 was merged into this customer")
    # Only the latest merge can be undone.
    expect(panel.get_by_role("link", name="Undo this merge")).to_have_count(1)
    panel.get_by_role("link", name="Undo this merge").click()
    page.wait_for_url(re.compile(rf"/admin/customers/{kept.pk}/merge/undo/\?merge=\d+"))
    assert_no_error_page(page)
    expect(page.locator("main")).to_contain_text("Undo the merge of Buyer 03 into Buyer 01")
    page.get_by_role("button", name="Yes, undo the merge").click()
    page.wait_for_url(detail)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Merge undone: Buyer 03 is a customer of its own again.")
    restored = Customer.objects.get(pk=latest_pk)
    assert list(restored.orders.values_list("external_id", flat=True)) == ["S-3"]
    # The earlier merge stays.
    assert not Customer.objects.filter(pk=earlier_pk).exists()
    assert set(kept.orders.values_list("external_id", flat=True)) == {"S-1", "S-1b", "S-2"}
    expect(panel).to_contain_text("undone on")


# -- 4. to 6. Deleting from an edit page's header, the rules page and the Saved views page ----------------------


def test_delete_a_watchlist_entry_from_its_edit_page_header(admin_page, live_server, browser_admin):
    page = admin_page
    (entry,) = watch("Buyer 05", by=browser_admin)
    start = f"{live_server.url}{ENTRIES}"
    page.goto(start)
    entry_row(page, "Buyer 05").get_by_role("link", name="Buyer 05").click()
    edit = f"{live_server.url}{ENTRIES}edit/{entry.pk}/"
    page.wait_for_url(edit)
    assert_no_error_page(page)

    def open_delete():
        page.locator("header").get_by_role("button", name="Actions").click()
        page.locator("header").get_by_role("link", name="Delete", exact=True).click()
        page.wait_for_url(re.compile(rf"{ENTRIES}delete/{entry.pk}/"))
        assert_no_error_page(page)
        expect(page.locator("main")).to_contain_text("Buyer 05")

    open_delete()
    page.get_by_role("link", name="No, don't delete").click()
    # Away from the confirmation, wherever the link leads (the page it came from).
    page.wait_for_url(lambda url: "/delete/" not in url)
    assert_no_error_page(page)
    assert WatchlistEntry.objects.filter(pk=entry.pk).exists()

    page.goto(edit)
    open_delete()
    page.get_by_role("button", name="Yes, delete").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Watchlist entry 'Buyer 05' deleted.")
    assert not WatchlistEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.version_neutral
def test_delete_a_watchlist_rule_from_the_rules_page(admin_page, live_server, browser_admin, shop):
    page = admin_page
    rule = WatchlistRule.objects.create(account=shop, name="Many orders", created_by=browser_admin)
    WatchlistRuleCondition.objects.create(rule=rule, metric="orders", operator="gte", value=5)
    start = f"{live_server.url}/admin/customers/watchlist-rules/"
    page.goto(start)

    page.get_by_role("link", name="Delete Many orders").click()
    page.wait_for_url(re.compile(rf"/watchlist-rules/{rule.pk}/delete/$"))
    assert_no_error_page(page)
    expect(page.locator("main")).to_contain_text("Delete the watchlist rule Many orders of Shopify EU?")
    page.get_by_role("link", name="No, keep it").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    assert WatchlistRule.objects.filter(pk=rule.pk).exists()

    page.get_by_role("link", name="Delete Many orders").click()
    page.get_by_role("button", name="Yes, delete").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Watchlist rule “Many orders” deleted.")
    expect(page.get_by_text("No watchlist rules yet.")).to_be_visible()
    assert not WatchlistRule.objects.exists()
    assert not WatchlistRuleCondition.objects.exists()


@pytest.mark.version_neutral
def test_delete_a_saved_view_from_the_saved_views_page(admin_page, live_server, browser_admin):
    page = admin_page
    view = SavedView.objects.create(owner=browser_admin, name="Big buyers", params={"q": ["buyer"]})
    start = f"{live_server.url}/admin/customers/saved-views/"
    page.goto(start)

    page.get_by_role("link", name="Delete Big buyers").click()
    page.wait_for_url(re.compile(rf"/saved-views/{view.pk}/delete/$"))
    assert_no_error_page(page)
    expect(page.locator("main")).to_contain_text("Delete the saved view Big buyers?")
    page.get_by_role("link", name="No, don't delete").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    assert SavedView.objects.filter(pk=view.pk).exists()

    page.get_by_role("link", name="Delete Big buyers").click()
    page.get_by_role("button", name="Yes, delete").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("View “Big buyers” deleted.")
    expect(page.get_by_text("No saved views yet.")).to_be_visible()
    assert not SavedView.objects.exists()
