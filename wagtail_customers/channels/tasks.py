"""Celery tasks of the channel connections (imported by ``wagtail_customers.tasks`` for autodiscovery).

Each takes ids and re-reads the connection, so any worker of the sync queue can run any of them. Two syncs of
one connection never run at once (its lease, ``services/channel_sync.py``): a sync that finds the lease taken
is not dropped but deferred, retried ``SYNC_BUSY_RETRY_SECONDS`` later (a few times, then the scheduler's next
round covers it); one the scheduler queued is not retried, and does nothing when a sync of its connection started
since it was queued. A webhook delivery id already recorded is a no-op, and a delivery waits for the page a sync
of its connection is committing (a row lock), so either one sees the other's orders.
"""

from celery import shared_task

from ..task_routing import QueuedTask

#: Deferrals of a sync that found its connection busy before it gives up (the scheduler queues it again anyway
#: once the connection is due).
BUSY_MAX_RETRIES = 20


@shared_task(
    base=QueuedTask,
    bind=True,
    name="wagtail_customers.sync_connection",
    acks_late=True,
    # A worker killed mid-sync leaves its lease to lapse; the scheduler starts the next sync, which resumes
    # from the last committed page. Requeueing the message too would only add a second delivery.
    reject_on_worker_lost=False,
    max_retries=BUSY_MAX_RETRIES,
    ignore_result=True,
)
def sync_connection_task(self, connection_id, kind=None, queued_at=None):
    """Pull (or backfill) one connection; returns the run's outcome, "busy" when another sync holds it (the task
    is then retried later on a worker), or "skipped" (paused, never connected or deleted).

    ``queued_at`` (an ISO 8601 time) is when the scheduler queued it: a sync of the connection started since then
    makes it "skipped" (the scheduler queues a due connection at every round until a sync starts, so several may
    wait in the queue), and it is not retried when busy (the scheduler's next round covers it). Without it ("Sync
    now", and messages queued before it was passed), the sync always runs."""
    from django.utils.dateparse import parse_datetime

    from ..conf import get_setting
    from ..services.channel_sync import connection_is_busy, sync_connection

    scheduled_at = parse_datetime(queued_at) if queued_at else None
    result = sync_connection(connection_id, kind=kind, queued_at=scheduled_at)
    if result:
        return result.outcome
    if not connection_is_busy(connection_id):
        return "skipped"
    if (
        scheduled_at is not None
        or self.request.is_eager
        or self.request.called_directly
        or self.request.retries >= BUSY_MAX_RETRIES
    ):
        return "busy"
    raise self.retry(countdown=get_setting("SYNC_BUSY_RETRY_SECONDS"))


@shared_task(base=QueuedTask, name="wagtail_customers.sync_due_connections", ignore_result=True)
def sync_due_connections_task():
    """Beat, every few minutes: queue a sync of every connection that is due; forget old delivery ids and runs.

    Each sync is queued with the time (``queued_at``): one that finds a sync of its connection started since
    then does nothing, so the copies a busy queue gathers over several rounds pull the store once."""
    from django.utils import timezone

    from ..services.channel_sync import due_connection_ids, forget_old_deliveries

    now = timezone.now()
    due = due_connection_ids(now)
    for connection_id in due:
        sync_connection_task.delay(connection_id, queued_at=now.isoformat())
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
