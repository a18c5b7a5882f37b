"""An Amazon connection end to end: the sync engine, the Amazon adapter and python-amazon-sp-api against the
stand-in SP-API and LWA of tests/test_channel_amazon.py, with orders from Amazon's real sale report.

Backfill over several pages with a QuotaExceeded answer in between, a later pull that brings a changed
order, refused credentials, and a real Celery worker killed between two pages: in the end the orders are
there once each and the statistics equal a fresh rebuild.
"""

from datetime import date

import pytest
from django.core import mail
from django.db.models import Count
from django.utils import timezone

from tests.celery_fixtures import wait_for
from tests.test_channel_amazon import (
    CREDENTIALS,
    AmazonStandIn,
    fixture,
    json_response,
    realdata_orders,
    stand_in_urls,  # noqa: F401 - a fixture
)
from tests.test_channel_amazon_reports import FEEDBACK_DOCUMENT, RETURNS_DOCUMENT, stand_in_with_orders
from wagtail_customers.channels import amazon_reports
from wagtail_customers.channels.tasks import sync_connection_task
from wagtail_customers.models import (
    ChannelConnection,
    ConnectionState,
    Customer,
    Feedback,
    Order,
    OrderLine,
    OrderStatus,
    SellerAccount,
    SyncOutcome,
)
from wagtail_customers.services import channel_sync
from wagtail_customers.services.statistics import rebuild_statistics


def connect(credentials=CREDENTIALS, backfill_from=date(2026, 9, 1)):
    account = SellerAccount.objects.create(name="Amazon IN", channel="amazon", currency="INR")
    connection = ChannelConnection(account=account)
    connection.set_credentials(credentials)
    connection.save()
    channel_sync.start_backfill(connection, backfill_from)
    return connection


def fresh(connection):
    return ChannelConnection.objects.get(pk=connection.pk)


@pytest.mark.django_db
def test_a_backfill_whose_next_token_expires_twice_goes_through(httpserver, stand_in_urls, realdata):  # noqa: F811
    # Each start of the pass again is a new position to the engine's same-page guard (the stand-in's tokens are the
    # same each pass: without the count, the second start repeated the first one's cursor and failed the sync).
    orders, items = realdata_orders(realdata, 350)
    stand_in = AmazonStandIn(httpserver, orders, items)
    refused = json_response({"errors": [{"code": "InvalidInput", "message": "Invalid NextToken."}]}, 400)
    stand_in.answer_at[2] = refused
    stand_in.answer_at[4] = refused
    connection = connect()

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert Order.objects.count() == 350


@pytest.mark.django_db
def test_backfill_over_pages_through_a_quota_answer_then_a_pull(httpserver, stand_in_urls, realdata):  # noqa: F811
    orders, items = realdata_orders(realdata, 350)
    stand_in = AmazonStandIn(httpserver, orders, items)
    # The third getOrders call is throttled; Amazon's rate (20 a second) makes the wait 50 ms.
    stand_in.answer_at[3] = json_response(
        fixture("quota_exceeded.json"), status=429, headers={"x-amzn-RateLimit-Limit": "20"}
    )
    connection = connect()

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert (result.pages, result.orders_created) == (4, 350)
    assert len(stand_in.orders_requests) == 5
    connection = fresh(connection)
    assert connection.state == ConnectionState.LIVE
    assert connection.backfill_orders == 350
    assert Order.objects.filter(account=connection.account).count() == 350
    assert not Order.objects.filter(synced_at__isnull=True).exists()
    # No buyer id or e-mail from Amazon: each order is its own customer.
    assert Customer.objects.filter(account=connection.account).count() == 350
    assert rebuild_statistics() == 0

    # Later Amazon reports one order cancelled; the next pull starts where the backfill ended and brings it.
    changed = next(order for order in stand_in.orders if order["OrderStatus"] == "Shipped")
    changed.update(OrderStatus="Canceled", LastUpdateDate="2026-12-01T09:30:00Z")
    stand_in.upper_bound = "2026-12-01T10:00:00Z"
    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert (result.pages, result.orders_created, result.orders_updated) == (1, 0, 1)
    assert stand_in.orders_requests[-1]["LastUpdatedAfter"] == "2026-12-01T00:00:00Z"
    order = Order.objects.get(external_id=changed["AmazonOrderId"])
    assert (order.status, order.total) == (OrderStatus.CANCELLED, 0)
    assert rebuild_statistics() == 0


