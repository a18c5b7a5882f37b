"""A queue per kind of work (wagtail_customers/task_routing.py), on a real Redis broker and a real worker.

The routing tests publish to Redis with no worker running and read where each message landed (kombu's Redis
transport keeps a queue's messages in a list named after the queue); the worker test starts a worker that
listens on the maintenance queue only.
"""

import pytest
import redis
from celery import current_app

from tests.celery_fixtures import _reset_publisher, use_celery_settings, wait_for
from tests.factories import order_data
from wagtail_customers.channels.tasks import process_channel_webhook_task, sync_connection_task
from wagtail_customers.exports.tasks import run_export_job, sweep_export_jobs
from wagtail_customers.importers.tasks import run_import_job
from wagtail_customers.models import Customer
from wagtail_customers.services.ingestion import record_order
from wagtail_customers.task_routing import DEFAULT_QUEUES, TASK_KINDS, QueuedTask, queue_names
from wagtail_customers.tasks import rebuild_statistics_task, run_watchlist_rule_task

SYNC = "wagtail_customers.sync"
MAINTENANCE = "wagtail_customers.maintenance"


def test_every_plugin_task_has_a_kind_and_sends_through_its_queue():
    import wagtail_customers.tasks  # noqa: F401 (registers every plugin task)

    plugin_tasks = {name: task for name, task in current_app.tasks.items() if name.startswith("wagtail_customers.")}
    assert set(plugin_tasks) <= set(TASK_KINDS)
    assert all(isinstance(task, QueuedTask) for task in plugin_tasks.values())
    assert set(TASK_KINDS.values()) == {"exports", "imports", "sync", "maintenance"}


def test_the_setting_renames_a_queue_or_turns_them_off(settings):
    assert queue_names() == sorted(DEFAULT_QUEUES)
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "TASK_QUEUES": {"exports": "site-exports"}}
    assert queue_names() == sorted(["site-exports", *DEFAULT_QUEUES[1:]])
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "TASK_QUEUES": None}
    assert queue_names() == []


@pytest.fixture
def broker(redis_url, settings):
    """This process publishing to the real Redis, no worker; the queues emptied before and after."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    use_celery_settings(settings, broker_url=redis_url, task_always_eager=False)
    yield client
    client.flushdb()
    _reset_publisher(current_app._get_current_object())


def waiting(client, queue):
    return client.llen(queue)


@pytest.mark.worker
def test_each_task_is_published_to_its_kind_s_queue(broker):
    run_export_job.delay(1)
    run_import_job.delay(1, "check")
    sync_connection_task.delay(1)
    process_channel_webhook_task.delay(1, "orders/create", {}, "d-1")
    sweep_export_jobs.delay()
    rebuild_statistics_task.delay()
    run_watchlist_rule_task.delay(1)
    assert {queue: waiting(broker, queue) for queue in (*DEFAULT_QUEUES, "celery")} == {
        "wagtail_customers.exports": 1,
        "wagtail_customers.imports": 1,
        SYNC: 2,
        MAINTENANCE: 3,
        "celery": 0,
    }


@pytest.mark.worker
def test_a_renamed_queue_a_kind_turned_off_and_an_explicit_queue(broker, settings):
    settings.WAGTAIL_CUSTOMERS = {
        **settings.WAGTAIL_CUSTOMERS,
        "TASK_QUEUES": {"exports": "site-exports", "maintenance": None},
    }
    run_export_job.delay(1)
    sweep_export_jobs.delay()
    sync_connection_task.apply_async((1,), queue="urgent")
    assert waiting(broker, "site-exports") == 1
    assert waiting(broker, "celery") == 1  # maintenance: the site's default queue
    assert waiting(broker, "urgent") == 1 and waiting(broker, SYNC) == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_one_queue_runs_only_that_kind(account, celery_worker, redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    customer = record_order(account, order_data("A-1", email="ada@example.com")).customer
    Customer.objects.filter(pk=customer.pk).update(orders_count=99)
    celery_worker(queues=[MAINTENANCE])
    sync_connection_task.delay(123456)
    rebuild_statistics_task.delay(account.pk)

    wait_for(lambda: Customer.objects.get(pk=customer.pk).orders_count == 1, 60, "the rebuild on the worker")
    # The sync was not taken by that worker: it waits, whole, in its own queue for a sync worker.
    assert waiting(client, SYNC) == 1
    client.flushdb()


def refresh_routes(app):
    """Make the app's router read ``task_routes`` again (Celery builds it once)."""
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)


@pytest.mark.worker
def test_a_route_of_the_site_s_own_wins(broker, settings):
    app = use_celery_settings(settings, task_routes={"wagtail_customers.run_export_job": {"queue": "site-exports"}})
    refresh_routes(app)
    try:
        run_export_job.delay(1)
        sweep_export_jobs.delay()
    finally:
        del settings.CELERY_TASK_ROUTES
        refresh_routes(app)
    assert waiting(broker, "site-exports") == 1 and waiting(broker, "wagtail_customers.exports") == 0
    assert waiting(broker, MAINTENANCE) == 1  # no route of the site's for it: the plugin's queue
