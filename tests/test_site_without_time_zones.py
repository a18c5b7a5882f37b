"""A site with ``USE_TZ = False`` records orders: its datetime columns keep naive times in ``TIME_ZONE``.

SQLite (and MySQL) refuse an aware datetime then: every import, host-shop order and channel order, whose dates
the adapters give aware, failed with "SQLite backend does not support timezone-aware datetimes when USE_TZ is
False", and so did a naive date, which the ledger made aware in ``TIME_ZONE``.
"""

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.connection_fixture_channel import FixtureChannel, connect, fixture_order, sign
from tests.factories import order_data
from wagtail_customers.importers import run_import
from wagtail_customers.models import ChannelConnection, Customer, Order, SellerAccount, SyncOutcome, SyncRun
from wagtail_customers.services import channel_sync
from wagtail_customers.services.ingestion import FeedbackData, record_order, record_orders
from wagtail_customers.services.statistics import rebuild_statistics

pytestmark = pytest.mark.django_db

#: 10:30 in Paris, the site's zone below, on a winter day (UTC+1).
PARIS_MORNING = datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture
def naive_site(settings):
    settings.USE_TZ = False
    settings.TIME_ZONE = "Europe/Paris"


@pytest.fixture
def account(naive_site):
    return SellerAccount.objects.create(name="Naive shop", channel="shopify", currency="EUR")


def test_an_order_with_aware_and_naive_dates_is_kept_in_the_site_s_zone(account):
    data = order_data("1")
    data.placed_at = PARIS_MORNING
    data.paid_at = datetime.datetime(2026, 1, 5, 11, 0)  # naive: already the site's time
    data.feedback = FeedbackData(rating=2, comment="Late", left_at=PARIS_MORNING + datetime.timedelta(days=3))
    record_order(account, data)

    order = Order.objects.get()
    assert order.placed_at == datetime.datetime(2026, 1, 5, 10, 30)
    assert order.paid_at == datetime.datetime(2026, 1, 5, 11, 0)
    assert order.feedback.left_at == datetime.datetime(2026, 1, 8, 10, 30)
    assert Customer.objects.get().last_order_at == datetime.datetime(2026, 1, 5, 10, 30)
    assert rebuild_statistics() == 0

    # Recorded again as it came: the same order, unchanged (the aware date compared with the naive one kept).
    again = order_data("1")
    again.placed_at = PARIS_MORNING
    again.paid_at = datetime.datetime(2026, 1, 5, 11, 0)
    again.feedback = FeedbackData(rating=2, comment="Late", left_at=PARIS_MORNING + datetime.timedelta(days=3))
    assert record_orders(account, [again]).orders_unchanged == 1


def test_an_import_is_recorded(account):
    content = b"order_id,placed_at,customer_email,quantity,unit_price\n1001,2026-03-01 10:00,ada@example.com,2,5.00\n"
    report = run_import(account, content, filename="orders.csv")

    assert report.orders_created == 1
    order = Order.objects.get()
    assert order.placed_at == datetime.datetime(2026, 3, 1, 10, 0)
    assert order.total == Decimal("10.00")


def test_a_channel_s_pull_and_webhook_are_recorded(naive_site, httpserver, client, django_capture_on_commit_callbacks):
    channel = FixtureChannel(httpserver, orders=[fixture_order(index) for index in range(2)])
    connection = connect(channel, "Hooked shop")
    channel_sync.sync_connection(connection.pk)
    assert Order.objects.count() == 2
    connection = ChannelConnection.objects.get(pk=connection.pk)

    body = json.dumps(fixture_order(5, total="99.00")).encode()
    headers = {"X-Fixture-Topic": "orders/create", "X-Fixture-Delivery": "d-1", "X-Fixture-Hmac": sign(body)}
    url = reverse("wagtail_customers_webhooks:receive", args=[connection.webhook_token])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, body, content_type="application/json", headers=headers).status_code == 200

    assert Order.objects.get(external_id="1005").total == Decimal("99.00")
    assert not SyncRun.objects.filter(outcome=SyncOutcome.FAILED).exists()
