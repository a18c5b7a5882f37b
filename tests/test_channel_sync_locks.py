"""Never two syncs of one connection at once, across workers: the connection's lease (services/channel_sync.py).

The lease is a conditional UPDATE of the connection's row (``locked_until`` empty or past): one statement, so
on PostgreSQL and SQLite alike exactly one of two concurrent attempts takes it, and no transaction or row lock
is held for the minutes a sync spends talking to the channel (a killed worker's lease simply lapses). The
attempt that finds it taken is deferred, not lost: its task is retried later on a worker.

Two real concurrent attempts: threads with their own database connections (the first held inside its first
page), and a real worker whose task finds the lease taken, retries, and runs once it is free.
"""

import base64
import json
import threading

import pytest
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from tests.celery_fixtures import wait_for
from tests.connection_fixture_channel import FixtureChannel, connect, fixture_order, order_data
from tests.parallel_support import HOLD_SECONDS, in_thread
from tests.test_channel_shopify_engine import ALL, connection, shop  # noqa: F401 - fixtures
from tests.test_ingestion_parallel import (
    assert_stopped_and_run_again,
    deadlock_with_a_writer_out_of_order,
    deadlocks_so_far,
)
from tests.test_task_routing import SYNC, broker  # noqa: F401 - the fixture
from tests.test_watchlist_parallel import parallel_database  # noqa: F401 (the fixture)
from wagtail_customers.channels.tasks import sync_connection_task, sync_due_connections_task
from wagtail_customers.models import ChannelConnection, Order, SyncKind, SyncOutcome, SyncRun, SyncStatus
from wagtail_customers.services import channel_sync
from wagtail_customers.services.ingestion import record_orders


@pytest.mark.django_db(transaction=True)
def test_of_two_concurrent_syncs_of_one_connection_only_one_runs(httpserver, parallel_database):  # noqa: F811
    channel = FixtureChannel(httpserver, orders=[fixture_order(index) for index in range(35)])
    held = connect(channel, "Shop")
    first_page_asked, go_on = threading.Event(), threading.Event()

    def hold_first_page(request):
        if not first_page_asked.is_set():
            first_page_asked.set()
            go_on.wait(30)

    channel.before_page = hold_first_page
    results, errors = [], []
    first = in_thread(lambda: results.append(channel_sync.sync_connection(held.pk)), errors)
    try:
        assert first_page_asked.wait(30), errors
        # The second attempt, from this thread's own connection, while the first holds the lease mid-page.
        second = sync_connection_task.apply(args=(held.pk,)).get()
    finally:
        go_on.set()
        first.join(30)
    assert not errors, errors

    assert second == "busy"
    assert results[0].outcome == SyncOutcome.DONE and results[0].orders_created == 35
    # Only the first asked the channel for anything: four pages, once each.
    assert len(channel.order_requests) == 4
    assert SyncRun.objects.filter(connection=held).count() == 1
    assert Order.objects.filter(account=held.account).count() == 35
    assert not channel_sync.connection_is_busy(held.pk)


@pytest.mark.django_db
def test_a_sync_of_a_connection_nobody_holds_is_not_called_busy(httpserver):
    channel = FixtureChannel(httpserver)
    held = connect(channel, "Paused shop", start=False)
    assert sync_connection_task.apply(args=(held.pk,)).get() == "skipped"
    assert sync_connection_task.apply(args=(987654,)).get() == "skipped"


@pytest.mark.django_db(transaction=True)
def test_a_webhook_delivery_waits_for_the_page_a_sync_is_committing(httpserver, parallel_database):  # noqa: F811
    """Without the delivery's lock on its connection's row it read the order as not yet confirmed, then wrote its
    older copy over the page's, as pending. (PostgreSQL: SQLite runs one writing transaction at a time.)"""
    if db_connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    channel = FixtureChannel(httpserver)
    held = connect(channel, "Shop")
    token = channel_sync.take_lease(held.pk)
    received_at = timezone.now()  # the delivery was received before the page was fetched
    confirmed = fixture_order(1, total="12.00")
    page_open, delivery_started = threading.Event(), threading.Event()
    results, errors = [], []

    def commit_page():  # what a sync's page does: renew the lease on the row first, then record and confirm
        with transaction.atomic():
            assert channel_sync.renew_lease(held.pk, token)
            result = record_orders(held.account, [order_data(confirmed)])
            Order.objects.filter(pk__in=result.order_ids).update(synced_at=timezone.now())
            page_open.set()
            delivery_started.wait(10)
            threading.Event().wait(HOLD_SECONDS)

    def deliver():
        page_open.wait(10)
        delivery_started.set()
        stale = fixture_order(1, total="10.00")
        results.append(channel_sync.process_webhook(held.pk, "orders/updated", stale, "d-1", received_at=received_at))

    threads = [in_thread(commit_page, errors), in_thread(deliver, errors)]
    for thread in threads:
        thread.join(30)
    assert not errors, errors

    assert results == ["recorded"]
    order = Order.objects.get(account=held.account)
    assert order.sync_status == SyncStatus.SYNCED and str(order.total) == "12.00"


