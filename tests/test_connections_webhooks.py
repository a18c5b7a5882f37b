"""The public webhook endpoint (``wagtail_customers_webhooks:receive``) and ``process_webhook``.

Deliveries are posted with Django's test client to the real view; the connection's adapter is the test
channel of tests/connection_fixture_channel.py (HMAC-SHA256 of the body in ``X-Fixture-Hmac``). Celery runs
eagerly in the tests, so the queued work is done when the answer comes back.
"""

import json

import pytest
from django.urls import reverse

from tests.connection_fixture_channel import FixtureChannel, connect, fixture_order, sign
from wagtail_customers.models import (
    ChannelConnection,
    ConnectionState,
    Order,
    SyncKind,
    SyncRun,
    WebhookDelivery,
)
from wagtail_customers.services import channel_sync
from wagtail_customers.services.statistics import rebuild_statistics


@pytest.fixture
def channel(httpserver):
    return FixtureChannel(httpserver, orders=[fixture_order(index) for index in range(3)])


@pytest.fixture
def connection(db, channel):
    connection = connect(channel, "Hooked shop")
    channel_sync.sync_connection(connection.pk)
    return ChannelConnection.objects.get(pk=connection.pk)


def post(client, connection, payload, *, signature=None, topic="orders/create", delivery="delivery-1", token=None):
    body = json.dumps(payload).encode()
    headers = {"X-Fixture-Topic": topic, "X-Fixture-Delivery": delivery}
    if signature is not False:
        headers["X-Fixture-Hmac"] = signature if signature is not None else sign(body)
    url = reverse("wagtail_customers_webhooks:receive", args=[token or connection.webhook_token])
    return client.post(url, body, content_type="application/json", headers=headers)


def test_a_signed_delivery_is_recorded_pending(client, connection, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, connection, fixture_order(50, total="99.00"))

    assert response.status_code == 200
    order = Order.objects.get(external_id="1050")
    assert order.sync_status == "pending"
    assert order.synced_at is not None
    assert order.total == 99
    assert WebhookDelivery.objects.get().delivery_id == "delivery-1"
    assert SyncRun.objects.filter(kind=SyncKind.WEBHOOK).get().orders_created == 1
    assert rebuild_statistics() == 0


@pytest.mark.parametrize("signature", [False, "", "bm90IHRoZSBzaWduYXR1cmU=", sign(b"another body")])
def test_a_bad_or_missing_signature_gets_401_and_writes_nothing(
    client, connection, signature, django_capture_on_commit_callbacks
):
    orders = Order.objects.count()
    runs = SyncRun.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(client, connection, fixture_order(51), signature=signature)

    assert response.status_code == 401
    assert callbacks == []
    assert Order.objects.count() == orders
    assert SyncRun.objects.count() == runs
    assert WebhookDelivery.objects.count() == 0


def test_a_redelivery_is_a_no_op(client, connection, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, connection, fixture_order(52, total="20.00")).status_code == 200
    first = Order.objects.get(external_id="1052")

    # The channel redelivers the same delivery (same id), even with a changed body: nothing happens.
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, connection, fixture_order(52, total="25.00")).status_code == 200

    again = Order.objects.get(external_id="1052")
    assert again.total == first.total == 20
    assert again.updated_at == first.updated_at
    assert WebhookDelivery.objects.count() == 1
    assert SyncRun.objects.filter(kind=SyncKind.WEBHOOK).count() == 1
    assert channel_sync.process_webhook(connection.pk, "orders/create", fixture_order(52), "delivery-1") == (
        "duplicate"
    )


def test_the_next_pull_confirms_a_webhook_order(client, connection, channel, django_capture_on_commit_callbacks):
    order = fixture_order(3)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, connection, order)
    assert Order.objects.get(external_id="1003").sync_status == "pending"

    channel.orders.append(order)
    channel_sync.sync_connection(connection.pk)

    assert Order.objects.get(external_id="1003").sync_status == "synced"


def test_a_delivery_older_than_a_pull_that_confirmed_the_order_is_left_out(connection):
    from datetime import timedelta

    confirmed = Order.objects.get(external_id="1001")
    received = confirmed.synced_at - timedelta(seconds=5)

    outcome = channel_sync.process_webhook(
        connection.pk, "orders/updated", fixture_order(1, total="1.00"), "late", received_at=received
    )

    assert outcome == "recorded"
    confirmed.refresh_from_db()
    assert (confirmed.total, confirmed.sync_status) == (10, "synced")


