"""A verified webhook delivery that names another shop: ignored, and said on the connection page.

A seller whose store URL is written otherwise than the address the store sends (a headless shop, a typo) would else
never learn why webhooks do nothing. The stores are the WooCommerce and Shopify stand-ins on 127.0.0.1 with the real
adapters; deliveries go through the public endpoint and the page is read by an admin with Django's test client.
"""

import html
import json
import re
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import channel_shopify_standin as shopify
from tests.channel_woocommerce_standin import (
    CONSUMER_KEY,
    CONSUMER_SECRET,
    WEBHOOK_SECRET,
    WooCommerceStandIn,
    fixture,
    webhook_headers,
)
from wagtail_customers.models import ChannelConnection, Order, SellerAccount, SyncOutcome
from wagtail_customers.services import channel_sync

OTHER_SITE = "https://other.example/"
WOO_ADVICE = (
    "If it came from your own site, its address is written another way than the store URL (with or without www., "
    "or with another sub-path): enter the site's address as WordPress › Settings › General shows it as the store "
    "URL below. A headless shop whose API answers on another address keeps that address as the store URL and gets "
    "the site's address as the site address for webhooks."
)
SHOPIFY_ADVICE = (
    "With one app installed on several shops, subscribe each shop's webhooks to the webhook address of its own "
    "connection, as the Shopify guide of the Customers documentation explains. This connection's orders still come "
    "by the pulls."
)


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


def page(admin_client, connection):
    response = admin_client.get(reverse("wagtail_customers_connections:connection", args=[connection.account_id]))
    assert response.status_code == 200
    return response.content.decode()


def warning(text):
    """The warning's paragraph, or None."""
    start = text.find("data-ignored-webhook")
    return None if start < 0 else text[start : text.index("</p>", start)]


def said(text):
    """The warning as the seller reads it: its words, without the markup (the date is in a <time> element)."""
    shown = warning(text)
    return None if shown is None else " ".join(html.unescape(re.sub(r"<[^>]+>", "", shown.split(">", 1)[1])).split())


