"""Connecting a store in Chromium: the credentials form, "Test connection", the history import's progress, the
live state, and the customers it brought in the listing.

The channel is the test channel of tests/connection_fixture_channel.py on pytest-httpserver (127.0.0.1). Celery
runs eagerly in the tests, so the history import runs in the live server's thread: the channel is made to ask
for a long wait (a 429 with Retry-After 120) at the third page, which leaves the import half done, with its
progress on the page, until "Sync now" finishes it.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.connection_fixture_channel import API_KEY, FixtureChannel, fixture_order
from wagtail_customers.models import (
    ChannelConnection,
    ConnectionState,
    Customer,
    SellerAccount,
    SyncKind,
    SyncOutcome,
    SyncRun,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_connect_a_store_watch_the_history_import_and_see_its_customers(
    live_server, login, browser_admin, httpserver, screenshot
):
    channel = FixtureChannel(httpserver, orders=[fixture_order(index) for index in range(25)])
    channel.fault_at[3] = (429, {"Retry-After": "120"}, '{"error": "throttled"}')
    account = SellerAccount.objects.create(name="Connected shop", channel="other", currency="USD")
    page = login("browseradmin", "browser-pw")

    page.goto(f"{live_server.url}/admin/customers/accounts/")
    page.get_by_role("link", name="Never connected").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/connections/{account.pk}/")
    page.get_by_label("Base URL").fill(channel.url)
    page.get_by_label("API key").fill(API_KEY)
    page.get_by_role("button", name="Save credentials").click()
    expect(page.get_by_text("The credentials were saved (encrypted).")).to_be_visible()
    # The secret is never sent back to the browser.
    expect(page.get_by_label("API key")).to_have_value("")
    assert API_KEY not in page.content()

    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("The connection works: Fixture shop.")).to_be_visible()

    page.get_by_label("Import history from").fill("2026-06-01")
    page.get_by_role("button", name="Connect and import history").click()
    expect(page.locator("[data-backfill-progress]")).to_contain_text("In progress: 20 orders so far")
    expect(page.locator("[data-connection-state]")).to_have_text("Importing history")
    screenshot(page, "connection-backfilling")

    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("[data-connection-state]")).to_have_text("Live")
    expect(page.locator("[data-backfill-progress]")).to_contain_text("Done: 25 orders imported")
    assert ChannelConnection.objects.get(account=account).state == "live"
    screenshot(page, "connection-live")

    page.goto(f"{live_server.url}/admin/customers/")
    assert Customer.objects.filter(account=account).count() == 7
    expect(page.get_by_role("link", name="Buyer 3").first).to_be_visible()


# version_neutral: the plugin's own table box on a phone; the connect test above opens the page at the floors.
@pytest.mark.version_neutral
def test_on_a_phone_the_last_runs_scroll_in_their_own_box_with_a_readable_error(live_server, login, browser_admin):
    """At 390 px the table of runs (and the counts per day) scroll sideways in their boxes: the page keeps its width,
    and a run's error is read in lines of some width, not a letter or two per line."""
    account = SellerAccount.objects.create(name="Phone shop", channel="other", currency="USD")
    connection = ChannelConnection(account=account, state=ConnectionState.FAILING)
    connection.set_credentials({"base_url": "http://127.0.0.1:9", "api_key": API_KEY})
    connection.save()
    error = "The stored store URL is not a web address. Enter the store's address, like https://shop.example.com."
    SyncRun.objects.create(
        connection=connection,
        kind=SyncKind.BACKFILL,
        outcome=SyncOutcome.FAILED,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        error=error,
    )
    page = login("browseradmin", "browser-pw")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/admin/customers/connections/{account.pk}/")

    for name in ("Counts per day table", "Last runs table"):
        box_of_table = page.get_by_role("region", name=name)
        expect(box_of_table).to_have_class(re.compile(r"\bwc-table-scroll\b"))
        expect(box_of_table.locator("table")).to_have_count(1)
    cell = page.get_by_role("region", name="Last runs table").locator("td", has_text=error)
    cell.scroll_into_view_if_needed()
    expect(cell).to_be_in_viewport()
    # At least 16rem wide (its min-width), so the sentence reads in lines of words.
    assert cell.evaluate("el => el.getBoundingClientRect().width") >= 255
    # The runs' box scrolls, the page does not.
    runs = page.get_by_role("region", name="Last runs table")
    assert runs.evaluate("el => el.scrollWidth > el.clientWidth")
    expect(runs).to_have_attribute("tabindex", "0")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("window.scrollX") == 0


# At the floors the last runs' phone test opens the same page; this one measures the plugin's own help block.
@pytest.mark.version_neutral
def test_on_a_phone_the_ignored_webhook_warning_wraps_its_long_address(live_server, login, browser_admin):
    """The warning names the address a delivery claimed, which can be longer than a phone's width: it wraps
    (connections.css) instead of running out of the paragraph and widening the page."""
    account = SellerAccount.objects.create(name="Woo phone shop", channel="woocommerce", currency="EUR")
    connection = ChannelConnection(account=account, state=ConnectionState.LIVE)
    connection.set_credentials(
        {"store_url": "https://shop.example.com", "consumer_key": "ck_x", "consumer_secret": "cs_x"}
    )
    connection.ignored_webhook_source = "https://" + "a" * 40 + ".example/" + "b" * 150
    connection.ignored_webhook_at = timezone.now()
    connection.save()
    page = login("browseradmin", "browser-pw")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/admin/customers/connections/{account.pk}/")

    warning = page.locator("[data-ignored-webhook]")
    expect(warning).to_contain_text(connection.ignored_webhook_source[:60])
    assert warning.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert warning.evaluate("el => el.getBoundingClientRect().right") <= 390
    assert warning.locator("time").get_attribute("datetime")
    scroller = page.locator("main.content-wrapper")
    assert scroller.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
