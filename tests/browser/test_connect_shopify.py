"""Connecting a Shopify shop in Chromium with the real Shopify adapter (wagtail_customers/channels/shopify.py).

The shop is the stand-in Admin GraphQL API of tests/channel_shopify_standin.py on pytest-httpserver (127.0.0.1),
holding Store A's 409 real orders; CHANNEL_API_URLS points the adapter at it, as in
tests/test_channel_shopify_engine.py. A seller adds the account, opens its Connection page from the edit page's
"Actions" menu, enters a Dev Dashboard app's credentials (shop domain, client ID and secret: the adapter trades them
for a token by the client credentials grant), tests the connection, imports the history from 20 December 2021
(11 orders, 3 pages of 5), and sees the buyers in the customer listing.

Celery runs eagerly in the tests, so the history import runs in the live server's thread: the stand-in answers
the second page with a 429 asking for a long wait (Retry-After 120, more than a worker waits), which leaves the
import half done with its progress on the page until "Sync now" finishes it.

``version_neutral``: its Wagtail steps are taken by browser tests that run at the lowest versions too (the add
form by test_tutorial, the header's "Actions" menu by test_sharing, the Connection page, which is the plugin's own
markup, by test_connections); what it adds is the Shopify adapter, which no Wagtail version changes. No axe check
here: test_accessibility runs axe on the Connection page.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.channel_shopify_standin import CLIENT_ID, SECRET, StandIn, as_graphql, store_a_orders
from wagtail_customers.models import ChannelConnection, ConnectionState, Customer, Order, SellerAccount

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOP = "anas-tees.myshopify.com"
BACKFILL_FROM = "2021-12-20"


@pytest.fixture
def shop(httpserver, realdata, settings):
    settings.WAGTAIL_CUSTOMERS = {
        **settings.WAGTAIL_CUSTOMERS,
        "CHANNEL_API_URLS": {"shopify": {"admin": httpserver.url_for("/")}},
    }
    return StandIn(httpserver, as_graphql(store_a_orders(realdata)))


@pytest.mark.version_neutral
def test_connect_a_shopify_shop_and_see_its_buyers(live_server, login, browser_admin, shop):
    # The orders Shopify has changed since the chosen day, and their buyers.
    expected = [node for node in shop.orders if node["updatedAt"] >= BACKFILL_FROM]
    buyers = {node["customer"]["displayName"] for node in expected}
    assert (len(expected), len(buyers)) == (11, 11)  # 3 pages of 5 with the adapter's page size
    earlier_buyer = next(
        node["customer"]["displayName"]
        for node in shop.orders
        if node["updatedAt"] < BACKFILL_FROM and node["customer"] and node["customer"]["displayName"] not in buyers
    )

    # Add the seller account on the Shopify channel.
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/accounts/")
    page.get_by_role("link", name="Add seller account").first.click()
    page.get_by_label("Name").fill("Ana's Tees")
    page.get_by_label("Channel").select_option("shopify")
    page.get_by_label("Currency").fill("USD")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/accounts/")
    account = SellerAccount.objects.get(name="Ana's Tees")
    assert (account.channel, account.currency) == ("shopify", "USD")

    # Its edit page, then "Store connection" in the header's "Actions" menu.
    page.get_by_role("link", name="Ana's Tees").first.click()
    page.wait_for_url(re.compile(rf"/admin/customers/accounts/edit/{account.pk}/$"))
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Store connection").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/connections/{account.pk}/")
    expect(page.locator("[data-connection-state]")).to_have_text("Never connected")

    # The credentials the adapter asks for: a Dev Dashboard app's client ID and secret.
    page.get_by_label("Shop domain").fill(SHOP)
    page.get_by_label("Client ID").fill(CLIENT_ID)
    page.get_by_label("Client secret", exact=True).fill(SECRET)
    page.get_by_role("button", name="Save credentials").click()
    expect(page.get_by_text("The credentials were saved (encrypted).")).to_be_visible()
    expect(page.get_by_label("Shop domain")).to_have_value(SHOP)
    expect(page.get_by_label("Client ID")).to_have_value(CLIENT_ID)
    # The secrets are write-only: never sent back to the browser.
    for label in ("Client secret", "Webhook signing key", "Admin API access token"):
        expect(page.get_by_label(label, exact=True)).to_have_value("")
    assert SECRET not in page.content()
    expect(page.locator("main")).to_contain_text("Stored. Leave blank to keep it.")

    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("The connection works: Ana's Tees (USD).")).to_be_visible()
    assert len(shop.grants()) == 1  # the client ID and secret were traded for a token

    # The history import, held up at its second page by a long Retry-After.
    shop.at[shop.graphql_requests + 2] = (
        429,
        {"errors": "Exceeded 2 calls per second for api client."},
        {"Retry-After": "120"},
    )
    page.get_by_label("Import history from").fill(BACKFILL_FROM)
    page.get_by_role("button", name="Connect and import history").click()
    expect(page.locator("[data-backfill-progress]")).to_contain_text("In progress: 5 orders so far")
    expect(page.locator("[data-connection-state]")).to_have_text("Importing history")

    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("[data-connection-state]")).to_have_text("Live")
    expect(page.locator("[data-backfill-progress]")).to_contain_text("Done: 11 orders imported")
    connection = ChannelConnection.objects.get(account=account)
    assert connection.state == ConnectionState.LIVE
    assert shop.queries("Orders")[0]["variables"]["query"] == "updated_at:>='2021-12-20T00:00:00Z'"
    assert set(Order.objects.filter(account=account).values_list("external_id", flat=True)) == {
        node["name"] for node in expected
    }
    # Shown again, the form still holds no secret.
    expect(page.get_by_label("Client secret", exact=True)).to_have_value("")
    assert SECRET not in page.content()

    # The buyers in the customer listing; none from before the chosen day.
    page.goto(f"{live_server.url}/admin/customers/")
    assert Customer.objects.filter(account=account).count() == 11
    for name in sorted(buyers):
        expect(page.get_by_role("link", name=name).first).to_be_visible()
    expect(page.get_by_role("link", name=earlier_buyer)).to_have_count(0)
