"""More ways in to actions that only Django's test client took before, each taken in Chromium as a user takes it.

1. Sharing: "Change" from a share grant's row menu on the Permissions page, an action ticked, saved.
2. Imports: "Cancel" on the page of an uploaded file waiting for confirmation (nothing written).
3. E-mail the customer: "E-mail customer" in the customer page's header, and "E-mail customer about this order"
   from the "..." menu of a row of the customer page's Orders tab; the e-mail is sent (locmem outbox) and recorded.
4. A store connection's "Pause" and "Resume" on its Connection page (reached from the seller accounts listing).
5. Watchlist rules: "Disable", "Enable" and editing a rule (its name's link) from the rules page.
6. "Add to watchlist" from the customers listing's bulk bar; "Remove from watchlist" in the customer page's header.
7. The retention rule, from the seller account's edit page (its header's "Actions" menu, "Retention rule").
8. Alerts: "Mark as read" on one alert, then "Mark all as read", on the alerts page.
9. Saved views: "Update “<name>” to this listing" from the listing's "Saved views" menu, and renaming a view
   from the Saved views page's "Edit".
10. "Export orders" in the customer page's header (a CSV download), and "Export selected" from the bulk bar as
    Excel (XLSX).
"""

import re
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from wagtail.models import ModelLogEntry

from tests.browser import test_more_action_paths as same_shop
from tests.browser.test_destructive_actions import assert_no_error_page, select_rows
from tests.connection_fixture_channel import CHANNEL, FixtureChannel, fixture_order
from tests.export_support import read_csv, read_xlsx
from tests.factories import order_data
from tests.permission_world import grant, make_staff
from wagtail_customers.models import (
    AccessGrant,
    AlertNotification,
    ChannelConnection,
    ConnectionState,
    Customer,
    EventKind,
    ImportJob,
    JobState,
    Order,
    OrderEvent,
    RetentionRule,
    SavedView,
    SellerAccount,
    WatchlistEntry,
)
from wagtail_customers.models.watchlist_rules import WatchlistRule, WatchlistRuleCondition
from wagtail_customers.services.ingestion import record_orders

# The same six buyers as test_more_action_paths, and the admin's page on them (the fixtures).
shop, admin_page, customer = same_shop.shop, same_shop.admin_page, same_shop.customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.version_neutral]

NAMES = "table.listing tbody td.title [id^=customer_]"
EXPORT_LOG = "wagtail_customers.export.start"


def export_logs():
    return ModelLogEntry.objects.filter(action=EXPORT_LOG)


# -- 1. Sharing: change a grant from its row menu ----------------------------------------------------------------


def test_change_a_share_grant_from_its_row_menu(admin_page, live_server, shop):
    page = admin_page
    colleague = make_staff("grace", email="grace@example.com", first_name="Grace", last_name="Hopper")
    target = grant(colleague, shop, "view")
    start = f"{live_server.url}/admin/customers/sharing/"
    page.goto(start)

    row = page.get_by_role("row", name=re.compile("Grace Hopper"))
    row.get_by_role("button", name=re.compile("More options")).click()
    row.get_by_role("link", name="Change").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/sharing/{target.pk}/")
    assert_no_error_page(page)
    expect(page.locator("main")).to_contain_text("What grace may do with the customers of Shopify EU.")
    expect(page.get_by_label("View customers")).to_be_checked()
    expect(page.get_by_label("Export", exact=True)).not_to_be_checked()

    page.get_by_label("Export", exact=True).check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Access of grace to Shopify EU changed.")
    target.refresh_from_db()
    assert (target.can_view, target.can_export, target.can_delete) == (True, True, False)
    assert AccessGrant.objects.filter(user=colleague).count() == 1


# -- 2. Imports: cancel a file waiting for confirmation ----------------------------------------------------------


