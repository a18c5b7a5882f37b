"""The plugin's periodic Celery tasks, ready to merge into a site's ``CELERY_BEAT_SCHEDULE``.

Importable from settings (it imports nothing from Django)::

    from wagtail_customers.beat import BEAT_SCHEDULE

    CELERY_BEAT_SCHEDULE = {**BEAT_SCHEDULE}

The same schedule as docs/howto/reconciliation.md shows.
"""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Retry or fail export jobs whose worker stopped (no heartbeat for EXPORT_STALE_SECONDS).
    "wagtail-customers-sweep-export-jobs": {
        "task": "wagtail_customers.sweep_export_jobs",
        "schedule": crontab(minute="*/5"),
    },
    # Delete export files past EXPORT_EXPIRY_HOURS (their links then say the export expired) and files
    # whose owner lost the export grant.
    "wagtail-customers-delete-expired-exports": {
        "task": "wagtail_customers.delete_expired_exports",
        "schedule": crontab(minute=15),
    },
    # Delete uploaded import files whose preview nobody applied or cancelled within IMPORT_PREVIEW_EXPIRY_HOURS.
    "wagtail-customers-expire-import-previews": {
        "task": "wagtail_customers.expire_import_previews",
        "schedule": crontab(minute=45),
    },
    # Daily exchange-rate refresh from EXCHANGE_RATES_URL (does nothing while it is None); the ECB publishes its
    # reference rates around 16:00 CET on working days.
    "wagtail-customers-refresh-exchange-rates": {
        "task": "wagtail_customers.refresh_exchange_rates",
        "schedule": crontab(hour=17, minute=5),
    },
    # Daily: erase the personal data of customers past their seller account's retention rule (RetentionRule).
    "wagtail-customers-apply-retention-rules": {
        "task": "wagtail_customers.apply_retention_rules",
        "schedule": crontab(hour=2, minute=45),
    },
    # Pull every connected store that is due (SYNC_INTERVAL_SECONDS after its last sync, or its back-off after an
    # error); docs/howto/connect-a-store.md.
    "wagtail-customers-sync-due-connections": {
        "task": "wagtail_customers.sync_due_connections",
        "schedule": crontab(minute="*/5"),
    },
    # Nightly reconciliation of the customers' statistics with their orders.
    "wagtail-customers-rebuild-statistics": {
        "task": "wagtail_customers.rebuild_statistics",
        "schedule": crontab(hour=3, minute=30),
    },
    # Daily, after the reconciliation: RFM scores and groups, and the predicted value model of every seller account
    # (docs/concepts/buyer-insight.md).
    "wagtail-customers-refresh-buyer-insight": {
        "task": "wagtail_customers.refresh_buyer_insight",
        "schedule": crontab(hour=4, minute=15),
    },
    # Daily: every enabled watchlist rule over all its account's customers (rules also run on each batch of orders
    # recorded; this catches figures that move with the calendar, and orders recorded without the signal).
    "wagtail-customers-apply-watchlist-rules": {
        "task": "wagtail_customers.apply_watchlist_rules",
        "schedule": crontab(hour=4, minute=45),
    },
    # Alert digests by e-mail for the users who chose daily (also what an "immediately" e-mail left behind) or
    # weekly digests (docs/howto/alerts.md).
    "wagtail-customers-send-daily-alert-digests": {
        "task": "wagtail_customers.send_alert_digests",
        "schedule": crontab(hour=7, minute=0),
        "args": ("daily",),
    },
    "wagtail-customers-send-weekly-alert-digests": {
        "task": "wagtail_customers.send_alert_digests",
        "schedule": crontab(hour=7, minute=10, day_of_week=1),
        "args": ("weekly",),
    },
}