@pytest.mark.django_db
def test_returns_and_feedback_come_through_the_sync_and_stay(httpserver, stand_in_urls, monkeypatch):  # noqa: F811
    monkeypatch.setattr(amazon_reports, "REPORT_POLL_SECONDS", 0)
    stand_in = stand_in_with_orders(httpserver)
    stand_in.report_plans[amazon_reports.RETURNS] = (["IN_PROGRESS", "DONE"], RETURNS_DOCUMENT, None)
    stand_in.report_plans[amazon_reports.FEEDBACK] = (["DONE"], FEEDBACK_DOCUMENT, "GZIP")
    connection = connect()

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    # The two orders of the pass and the older one the reports name.
    assert Order.objects.count() == 3
    mug = OrderLine.objects.get(order__external_id="303-1234567-0000001", sku="MUG-BLUE-350")
    assert mug.returned_quantity == 2
    assert OrderLine.objects.get(order__external_id="303-1234567-0000003").returned_quantity == 1
    assert dict(Feedback.objects.values_list("order__external_id", "rating")) == {
        "303-1234567-0000001": 2,
        "303-1234567-0000003": 5,
    }
    assert rebuild_statistics() == 0

    # The order changes on Amazon; the next pull records it again with its returns and feedback.
    stand_in.report_plans.clear()
    changed = next(order for order in stand_in.orders if order["AmazonOrderId"] == "303-1234567-0000001")
    changed.update(LastUpdateDate="2026-12-01T09:30:00Z", OrderStatus="Shipped")
    changed["ShippingAddress"]["City"] = "Leipzig"
    stand_in.upper_bound = "2026-12-01T10:00:00Z"
    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert result.orders_updated == 1
    # The lines are replaced (new rows): the returned quantity is carried over by the adapter.
    mug = OrderLine.objects.get(order__external_id="303-1234567-0000001", sku="MUG-BLUE-350")
    assert (mug.returned_quantity, mug.order.ship_city) == (2, "Leipzig")
    assert Feedback.objects.filter(order__external_id="303-1234567-0000001", rating=2).exists()
    assert rebuild_statistics() == 0


@pytest.mark.django_db
def test_a_revoked_refresh_token_marks_the_connection_failing(httpserver, stand_in_urls, superuser):  # noqa: F811
    AmazonStandIn(httpserver)
    connection = connect({**CREDENTIALS, "refresh_token": "Atzr|revoked"})

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.FAILED
    connection = fresh(connection)
    assert connection.state == ConnectionState.FAILING
    assert "invalid_grant" in connection.last_error
    assert "revoked" not in connection.last_error
    assert len(mail.outbox) == 1
    assert not Order.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_between_two_pages_loses_and_duplicates_nothing(
    httpserver,
    stand_in_urls,  # noqa: F811
    realdata,
    celery_worker,
):
    orders, items = realdata_orders(realdata, 350)
    stand_in = AmazonStandIn(httpserver, orders, items)
    stand_in.hold_at = 3
    connection = connect()
    worker = celery_worker()

    sync_connection_task.delay(connection.pk)
    try:
        wait_for(lambda: len(stand_in.orders_requests) >= 3, 240, "the worker to ask for the third page")
        worker.kill()
    finally:
        stand_in.release.set()

    # The two pages before the kill are committed with their cursor; nothing of the third.
    connection = fresh(connection)
    assert Order.objects.count() == 200
    assert connection.state == ConnectionState.BACKFILLING
    assert "next_token" in connection.cursors["orders"]
    # The killed worker's lease lapses; the next sync resumes at the third page.
    ChannelConnection.objects.filter(pk=connection.pk).update(locked_until=timezone.now())
    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert (result.pages, result.orders_created) == (2, 150)
    assert Order.objects.count() == 350
    assert not Order.objects.values("external_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert fresh(connection).state == ConnectionState.LIVE
    assert rebuild_statistics() == 0
