"""A WooCommerce store connected end to end: the sync engine, the real adapter, the stand-in store on 127.0.0.1.

Backfill of hundreds of orders over several pages, a 429 with Retry-After waited out, a page that fails
mid-backfill (as a worker killed between two pages: the next sync goes on from the last committed page),
webhooks through the public endpoint (signed, wrongly signed, replayed), and the next pull confirming what a
webhook brought; the statistics kept on the way equal a fresh rebuild.
"""

import json
from datetime import UTC, date, datetime

import pytest
from django.urls import reverse
from werkzeug import Response

from tests.channel_woocommerce_standin import API, WooCommerceStandIn, fixture, generated_orders, webhook_headers
from wagtail_customers.models import (
    ChannelConnection,
    ConnectionState,
    Customer,
    Order,
    SellerAccount,
    SyncOutcome,
    SyncStatus,
    WebhookDelivery,
)
from wagtail_customers.services import channel_sync
from wagtail_customers.services.statistics import rebuild_statistics

ORDERS = 345


@pytest.fixture
def store(httpserver):
    return WooCommerceStandIn(
        httpserver,
        orders=[*generated_orders(ORDERS), fixture("order_refunded.json"), fixture("order_usd.json")],
        refunds={1063: fixture("refunds_1063.json")},
    )


@pytest.fixture
def connection(db, store):
    account = SellerAccount.objects.create(name="Woo EU", channel="woocommerce", currency="EUR")
    connection = ChannelConnection(account=account)
    connection.set_credentials(store.credentials())
    connection.save()
    channel_sync.start_backfill(connection, date(2024, 1, 1))
    return connection


def fresh(connection):
    return ChannelConnection.objects.get(pk=connection.pk)


def webhook_url(connection):
    return reverse("wagtail_customers_webhooks:receive", args=[connection.webhook_token])


def test_backfill_survives_a_429_and_a_failed_page_and_matches_a_rebuild(connection, store, httpserver):
    # A 429 on the first page (waited out in-process: Retry-After 1 s is under the test cap), then a store
    # failure once the second page's orders are committed.
    httpserver.expect_oneshot_request(f"{API}/orders").respond_with_json(
        {"code": "too_many_requests", "message": "Slow down.", "data": {"status": 429}},
        status=429,
        headers={"Retry-After": "1"},
    )
    first = channel_sync.sync_connection(connection.pk)
    assert first.outcome == SyncOutcome.DONE
    assert first.pages >= 4
    assert first.orders_created == ORDERS + 2
    connection = fresh(connection)
    assert connection.state == ConnectionState.LIVE
    orders = Order.objects.filter(account=connection.account)
    assert orders.count() == ORDERS + 2
    assert set(orders.values_list("sync_status", flat=True)) == {SyncStatus.SYNCED}
    assert not orders.filter(synced_at__isnull=True).exists()
    assert orders.get(external_id="1063").refunded == 27
    assert orders.get(external_id="1077").currency == "USD"
    assert rebuild_statistics() == 0
    # The cursor is the store's high-water mark.
    latest = max(order["date_modified_gmt"] for order in store.orders.values())
    assert json.loads(connection.cursors["orders"])["modified_after"] == latest


def test_a_sync_that_fails_between_two_pages_resumes_without_loss_or_duplicates(connection, store, httpserver):
    served = []
    real_handler = store._orders

    def failing_after_two_pages(request):
        served.append(request.args.get("page"))
        if len(served) == 3:
            return Response("<html>502 Bad Gateway</html>", status=502)
        return real_handler(request)

    httpserver.clear_all_handlers()
    httpserver.expect_request(f"{API}/orders").respond_with_handler(failing_after_two_pages)
    httpserver.expect_request(f"{API}/orders/1063/refunds").respond_with_handler(store._refunds)

    failed = channel_sync.sync_connection(connection.pk)
    assert failed.outcome == SyncOutcome.FAILED
    assert failed.pages == 2
    connection = fresh(connection)
    assert connection.state == ConnectionState.BACKFILLING
    assert connection.consecutive_failures == 1
    recorded = Order.objects.filter(account=connection.account).count()
    # Two pages committed; the second began with the first's last second again (the overlap), so a little
    # under 200 orders.
    assert 190 <= recorded <= 200
    cursor_after_two_pages = connection.cursors["orders"]

    resumed = channel_sync.sync_connection(connection.pk)
    assert resumed.outcome == SyncOutcome.DONE
    # The resumed sync started from the cursor of the last committed page.
    assert json.loads(cursor_after_two_pages)["modified_after"] is not None
    orders = Order.objects.filter(account=connection.account)
    assert orders.count() == ORDERS + 2
    assert orders.values("external_id").distinct().count() == ORDERS + 2
    assert fresh(connection).state == ConnectionState.LIVE
    assert rebuild_statistics() == 0


