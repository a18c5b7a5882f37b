"""Which adapter serves which channel. Adapters register themselves on import (``apps.ready``)."""

from importlib import import_module

_adapters = {}

#: The adapters shipped with the plugin, imported lazily so a missing optional client library only
#: disables its own channel.
BUILT_IN = {
    "shopify": "wagtail_customers.channels.shopify.ShopifyAdapter",
    "woocommerce": "wagtail_customers.channels.woocommerce.WooCommerceAdapter",
    "amazon": "wagtail_customers.channels.amazon.AmazonAdapter",
    "ebay": "wagtail_customers.channels.ebay.EbayAdapter",
}


def register_adapter(adapter_class):
    _adapters[adapter_class.channel] = adapter_class
    return adapter_class


def get_adapter_class(channel):
    """The adapter class for ``channel``, or None when it has no live connection."""
    if channel not in _adapters and channel in BUILT_IN:
        module_path, _, name = BUILT_IN[channel].rpartition(".")
        try:
            _adapters[channel] = getattr(import_module(module_path), name)
        except (ImportError, AttributeError):
            return None
    return _adapters.get(channel)


def connectable_channels():
    return [channel for channel in BUILT_IN if get_adapter_class(channel) is not None] + [
        channel for channel in _adapters if channel not in BUILT_IN
    ]
