"""Watchlist rules run on the customers of each batch of orders recorded (``signals.orders_recorded``)."""

import logging

from ..signals import orders_recorded

logger = logging.getLogger(__name__)

DISPATCH_UID = "wagtail_customers.watchlist_rules.apply_on_orders_recorded"


def apply_rules_to_batch(sender, account, order_ids, customer_ids, **kwargs):
    """The account's rules over the batch's customers only. The orders are committed by now (the signal is sent
    after commit): a failure here is logged and left to the daily run, never raised into the import."""
    from ..services.watchlist_rules import apply_rules

    if not customer_ids:
        return
    try:
        apply_rules(account, customer_ids)
    except Exception:
        logger.exception("Watchlist rules of seller account %s failed on a batch of orders", account.pk)


def connect():
    orders_recorded.connect(apply_rules_to_batch, dispatch_uid=DISPATCH_UID)
