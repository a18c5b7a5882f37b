"""Connecting a store in Chromium: the credentials form, "Test connection", the history import's progress, the
live state, and the customers it brought in the listing.

The channel is the test channel of tests/connection_fixture_channel.py on pytest-httpserver (127.0.0.1). Celery
runs eagerly in the tests, so the history import runs in the live server's thread: the channel is made to ask
for a long wait (a 429 with Retry-After 120) at the third page, which leaves the import half done, with its
progress on the page, until "Sync now" finishes it.
"""

import pytest
from playwright.sync_api import expect

from tests.connection_fixture_channel import API_KEY, FixtureChannel, fixture_order
from wagtail_customers.models import ChannelConnection, Customer, SellerAccount

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
