"""Celery tasks. They take ids, re-fetch what they need and run on any worker."""

from celery import shared_task

# Each feature's tasks live with the feature; importing them here lets Celery's autodiscovery find them.
from .alerts.tasks import send_alert_digest_task, send_alert_digests_task  # noqa: F401
from .channels.tasks import (  # noqa: F401
    process_channel_webhook_task,
    sync_connection_task,
    sync_due_connections_task,
)
from .exports.tasks import delete_expired_exports, run_export_job, sweep_export_jobs  # noqa: F401
from .importers.tasks import expire_import_previews, run_import_job  # noqa: F401
from .insight.tasks import refresh_buyer_insight_task  # noqa: F401
from .task_routing import QueuedTask
from .watchlist_rules.tasks import apply_watchlist_rules_task, run_watchlist_rule_task  # noqa: F401


@shared_task(
    base=QueuedTask, name="wagtail_customers.rebuild_statistics", acks_late=True, soft_time_limit=3600, time_limit=3700
)
def rebuild_statistics_task(account_id=None):
    """Nightly reconciliation: recompute every customer's statistics; returns rows corrected."""
    from .models import SellerAccount
    from .services.statistics import rebuild_statistics

    account = SellerAccount.objects.get(pk=account_id) if account_id is not None else None
    return rebuild_statistics(account)


@shared_task(base=QueuedTask, name="wagtail_customers.rebuild_statistics_chunked", acks_late=True)
def rebuild_statistics_chunked_task(account_id=None):
    """The nightly reconciliation split by customer id range across the workers (services/rebuild_chunks.py):
    sends the chord of ``rebuild_statistics_chunk`` tasks and ``finish_statistics_rebuild``; returns the number
    of chunks. Needs Celery's result backend."""
    from .services.rebuild_chunks import start_chunked_rebuild

    return start_chunked_rebuild(account_id)[0]


@shared_task(
    base=QueuedTask,
    name="wagtail_customers.rebuild_statistics_chunk",
    # A chunk whose worker is killed is delivered again, alone: a chunk is one statement in one transaction
    # (rolled back with the worker), and running it again gives the same figures.
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=3600,
    time_limit=3700,
)
def rebuild_statistics_chunk(low, high, account_id=None):
    """Recompute the statistics of the customers with ids in ``[low, high)``; returns rows corrected."""
    from .services.rebuild_chunks import rebuild_chunk

    return rebuild_chunk(low, high, account_id)


@shared_task(
    base=QueuedTask,
    name="wagtail_customers.finish_statistics_rebuild",
    acks_late=True,
    soft_time_limit=3600,
    time_limit=3700,
)
def finish_statistics_rebuild(corrected, account_id=None):
    """The chord's final step, once after every chunk: the listing summary rebuilt; returns rows corrected."""
    from .services.rebuild_chunks import finish_rebuild

    return finish_rebuild(corrected, account_id)


@shared_task(base=QueuedTask, name="wagtail_customers.refresh_scores_chunked", acks_late=True)
def refresh_scores_chunked_task(account_id=None):
    """The RFM scores refresh (and the predicted-value refit) split by customer id range across the workers
    (services/rebuild_chunks.py): sends the chord of ``refresh_scores_chunk`` tasks and ``finish_scores_refresh``;
    returns the number of chunks. Needs Celery's result backend."""
    from .services.rebuild_chunks import start_chunked_scores

    return start_chunked_scores(account_id)[0]


@shared_task(
    base=QueuedTask,
    name="wagtail_customers.refresh_scores_chunk",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=3600,
    time_limit=3700,
)
def refresh_scores_chunk_task(low, high, account_id=None, scored_at=None):
    """Write the RFM scores of the customers with ids in ``[low, high)`` (ranked within their whole account)."""
    from .services.rebuild_chunks import refresh_scores_chunk

    refresh_scores_chunk(low, high, account_id, scored_at)


@shared_task(
    base=QueuedTask,
    name="wagtail_customers.finish_scores_refresh",
    acks_late=True,
    soft_time_limit=3600,
    time_limit=3700,
)
def finish_scores_refresh_task(results, account_id=None):
    """The scores chord's final step, once: every account's predicted-value model refitted; returns customers
    scored."""
    from .services.rebuild_chunks import finish_scores_refresh

    return finish_scores_refresh(account_id)


@shared_task(
    base=QueuedTask,
    name="wagtail_customers.refresh_exchange_rates",
    acks_late=True,
    soft_time_limit=1800,
    time_limit=1900,
)
def refresh_exchange_rates_task():
    """Daily: update the exchange-rate table from ``EXCHANGE_RATES_URL`` and convert the orders it now can.

    Returns the number of orders converted, or ``None`` when no URL is configured (no scheduled refresh).
    """
    from .conf import get_setting
    from .services.rate_refresh import refresh_rates

    url = get_setting("EXCHANGE_RATES_URL")
    if not url:
        return None
    return refresh_rates(url).orders_converted


@shared_task(
    base=QueuedTask,
    name="wagtail_customers.apply_retention_rules",
    acks_late=True,
    soft_time_limit=3600,
    time_limit=3700,
)
def apply_retention_rules_task():
    """Daily: erase the personal data of customers past their seller account's retention rule.

    Returns ``{account id: customers erased}``. Running it twice erases nothing more (erased customers are
    never selected again), so a redelivered task is harmless.
    """
    from .services.retention import apply_retention

    return {result.rule.account_id: result.customers for result in apply_retention()}
