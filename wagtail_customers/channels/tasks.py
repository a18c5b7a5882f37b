"""Celery tasks of the channel connections (imported by ``wagtail_customers.tasks`` for autodiscovery).

Each takes ids and re-reads the connection. Delivering a task twice is harmless: a sync that finds the
connection's lease taken returns at once, and a webhook delivery id already recorded is a no-op.
"""

from celery import shared_task

from ..task_routing import QueuedTask


@shared_task(
    base=QueuedTask,
    name="wagtail_customers.sync_connection",
    acks_late=True,
    # A worker killed mid-sync leaves its lease to lapse; the scheduler starts the next sync, which resumes
    # from the last committed page. Requeueing the message too would only add a second delivery.
    reject_on_worker_lost=False,
    ignore_result=True,
)
def sync_connection_task(connection_id, kind=None):
    """Pull (or backfill) one connection; returns the run's outcome, or "busy" when another sync holds it."""
    from ..services.channel_sync import sync_connection

    result = sync_connection(connection_id, kind=kind)
    return result.outcome if result else "busy"


@shared_task(base=QueuedTask, name="wagtail_customers.sync_due_connections", ignore_result=True)
def sync_due_connections_task():
    """Beat, every few minutes: queue a sync of every connection that is due; forget old delivery ids and runs."""
    from ..services.channel_sync import due_connection_ids, forget_old_deliveries

    due = due_connection_ids()
    for connection_id in due:
        sync_connection_task.delay(connection_id)
    forget_old_deliveries()
    return len(due)


@shared_task(base=QueuedTask, name="wagtail_customers.process_channel_webhook", acks_late=True, ignore_result=True)
def process_channel_webhook_task(connection_id, topic, payload, delivery_id="", received_at=None):
    """Record one verified webhook delivery (queued by the webhook endpoint)."""
    from django.utils.dateparse import parse_datetime

    from ..services.channel_sync import process_webhook

    return process_webhook(
        connection_id,
        topic,
        payload,
        delivery_id,
        received_at=parse_datetime(received_at) if received_at else None,
    )
