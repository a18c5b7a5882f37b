"""Feeding a host shop's own orders into the ledger as they are placed.

A shop registers its order model once (in its ``AppConfig.ready``)::

    from wagtail_customers.sources import register_order_source

    register_order_source(ShopOrder, to_order_data=shop_order_to_order_data, account=get_shop_account)

After each save of a ``ShopOrder`` (once the surrounding transaction commits, so inline lines are
saved too) the adapter turns it into ``OrderData`` and the ingestion service records it.
"""

from django.db import transaction
from django.db.models.signals import post_save

_registered = {}


def register_order_source(model, *, to_order_data, account):
    """Connect ``model``'s saves to the ingestion service.

    ``to_order_data(instance) -> OrderData | None`` converts a saved instance (``None`` skips it);
    ``account(instance) -> SellerAccount`` names the seller account it belongs to.
    """

    def on_save(sender, instance, raw=False, **kwargs):
        if raw:  # loaddata: fixtures are not orders being placed
            return
        pk = instance.pk
        # robust: a ledger problem must not turn the shop's saved order into an error page; it is
        # logged, and the nightly reconciliation or a re-save records the order.
        transaction.on_commit(lambda: _ingest(model, pk, to_order_data, account), robust=True)

    _registered[model] = on_save
    post_save.connect(on_save, sender=model, weak=False, dispatch_uid=f"wagtail_customers:{model._meta.label}")


def _ingest(model, pk, to_order_data, account):
    from .services.ingestion import record_order

    instance = model._default_manager.filter(pk=pk).first()
    if instance is None:
        return
    order_data = to_order_data(instance)
    if order_data is not None:
        record_order(account(instance), order_data)
