"""Celery tasks of the alerts (imported by ``wagtail_customers.tasks`` for autodiscovery). They take ids."""

from celery import shared_task

from ..task_routing import QueuedTask


@shared_task(
    base=QueuedTask, name="wagtail_customers.send_alert_digest", acks_late=True, soft_time_limit=300, time_limit=360
)
def send_alert_digest_task(user_id):
    """E-mail one user the alerts due to them (queued after new alerts for users who chose "immediately");
    returns alerts e-mailed. Delivered twice, the second finds nothing due."""
    from .digests import send_digest

    return send_digest(user_id)


@shared_task(
    base=QueuedTask, name="wagtail_customers.send_alert_digests", acks_late=True, soft_time_limit=3600, time_limit=3700
)
def send_alert_digests_task(frequency):
    """The scheduled digests (``"daily"`` or ``"weekly"``, ``beat.BEAT_SCHEDULE``); returns alerts e-mailed."""
    from .digests import send_scheduled_digests

    return sum(send_scheduled_digests(frequency).values())
