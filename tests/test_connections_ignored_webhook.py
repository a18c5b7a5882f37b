"""A verified webhook delivery that names another shop: ignored, and said on the connection page.

A seller whose store URL is written otherwise than the address the store sends (a headless shop, a typo) would else
never learn why webhooks do nothing. The stores are the WooCommerce and Shopify stand-ins on 127.0.0.1 with the real
adapters; deliveries go through the public endpoint and the page is read by an admin with Django's test client.
"""

import json
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import channel_shopify_standin as shopify
from tests.channel_woocommerce_standin import (
    CONSUMER_KEY,
    CONSUMER_SECRET,
    WEBHOOK_SECRET,
    WooCommerceStandIn,
    fixture,
    webhook_headers,
)
from wagtail_customers.models import ChannelConnection, Order, SellerAccount
from wagtail_customers.services import channel_sync

OTHER_SITE = "https://other.example/"


@pytest.fixture
def store(httpserver):
    return WooCommerceStandIn(httpserver)


@pytest.fixture
def connection(db, store):
    return connected("Woo EU", "woocommerce", store.credentials())


def connected(name, channel, credentials):
    account = SellerAccount.objects.create(name=name, channel=channel, currency="EUR")
    connection = ChannelConnection(account=account)
    connection.set_credentials(credentials)
    connection.save()
    channel_sync.start_backfill(connection, date(2024, 1, 1))
    return ChannelConnection.objects.get(pk=connection.pk)


@pytest.fixture
def admin_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("admin", "admin@example.com", "pw"))
    return client


@pytest.fixture
def post_webhook(client, django_capture_on_commit_callbacks):
    def post(connection, body, headers):
        url = reverse("wagtail_customers_webhooks:receive", args=[connection.webhook_token])
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data=body, content_type="application/json", headers=headers)

    return post


def page(admin_client, connection):
    response = admin_client.get(reverse("wagtail_customers_connections:connection", args=[connection.account_id]))
    assert response.status_code == 200
    return response.content.decode()


def warning(text):
    """The warning's paragraph, or None."""
    start = text.find("data-ignored-webhook")
    return None if start < 0 else text[start : text.index("</p>", start)]


def woo_order(number):
    order = fixture("order_guest_coupon.json")
    order.update(id=number, number=str(number), date_modified_gmt="2026-12-02T09:00:00")
    return json.dumps(order).encode()


def test_a_delivery_from_another_site_is_recorded_in_one_update_and_shown_until_the_store_is_heard(
    connection, store, admin_client, post_webhook
):
    assert warning(page(admin_client, connection)) is None
    body = woo_order(9001)

    with CaptureQueriesContext(db_connection) as queries:
        answer = post_webhook(connection, body, webhook_headers(body, delivery_id="theirs", source=OTHER_SITE))
    assert (answer.status_code, answer.content) == (200, b"Ignored: another shop.")
    writes = [query["sql"] for query in queries if not query["sql"].lstrip().upper().startswith("SELECT")]
    assert len(writes) == 1, writes
    assert writes[0].upper().startswith("UPDATE") and "ignored_webhook_source" in writes[0]
    assert not any(column in writes[0] for column in ('"encrypted_credentials"', '"state"', '"cursors"'))

    stored = ChannelConnection.objects.get(pk=connection.pk)
    assert stored.ignored_webhook_source == OTHER_SITE
    assert stored.ignored_webhook_at is not None
    assert stored.state == connection.state and stored.cursors == connection.cursors
    assert not Order.objects.exists()

    shown = warning(page(admin_client, connection))
    assert shown is not None
    assert " ".join(shown.split()).endswith(
        f"came from {OTHER_SITE}, not from this connection's store {store.url}: it was ignored. If that is "
        "your store's address, enter it in the credentials below."
    )
    assert "The last webhook delivery, on " in shown

    # A later delivery from the store itself: recorded, and the warning goes.
    ours = webhook_headers(body, "order.created", delivery_id="ours", source=store.home_url)
    assert post_webhook(connection, body, ours).status_code == 200
    assert Order.objects.filter(external_id="9001").exists()
    stored = ChannelConnection.objects.get(pk=connection.pk)
    assert (stored.ignored_webhook_source, stored.ignored_webhook_at) == (None, None)
    assert warning(page(admin_client, connection)) is None


def test_the_warning_goes_when_the_store_url_is_saved_changed_not_when_only_a_secret_is(
    connection, store, admin_client, post_webhook
):
    body = woo_order(9002)
    post_webhook(connection, body, webhook_headers(body, delivery_id="theirs", source=OTHER_SITE))
    url = reverse("wagtail_customers_connections:connection", args=[connection.account_id])

    # Only a new webhook secret: the store URL is the one the delivery was compared with, the warning stays.
    answer = admin_client.post(url, {"store_url": store.url, "webhook_secret": "another-secret"})
    assert answer.status_code == 302
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_source == OTHER_SITE
    assert warning(page(admin_client, connection)) is not None

    # The store URL changed (with the secrets typed again, as the form asks): the warning was about the old one.
    changed = {
        "store_url": "https://other.example",
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
    }
    assert admin_client.post(url, changed).status_code == 302
    stored = ChannelConnection.objects.get(pk=connection.pk)
    assert stored.get_credentials()["store_url"] == "https://other.example"
    assert (stored.ignored_webhook_source, stored.ignored_webhook_at) == (None, None)
    assert warning(page(admin_client, connection)) is None


def test_a_hostile_source_is_escaped_cleaned_and_cut_to_the_fields_length(connection, admin_client, post_webhook):
    body = woo_order(9003)
    hostile = 'https://evil.example/"><script>alert(1)</script>\x00\n<img src=x onerror=alert(2)>'
    answer = post_webhook(connection, body, webhook_headers(body, delivery_id="evil", source=hostile))
    assert answer.content == b"Ignored: another shop."
    stored = ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_source
    assert stored == hostile.replace("\x00", "").replace("\n", "")

    shown = warning(page(admin_client, connection))
    assert "<script>" not in shown and "<img" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "&quot;&gt;" in shown

    long_source = "https://" + "a" * 400 + ".example/"
    post_webhook(connection, body, webhook_headers(body, delivery_id="long", source=long_source))
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_source == long_source[:255]


def test_a_shopify_delivery_from_another_shop_names_both_shops(db, httpserver, admin_client, post_webhook):
    shop = shopify.StandIn(httpserver)
    connection = connected("Ana's Tees", "shopify", shop.credentials())
    payload = shopify.fixture("webhook_orders_create.json")
    body = json.dumps(payload).encode()
    other = shopify.webhook_headers(
        body, **{"X-Shopify-Webhook-Id": "other-shop", "X-Shopify-Shop-Domain": "Bobs-Mugs.myshopify.com"}
    )
    assert post_webhook(connection, body, other).content == b"Ignored: another shop."

    shown = " ".join(warning(page(admin_client, connection)).split())
    assert (
        "came from Bobs-Mugs.myshopify.com, not from this connection's store anas-tees.myshopify.com: it was "
        "ignored." in shown
    )

    # The shop's own delivery (of a topic the plugin does not use: ignored, yet it is the shop's) clears it.
    own = shopify.webhook_headers(body, "app/uninstalled", **{"X-Shopify-Webhook-Id": "own-shop"})
    assert post_webhook(connection, body, own).content == b"Ignored."
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_at is None
    assert warning(page(admin_client, connection)) is None
