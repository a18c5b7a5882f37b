"""A WooCommerce store's backfill in a real Celery worker that is killed between two pages (issue 13).

The stand-in store of tests/channel_woocommerce_standin.py holds 347 orders, a hundred to a page. The worker
waits out a 429, commits two pages, and is killed (SIGKILL) while it asks for the third; the next sync goes on
from the last committed page: nothing is lost, nothing is recorded twice, and the statistics equal a fresh
rebuild. The in-process variants (a failed page, webhooks) are in tests/test_channel_woocommerce_engine.py,
whose fixtures this module uses.
"""

import json
from datetime import datetime

import pytest
from django.db.models import Count
from django.utils import timezone

from tests.celery_fixtures import wait_for
from tests.channel_woocommerce_standin import API
from tests.channel_worker_support import hold_request
from tests.test_channel_woocommerce_engine import (  # noqa: F401 - store and connection are fixtures
    ORDERS,
    connection,
    fresh,
    store,
)
from wagtail_customers.channels.tasks import sync_connection_task
from wagtail_customers.channels.woocommerce import OVERLAP, PER_PAGE
from wagtail_customers.models import ChannelConnection, ConnectionState, Order, SyncOutcome
from wagtail_customers.services import channel_sync
from wagtail_customers.services.statistics import rebuild_statistics

ALL = ORDERS + 2  # the generated orders, a refunded one and one in USD


def is_orders_page(request):
    """A page of the order list (not the one-order request of a connection check)."""
    return request.args.get("per_page") == str(PER_PAGE)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_between_two_pages_loses_and_duplicates_nothing(
    httpserver,
    store,  # noqa: F811
    connection,  # noqa: F811
    celery_worker,
):
    # The first request is throttled (Retry-After 1 s, waited out in the worker).
    httpserver.expect_oneshot_request(f"{API}/orders").respond_with_json(
        {"code": "too_many_requests", "message": "Slow down.", "data": {"status": 429}},
        status=429,
        headers={"Retry-After": "1"},
    )
    held = hold_request(httpserver, store._orders, at=3, counts=is_orders_page)
    worker = celery_worker()

    sync_connection_task.delay(connection.pk)
    try:
        wait_for(held.reached.is_set, 240, "the worker to ask for the third page")
        worker.kill()
    finally:
        held.release.set()

    # Two pages are committed with their cursor (the second began with the first's last second again, the
    # overlap, so a little under 200 orders); nothing of the held one.
    connection = fresh(connection)
    committed = Order.objects.filter(account=connection.account).count()
    assert 190 <= committed <= 2 * PER_PAGE
    assert connection.state == ConnectionState.BACKFILLING
    stored = json.loads(connection.cursors["orders"])["modified_after"]
    assert stored is not None
    # The killed worker's lease lapses; the next sync resumes from the stored cursor.
    ChannelConnection.objects.filter(pk=connection.pk).update(locked_until=timezone.now())
    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert result.orders_created == ALL - committed
    statuses = [response.status_code for request, response in httpserver.log if request.path == f"{API}/orders"]
    assert statuses[0] == 429  # the worker waited out the 429
    pages = [request["args"] for request in store.order_requests() if request["args"].get("per_page") == str(PER_PAGE)]
    asked_from = [(args.get("modified_after"), args["page"]) for args in pages]
    # The backfill's start asked once (the throttled request is not the store's); the held page asked twice,
    # by the killed worker and by the next sync, which went on from there.
    resumed_from = ((datetime.fromisoformat(stored) - OVERLAP).strftime("%Y-%m-%dT%H:%M:%S"), "1")
    assert asked_from.count(asked_from[0]) == 1
    assert asked_from[2] == resumed_from
    assert asked_from.count(resumed_from) == 2
    assert len(asked_from) == 3 + result.pages
    orders = Order.objects.filter(account=connection.account)
    assert orders.count() == ALL
    assert not orders.values("external_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert fresh(connection).state == ConnectionState.LIVE
    assert rebuild_statistics() == 0