def test_a_backfill_through_pages_changed_in_one_second_is_not_taken_for_the_same_page_again(db, store):
    # WooCommerce reads a page again by number when a whole page changed in the same second: the engine's guard
    # against a channel repeating itself lets that through (once).
    store.orders.clear()
    for order in generated_orders(230):
        order["date_modified_gmt"] = "2026-11-30T12:00:00"
        store.orders[order["id"]] = order
    account = SellerAccount.objects.create(name="Woo bulk", channel="woocommerce", currency="EUR")
    connection = ChannelConnection(account=account)
    connection.set_credentials(store.credentials())
    connection.save()
    channel_sync.start_backfill(connection, date(2024, 1, 1))

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert Order.objects.filter(account=account).count() == 230


def test_webhooks_signed_wrongly_signed_replayed_and_then_confirmed_by_a_pull(connection, store, post_webhook):
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.DONE
    customers_before = Customer.objects.filter(account=connection.account).count()

    # A new guest order arrives by webhook.
    new_order = fixture("order_guest_coupon.json")
    new_order.update(id=9001, number="9001", date_modified_gmt="2026-12-02T09:00:00")
    new_order["billing"]["email"] = "new.buyer@example.net"
    body = json.dumps(new_order).encode()

    wrong = post_webhook(
        connection, body, webhook_headers(body, "order.created", secret="not the secret", source=store.home_url)
    )
    assert wrong.status_code == 401
    unsigned = {
        key: value
        for key, value in webhook_headers(body, "order.created", source=store.home_url).items()
        if "Signature" not in key
    }
    assert post_webhook(connection, body, unsigned).status_code == 401
    assert not Order.objects.filter(account=connection.account, external_id="9001").exists()

    headers = webhook_headers(body, "order.created", delivery_id="delivery-9001-1", source=store.home_url)
    assert post_webhook(connection, body, headers).status_code == 200
    order = Order.objects.get(account=connection.account, external_id="9001")
    assert order.sync_status == SyncStatus.PENDING
    assert Customer.objects.filter(account=connection.account).count() == customers_before + 1

    # The same delivery again (WooCommerce redelivers on a timeout): nothing changes.
    assert post_webhook(connection, body, headers).status_code == 200
    assert Order.objects.filter(account=connection.account, external_id="9001").count() == 1

    # WooCommerce's delivery id is the same for every delivery of a webhook within one second: another order
    # sent in the same second as 9001 is another delivery all the same.
    same_second = dict(new_order, id=9002, number="9002")
    same_second["billing"] = dict(new_order["billing"], email="same.second@example.net")
    body_9002 = json.dumps(same_second).encode()
    assert (
        post_webhook(
            connection,
            body_9002,
            webhook_headers(body_9002, "order.created", delivery_id="delivery-9001-1", source=store.home_url),
        ).status_code
        == 200
    )
    assert Order.objects.filter(account=connection.account, external_id="9002").count() == 1

    # An order.updated for an order the store has: recorded pending until a pull confirms it.
    changed = store.orders[5010]
    stale = json.dumps(changed).encode()  # as the store sent it before this change, in a delivery that failed
    changed["status"] = "completed"
    changed["date_completed_gmt"] = "2026-12-02T10:00:00"
    # Changed right after the pull, within its second (WooCommerce's times are to the second).
    store.touch(5010, datetime.now(UTC).replace(microsecond=0))
    body = json.dumps(changed).encode()
    response = post_webhook(
        connection, body, webhook_headers(body, "order.updated", delivery_id="d-5010", source=store.home_url)
    )
    assert response.status_code == 200
    assert Order.objects.get(account=connection.account, external_id="5010").sync_status == SyncStatus.PENDING

    # A lost webhook costs nothing: the store has order 9001 too, and the next pull confirms both.
    store.orders[9001] = new_order
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.DONE
    for external_id in ("9001", "5010"):
        assert Order.objects.get(account=connection.account, external_id=external_id).sync_status == SyncStatus.SYNCED
    assert Order.objects.get(account=connection.account, external_id="5010").status == "shipped"
    # WooCommerce retries a failed delivery with its first body, after the pull: the older change is left out.
    response = post_webhook(
        connection, stale, webhook_headers(stale, "order.updated", delivery_id="d-5010-old", source=store.home_url)
    )
    assert response.status_code == 200
    order = Order.objects.get(account=connection.account, external_id="5010")
    assert (order.status, order.sync_status) == ("shipped", SyncStatus.SYNCED)

    # The seller moves an order to the bin: the list no longer shows it; order.deleted names it, it is fetched.
    store.orders[5020]["status"] = "trash"
    body = json.dumps({"id": 5020}).encode()
    response = post_webhook(
        connection, body, webhook_headers(body, "order.deleted", delivery_id="d-5020", source=store.home_url)
    )
    assert response.status_code == 200
    assert Order.objects.get(account=connection.account, external_id="5020").status == "cancelled"
    assert rebuild_statistics() == 0


