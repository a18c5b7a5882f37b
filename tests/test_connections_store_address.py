"""A store address the adapter cannot call: refused when the credentials are saved, and, stored before that check,
a clear error (never a 500) on "Test connection", "Connect" and the syncs.

The WooCommerce stand-in store (tests/channel_woocommerce_standin.py) runs on 127.0.0.1 with the real adapter; an
admin uses the connection page through Django's test client. Celery runs eagerly, so "Connect and import history"
has run its first sync when the page comes back.
"""

import html
import re
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.channel_woocommerce_standin import CONSUMER_KEY, CONSUMER_SECRET, WooCommerceStandIn
from wagtail_customers.channels.woocommerce import InvalidStoreUrl, WooCommerceAdapter
from wagtail_customers.models import ChannelConnection, ConnectionState, SellerAccount, SyncOutcome, SyncRun
from wagtail_customers.services import channel_sync

# Committed for real: the queued sync runs (eagerly) when the request's transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)

BAD_URL_ON_SAVE = "Enter the store&#x27;s address, like https://shop.example.com."
BAD_URL_STORED = (
    "The stored store URL is not a web address. Enter the store's address, like https://shop.example.com, in the "
    "credentials and save them."
)


@pytest.fixture
def store(httpserver):
    return WooCommerceStandIn(httpserver)


@pytest.fixture
def admin_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("admin", "admin@example.com", "pw"))
    return client


def account_on(channel):
    return SellerAccount.objects.create(name=f"{channel} shop", channel=channel, currency="EUR")


def url(name, account):
    return reverse(f"wagtail_customers_connections:{name}", args=[account.pk])


def messages_of(response):
    """The messages as the seller reads them (Wagtail's admin messages are HTML)."""
    return [html.unescape(str(message)).strip() for message in get_messages(response.wsgi_request)]


