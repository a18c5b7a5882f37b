"""Every channel adapter keeps the sync's lease before each call to its channel (channels/base.py).

A page can make many calls (an eBay last page reads the returns, the feedback and the orders it names; a
WooCommerce page reads each refunded order's refunds), longer than the lease. Only Amazon's adapter renewed it:
on the others the lease lapsed mid-page, the next beat's sync took the connection and ran the same page, and the
first one's commit was refused, again and again. A lease found lost stops the page before its next call.
"""

import re

import pytest

from tests.channel_woocommerce_standin import CONSUMER_KEY, CONSUMER_SECRET
from tests.test_channel_amazon import CREDENTIALS as AMAZON_CREDENTIALS
from tests.test_channel_ebay import CREDENTIALS as EBAY_CREDENTIALS
from tests.test_channel_shopify import SECRET as SHOPIFY_SECRET
from tests.test_channel_shopify import TOKEN as SHOPIFY_TOKEN
from wagtail_customers.channels.amazon import AmazonAdapter
from wagtail_customers.channels.base import LeaseLost
from wagtail_customers.channels.ebay import EbayAdapter
from wagtail_customers.channels.shopify import ShopifyAdapter
from wagtail_customers.channels.woocommerce import WooCommerceAdapter


@pytest.fixture
def channel_urls(settings, httpserver):
    base = httpserver.url_for("").rstrip("/")
    settings.WAGTAIL_CUSTOMERS = {
        **(getattr(settings, "WAGTAIL_CUSTOMERS", None) or {}),
        "CHANNEL_API_URLS": {
            "ebay": {"api": base, "identity": base, "post_order": base},
            "shopify": {"admin": base + "/"},
            "amazon": {"sp_api": base, "lwa": base + "/auth/o2/token"},
        },
    }
    return base


def adapters(base):
    return {
        "ebay": EbayAdapter(EBAY_CREDENTIALS, account_currency="USD"),
        "shopify": ShopifyAdapter(
            {"shop": "anas-tees.myshopify.com", "access_token": SHOPIFY_TOKEN, "client_secret": SHOPIFY_SECRET}
        ),
        "woocommerce": WooCommerceAdapter(
            {"store_url": base, "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET},
            account_currency="EUR",
        ),
        "amazon": AmazonAdapter(AMAZON_CREDENTIALS, account_currency="EUR"),
    }


def lease_taken_over():
    raise LeaseLost


@pytest.mark.parametrize("channel", ["ebay", "shopify", "woocommerce", "amazon"])
def test_a_page_stops_before_its_first_call_once_the_lease_is_lost(httpserver, channel_urls, channel):
    adapter = adapters(channel_urls)[channel]
    adapter.keep_alive = lease_taken_over
    with pytest.raises(LeaseLost):
        adapter.fetch_orders(cursor=None, since=None)
    assert httpserver.log == []  # nothing asked of the channel


def api_calls(httpserver):
    """The calls to the channel's API so far; an access token fetched within a call is part of that call."""
    return len([request for request, _response in httpserver.log if "token" not in request.path])


@pytest.mark.parametrize("channel", ["ebay", "shopify", "woocommerce", "amazon"])
def test_each_call_keeps_the_lease(httpserver, channel_urls, channel):
    # Whatever the channel answers, the keep-alive ran before each call the adapter made.
    adapter = adapters(channel_urls)[channel]
    kept = []
    adapter.keep_alive = lambda: kept.append(api_calls(httpserver))
    token = {"access_token": "Atza|stand-in", "token_type": "bearer", "expires_in": 3600}
    httpserver.expect_request(re.compile(r".*/token$")).respond_with_json(token)
    httpserver.expect_request(re.compile(".*")).respond_with_data("not json", status=200)
    try:
        adapter.fetch_orders(cursor=None, since=None)
    except Exception:  # noqa: BLE001, S110 - the answer is no order page; only the calls made count here
        pass
    assert api_calls(httpserver) >= 1, "the adapter called its channel"
    assert kept == list(range(len(kept)))
    assert len(kept) >= api_calls(httpserver)