@pytest.mark.django_db(transaction=True)
def test_a_webhook_delivery_stopped_in_a_deadlock_is_recorded_at_once(httpserver, parallel_database):  # noqa: F811
    """Before, PostgreSQL's stop was recorded as a failed delivery and the order waited for the next pull."""
    channel = FixtureChannel(httpserver)
    held = connect(channel, "Shop")
    [order_pk] = record_orders(held.account, [order_data(fixture_order(1))]).order_ids
    deadlocks_before = deadlocks_so_far()
    results = []

    def deliver():
        # The ingestion service locks the buyer, then asks for the stored order, which the writer holds.
        delivery = fixture_order(1, total="12.00")
        results.append(channel_sync.process_webhook(held.pk, "orders/updated", delivery, "d-1"))

    errors, waited = deadlock_with_a_writer_out_of_order(order_pk, deliver)

    assert not errors, errors
    assert waited
    assert results == ["recorded"]
    assert SyncRun.objects.get(connection=held, kind=SyncKind.WEBHOOK).outcome == SyncOutcome.DONE
    order = Order.objects.get(pk=order_pk)
    assert str(order.total) == "12.00" and order.sync_status == SyncStatus.PENDING
    assert_stopped_and_run_again(deadlocks_before)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_sync_finding_its_connection_busy_on_a_worker_is_retried_not_lost(
    shop,  # noqa: F811
    connection,  # noqa: F811
    celery_worker,
):
    token = channel_sync.take_lease(connection.pk)  # another sync, elsewhere, holds the connection
    worker = celery_worker({"SYNC_BUSY_RETRY_SECONDS": 1}, queues=["wagtail_customers.sync"])
    sync_connection_task.delay(connection.pk)

    wait_for(lambda: "Retry in 1s" in worker.log(), 60, "the busy sync to be deferred")
    assert not SyncRun.objects.filter(connection=connection).exists()
    channel_sync.release_lease(connection.pk, token)

    run = wait_for(
        lambda: SyncRun.objects.filter(connection=connection, outcome=SyncOutcome.DONE).first(),
        120,
        "the deferred sync to run once the lease is free",
    )
    assert run.kind == SyncKind.BACKFILL and run.orders_created == ALL
    assert SyncRun.objects.filter(connection=connection).count() == 1


def queued_syncs(client):
    """The ``(args, kwargs)`` of the messages waiting in the sync queue, oldest first (kombu's Redis transport
    pushes each message, JSON with a base64 body, on the left of a list named after the queue)."""
    messages = [json.loads(raw) for raw in reversed(client.lrange(SYNC, 0, -1))]
    client.delete(SYNC)
    return [json.loads(base64.b64decode(message["body"]))[:2] for message in messages]


@pytest.mark.worker
@pytest.mark.django_db
def test_syncs_the_scheduler_queued_again_while_one_waited_pull_the_store_once(httpserver, broker):  # noqa: F811
    """The workers were busy: two rounds of the scheduler each queued the due connection. The first message to run
    syncs it; the other finds a sync started since it was queued and does nothing (it pulled the store again)."""
    channel = FixtureChannel(httpserver, orders=[fixture_order(index) for index in range(35)])
    due = connect(channel, "Shop")
    assert sync_due_connections_task() == 1
    assert sync_due_connections_task() == 1  # five minutes later, the first message still waiting
    first, second = queued_syncs(broker)
    assert first[0] == second[0] == [due.pk]

    assert sync_connection_task.apply(*first).get() == SyncOutcome.DONE
    assert len(channel.order_requests) == 4
    assert sync_connection_task.apply(*second).get() == "skipped"
    assert len(channel.order_requests) == 4
    assert SyncRun.objects.filter(connection=due).count() == 1

    # A message queued after the last sync started runs; so does one without the time ("Sync now").
    ChannelConnection.objects.filter(pk=due.pk).update(next_attempt_at=timezone.now())
    assert sync_due_connections_task() == 1
    [later] = queued_syncs(broker)
    assert sync_connection_task.apply(*later).get() == SyncOutcome.DONE
    assert sync_connection_task.apply(args=(due.pk,)).get() == SyncOutcome.DONE
    assert SyncRun.objects.filter(connection=due).count() == 3