def writes_of(queries):
    return [query["sql"] for query in queries if not query["sql"].lstrip().upper().startswith(("SELECT", "PRAGMA"))]


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
    writes = [sql for sql in writes_of(queries) if sql.upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert len(writes) == 1, writes
    assert writes[0].upper().startswith("UPDATE") and "ignored_webhook_source" in writes[0]
    # Those two fields only (the credentials are in its condition: written only while they are the ones read).
    assignments, condition = writes[0].split(" WHERE ", 1)
    assert not any(column in assignments for column in ('"encrypted_credentials"', '"state"', '"cursors"'))
    assert '"encrypted_credentials"' in condition

    stored = ChannelConnection.objects.get(pk=connection.pk)
    assert stored.ignored_webhook_source == OTHER_SITE
    assert stored.ignored_webhook_at is not None
    assert stored.state == connection.state and stored.cursors == connection.cursors
    assert not Order.objects.exists()

    text = page(admin_client, connection)
    # What the delivery claimed, said as such, with the channel's advice; the date in a <time> element.
    assert re.fullmatch(
        rf"On .+, a webhook delivery naming {re.escape(OTHER_SITE)} came to this connection's webhook address and "
        rf"was ignored: this connection's store is {re.escape(store.url)}\. {re.escape(WOO_ADVICE)}",
        said(text),
    ), said(text)
    moment = timezone.localtime(stored.ignored_webhook_at)
    assert re.search(rf'<time datetime="{re.escape(moment.isoformat())}">[^<]+</time>', warning(text))
    # Its addresses wrap on a phone (connections.css).
    assert re.search(r'<p class="[^"]*\bwc-connection-ignored-webhook\b[^"]*" data-ignored-webhook>', text)

    # The same delivery again within five minutes: nothing written (a sync's page may hold the row).
    with CaptureQueriesContext(db_connection) as queries:
        answer = post_webhook(connection, body, webhook_headers(body, delivery_id="again", source=OTHER_SITE))
    assert answer.content == b"Ignored: another shop."
    assert writes_of(queries) == []
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_at == stored.ignored_webhook_at

    # Older than that, it is noted again (the page says when the last one came).
    old = stored.ignored_webhook_at - timedelta(minutes=6)
    ChannelConnection.objects.filter(pk=connection.pk).update(ignored_webhook_at=old)
    post_webhook(connection, body, webhook_headers(body, delivery_id="later", source=OTHER_SITE))
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_at > stored.ignored_webhook_at

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


def test_a_headless_shop_takes_its_deliveries_once_its_site_address_is_entered(
    connection, store, admin_client, post_webhook
):
    """A headless shop: its API answers at the store URL (the stand-in), its deliveries name the site's address."""
    site = "https://shop.example.com/"
    body = woo_order(9003)
    headers = webhook_headers(body, delivery_id="site-1", source=site)
    assert post_webhook(connection, body, headers).content == b"Ignored: another shop."
    assert "this connection's store is " + store.url in said(page(admin_client, connection))

    url = reverse("wagtail_customers_connections:connection", args=[connection.account_id])
    # An address no site has is refused, as a store URL is; nothing is saved.
    refused = admin_client.post(url, {"store_url": store.url, "home_url": "https://shop.example.com/?lang=en"})
    assert refused.status_code == 200
    assert "home_url" in refused.context["credentials_form"].errors
    assert "home_url" not in ChannelConnection.objects.get(pk=connection.pk).get_credentials()

    # Entered as WordPress shows it, the secrets left blank: they stay (the pulls still go to the store URL).
    saved = admin_client.post(url, {"store_url": store.url, "home_url": "shop.example.com"})
    assert saved.status_code == 302
    stored = ChannelConnection.objects.get(pk=connection.pk)
    assert stored.get_credentials()["home_url"] == "shop.example.com"
    assert stored.get_credentials()["webhook_secret"] == WEBHOOK_SECRET
    assert warning(page(admin_client, connection)) is None  # it was about the addresses before

    for delivery, source in (("site-2", site), ("site-3", "http://Shop.Example.com"), ("api-1", store.home_url)):
        answer = post_webhook(stored, body, webhook_headers(body, delivery_id=delivery, source=source))
        assert (answer.status_code, answer.content) == (200, b"OK"), source
    assert Order.objects.filter(account=connection.account, external_id="9003").exists()
    # Another site with the same secret is still another shop's, and the page names the site address as this one's.
    assert post_webhook(stored, body, webhook_headers(body, delivery_id="theirs", source=OTHER_SITE)).content == (
        b"Ignored: another shop."
    )
    assert "this connection's store is https://shop.example.com" in said(page(admin_client, connection))
    # Changed later, it needs no secrets typed again: nothing is sent to it (the store URL would).
    assert (
        admin_client.post(url, {"store_url": store.url, "home_url": "https://www.shop.example.com"}).status_code == 302
    )
    assert ChannelConnection.objects.get(pk=connection.pk).get_credentials()["consumer_secret"] == CONSUMER_SECRET
    result = channel_sync.sync_connection(connection.pk)
    assert (result.outcome, result.error) == (SyncOutcome.DONE, "")


@pytest.mark.parametrize(
    "crafted",
    [
        # A signed delivery sent again with a header of one's own: the header is not signed.
        "https://shop-example.help/ Your API key expired — re-enter it",
        'https://evil.example/"><script>alert(1)</script>\x00\n<img src=x onerror=alert(2)>',
        "Your API key expired: re-enter it in the credentials below",
    ],
)
def test_a_source_that_is_no_web_address_is_not_shown(connection, store, admin_client, post_webhook, crafted):
    body = woo_order(9003)
    answer = post_webhook(connection, body, webhook_headers(body, delivery_id="crafted", source=crafted))
    assert answer.content == b"Ignored: another shop."
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_source == ""

    text = page(admin_client, connection)
    assert re.fullmatch(
        rf"On .+, a webhook delivery naming another store than this connection's came to its webhook address and was "
        rf"ignored\. {re.escape(WOO_ADVICE)}",
        said(text),
    ), said(text)
    for part in ("API key", "script", "evil", "shop-example"):
        assert part not in warning(text)


def test_a_source_is_shown_as_an_address_rebuilt_from_its_parts_and_cut_to_the_fields_length(
    connection, admin_client, post_webhook
):
    body = woo_order(9004)
    sent = "HTTPS://user:pw@Other.Example:8443/shop/?note=Your+API+key+expired#re-enter"
    post_webhook(connection, body, webhook_headers(body, delivery_id="parts", source=sent))
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_source == "https://other.example:8443/shop/"
    assert "API+key" not in warning(page(admin_client, connection))

    long_source = "https://other.example/" + "a" * 400
    post_webhook(connection, body, webhook_headers(body, delivery_id="long", source=long_source))
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_source == long_source[:255]


def test_a_note_is_not_written_for_credentials_saved_since_the_delivery_was_checked(connection, store, admin_client):
    """The webhook read the connection (and built its adapter) before the seller saved another store URL, which
    cleared the warning: the note of the old address's delivery must not bring it back."""
    as_the_webhook_read_it = ChannelConnection.objects.get(pk=connection.pk)
    url = reverse("wagtail_customers_connections:connection", args=[connection.account_id])
    changed = {
        "store_url": OTHER_SITE,
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
    }
    assert admin_client.post(url, changed).status_code == 302

    channel_sync.note_ignored_webhook(as_the_webhook_read_it, "https://shop.example/")

    stored = ChannelConnection.objects.get(pk=connection.pk)
    assert (stored.ignored_webhook_source, stored.ignored_webhook_at) == (None, None)
    assert warning(page(admin_client, connection)) is None
    # With the credentials as they are now, it is written.
    channel_sync.note_ignored_webhook(stored, "https://shop.example/")
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_source == "https://shop.example/"


def test_a_shopify_delivery_from_another_shop_names_both_shops(db, httpserver, admin_client, post_webhook):
    shop = shopify.StandIn(httpserver)
    connection = connected("Ana's Tees", "shopify", shop.credentials())
    payload = shopify.fixture("webhook_orders_create.json")
    body = json.dumps(payload).encode()
    other = shopify.webhook_headers(
        body, **{"X-Shopify-Webhook-Id": "other-shop", "X-Shopify-Shop-Domain": "Bobs-Mugs.myshopify.com"}
    )
    assert post_webhook(connection, body, other).content == b"Ignored: another shop."

    # Another shop's delivery is never this shop's address written otherwise: the advice is to subscribe each shop
    # to its own connection's address, not to enter the other shop (whose orders would then come here).
    shown = said(page(admin_client, connection))
    assert re.fullmatch(
        r"On .+, a webhook delivery naming bobs-mugs\.myshopify\.com came to this connection's webhook address and "
        rf"was ignored: this connection's store is anas-tees\.myshopify\.com\. {re.escape(SHOPIFY_ADVICE)}",
        shown,
    ), shown
    assert "enter" not in shown.lower()

    # The shop's own delivery (of a topic the plugin does not use: ignored, yet it is the shop's) clears it.
    own = shopify.webhook_headers(body, "app/uninstalled", **{"X-Shopify-Webhook-Id": "own-shop"})
    assert post_webhook(connection, body, own).content == b"Ignored."
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_at is None
    assert warning(page(admin_client, connection)) is None

    # A header that is no shop domain: ignored, and not shown.
    crafted = shopify.webhook_headers(
        body,
        **{
            "X-Shopify-Webhook-Id": "crafted",
            "X-Shopify-Shop-Domain": "https://shop-example.help/ Your API key expired",
        },
    )
    assert post_webhook(connection, body, crafted).content == b"Ignored: another shop."
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_source == ""
    assert "API key" not in warning(page(admin_client, connection))


def test_a_shop_entered_as_its_shopify_admin_address_takes_its_own_deliveries(db, httpserver, post_webhook):
    shop = shopify.StandIn(httpserver)
    connection = connected(
        "Ana's Tees", "shopify", {**shop.credentials(), "shop": "https://admin.shopify.com/store/anas-tees"}
    )
    body = json.dumps(shopify.fixture("webhook_orders_create.json")).encode()

    answer = post_webhook(connection, body, shopify.webhook_headers(body))

    assert (answer.status_code, answer.content) == (200, b"OK")
    assert Order.objects.filter(account=connection.account).exists()
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_at is None


def test_the_warning_is_shown_on_a_site_without_time_zones(connection, admin_client, settings):
    """USE_TZ = False stores naive times, which timezone.localtime() refuses: the page answered 500."""
    settings.USE_TZ = False
    ChannelConnection.objects.filter(pk=connection.pk).update(
        ignored_webhook_source=OTHER_SITE, ignored_webhook_at=timezone.now().replace(tzinfo=None)
    )
    assert OTHER_SITE in said(page(admin_client, connection))
