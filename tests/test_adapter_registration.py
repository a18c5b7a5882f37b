"""A site's own adapters and order sources: a registration that cannot work stops at once with what to fix, and a
shop order the ledger refuses is logged naming the order, never an error page for the shop."""

import logging
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from shop.ledger import seller_account, to_order_data
from shop.models import ShopOrder

from wagtail_customers.channels.base import ChannelAdapter
from wagtail_customers.channels.registry import get_adapter_class, register_adapter
from wagtail_customers.models import Order
from wagtail_customers.sources import register_order_source


def test_an_adapter_of_a_channel_no_seller_account_has_is_refused():
    class CraftlyAdapter(ChannelAdapter):
        channel = "craftly"

    with pytest.raises(ImproperlyConfigured) as refused:
        register_adapter(CraftlyAdapter)
    assert str(refused.value).startswith(
        "test_an_adapter_of_a_channel_no_seller_account_has_is_refused.<locals>.CraftlyAdapter.channel is 'craftly', "
        "which is no seller account's channel: an adapter serves one of amazon, shopify, ebay, woocommerce, etsy, "
    )
    assert get_adapter_class("craftly") is None


@pytest.mark.parametrize("argument", ["to_order_data", "account"])
def test_an_order_source_needs_two_functions(argument, account):
    functions = {"to_order_data": to_order_data, "account": seller_account, argument: account}
    with pytest.raises(TypeError, match=f"{argument} must be a function of the saved instance, not SellerAccount"):
        register_order_source(ShopOrder, **functions)


def test_an_order_source_registered_again_with_other_functions_is_refused():
    register_order_source(ShopOrder, to_order_data=to_order_data, account=seller_account)  # the same: nothing
    with pytest.raises(ImproperlyConfigured, match="shop.ShopOrder is already registered"):
        register_order_source(ShopOrder, to_order_data=lambda order: None, account=seller_account)


@pytest.mark.django_db
def test_a_shop_order_the_ledger_refuses_is_logged_naming_it(django_capture_on_commit_callbacks, caplog):
    with caplog.at_level(logging.ERROR, logger="wagtail_customers.sources"):
        with django_capture_on_commit_callbacks(execute=True):
            # A status the shop allows and the ledger does not know (the shop's choices are not checked on create).
            order = ShopOrder.objects.create(
                number="W-9",
                placed_at=timezone.now(),
                customer_email="ada@example.com",
                status="on-hold",
                shipping=Decimal("4.90"),
            )
    assert not Order.objects.filter(external_id="W-9").exists()
    [record] = [record for record in caplog.records if record.name == "wagtail_customers.sources"]
    assert record.getMessage() == f"shop.ShopOrder {order.pk} was saved but not recorded as an order"
    assert "status 'on-hold' is not one of" in record.exc_text


def test_a_sites_adapter_of_a_built_in_channel_stays_when_the_built_in_module_registers_after_it():
    from wagtail_customers.channels import registry
    from wagtail_customers.channels.shopify import ShopifyAdapter

    class SiteShopifyAdapter(ChannelAdapter):
        channel = "shopify"

    before = dict(registry._adapters)
    try:
        registry._adapters.pop("shopify", None)
        register_adapter(SiteShopifyAdapter)
        register_adapter(ShopifyAdapter)  # what importing the built-in module does (its decorator)
        assert get_adapter_class("shopify") is SiteShopifyAdapter
        registry._adapters.pop("shopify")
        assert get_adapter_class("shopify") is ShopifyAdapter  # without a site's own, the built-in as before
    finally:
        registry._adapters.clear()
        registry._adapters.update(before)
