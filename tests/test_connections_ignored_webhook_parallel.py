"""An ignored webhook delivery while a sync's page holds its connection's row: answered at once, its note given up.

A sync's page renews its lease on the connection's row and records its orders in one transaction: until it commits,
PostgreSQL makes an UPDATE of that row wait, and SQLite any write. The note of an ignored delivery waited for the
page's commit (on SQLite, until the busy timeout, then a 500), while Shopify gives up on an answer after 5 s and may
then drop a subscription other shops share. The page is held by a real thread with its own database connection (a
file for SQLite, as the site's settings open it); the delivery goes through the public endpoint.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.channel_woocommerce_standin import WooCommerceStandIn, webhook_headers
from tests.parallel_support import in_thread
from tests.test_connections_ignored_webhook import OTHER_SITE, connected, woo_order
from tests.test_watchlist_parallel import parallel_database  # noqa: F401 (the fixture)
from wagtail_customers.models import ChannelConnection

pytestmark = pytest.mark.django_db(transaction=True)

#: How long the page's transaction stays open at most: longer than the note may wait (1 s), shorter than a test.
HELD_SECONDS = 8


def test_an_ignored_delivery_is_answered_at_once_while_a_sync_page_holds_the_row(
    httpserver,
    parallel_database,  # noqa: F811
    caplog,
):
    store = WooCommerceStandIn(httpserver)
    connection = connected("Woo EU", "woocommerce", store.credentials())
    url = reverse("wagtail_customers_webhooks:receive", args=[connection.webhook_token])
    body = woo_order(9100)
    holding, release, errors = threading.Event(), threading.Event(), []

    def sync_page():
        # As a sync's page does: the lease renewed on the connection's row first, then the orders, then the commit.
        with transaction.atomic():
            ChannelConnection.objects.filter(pk=connection.pk).update(
                locked_until=timezone.now() + timedelta(minutes=5)
            )
            holding.set()
            release.wait(HELD_SECONDS)

    thread = in_thread(sync_page, errors)
    try:
        assert holding.wait(30), errors
        started = time.monotonic()
        answer = Client().post(
            url,
            data=body,
            content_type="application/json",
            headers=webhook_headers(body, delivery_id="held", source=OTHER_SITE),
        )
        waited = time.monotonic() - started
    finally:
        release.set()
        thread.join(60)
    assert not errors, errors

    assert (answer.status_code, answer.content) == (200, b"Ignored: another shop.")
    assert waited < 4, waited  # about the second the note may wait, not the page's commit
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_at is None
    assert "the note of an ignored delivery could not be written" in caplog.text

    # The page committed: the next such delivery is noted.
    answer = Client().post(
        url,
        data=body,
        content_type="application/json",
        headers=webhook_headers(body, delivery_id="later", source=OTHER_SITE),
    )
    assert answer.content == b"Ignored: another shop."
    assert ChannelConnection.objects.get(pk=connection.pk).ignored_webhook_source == OTHER_SITE
