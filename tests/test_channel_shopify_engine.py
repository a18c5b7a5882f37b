"""A Shopify shop connected end to end: the sync engine, the real adapter, the stand-in Admin API on 127.0.0.1.

The shop holds Store A's 409 real orders (shared/realdata/shopify/, in the documented ``Order`` shape) and one
EUR order in the USD shop. Backfill over 82 pages with a 429 and a THROTTLED answer waited out, a page that
fails mid-backfill (as a worker killed between two pages), webhooks through the public endpoint (signed,
wrongly signed, unsigned, replayed, a refund that fetches its order), and the next pull confirming them; the
statistics kept on the way equal a fresh rebuild.
"""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.channel_shopify_standin import StandIn, as_graphql, fixture, opaque, store_a_orders, webhook_headers
from wagtail_customers.channels.shopify import ORDERS_PER_PAGE
from wagtail_customers.models import (
    ChannelConnection,
    ConnectionState,
    Customer,
    Order,
    RateSource,
    SellerAccount,
    SyncOutcome,
    SyncStatus,
)
from wagtail_customers.services import channel_sync
from wagtail_customers.services.statistics import rebuild_statistics

STORE_A_ORDERS = 409
ALL = STORE_A_ORDERS + 1


def eur_order(name="#9001", number=9001, updated_at="2026-10-12T14:00:00Z"):
    """The fixture's EUR order in the USD shop, under a name Store A does not use."""
    node = fixture("order_multicurrency.json")
    node.update(id=f"gid://shopify/Order/{number}", name=name, updatedAt=updated_at)
    return node


@pytest.fixture
def shop(httpserver, realdata, settings):
    settings.WAGTAIL_CUSTOMERS = {
        **settings.WAGTAIL_CUSTOMERS,
        "CHANNEL_API_URLS": {"shopify": {"admin": httpserver.url_for("/")}},
    }
    return StandIn(httpserver, [*as_graphql(store_a_orders(realdata)), eur_order()])


@pytest.fixture
def connection(db, shop):
    account = SellerAccount.objects.create(name="Ana's Tees", channel="shopify", currency="USD")
    connection = ChannelConnection(account=account)
    connection.set_credentials(shop.credentials())
    connection.save()
    channel_sync.start_backfill(connection, date(2019, 1, 1))
    return connection


def fresh(connection):
    return ChannelConnection.objects.get(pk=connection.pk)


