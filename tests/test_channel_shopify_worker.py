"""A Shopify shop's backfill in a real Celery worker that is killed between two pages (issue 13).

The stand-in Admin API of tests/channel_shopify_standin.py holds Store A's 409 real orders and one EUR order,
five to a page (82 pages). The worker waits out a 429, commits 40 pages, and is killed (SIGKILL) while it asks
for the 41st; the next sync goes on from the last committed page: nothing is lost, nothing is recorded twice,
and the statistics equal a fresh rebuild. The in-process variants (a failed page, throttling, webhooks) are in
tests/test_channel_shopify_engine.py, whose fixtures this module uses.
"""

import json
import re

import pytest
from django.db.models import Count
from django.utils import timezone

from tests.celery_fixtures import wait_for
from tests.channel_shopify_standin import opaque
from tests.channel_worker_support import hold_request
from tests.test_channel_shopify_engine import (  # noqa: F401 - shop and connection are fixtures
    ALL,
    connection,
    fresh,
    shop,
)
from wagtail_customers.channels.shopify import ORDERS_PER_PAGE
from wagtail_customers.channels.tasks import sync_connection_task
from wagtail_customers.models import ChannelConnection, ConnectionState, Order, SyncOutcome
from wagtail_customers.services import channel_sync
from wagtail_customers.services.statistics import rebuild_statistics

PAGES = -(-ALL // ORDERS_PER_PAGE)  # 82
COMMITTED_PAGES = 40
RATE_LIMITED = 5  # the fifth Orders query gets a 429 and is asked again


def is_orders_query(request):
    return re.match(r"\s*query Orders\b", json.loads(request.get_data()).get("query", "")) is not None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_between_two_pages_loses_and_duplicates_nothing(
    httpserver,
    shop,  # noqa: F811
    connection,  # noqa: F811
    celery_worker,
):
    # Every GraphQL request so far was an Orders query: the n-th request is the n-th Orders query.
    shop.at[RATE_LIMITED] = (429, {"errors": "Exceeded 2 calls per second for api client."}, {"Retry-After": "1"})
    # Counting the 429 answer: held is the query for page COMMITTED_PAGES + 1.
    held = hold_request(httpserver, shop.handle, at=COMMITTED_PAGES + 2, counts=is_orders_query)
    worker = celery_worker()

    sync_connection_task.delay(connection.pk)
    try:
        wait_for(held.reached.is_set, 240, f"the worker to ask for page {COMMITTED_PAGES + 1}")
        worker.kill()
    finally:
        held.release.set()

    # The pages before the kill are committed with their cursor; nothing of the held one.
    connection = fresh(connection)
    committed = COMMITTED_PAGES * ORDERS_PER_PAGE
    assert Order.objects.filter(account=connection.account).count() == committed
    assert connection.state == ConnectionState.BACKFILLING
    assert json.loads(connection.cursors["orders"])["after"] == opaque(committed)
    # The killed worker's lease lapses; the next sync resumes at the page it was asking for.
    ChannelConnection.objects.filter(pk=connection.pk).update(locked_until=timezone.now())
    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert (result.pages, result.orders_created) == (PAGES - COMMITTED_PAGES, ALL - committed)
    # Each page asked for once, but the rate-limited one and the one the killed worker never got the answer to.
    afters = [query["variables"].get("after") for query in shop.queries("Orders")]
    assert len(afters) == PAGES + 2
    assert afters.count(opaque(committed)) == 2
    orders = Order.objects.filter(account=connection.account)
    assert orders.count() == ALL
    assert not orders.values("external_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert fresh(connection).state == ConnectionState.LIVE
    assert rebuild_statistics() == 0
