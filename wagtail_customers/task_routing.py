"""Which Celery queue each of the plugin's tasks goes to: one queue per kind of work.

A site can then give each kind its own workers (docs/howto/deployment.md): long exports do not hold up a
store's sync, and the nightly maintenance does not hold up an import someone is waiting for. The four
queues are ``wagtail_customers.exports``, ``.imports``, ``.sync`` and ``.maintenance``; the
``TASK_QUEUES`` setting renames them, or sends a kind (or everything, with ``None``) to the site's default
queue.

Every plugin task is made with ``base=QueuedTask``, which adds its queue when it is sent (``delay``,
``apply_async``, beat, retries, groups and chords all send through ``apply_async``). A queue given
explicitly when sending, or a route of the site's own ``CELERY_TASK_ROUTES`` for the task, wins.

Importable from settings (Django is only used when a task is sent): ``DEFAULT_QUEUES`` lists the default
queue names, e.g. for ``CELERY_TASK_QUEUES`` (a worker started without ``-Q`` then consumes them all).
"""

from celery import Task

#: The kinds of work and their default queue names (the ``TASK_QUEUES`` setting's default).
DEFAULT_TASK_QUEUES = {
    "exports": "wagtail_customers.exports",
    "imports": "wagtail_customers.imports",
    "sync": "wagtail_customers.sync",
    "maintenance": "wagtail_customers.maintenance",
}
DEFAULT_QUEUES = tuple(DEFAULT_TASK_QUEUES.values())

#: The kind of work of every plugin task, by task name: the one place a new task gets its queue
#: (tests/test_task_routing.py fails for a registered plugin task missing here).
TASK_KINDS = {
    "wagtail_customers.run_export_job": "exports",
    "wagtail_customers.write_export_chunk": "exports",
    "wagtail_customers.join_export_chunks": "exports",
    "wagtail_customers.run_import_job": "imports",
    "wagtail_customers.sync_connection": "sync",
    "wagtail_customers.sync_due_connections": "sync",
    "wagtail_customers.process_channel_webhook": "sync",
    "wagtail_customers.sweep_export_jobs": "maintenance",
    "wagtail_customers.delete_expired_exports": "maintenance",
    "wagtail_customers.expire_import_previews": "maintenance",
    "wagtail_customers.rebuild_statistics": "maintenance",
    "wagtail_customers.rebuild_statistics_chunked": "maintenance",
    "wagtail_customers.rebuild_statistics_chunk": "maintenance",
    "wagtail_customers.finish_statistics_rebuild": "maintenance",
    "wagtail_customers.refresh_scores_chunked": "maintenance",
    "wagtail_customers.refresh_scores_chunk": "maintenance",
    "wagtail_customers.finish_scores_refresh": "maintenance",
    "wagtail_customers.refresh_exchange_rates": "maintenance",
    "wagtail_customers.apply_retention_rules": "maintenance",
    "wagtail_customers.refresh_buyer_insight": "maintenance",
    "wagtail_customers.apply_watchlist_rules": "maintenance",
    "wagtail_customers.run_watchlist_rule": "maintenance",
    "wagtail_customers.send_alert_digests": "maintenance",
    "wagtail_customers.send_alert_digest": "maintenance",
}


def configured_queues():
    """{kind: queue name or None} from the ``TASK_QUEUES`` setting (None: every kind on the default queue)."""
    from .conf import get_setting

    configured = get_setting("TASK_QUEUES")
    if configured is None:
        return dict.fromkeys(DEFAULT_TASK_QUEUES)
    return {**DEFAULT_TASK_QUEUES, **configured}


def queue_for(task_name):
    """The queue a plugin task is sent to, or None for the site's default queue (``task_default_queue``)."""
    kind = TASK_KINDS.get(task_name)
    return configured_queues().get(kind) if kind else None


def queue_names():
    """The queues the plugin's tasks may be sent to, as the site's settings name them (for ``celery worker -Q``)."""
    return sorted({name for name in configured_queues().values() if name})


class QueuedTask(Task):
    """A Celery task sent to its kind's queue (see the module's docstring)."""

    def apply_async(self, args=None, kwargs=None, **options):
        if not any(options.get(key) for key in ("queue", "routing_key", "exchange")):
            queue = queue_for(self.name)
            if queue and not self._routed_by_site(args, kwargs, options):
                options["queue"] = queue
        return super().apply_async(args, kwargs, **options)

    def _routed_by_site(self, args, kwargs, options):
        router = self.app.amqp.router
        return bool(router.routes) and bool(router.lookup_route(self.name, args, kwargs, options, self))
