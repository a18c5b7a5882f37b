"""Watchlist rules as Celery tasks: all the enabled rules (scheduled daily by ``beat.BEAT_SCHEDULE``), and one rule
(the rules page's "Run now")."""

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


@shared_task(
    base=QueuedTask,
    name="wagtail_customers.run_watchlist_rule",
    acks_late=True,
    soft_time_limit=3600,
    time_limit=3700,
)
def run_watchlist_rule_task(rule_id):
    """The rules page's "Run now": apply one rule to all its account's customers; returns the number of customers put
    on the watchlist, or None when the rule was deleted or disabled since it was queued (it adds no one then).
    Idempotent, as the daily task: a second run, even at the same time, adds no one twice (``add_matching`` reads
    the matches again once it holds the customers' rows)."""
    from ..models import WatchlistRule
    from ..services.watchlist_rules import apply_rule

    rule = WatchlistRule.objects.filter(pk=rule_id, is_enabled=True).select_related("account").first()
    if rule is None:
        return None
    return apply_rule(rule)
