"""An eBay connection end to end: the sync engine and the eBay adapter against the stand-in Fulfillment
API and token endpoint of tests/test_channel_ebay.py.

Backfill over several pages with a 429 in between, a later pull that brings a refunded order, refused
credentials, and a real Celery worker killed between two pages: in the end the orders are there once each,
each eBay buyer is one customer, and the statistics equal a fresh rebuild.
"""

import copy
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.db.models import Count
from django.utils import timezone

from tests.celery_fixtures import wait_for
from tests.test_channel_ebay import (
    CREDENTIALS,
    EbayStandIn,
    fixture,
    generated_orders,
    json_response,
    stand_in_urls,  # noqa: F401 - a fixture
)
from wagtail_customers.channels.tasks import sync_connection_task
from wagtail_customers.models import (
    ChannelConnection,
    ConnectionState,
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    SellerAccount,
    SyncOutcome,
)
from wagtail_customers.services import channel_sync
from wagtail_customers.services.statistics import rebuild_statistics


def connect(credentials=CREDENTIALS, backfill_from=date(2026, 9, 1)):
    account = SellerAccount.objects.create(name="eBay US", channel="ebay", currency="USD")
    connection = ChannelConnection(account=account)
    connection.set_credentials(credentials)
    connection.save()
    channel_sync.start_backfill(connection, backfill_from)
    return connection


def fresh(connection):
    return ChannelConnection.objects.get(pk=connection.pk)


@pytest.mark.django_db
def test_backfill_over_pages_through_a_429_then_a_pull(httpserver, stand_in_urls, realdata):  # noqa: F811
    orders = generated_orders(realdata, 450, currencies=("USD", "USD", "GBP"))
    stand_in = EbayStandIn(httpserver, orders)
    stand_in.answer_at[2] = json_response(fixture("too_many_requests.json"), 429, {"Retry-After": "0"})
    connection = connect()

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert (result.pages, result.orders_created) == (3, 450)
    assert [args["offset"] for args in stand_in.orders_requests] == ["0", "200", "200", "400"]
    connection = fresh(connection)
    assert connection.state == ConnectionState.LIVE
    assert Order.objects.count() == 450
    assert set(Order.objects.values_list("currency", flat=True)) == {"USD", "GBP"}
    # One customer per eBay buyer.
    buyers = {order["buyer"]["username"] for order in orders}
    assert Customer.objects.filter(account=connection.account).count() == len(buyers) < 450
    assert Order.objects.filter(channel_fees__gt=0).count() == 450
    assert rebuild_statistics() == 0

    # Later the buyer of one order is refunded in part; the next pull brings it.
    changed = stand_in.orders[0]
    changed["orderPaymentStatus"] = "PARTIALLY_REFUNDED"
    changed["paymentSummary"]["refunds"] = [
        {
            "refundDate": "2026-12-02T09:00:00.000Z",
            "amount": {"value": "1.00", "currency": "USD"},
            "refundStatus": "REFUNDED",
        }
    ]
    changed["lastModifiedDate"] = timezone.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert (result.orders_created, result.orders_updated) == (0, 1)
    order = Order.objects.get(external_id=changed["orderId"])
    assert (order.status, order.refunded) == (OrderStatus.PARTIALLY_REFUNDED, Decimal("1.00"))
    assert rebuild_statistics() == 0


@pytest.mark.django_db
def test_returns_are_merged_through_the_engine_and_kept_by_a_later_pull(httpserver, stand_in_urls, realdata):  # noqa: F811
    orders = generated_orders(realdata, 300)
    returns = []
    for number in range(0, 300, 7):
        member = copy.deepcopy(fixture("return_search.json")["members"][0])
        member.update(returnId=f"50{number:08d}", orderId=orders[number]["orderId"])
        member["creationInfo"]["item"].update(itemId=orders[number]["lineItems"][0]["sku"], returnQuantity=1)
        member["creationInfo"]["creationDate"]["value"] = "2026-11-15T10:00:00.000Z"
        returns.append(member)
    stand_in = EbayStandIn(httpserver, orders, returns)
    connection = connect()

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert Order.objects.count() == 300
    assert OrderLine.objects.filter(returned_quantity=1).count() == len(returns)
    assert Order.objects.filter(returned_at__isnull=False).count() == len(returns)
    assert rebuild_statistics() == 0

    # A returned order changes later on eBay: the next pull records it again and it keeps its return.
    changed = stand_in.orders[0]
    changed["lastModifiedDate"] = timezone.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert OrderLine.objects.get(order__external_id=changed["orderId"]).returned_quantity == 1
    assert OrderLine.objects.filter(returned_quantity=1).count() == len(returns)
    assert rebuild_statistics() == 0


@pytest.mark.django_db
def test_orders_pulled_again_without_their_returns_read_keep_them(httpserver, stand_in_urls, realdata):  # noqa: F811
    # "Import history again" starts from an empty cursor, where the returns read so far were kept, and the return
    # search looks back 90 days only: every order was recorded again with nothing returned, its returns lost.
    orders = generated_orders(realdata, 30)
    member = copy.deepcopy(fixture("return_search.json")["members"][0])
    member.update(returnId="5000000001", orderId=orders[3]["orderId"])
    member["creationInfo"]["item"].update(itemId=orders[3]["lineItems"][0]["sku"], returnQuantity=1)
    member["creationInfo"]["creationDate"]["value"] = "2026-11-15T10:00:00.000Z"
    stand_in = EbayStandIn(httpserver, orders, [member])
    connection = connect()
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.DONE
    returned = OrderLine.objects.get(order__external_id=orders[3]["orderId"])
    assert returned.returned_quantity == 1
    customer = returned.order.customer
    assert customer.returned_units == 1

    stand_in.returns = []  # older than the search's first lookback now
    channel_sync.start_backfill(fresh(connection), date(2026, 9, 1))
    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert result.orders_updated == 0
    assert OrderLine.objects.get(pk=returned.pk).returned_quantity == 1
    assert Customer.objects.get(pk=customer.pk).returned_units == 1
    assert rebuild_statistics() == 0


@pytest.mark.django_db
def test_a_refused_refresh_token_marks_the_connection_failing(httpserver, stand_in_urls, superuser):  # noqa: F811
    EbayStandIn(httpserver)
    connection = connect({**CREDENTIALS, "refresh_token": "v^1.1#revoked"})

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.FAILED
    connection = fresh(connection)
    assert connection.state == ConnectionState.FAILING
    assert "invalid_grant" in connection.last_error and "revoked" not in connection.last_error
    assert len(mail.outbox) == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_between_two_pages_loses_and_duplicates_nothing(
    httpserver,
    stand_in_urls,  # noqa: F811
    realdata,
    celery_worker,
):
    stand_in = EbayStandIn(httpserver, generated_orders(realdata, 450))
    stand_in.hold_at = 2
    connection = connect()
    worker = celery_worker()

    sync_connection_task.delay(connection.pk)
    try:
        wait_for(lambda: len(stand_in.orders_requests) >= 2, 240, "the worker to ask for the second page")
        worker.kill()
    finally:
        stand_in.release.set()

    connection = fresh(connection)
    assert Order.objects.count() == 200
    assert connection.state == ConnectionState.BACKFILLING
    ChannelConnection.objects.filter(pk=connection.pk).update(locked_until=timezone.now())
    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert (result.pages, result.orders_created) == (2, 250)
    assert [args["offset"] for args in stand_in.orders_requests[-2:]] == ["200", "400"]
    assert Order.objects.count() == 450
    assert not Order.objects.values("external_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert fresh(connection).state == ConnectionState.LIVE
    assert rebuild_statistics() == 0