def test_backfill_waits_out_a_429_and_throttling_and_matches_a_rebuild(connection, shop):
    shop.at[1] = (429, {"errors": "Exceeded 2 calls per second for api client."}, {"Retry-After": "1"})
    throttled = fixture("throttled_response.json")
    throttled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] = 850  # 52 points short: 1 s
    shop.at[6] = (200, throttled, None)

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE
    assert result.pages == -(-ALL // ORDERS_PER_PAGE) == 82
    assert result.orders_created == ALL
    connection = fresh(connection)
    assert connection.state == ConnectionState.LIVE
    orders = Order.objects.filter(account=connection.account)
    assert orders.count() == ALL
    assert set(orders.values_list("sync_status", flat=True)) == {SyncStatus.SYNCED}
    eur = orders.get(external_id="#9001")
    assert (eur.currency, eur.total, eur.account_total, eur.rate_source) == (
        "EUR", Decimal("72.23"), Decimal("79.45"), RateSource.CHANNEL,
    )  # fmt: skip
    assert rebuild_statistics() == 0
    # A Dev Dashboard app: one token from the client credentials grant served the whole backfill.
    assert len(shop.grants()) == 1
    # The backfill asked from its chosen date; the stored cursor is the newest change seen.
    first_query = shop.queries("Orders")[0]
    assert first_query["variables"]["query"] == "updated_at:>='2019-01-01T00:00:00Z'"
    assert json.loads(connection.cursors["orders"]) == {"after": None, "high": None, "since": "2026-10-12T14:00:00Z"}


def test_a_sync_that_fails_between_two_pages_resumes_without_loss_or_duplicates(connection, shop):
    shop.at[3] = (502, "<html><body><h1>502 Bad Gateway</h1></body></html>", None)

    failed = channel_sync.sync_connection(connection.pk)

    assert failed.outcome == SyncOutcome.FAILED and failed.pages == 2
    connection = fresh(connection)
    assert connection.state == ConnectionState.BACKFILLING
    assert connection.consecutive_failures == 1
    assert Order.objects.filter(account=connection.account).count() == 2 * ORDERS_PER_PAGE
    assert json.loads(connection.cursors["orders"])["after"] == opaque(2 * ORDERS_PER_PAGE)

    requests_before = len(shop.queries("Orders"))
    resumed = channel_sync.sync_connection(connection.pk)

    assert resumed.outcome == SyncOutcome.DONE
    # It went on from the last committed page, not from the start.
    assert shop.queries("Orders")[requests_before]["variables"]["after"] == opaque(2 * ORDERS_PER_PAGE)
    orders = Order.objects.filter(account=connection.account)
    assert orders.count() == orders.values("external_id").distinct().count() == ALL
    assert fresh(connection).state == ConnectionState.LIVE
    assert rebuild_statistics() == 0


def test_a_retry_of_an_older_change_after_a_newer_one_is_left_out(connection, shop, post_webhook):
    # Shopify retries a failed delivery for hours with its first payload: the order paid (10:00), then refunded
    # (10:02), and the 10:00 delivery's retry came last. It wrote "paid" back over "refunded" until the order
    # changed on Shopify again, since the pulls ask only for orders updated after the newest change they saw.
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.DONE
    paid = fixture("webhook_orders_create.json")
    paid.update(id=9003, name="#9003", updated_at="2026-12-07T10:00:00+00:00")
    refunded = dict(paid, financial_status="refunded", updated_at="2026-12-07T10:02:00+00:00")
    for payload, delivery in ((refunded, "delivery-10-02"), (paid, "delivery-10-00-retry")):
        body = json.dumps(payload).encode()
        headers = webhook_headers(body, "orders/updated", **{"X-Shopify-Webhook-Id": delivery})
        assert post_webhook(connection, body, headers).status_code == 200
    order = Order.objects.get(account=connection.account, external_id="#9003")
    assert order.status == "refunded"
    assert order.synced_at == datetime(2026, 12, 7, 10, 2, tzinfo=UTC)


def test_webhooks_signed_wrongly_signed_replayed_a_refund_and_the_next_pull(connection, shop, post_webhook):
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.DONE
    account = connection.account
    customers_before = Customer.objects.filter(account=account).count()

    payload = fixture("webhook_orders_create.json")
    payload.update(id=9002, name="#9002", email="new.buyer@example.net")
    payload["customer"].update(id=7002, email="new.buyer@example.net", first_name="Nuevo", last_name="Comprador")
    body = json.dumps(payload).encode()

    wrong = webhook_headers(body, **{"X-Shopify-Hmac-Sha256": webhook_headers(b"other body")["X-Shopify-Hmac-Sha256"]})
    assert post_webhook(connection, body, wrong).status_code == 401
    unsigned = {name: value for name, value in webhook_headers(body).items() if name != "X-Shopify-Hmac-Sha256"}
    assert post_webhook(connection, body, unsigned).status_code == 401
    assert not Order.objects.filter(account=account, external_id="#9002").exists()

    headers = webhook_headers(body, **{"X-Shopify-Webhook-Id": "delivery-9002-1"})
    assert post_webhook(connection, body, headers).status_code == 200
    order = Order.objects.get(account=account, external_id="#9002")
    assert order.sync_status == SyncStatus.PENDING
    assert (order.currency, order.account_total) == ("EUR", Decimal("79.45"))
    assert Customer.objects.filter(account=account).count() == customers_before + 1

    # The same app installed on another shop signs that shop's orders with the same secret: its #9002 is not this
    # account's, and is not written over it.
    other_shop = dict(payload, total_price="1.00", current_total_price="1.00")
    other_body = json.dumps(other_shop).encode()
    other = webhook_headers(
        other_body,
        **{"X-Shopify-Webhook-Id": "delivery-other-shop", "X-Shopify-Shop-Domain": "bobs-mugs.myshopify.com"},
    )
    answer = post_webhook(connection, other_body, other)
    assert (answer.status_code, answer.content) == (200, b"Ignored: another shop.")
    assert Order.objects.get(account=account, external_id="#9002").account_total == Decimal("79.45")

    # Shopify redelivers the same delivery (no 200 in time on its side): nothing changes.
    assert post_webhook(connection, body, headers).status_code == 200
    assert Order.objects.filter(account=account, external_id="#9002").count() == 1

    # A refund of #9001: the payload names only the order, which is fetched as it stands.
    refund = fixture("webhook_refunds_create.json")
    refund["order_id"] = 9001
    refund_body = json.dumps(refund).encode()
    refund_headers = webhook_headers(refund_body, "refunds/create", **{"X-Shopify-Webhook-Id": "delivery-refund-1"})
    assert post_webhook(connection, refund_body, refund_headers).status_code == 200
    assert shop.queries("Order")[-1]["variables"] == {"id": "gid://shopify/Order/9001"}
    refunded = Order.objects.get(account=account, external_id="#9001")
    assert (refunded.refunded, refunded.sync_status) == (Decimal("10.80"), SyncStatus.PENDING)

    # A topic the plugin does not use is accepted and ignored.
    other = webhook_headers(b"{}", "products/update")
    assert post_webhook(connection, b"{}", other).status_code == 200

    # The shop has #9002 too (and #9001 was touched by its refund): the next pull confirms both.
    shop.orders.append(eur_order("#9002", 9002, updated_at="2026-12-01T09:00:00Z"))
    for node in shop.orders:
        if node["name"] == "#9001":
            node["updatedAt"] = "2026-12-01T08:00:00Z"
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.DONE
    for name in ("#9001", "#9002"):
        assert Order.objects.get(account=account, external_id=name).sync_status == SyncStatus.SYNCED
    assert Order.objects.filter(account=account).count() == ALL + 1
    assert rebuild_statistics() == 0
