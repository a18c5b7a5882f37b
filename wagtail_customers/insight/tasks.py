"""The buyer-insight refresh as a Celery task (scheduled daily by ``beat.BEAT_SCHEDULE``)."""

from celery import shared_task

from ..task_routing import QueuedTask


@shared_task(
    base=QueuedTask,
    name="wagtail_customers.refresh_buyer_insight",
    acks_late=True,
    soft_time_limit=3600,
    time_limit=3700,
)
def refresh_buyer_insight_task(account_id=None):
    """Recompute the RFM scores and refit the predicted-value model of one seller account, or of every account;
    returns the number of customers scored. Idempotent: a task run twice leaves what one run leaves. An account
    that fails is logged and the others are still refreshed; then the task fails with the first error."""
    from ..models import SellerAccount
    from ..services.lifetime_value_fit import for_each_account, refit_account
    from ..services.scores import refresh_scores

    accounts = SellerAccount.objects.order_by("pk")
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    scored = 0

    def refresh(account):
        nonlocal scored
        scored += refresh_scores([account.pk])
        refit_account(account)

    for_each_account(accounts, refresh)
    return scored