def test_cancel_an_import_waiting_for_confirmation(admin_page, live_server, shop):
    page = admin_page
    orders_before = Order.objects.count()
    page.goto(f"{live_server.url}/admin/customers/import/")
    page.get_by_label("Seller account").select_option(label=shop.name)
    page.get_by_label("File layout").select_option("generic")
    page.get_by_label("File to import").set_input_files(
        {
            "name": "late-orders.csv",
            "mimeType": "text/csv",
            "buffer": (
                b"order_id,placed_at,customer_email,customer_name,sku,quantity,unit_price\n"
                b"9001,2024-03-01,ada@example.com,Ada Lovelace,MUG,2,12.50\n"
            ),
        }
    )
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(re.compile(r"/admin/customers/import/[0-9a-f-]{36}/$"))
    assert_no_error_page(page)
    expect(page.get_by_text("Preview: what the import will change")).to_be_visible()
    expect(page.get_by_role("button", name="Import 1 order")).to_be_visible()
    job = ImportJob.objects.get()
    assert job.state == JobState.PENDING and job.file

    page.get_by_role("button", name="Cancel", exact=True).click()
    page.wait_for_url(f"{live_server.url}/admin/customers/import/")
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text(
        "The import of late-orders.csv was cancelled; nothing was written."
    )
    job.refresh_from_db()
    assert job.state == JobState.EXPIRED and not job.file
    assert Order.objects.count() == orders_before
    assert not Customer.objects.filter(email="ada@example.com").exists()

    # The job's page now says so, and offers no confirmation.
    page.goto(f"{live_server.url}/admin/customers/import/{job.pk}/")
    assert_no_error_page(page)
    expect(page.locator("[data-wc-import-state]")).to_have_text("Cancelled")
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)


# -- 3. E-mail the customer --------------------------------------------------------------------------------------


def send_email(page, reason, subject, message):
    page.get_by_label("Reason for contacting").select_option(label=reason)
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Send e-mail").click()


def test_email_the_customer_from_the_page_header(admin_page, live_server, mailoutbox):
    page = admin_page
    buyer = customer("Buyer 03")
    detail = f"{live_server.url}/admin/customers/{buyer.pk}/"
    page.goto(detail)

    page.locator("#w-slim-header-buttons").get_by_role("link", name="E-mail customer").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/{buyer.pk}/email/")
    assert_no_error_page(page)
    expect(page.locator("h1")).to_contain_text("E-mail Buyer 03")
    expect(page.locator(".wc-email-form dl")).to_contain_text("Buyer 03 <buyer3@example.com>")
    expect(page.get_by_label("Order reference")).to_have_value("")

    send_email(page, "Order information", "Your account", "Hello,\nthank you for your orders.")
    page.wait_for_url(detail)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("E-mail sent to buyer3@example.com.")
    expect(page.locator("#tab-timeline .wc-timeline__item").first).to_contain_text("Order information: Your account")

    assert [(sent.to, sent.subject) for sent in mailoutbox] == [
        (["buyer3@example.com"], "Order information: Your account")
    ]
    event = OrderEvent.objects.get(customer=buyer, kind=EventKind.EMAIL)
    assert event.order is None and event.user.username == "browseradmin"


def test_email_the_customer_from_the_orders_tab_row_menu(admin_page, live_server, mailoutbox):
    page = admin_page
    buyer = customer("Buyer 01")
    order = Order.objects.get(external_id="S-1b")
    detail = f"{live_server.url}/admin/customers/{buyer.pk}/"
    page.goto(detail)

    page.get_by_role("tab", name="Orders").click()
    orders = page.locator("#tab-orders")
    expect(orders.locator("tbody tr")).to_have_count(2)
    orders.get_by_role("button", name="More options for order S-1b").click()
    orders.get_by_role("link", name="E-mail customer about this order").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/{buyer.pk}/email/?order={order.pk}")
    assert_no_error_page(page)
    expect(page.locator("h1")).to_contain_text("E-mail Buyer 01")
    expect(page.locator(".wc-email-form dl")).to_contain_text("Buyer 01 <buyer1@example.com>")
    expect(page.get_by_label("Order reference")).to_have_value("S-1b")

    send_email(page, "Shipping", "Your parcel", "It left today.")
    page.wait_for_url(detail)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("E-mail sent to buyer1@example.com.")
    entry = page.locator("#tab-timeline .wc-timeline__item").first
    expect(entry).to_contain_text("About order S-1b")
    expect(entry).to_contain_text("Shipping: Your parcel")

    assert [(sent.to, sent.subject) for sent in mailoutbox] == [(["buyer1@example.com"], "Shipping: Your parcel")]
    event = OrderEvent.objects.get(customer=buyer, kind=EventKind.EMAIL)
    assert event.order == order


# -- 4. A store connection's Pause and Resume --------------------------------------------------------------------


