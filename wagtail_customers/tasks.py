"""Celery tasks. They take ids, re-fetch what they need and run on any worker."""

from celery import shared_task


@shared_task(name="wagtail_customers.rebuild_statistics", acks_late=True, soft_time_limit=3600, time_limit=3700)
def rebuild_statistics_task(account_id=None):
    """Nightly reconciliation: recompute every customer's statistics; returns rows corrected."""
    from .models import SellerAccount
    from .services.statistics import rebuild_statistics

    account = SellerAccount.objects.get(pk=account_id) if account_id is not None else None
    return rebuild_statistics(account)