def stored_with(store_url):
    """A WooCommerce connection whose store URL was stored before the form checked it."""
    account = account_on("woocommerce")
    connection = ChannelConnection(account=account)
    connection.set_credentials(
        {"store_url": store_url, "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET}
    )
    connection.save()
    return account, connection


@pytest.mark.parametrize(
    "typed",
    ["http://[::1", "https://[2001:db8::1/shop", "ftp://shop.example.com", "https://", "http://shop:port", "exa mple"],
)
def test_a_store_url_that_is_no_address_is_refused_on_save(admin_client, typed):
    account = account_on("woocommerce")

    response = admin_client.post(
        url("connection", account),
        {"store_url": typed, "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET},
    )

    assert response.status_code == 200
    assert response.context["credentials_form"].errors["store_url"] == [
        "Enter the store's address, like https://shop.example.com."
    ]
    assert BAD_URL_ON_SAVE in response.content.decode()
    assert not ChannelConnection.objects.filter(account=account).exists()


@pytest.mark.parametrize(
    "typed", ["https://shop.example.com/?lang=en", "https://shop.example.com#orders", "shop.example.com?x=1"]
)
def test_a_store_url_with_a_query_or_fragment_is_refused_on_save(admin_client, typed):
    """The package appends /wp-json/... to the address as it is: after a query, the API's address is broken."""
    account = account_on("woocommerce")

    response = admin_client.post(
        url("connection", account),
        {"store_url": typed, "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET},
    )

    assert response.context["credentials_form"].errors["store_url"] == [
        "Enter the store's address without a query (?…) or fragment (#…) after it, like https://shop.example.com."
    ]
    assert not ChannelConnection.objects.filter(account=account).exists()


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("consumer_key", CONSUMER_KEY + "\u200b"),  # an invisible space copied with it
        ("consumer_secret", "\u201c" + CONSUMER_SECRET + "\u201d"),  # curly quotes
        ("consumer_key", "ck_caf\u00e9"),  # Latin-1 has it, WooCommerce's keys never
    ],
)
def test_a_key_or_secret_with_a_character_no_woocommerce_key_has_is_refused_on_save(admin_client, field, typed):
    account = account_on("woocommerce")
    values = {"store_url": "https://shop.example.com", "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET}

    response = admin_client.post(url("connection", account), {**values, field: typed})

    assert response.context["credentials_form"].errors[field] == [
        "This has a character no WooCommerce key has (a curly quote, an invisible space): copy it again from "
        "WooCommerce › Settings › Advanced › REST API."
    ]
    assert not ChannelConnection.objects.filter(account=account).exists()


def test_the_address_fields_are_not_capitalised_or_corrected_by_a_phones_keyboard(admin_client):
    for channel, name in (("woocommerce", "store_url"), ("shopify", "shop")):
        page = admin_client.get(url("connection", account_on(channel))).content.decode()
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert 'autocapitalize="off"' in field and 'spellcheck="false"' in field, field
    woo = admin_client.get(url("connection", SellerAccount.objects.get(channel="woocommerce"))).content.decode()
    assert 'inputmode="url"' in re.search(r'<input[^>]*name="store_url"[^>]*>', woo).group(0)


@pytest.mark.parametrize(
    "typed", ["shop.example.com", "https://shop.example.com/", "http://[::1]:8080", "https://bücher.example/laden"]
)
def test_store_addresses_are_saved(admin_client, typed):
    account = account_on("woocommerce")

    admin_client.post(
        url("connection", account),
        {"store_url": typed, "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET},
    )

    assert ChannelConnection.objects.get(account=account).get_credentials()["store_url"] == typed


def test_the_other_channels_plain_fields_are_checked_on_save_too(admin_client):
    shopify = account_on("shopify")
    response = admin_client.post(url("connection", shopify), {"shop": "shop.example.com", "access_token": "shpat_x"})
    assert response.context["credentials_form"].errors["shop"] == [
        "Enter the shop's domain, like your-store.myshopify.com."
    ]
    admin_client.post(url("connection", shopify), {"shop": "anas-tees", "access_token": "shpat_x"})
    assert ChannelConnection.objects.get(account=shopify).get_credentials()["shop"] == "anas-tees"
    # The Shopify admin's address as sellers see it today names the shop too.
    admin_address = "https://admin.shopify.com/store/anas-tees"
    response = admin_client.post(url("connection", shopify), {"shop": admin_address, "access_token": "shpat_x"})
    assert response.status_code == 302
    assert ChannelConnection.objects.get(account=shopify).get_credentials()["shop"] == admin_address

    amazon = account_on("amazon")
    values = {"refresh_token": "Atzr|x", "lwa_app_id": "app", "lwa_client_secret": "secret"}
    response = admin_client.post(url("connection", amazon), {**values, "marketplace": "Germany"})
    assert response.context["credentials_form"].errors["marketplace"] == [
        "Enter the two-letter code of an Amazon marketplace, like DE, UK or US."
    ]
    admin_client.post(url("connection", amazon), {**values, "marketplace": " de"})
    assert ChannelConnection.objects.get(account=amazon).get_credentials()["marketplace"] == "de"


def test_test_connection_with_a_stored_url_that_is_no_address_says_so(admin_client, store):
    account, connection = stored_with("http://[::1")

    response = admin_client.post(url("test", account))

    assert response.status_code == 302
    assert messages_of(response) == [f"The connection does not work: {BAD_URL_STORED}"]
    # Nothing recorded as if it worked (a working test stores the shop's name), the connection as it was.
    stored = ChannelConnection.objects.get(pk=connection.pk)
    assert (stored.shop_description, stored.state) == ("", ConnectionState.NEVER_CONNECTED)
    page = admin_client.get(url("connection", account))
    assert page.status_code == 200


def test_test_connection_with_a_stored_key_no_woocommerce_key_has_says_so(admin_client, store):
    account = account_on("woocommerce")
    connection = ChannelConnection(account=account)
    connection.set_credentials(
        {"store_url": store.url, "consumer_key": CONSUMER_KEY + "\u200b", "consumer_secret": CONSUMER_SECRET}
    )
    connection.save()

    response = admin_client.post(url("test", account))

    assert messages_of(response) == [
        "The connection does not work: The stored consumer key or secret has a character no WooCommerce key has (a "
        "curly quote, an invisible space). Copy them again from WooCommerce › Settings › Advanced › REST API into "
        "the credentials and save them."
    ]


def test_connect_with_a_stored_url_that_is_no_address_fails_once_and_says_why(admin_client, store):
    account, connection = stored_with("http://[::1")

    response = admin_client.post(url("connect", account), {"backfill_from": "2024-01-01"})

    assert response.status_code == 302
    connection.refresh_from_db()
    # Not retried for ever: the seller must correct the address.
    assert connection.state == ConnectionState.FAILING
    assert connection.next_attempt_at is None
    assert connection.last_error == BAD_URL_STORED
    run = SyncRun.objects.get(connection=connection)
    assert (run.outcome, run.error) == (SyncOutcome.FAILED, BAD_URL_STORED)
    assert "ValueError" not in run.error
    # The page says the import failed, not that it goes on in the background.
    assert messages_of(response) == [f"The sync failed and the connection is failing: {BAD_URL_STORED}"]


def test_a_sync_of_a_stored_url_that_is_no_address_records_a_clear_error(db, store):
    _account, connection = stored_with("https://[oops/shop")
    channel_sync.start_backfill(connection, date(2024, 1, 1))

    result = channel_sync.sync_connection(connection.pk)

    assert (result.outcome, result.error) == (SyncOutcome.FAILED, BAD_URL_STORED)
    assert ChannelConnection.objects.get(pk=connection.pk).state == ConnectionState.FAILING


def test_the_adapter_refuses_an_unparseable_store_url_before_any_request(store):
    adapter = WooCommerceAdapter({"store_url": "http://[::1", "consumer_key": CONSUMER_KEY})

    with pytest.raises(InvalidStoreUrl) as raised:
        adapter.check()

    assert raised.value.retryable is False
    assert raised.value.message == BAD_URL_STORED
    # The rest of the adapter still works: the connection page and the webhook endpoint read the address.
    assert adapter.webhook_own_shop() == "http://[::1"