def test_pause_and_resume_a_store_connection(admin_page, live_server, httpserver):
    page = admin_page
    channel = FixtureChannel(httpserver, orders=[fixture_order(index) for index in range(3)])
    account = SellerAccount.objects.create(name="Connected shop", channel=CHANNEL, currency="USD")
    connection = ChannelConnection(account=account)
    connection.set_credentials(channel.credentials())
    now = timezone.now()
    connection.state = ConnectionState.LIVE
    connection.backfill_started_at = connection.backfill_finished_at = now
    connection.save()

    page.goto(f"{live_server.url}/admin/customers/accounts/")
    page.locator("tr", has_text="Connected shop").get_by_role("link", name="Live").click()
    start = f"{live_server.url}/admin/customers/connections/{account.pk}/"
    page.wait_for_url(start)
    assert_no_error_page(page)
    state = page.locator("[data-connection-state]")
    expect(state).to_have_text("Live")

    # Pause and Resume post elsewhere and come back to this page: wait for that navigation, not the URL.
    with page.expect_navigation(url=start):
        page.get_by_role("button", name="Pause").click()
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text(
        "The connection is paused: no sync runs and webhooks are ignored."
    )
    expect(state).to_have_text("Paused")
    expect(page.get_by_role("button", name="Sync now")).to_have_count(0)
    assert ChannelConnection.objects.get(account=account).state == ConnectionState.PAUSED

    with page.expect_navigation(url=start):
        page.get_by_role("button", name="Resume").click()
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("The connection is resumed.")
    expect(state).to_have_text("Live")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    assert ChannelConnection.objects.get(account=account).state == ConnectionState.LIVE
    # Resuming queued a sync (run eagerly here): the channel's orders came in.
    assert Order.objects.filter(account=account).count() == 3


# -- 5. Watchlist rules: disable, enable, edit -------------------------------------------------------------------


def test_disable_enable_and_edit_a_watchlist_rule(admin_page, live_server, browser_admin, shop):
    page = admin_page
    rule = WatchlistRule.objects.create(account=shop, name="Many orders", created_by=browser_admin)
    WatchlistRuleCondition.objects.create(rule=rule, metric="orders", operator="gte", value=5)
    start = f"{live_server.url}/admin/customers/watchlist-rules/"
    page.goto(start)
    row = page.locator("table[data-wc-watchlist-rules] tbody tr")
    expect(row).to_contain_text("Enabled")

    with page.expect_navigation(url=start):
        row.get_by_role("button", name="Disable Many orders").click()
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Watchlist rule “Many orders” disabled.")
    expect(row).to_contain_text("Disabled")
    expect(row.get_by_role("button", name="Run now Many orders")).to_have_count(0)
    rule.refresh_from_db()
    assert rule.is_enabled is False

    with page.expect_navigation(url=start):
        row.get_by_role("button", name="Enable Many orders").click()
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Watchlist rule “Many orders” enabled.")
    expect(row.get_by_role("button", name="Disable Many orders")).to_be_visible()
    rule.refresh_from_db()
    assert rule.is_enabled is True

    row.get_by_role("link", name="Many orders", exact=True).click()
    page.wait_for_url(f"{live_server.url}/admin/customers/watchlist-rules/{rule.pk}/")
    assert_no_error_page(page)
    expect(page.locator("main")).to_contain_text("Shopify EU")
    page.get_by_label("Name").fill("Loyal buyers")
    page.get_by_label("Value (condition 1)").fill("2")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Watchlist rule “Loyal buyers” saved.")
    expect(row).to_contain_text("Loyal buyers")
    expect(row).to_contain_text("Orders ≥ 2")
    rule.refresh_from_db()
    assert rule.name == "Loyal buyers" and rule.is_enabled
    assert [(c.metric, c.operator, int(c.value)) for c in rule.conditions.all()] == [("orders", "gte", 2)]


# -- 6. The watchlist: bulk add from the listing, remove from the customer page ----------------------------------


def test_add_to_the_watchlist_from_the_bulk_bar(admin_page, live_server, browser_admin):
    page = admin_page
    start = f"{live_server.url}/admin/customers/?q=buyer"
    page.goto(start)

    select_rows(page, "Buyer 01", "Buyer 02").get_by_role("link", name="Add to watchlist").click()
    page.wait_for_url(re.compile(r"/admin/customers/bulk/all/watchlist-add/\?"))
    assert_no_error_page(page)
    expect(page.locator("main")).to_contain_text("Add these 2 customers to the watchlist?")
    expect(page.locator("[data-wc-selected]")).to_contain_text("Buyer 01")
    expect(page.locator("[data-wc-selected]")).to_contain_text("Buyer 02")
    assert not WatchlistEntry.objects.exists()

    page.get_by_role("button", name="Yes, go ahead").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("2 customers added to the watchlist.")
    entries = WatchlistEntry.objects.order_by("customer__name")
    assert [(entry.customer.name, entry.added_by) for entry in entries] == [
        ("Buyer 01", browser_admin),
        ("Buyer 02", browser_admin),
    ]


