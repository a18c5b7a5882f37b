"""Feeding a host shop's own orders into the ledger as they are placed.

A shop registers its order model once (in its ``AppConfig.ready``)::

    from wagtail_customers.sources import register_order_source

    register_order_source(ShopOrder, to_order_data=shop_order_to_order_data, account=get_shop_account)

After each save of a ``ShopOrder`` (once the surrounding transaction commits, so lines saved in the same
transaction are read too) the adapter turns it into ``OrderData`` and the ingestion service records it. A recording
that fails is logged under ``wagtail_customers.sources``; the order's next save records it.
"""

import logging

from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist
from django.db import transaction
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger(__name__)

#: ``{model: (to_order_data, account)}``: what each registered model is recorded with.
_registered = {}


def register_order_source(model, *, to_order_data, account, record_deletes=False):
    """Connect ``model``'s saves to the ingestion service.

    ``to_order_data(instance) -> OrderData | None`` converts a saved instance (``None`` skips it);
    ``account(instance) -> SellerAccount`` names the seller account it belongs to. With ``record_deletes`` a
    deletion records too, from the deleted instance (for a model of an order's parts, whose order is still there).
    Registering a model again with the same arguments changes nothing; with others it raises
    ``ImproperlyConfigured`` (one model, one way in).
    """
    for name, value in (("to_order_data", to_order_data), ("account", account)):
        if not callable(value):
            raise TypeError(
                f"register_order_source({model.__name__}): {name} must be a function of the saved instance, not "
                f"{type(value).__name__}."
            )
    if model in _registered:
        if _registered[model] == (to_order_data, account, record_deletes):
            return
        raise ImproperlyConfigured(
            f"{model._meta.label} is already registered with register_order_source, with other functions or "
            "another record_deletes; a model's orders are recorded one way."
        )

    def on_save(sender, instance, raw=False, **kwargs):
        if raw:  # loaddata: fixtures are not orders being placed
            return
        pk = instance.pk
        # After the commit, so the order's lines saved in the same transaction are read too; a ledger problem
        # must not turn the shop's saved order into an error page: it is logged, and a re-save records the order.
        transaction.on_commit(lambda: _ingest(model, pk, to_order_data, account), robust=True)

    def on_delete(sender, instance, **kwargs):
        pk = instance.pk  # Django clears it once the deletion is done
        transaction.on_commit(lambda: _ingest_deleted(model, pk, instance, to_order_data, account), robust=True)

    _registered[model] = (to_order_data, account, record_deletes)
    post_save.connect(on_save, sender=model, weak=False, dispatch_uid=f"wagtail_customers:{model._meta.label}")
    if record_deletes:
        post_delete.connect(
            on_delete, sender=model, weak=False, dispatch_uid=f"wagtail_customers:{model._meta.label}:delete"
        )


def _ingest(model, pk, to_order_data, account):
    from .services.ingestion import record_order

    try:
        instance = model._default_manager.filter(pk=pk).first()
        if instance is None:
            return
        order_data = to_order_data(instance)
        if order_data is not None:
            record_order(account(instance), order_data)
    except Exception:
        # Named here (Django's own log of a failed on_commit callback names only a lambda); not raised again, as
        # robust=True would not either.
        logger.exception("%s %s was saved but not recorded as an order", model._meta.label, pk)


def _ingest_deleted(model, pk, instance, to_order_data, account):
    from .services.ingestion import record_order

    try:
        try:
            order_data = to_order_data(instance)
        except ObjectDoesNotExist:
            return  # its order was deleted with it: nothing left to record
        if order_data is not None:
            record_order(account(instance), order_data)
    except Exception:
        logger.exception("%s %s was deleted but its order not recorded again", model._meta.label, pk)
