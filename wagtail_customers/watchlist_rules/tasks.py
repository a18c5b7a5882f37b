"""Watchlist rules as a Celery task (scheduled daily by ``beat.BEAT_SCHEDULE``)."""

from celery import shared_task

from ..task_routing import QueuedTask


@shared_task(
    base=QueuedTask,
    name="wagtail_customers.apply_watchlist_rules",
    acks_late=True,
    soft_time_limit=3600,
    time_limit=3700,
)
def apply_watchlist_rules_task(account_id=None):
    """Apply the enabled watchlist rules of one seller account, or of every account, to all their customers;
    returns the number of customers put on the watchlist. Idempotent: a second run adds no one (customers on
    the watchlist never match again)."""
    from ..models import SellerAccount
    from ..services.watchlist_rules import apply_rules

    account = SellerAccount.objects.filter(pk=account_id).first() if account_id is not None else None
    if account_id is not None and account is None:
        return 0
    return sum(apply_rules(account).values())