def test_remove_from_the_watchlist_from_the_customer_page(admin_page, live_server, browser_admin):
    page = admin_page
    buyer = customer("Buyer 04")
    WatchlistEntry.objects.create(customer=buyer, added_by=browser_admin, note="Check address")
    detail = f"{live_server.url}/admin/customers/{buyer.pk}/"
    page.goto(detail)
    header = page.locator("#w-slim-header-buttons")

    with page.expect_navigation(url=detail):
        header.get_by_role("button", name="Remove from watchlist").click()
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("'Buyer 04' is off the watchlist.")
    expect(header.get_by_role("button", name="Add to watchlist")).to_be_visible()
    assert not WatchlistEntry.objects.filter(customer=buyer).exists()


# -- 7. The retention rule from the seller account's edit page ---------------------------------------------------


def test_set_the_retention_rule_from_the_seller_accounts_edit_page(admin_page, live_server, shop):
    page = admin_page
    page.goto(f"{live_server.url}/admin/customers/accounts/")
    page.locator("table.listing tbody tr", has_text="Shopify EU").get_by_role("link", name="Shopify EU").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/accounts/edit/{shop.pk}/")
    assert_no_error_page(page)

    page.locator("header").get_by_role("button", name="Actions").click()
    page.locator("header").get_by_role("link", name="Retention rule").click()
    rule_url = f"{live_server.url}/admin/customers/retention/{shop.pk}/"
    page.wait_for_url(rule_url)
    assert_no_error_page(page)
    expect(page.locator("main")).to_contain_text("Shopify EU has no retention rule")

    page.get_by_label("after the order's shipment").check()
    page.get_by_label("Days").fill("400")
    page.get_by_role("checkbox", name="Enabled").check()  # a new rule starts disabled
    page.get_by_role("button", name="Save").click()
    # Enabling a rule asks first, with what the next run will erase.
    expect(page.locator("[data-wc-retention-confirm]")).to_contain_text("will erase the personal data of")
    assert not RetentionRule.objects.exists()
    with page.expect_navigation(url=rule_url):
        page.get_by_role("button", name="Save the rule").click()
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text(
        "Retention rule set: Erase personal data 400 days after the order's shipment."
    )
    rule = RetentionRule.objects.get()
    assert (rule.account, rule.basis, rule.days, rule.is_enabled) == (shop, "shipment", 400, True)


# -- 8. Alerts: mark one, then all, as read ----------------------------------------------------------------------


def test_mark_alerts_as_read(admin_page, live_server, browser_admin, shop):
    page = admin_page
    watched = customer("Buyer 05")
    WatchlistEntry.objects.create(customer=watched)
    # On the watchlist since before the new orders: they are the customer acting, not history.
    WatchlistEntry.objects.filter(customer=watched).update(created_at=datetime(2020, 1, 1, tzinfo=UTC))
    record_orders(
        shop,
        [
            order_data(f"S-5{letter}", email="buyer5@example.com", name="Buyer 05", day=20 + day)
            for day, letter in enumerate("cd")
        ],
    )
    mine = AlertNotification.objects.filter(user=browser_admin)
    assert mine.filter(read_at__isnull=True).count() == 2
    start = f"{live_server.url}/admin/customers/alerts/"
    page.goto(start)
    unread = page.locator("table[data-wc-alerts] tbody tr[data-wc-unread]")
    expect(unread).to_have_count(2)

    newest = page.locator("table[data-wc-alerts] tbody tr").first
    expect(newest).to_contain_text("S-5d")
    with page.expect_navigation(url=start):
        newest.get_by_role("button", name="Mark as read").click()
    assert_no_error_page(page)
    expect(unread).to_have_count(1)
    expect(newest).not_to_contain_text("unread")
    expect(newest.get_by_role("button", name="Mark as read")).to_have_count(0)
    assert list(mine.filter(read_at__isnull=False).values_list("event__order__external_id", flat=True)) == ["S-5d"]

    with page.expect_navigation(url=start):
        page.get_by_role("button", name="Mark all as read").click()
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("All alerts marked as read.")
    expect(unread).to_have_count(0)
    expect(page.get_by_role("button", name="Mark all as read")).to_have_count(0)
    assert not mine.filter(read_at__isnull=True).exists()


