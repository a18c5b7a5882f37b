"""A seller account's currency is fixed once it has orders: their amounts are kept converted into it."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import order_data
from wagtail_customers.models import SellerAccount
from wagtail_customers.services.ingestion import record_order

pytestmark = pytest.mark.django_db


def test_the_currency_of_an_account_with_orders_cannot_change(account):
    record_order(account, order_data("C-1", email="ada@example.com"))
    account.currency = "EUR"
    with pytest.raises(ValidationError) as raised:
        account.full_clean()
    assert "USD" in str(raised.value.message_dict["currency"])


def test_an_account_without_orders_may_change_its_currency(account):
    account.currency = "eur"
    account.full_clean()
    account.save()
    assert SellerAccount.objects.get(pk=account.pk).currency == "EUR"


def test_the_edit_form_says_why_and_keeps_the_currency(admin_client, account):
    record_order(account, order_data("C-1", email="ada@example.com"))
    url = reverse("wagtail_customers_accounts:edit", args=(account.pk,))
    response = admin_client.post(url, {"name": account.name, "channel": account.channel, "currency": "EUR"})
    assert response.status_code == 200
    assert "The currency cannot change once the account has orders" in response.content.decode()
    account.refresh_from_db()
    assert account.currency == "USD"


def test_the_channel_of_an_account_with_a_store_connection_cannot_change(admin_client):
    # Switched to a channel without an adapter, the connection failed for good and nothing on its page stopped
    # it; switched to another live channel, that channel's adapter was handed the old store's credentials.
    from wagtail_customers.models import ChannelConnection

    account = SellerAccount.objects.create(name="Woo", channel="woocommerce", currency="EUR")
    ChannelConnection.objects.create(account=account, encrypted_credentials="stored")
    url = reverse("wagtail_customers_accounts:edit", args=(account.pk,))
    response = admin_client.post(url, {"name": account.name, "channel": "shopify", "currency": "EUR"})
    assert response.status_code == 200
    assert "The channel cannot change while the account has a store connection" in response.content.decode()
    assert SellerAccount.objects.get(pk=account.pk).channel == "woocommerce"
    # A connection never given credentials holds nothing of the channel's: the account may change.
    ChannelConnection.objects.filter(account=account).update(encrypted_credentials="")
    admin_client.post(url, {"name": account.name, "channel": "shopify", "currency": "EUR"})
    assert SellerAccount.objects.get(pk=account.pk).channel == "shopify"


@pytest.mark.parametrize("setting", ["SALESMAN_SELLER_ACCOUNT", "OSCAR_SELLER_ACCOUNT"])
def test_an_account_a_shop_setting_names_keeps_its_name(admin_client, settings, setting):
    # The in-site shops look their account up by name on every save of an order: renamed, every order of the shop
    # went unrecorded without a word.
    account = SellerAccount.objects.create(name="Our shop", channel="website", currency="USD")
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, setting: "Our shop"}
    url = reverse("wagtail_customers_accounts:edit", args=(account.pk,))
    response = admin_client.post(url, {"name": "Our new shop", "channel": "website", "currency": "USD"})
    assert response.status_code == 200
    assert f"This account is named by WAGTAIL_CUSTOMERS[&quot;{setting}&quot;]" in response.content.decode()
    assert SellerAccount.objects.get(pk=account.pk).name == "Our shop"
    # Its other fields still change; and once the setting names the new name, the account may take it.
    admin_client.post(url, {"name": "Our shop", "channel": "website", "currency": "USD", "marketplace": "US"})
    assert SellerAccount.objects.get(pk=account.pk).marketplace == "US"
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, setting: "Our new shop"}
    admin_client.post(url, {"name": "Our new shop", "channel": "website", "currency": "USD"})
    assert SellerAccount.objects.get(pk=account.pk).name == "Our new shop"


def test_an_account_no_setting_names_may_be_renamed(admin_client, account, settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "SALESMAN_SELLER_ACCOUNT": "Another shop"}
    url = reverse("wagtail_customers_accounts:edit", args=(account.pk,))
    admin_client.post(url, {"name": "Shop B", "channel": account.channel, "currency": "USD"})
    assert SellerAccount.objects.get(pk=account.pk).name == "Shop B"
