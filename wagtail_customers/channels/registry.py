"""Which adapter serves which channel: the built-in ones imported when first asked for (``BUILT_IN``), a site's own
registered with ``register_adapter`` (imported from its app's ``ready()``)."""

from importlib import import_module

from django.core.exceptions import ImproperlyConfigured

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
    """Make ``adapter_class`` the adapter of its ``channel`` (a class decorator). The channel must be one of the
    seller accounts' channels (``Channel``): an account of another could not be saved, nor its orders recorded."""
    from ..models import Channel

    channel = getattr(adapter_class, "channel", None)
    if channel not in Channel.values:
        raise ImproperlyConfigured(
            f"{adapter_class.__qualname__}.channel is {channel!r}, which is no seller account's channel: an adapter "
            f"serves one of {', '.join(Channel.values)} (a channel of its own is 'other')."
        )
    registered = _adapters.get(channel)
    if registered is not None and _is_built_in(adapter_class) and not _is_built_in(registered):
        # A site's own adapter of a built-in channel stays when the built-in module is imported after it.
        return adapter_class
    _adapters[channel] = adapter_class
    return adapter_class


def _is_built_in(adapter_class):
    return f"{adapter_class.__module__}.{adapter_class.__qualname__}" in BUILT_IN.values()


def get_adapter_class(channel):
    """The adapter class for ``channel``, or None when it has no live connection."""
    if channel not in _adapters and channel in BUILT_IN:
        module_path, _, name = BUILT_IN[channel].rpartition(".")
        try:
            _adapters[channel] = getattr(import_module(module_path), name)
        except (ImportError, AttributeError):
            return None
    return _adapters.get(channel)