# -- 9. Saved views: update to the listing, rename ---------------------------------------------------------------


def test_update_a_saved_view_to_the_current_listing(admin_page, live_server, browser_admin):
    page = admin_page
    view = SavedView.objects.create(owner=browser_admin, name="Buyers", tab="all", params={"q": ["buyer"]})
    # The listing as the view shows it, then searched further (the search in the address, as a results refresh
    # would leave it; typing it would re-render the toolbar while the menu opens).
    page.goto(f"{live_server.url}/admin/customers/most-orders/?q=buyer0&saved_view={view.pk}")
    expect(page.locator(NAMES)).to_have_count(1)
    page.locator("summary", has_text="View: Buyers").click()
    menu = page.get_by_role("navigation", name="Saved views")
    expect(menu).to_be_visible()

    # Back to the view's listing, which may be the very URL the page is on: wait for the navigation itself.
    with page.expect_navigation(url=re.compile(rf"/admin/customers/most-orders/\?.*saved_view={view.pk}")):
        page.get_by_role("button", name="Update “Buyers” to this listing").click()
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("View “Buyers” updated to this listing.")
    expect(page.locator(NAMES)).to_have_count(1)
    expect(page.locator(NAMES).first).to_have_text("Buyer 00")
    view.refresh_from_db()
    assert (view.name, view.tab, view.params) == ("Buyers", "most-orders", {"q": ["buyer0"]})


def test_rename_a_saved_view_from_the_saved_views_page(admin_page, live_server, browser_admin):
    page = admin_page
    view = SavedView.objects.create(owner=browser_admin, name="Big buyers", params={"q": ["buyer"]})
    start = f"{live_server.url}/admin/customers/saved-views/"
    page.goto(start)

    page.get_by_role("link", name="Edit Big buyers").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/saved-views/{view.pk}/edit/")
    assert_no_error_page(page)
    expect(page.get_by_label("Name")).to_have_value("Big buyers")
    page.get_by_label("Name").fill("Best buyers")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("View “Best buyers” saved.")
    expect(page.get_by_role("link", name="Best buyers", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Big buyers", exact=True)).to_have_count(0)
    view.refresh_from_db()
    assert (view.name, view.params) == ("Best buyers", {"q": ["buyer"]})


# -- 10. Exports: a customer's orders, and the selected customers as XLSX ----------------------------------------


def test_export_orders_from_the_customer_page_header(admin_page, live_server, browser_admin, shop):
    page = admin_page
    buyer = customer("Buyer 01")
    detail = f"{live_server.url}/admin/customers/{buyer.pk}/"
    page.goto(detail)

    with page.expect_download() as download_info:
        page.locator("#w-slim-header-buttons").get_by_role("link", name="Export orders").click()
    download = download_info.value
    assert download.suggested_filename == f"orders-Shopify_EU-{buyer.pk}.csv"
    rows = read_csv(open(download.path(), "rb").read())
    assert [row[0] for row in rows[1:]] == ["S-1b", "S-1"]  # newest first
    # The page stays where it was.
    assert page.url == detail
    assert_no_error_page(page)
    (entry,) = export_logs()
    assert entry.object_id == str(shop.pk) and entry.user == browser_admin
    assert (entry.data["format"], entry.data["scope"], entry.data["rows"]) == ("csv", "selected", 2)


def test_export_selected_as_xlsx_from_the_bulk_bar(admin_page, live_server, browser_admin, shop):
    page = admin_page
    start = f"{live_server.url}/admin/customers/?q=buyer"
    page.goto(start)

    select_rows(page, "Buyer 02", "Buyer 03").get_by_role("link", name="Export selected").click()
    page.wait_for_url(re.compile(r"/admin/customers/bulk/all/export/\?"))
    assert_no_error_page(page)
    expect(page.locator("main")).to_contain_text("Export these 2 customers?")
    page.get_by_label("Excel (XLSX)").check()

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    rows = read_xlsx(open(download.path(), "rb").read())
    assert rows[0][0] == "Customer"
    assert sorted(row[0] for row in rows[1:]) == ["Buyer 02", "Buyer 03"]

    page.wait_for_url(start)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Your export of 2 customers is downloading as customers-")
    (entry,) = export_logs()
    assert entry.object_id == str(shop.pk) and entry.user == browser_admin
    assert (entry.data["format"], entry.data["scope"], entry.data["rows"]) == ("xlsx", "selected", 2)