def test_a_delivery_from_another_store_with_the_same_secret_is_ignored(connection, store, post_webhook):
    """One webhook secret typed into two stores' webhooks: store B's deliveries verify here, and would write B's order
    over this store's order of the same number. Each names its site (``X-WC-Webhook-Source``)."""
    account = connection.account
    order = fixture("order_guest_coupon.json")
    order.update(id=9001, number="9001", date_modified_gmt="2026-12-02T09:00:00")
    body = json.dumps(order).encode()
    ours = webhook_headers(body, "order.created", delivery_id="ours-9001", source=store.home_url)
    assert post_webhook(connection, body, ours).status_code == 200
    recorded = Order.objects.get(account=account, external_id="9001")
    counts = (Order.objects.count(), Customer.objects.count(), WebhookDelivery.objects.count())

    # The other store's order 9001 (another buyer, cancelled), and an order number this store does not have.
    theirs = dict(order, status="cancelled", billing=dict(order["billing"], email="someone.else@example.org"))
    not_ours = dict(theirs, id=9100, number="9100")
    port = store.server.port
    other_sites = (
        "https://shop.example.com/",  # another host
        f"http://127.0.0.1:{port}/shop/",  # another WordPress in a sub-path of this host
        f"http://127.0.0.1:{port + 1}/",  # another port
    )
    for index, site in enumerate(other_sites):
        for payload in (theirs, not_ours):
            other_body = json.dumps(payload).encode()
            headers = webhook_headers(
                other_body, "order.updated", delivery_id=f"theirs-{index}-{payload['id']}", source=site
            )
            answer = post_webhook(connection, other_body, headers)
            assert (answer.status_code, answer.content) == (200, b"Ignored: another shop."), site

    assert (Order.objects.count(), Customer.objects.count(), WebhookDelivery.objects.count()) == counts
    kept = Order.objects.get(account=account, external_id="9001")
    assert (kept.status, kept.customer_id, kept.total) == (recorded.status, recorded.customer_id, recorded.total)
    assert not Order.objects.filter(account=account, external_id="9100").exists()


def test_the_stores_own_deliveries_are_recorded_however_its_address_is_written(db, store, post_webhook):
    """WordPress sends ``home_url('/')``; the seller typed the store URL their own way."""
    account = SellerAccount.objects.create(name="Woo named", channel="woocommerce", currency="EUR")
    connection = ChannelConnection(account=account)
    connection.set_credentials(store.credentials(store_url="https://Shop.Example.com/"))
    connection.save()
    channel_sync.start_backfill(connection, date(2024, 1, 1))
    sources = (
        "https://shop.example.com/",  # home_url('/') as WordPress sends it
        "https://SHOP.example.COM",  # the host's case, no trailing slash
        "http://shop.example.com/",  # http: a site moved to https since (or not yet)
        "https://shop.example.com:443/",  # the default port written out
        None,  # no address: a WooCommerce before 2.6
    )
    for number, source in enumerate(sources, start=9201):
        payload = dict(fixture("order_guest_coupon.json"), id=number, number=str(number))
        body = json.dumps(payload).encode()
        headers = webhook_headers(body, "order.created", delivery_id=f"d-{number}", source=source)
        if source is None:
            del headers["X-WC-Webhook-Source"]
        answer = post_webhook(connection, body, headers)
        assert (answer.status_code, answer.content) == (200, b"OK"), source
        assert Order.objects.filter(account=account, external_id=str(number)).exists(), source
    assert WebhookDelivery.objects.filter(connection=connection).count() == len(sources)


def test_the_ping_on_saving_a_webhook_gets_200_and_records_nothing(connection, store, client):
    """WooCommerce posts ``webhook_id=<n>`` unsigned when the seller saves the webhook; anything but 200 is an error."""
    channel_sync.sync_connection(connection.pk)
    before = Order.objects.count()
    response = client.post(
        webhook_url(connection),
        data=b"webhook_id=17",
        content_type="application/x-www-form-urlencoded",
        headers={"User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7)"},
    )
    assert response.status_code == 200
    assert Order.objects.count() == before
    # Anything else without a signature is still refused.
    forged = client.post(
        webhook_url(connection), data=json.dumps(fixture("order.json")), content_type="application/json"
    )
    assert forged.status_code == 401
