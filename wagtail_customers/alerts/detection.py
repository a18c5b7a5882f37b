"""Turning what the ingestion service recorded into alerts, set-based (a few queries per batch, not per order).

The ingestion service says with ``orders_recorded`` which orders are new, which have a new return and which
have new negative feedback (``services/order_news.py``); an order recorded again unchanged is in none of
these, so a re-import alerts nobody. Of those orders, the ones whose customer is on the watchlist become an
``AlertEvent`` each, and each event an ``AlertNotification`` for every user watching the seller account
(``recipients``). Users who want e-mails "immediately" get a digest task queued once the alerts commit.
"""

import logging

from django.db import transaction
from django.db.models import F

from ..models import AlertEvent, AlertKind, AlertNotification, EmailFrequency, Order
from ..signals import orders_recorded
from .recipients import recipients_for

logger = logging.getLogger("wagtail_customers.alerts")


def record_alerts(account, *, created_order_ids=(), returned_order_ids=(), negative_feedback_order_ids=()):
    """Record the events of watched customers among these orders and notify their watchers; returns the events."""
    kinds = [
        (AlertKind.ORDER, created_order_ids),
        (AlertKind.RETURN, returned_order_ids),
        (AlertKind.NEGATIVE_FEEDBACK, negative_feedback_order_ids),
    ]
    order_ids = {order_id for _, ids in kinds for order_id in ids}
    if not order_ids:
        return []
    watched_orders = Order.objects.filter(pk__in=order_ids, account=account, customer__watchlist_entry__isnull=False)
    watched = dict(watched_orders.values_list("pk", "customer_id"))
    # A new order placed before the customer went on the watchlist (a backfill of a newly connected store, an import
    # of past years) is history coming in, not the customer acting: no alert for it, whether it was an order, a
    # return or bad feedback. A return or feedback on an order already stored is news whenever the order was placed.
    past_orders = set(
        watched_orders.filter(
            pk__in=created_order_ids, placed_at__lt=F("customer__watchlist_entry__created_at")
        ).values_list("pk", flat=True)
    )
    kinds = [(kind, [order_id for order_id in ids if order_id not in past_orders]) for kind, ids in kinds]
    if not watched:
        return []
    recipients = recipients_for(account)
    with transaction.atomic():
        events = AlertEvent.objects.bulk_create(
            [
                AlertEvent(account=account, customer_id=watched[order_id], order_id=order_id, kind=kind)
                for kind, ids in kinds
                for order_id in ids
                if order_id in watched
            ]
        )
        AlertNotification.objects.bulk_create(
            [
                AlertNotification(
                    event=event,
                    user_id=recipient.user_id,
                    in_admin=recipient.in_admin,
                    email_due=recipient.wants_email,
                )
                for event in events
                for recipient in recipients
            ]
        )
        immediate = [r.user_id for r in recipients if r.email_frequency == EmailFrequency.IMMEDIATELY]
        if immediate:
            transaction.on_commit(lambda: _queue_digests(immediate))
    return events


def _queue_digests(user_ids):
    from ..task_queue import task_queue_configured
    from .digests import send_digest
    from .tasks import send_alert_digest_task

    # A site without a task queue sends them here (as eager tasks would), rather than wait on a broker
    # that is not there.
    queued = task_queue_configured()
    for user_id in user_ids:
        try:
            if queued:
                send_alert_digest_task.delay(user_id)
            else:
                send_digest(user_id)
        except Exception:  # noqa: BLE001 - the alerts stay due: the daily run sends them
            logger.exception("Could not queue or send the alert digest of user %s", user_id)


def on_orders_recorded(sender, account, **kwargs):
    """``orders_recorded`` receiver. It runs after the orders committed: a failure here is logged and never
    turns a recorded import or sync into an error."""
    try:
        record_alerts(
            account,
            created_order_ids=kwargs.get("created_order_ids", ()),
            returned_order_ids=kwargs.get("returned_order_ids", ()),
            negative_feedback_order_ids=kwargs.get("negative_feedback_order_ids", ()),
        )
    except Exception:  # noqa: BLE001
        logger.exception("Could not record the alerts of a batch of orders of seller account %s", account.pk)


def connect():
    orders_recorded.connect(on_orders_recorded, dispatch_uid="wagtail_customers.alerts")