def test_an_adapter_error_fails_the_run_instead_of_leaving_it_running(connection, caplog):
    # The test channel's mapping raises KeyError on an order without an id: an adapter bug, not a ChannelError.
    outcome = channel_sync.process_webhook(connection.pk, "orders/create", {"secret": "x"}, "broken")

    assert outcome == "failed"
    run = SyncRun.objects.get(kind=SyncKind.WEBHOOK)
    assert (run.outcome, run.finished_at is not None) == ("failed", True)
    # A sentence for the seller, without the exception's class name; the log has the type and where it was raised.
    assert run.error == (
        "Something unexpected went wrong while recording a webhook delivery; the site's administrators can find the "
        "details in the server log."
    )
    assert "KeyError" not in run.error
    assert "KeyError" in caplog.text
    # No delivery id is kept: a redelivery is processed again.
    assert not WebhookDelivery.objects.exists()


def test_unknown_token_404_get_405_and_a_paused_connection_records_nothing(client, connection):
    assert post(client, connection, fixture_order(53), token="no-such-token").status_code == 404
    url = reverse("wagtail_customers_webhooks:receive", args=[connection.webhook_token])
    assert client.get(url).status_code == 405

    channel_sync.pause(connection)
    assert post(client, connection, fixture_order(53), delivery="d-53").status_code == 200
    assert not Order.objects.filter(external_id="1053").exists()


def test_a_topic_the_adapter_does_not_use_is_accepted_and_ignored(client, connection):
    assert post(client, connection, {"id": 1}, topic="products/update").status_code == 200
    assert WebhookDelivery.objects.count() == 0


def test_a_body_over_the_limit_gets_413(client, connection, settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "WEBHOOK_MAX_BYTES": 100}
    payload = fixture_order(54) | {"name": "x" * 200}

    assert post(client, connection, payload).status_code == 413
    assert not Order.objects.filter(external_id="1054").exists()


def test_a_never_connected_connection_has_no_webhook(client, db, channel):
    connection = connect(channel, "New shop", start=False)
    assert connection.state == ConnectionState.NEVER_CONNECTED

    assert post(client, connection, fixture_order(55)).status_code == 404


# --- Deliveries the endpoint cannot take as they come: an answer, never a 500 ---------------------------------


def test_a_body_nested_thousands_deep_is_not_json(client, connection):
    body = b"[" * 200_000
    url = reverse("wagtail_customers_webhooks:receive", args=[connection.webhook_token])
    headers = {"X-Fixture-Topic": "orders/create", "X-Fixture-Delivery": "deep", "X-Fixture-Hmac": sign(body)}
    response = client.post(url, body, content_type="application/json", headers=headers)
    assert (response.status_code, response.content) == (400, b"Not JSON.")


def test_a_channel_without_webhooks_has_none_whatever_its_credentials(client, db):
    from wagtail_customers.models import SellerAccount

    account = SellerAccount.objects.create(name="Amazon DE", channel="amazon", currency="EUR")
    amazon = ChannelConnection(account=account, state=ConnectionState.LIVE)
    # Credentials the adapter would refuse (no such marketplace): never read for a webhook.
    amazon.set_credentials({"marketplace": "nowhere", "refresh_token": "x"})
    amazon.save()
    assert post(client, amazon, fixture_order(56)).status_code == 404


def test_credentials_the_sites_keys_cannot_read_answer_503(client, connection, settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "CREDENTIALS_KEYS": []}
    response = post(client, connection, fixture_order(57), delivery="d-57")
    assert (response.status_code, response.content) == (503, b"Unavailable.")
    assert not Order.objects.filter(external_id="1057").exists()


def test_a_delivery_the_task_queue_cannot_take_is_recorded_at_once(
    client, connection, settings, django_capture_on_commit_callbacks
):
    from tests.celery_fixtures import _reset_publisher, use_celery_settings
    from tests.test_import_job_states import UNREACHABLE

    app = use_celery_settings(settings, **UNREACHABLE)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, connection, fixture_order(58), delivery="d-58")
    finally:
        _reset_publisher(app)
    # Answered 200 and recorded in the request: a 500 makes a channel retry, then switch the webhook off.
    assert response.status_code == 200
    assert Order.objects.get(external_id="1058").sync_status == "pending"
    assert WebhookDelivery.objects.filter(delivery_id="d-58").exists()
