"""A test channel for the sync engine's tests: an adapter that talks HTTP to a pytest-httpserver.

Not a mock of our code: the adapter is a real ``ChannelAdapter`` (``channels/base.py``) using ``requests``
against a real HTTP server on 127.0.0.1, with a trivial JSON shape of its own, so the engine's tests can
make the channel answer exactly what they need (a 429 with Retry-After, a 5xx, a refused token, a broken
body) at exactly the page they need. The real channels' adapters are tested end to end against their
documented shapes in tests/test_channel_*.py and tests/test_channel_sync_woocommerce.py.

The shape: ``GET /orders?after=<cursor>&since=<ISO date-time>&limit=<n>`` with ``Authorization: Bearer
<api_key>`` answers ``{"orders": [{"id", "placed_at", "email", "name", "total"}], "next": <cursor or null>}``;
``next`` null means done (the cursor then stays at the last order, the high-water mark). Webhooks carry
``X-Fixture-Topic``, ``X-Fixture-Delivery`` and ``X-Fixture-Hmac`` (base64 HMAC-SHA256 of the body with
the webhook secret); their body is one order in the same shape.
"""

import base64
import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import requests
from werkzeug import Response

from wagtail_customers.channels.base import (
    AuthenticationFailed,
    ChannelAdapter,
    ChannelCapabilities,
    ChannelError,
    CredentialField,
    MalformedResponse,
    OrderPage,
    RateLimited,
    parse_datetime_utc,
)
from wagtail_customers.channels.registry import register_adapter
from wagtail_customers.models import ChannelConnection, SellerAccount, SyncStatus
from wagtail_customers.services.inputs import CustomerData, LineData, OrderData

CHANNEL = "other"
API_KEY = "fixture-api-key-0123456789"
WEBHOOK_SECRET = "fixture-webhook-secret"
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@register_adapter
class FixtureChannelAdapter(ChannelAdapter):
    channel = CHANNEL
    credential_fields = (
        CredentialField("base_url", "Base URL"),
        CredentialField("api_key", "API key", secret=True),
        CredentialField("webhook_secret", "Webhook secret", secret=True, required=False),
    )
    capabilities = ChannelCapabilities(webhooks=True)
    webhook_topics = ("orders/create", "orders/updated")

    def _get(self, path, params=None):
        try:
            response = requests.get(
                self.credentials["base_url"].rstrip("/") + path,
                params=params or {},
                headers={"Authorization": f"Bearer {self.credentials.get('api_key', '')}"},
                timeout=10,
            )
        except requests.RequestException as error:
            raise ChannelError(f"Could not reach the channel ({type(error).__name__}).") from None
        if response.status_code == 429:
            retry_after = response.headers.get("Retry-After")
            raise RateLimited("Too many requests.", retry_after=float(retry_after) if retry_after else None)
        if response.status_code == 401:
            raise AuthenticationFailed("The API key was refused.")
        if response.status_code >= 500:
            # As the channels' adapters do: a maintenance answer's Retry-After goes with the error.
            retry_after = response.headers.get("Retry-After")
            raise ChannelError(
                f"The channel had an error ({response.status_code}).",
                retry_after=float(retry_after) if retry_after else None,
            )
        try:
            return response.json()
        except ValueError:
            raise MalformedResponse("The channel answered something that is not JSON.") from None

    def check(self):
        return self._get("/shop").get("name", "")

    def fetch_orders(self, *, cursor=None, since=None):
        params = {"limit": 10}
        if cursor:
            params["after"] = cursor
        elif since:
            params["since"] = since.isoformat()
        body = self._get("/orders", params)
        if not isinstance(body, dict) or not isinstance(body.get("orders"), list):
            raise MalformedResponse("The order list is not in the documented shape.")
        orders = [order_data(item) for item in body["orders"]]
        if body.get("next"):
            return OrderPage(orders=orders, cursor=body["next"], done=False)
        high_water = str(body["orders"][-1]["id"]) if body["orders"] else cursor
        return OrderPage(orders=orders, cursor=high_water, done=True)

    def verify_webhook(self, headers, body):
        secret = self.credentials.get("webhook_secret") or ""
        given = headers.get("X-Fixture-Hmac") or ""
        return bool(secret and given) and hmac.compare_digest(sign(body, secret), given)

    def webhook_topic(self, headers):
        return headers.get("X-Fixture-Topic") or ""

    def webhook_delivery_id(self, headers):
        return headers.get("X-Fixture-Delivery") or ""

    def orders_from_webhook(self, topic, payload):
        return [order_data(payload, sync_status=SyncStatus.PENDING)]


def connect(channel, name, *, backfill_from=None, start=True, **credentials):
    """A seller account on the test channel with its credentials stored; its history import started unless
    ``start`` is False (the connection is then never connected)."""
    from wagtail_customers.services.channel_sync import start_backfill

    account = SellerAccount.objects.create(name=name, channel=CHANNEL, currency="USD")
    connection = ChannelConnection(account=account)
    connection.set_credentials(channel.credentials(**credentials))
    connection.save()
    if start:
        start_backfill(connection, backfill_from)
    return connection


def sign(body, secret=WEBHOOK_SECRET):
    return base64.b64encode(hmac.new(secret.encode(), bytes(body), hashlib.sha256).digest()).decode()


def order_data(item, sync_status=SyncStatus.SYNCED):
    return OrderData(
        external_id=str(item["id"]),
        placed_at=parse_datetime_utc(item["placed_at"]),
        customer=CustomerData(email=item["email"], name=item["name"]),
        currency="USD",
        lines=[LineData(sku="SKU-1", product_name="Thing", quantity=1, unit_price=Decimal(item["total"]))],
        sync_status=sync_status,
    )


def fixture_order(index, *, total="10.00"):
    return {
        "id": 1000 + index,
        "placed_at": (START + timedelta(hours=index)).isoformat().replace("+00:00", "Z"),
        "email": f"buyer{index % 7}@example.org",
        "name": f"Buyer {index % 7}",
        "total": total,
    }


class FixtureChannel:
    """The channel's server: its orders and a queue of answers to give instead of the next ones."""

    def __init__(self, httpserver, orders=(), page_size=10):
        self.server = httpserver
        self.orders = list(orders)
        self.page_size = page_size
        #: (status, headers, body) answered instead of the next /orders requests, in order.
        self.faults = []
        #: {n: (status, headers, body)}: the answer to the n-th /orders request (counting from 1).
        self.fault_at = {}
        #: Called with the request before a page is answered (a test may block here).
        self.before_page = None
        self.order_requests = []
        self.lock = threading.Lock()
        httpserver.expect_request("/orders", method="GET").respond_with_handler(self._orders)
        httpserver.expect_request("/shop", method="GET").respond_with_handler(self._shop)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.port}"

    def credentials(self, **changes):
        return {"base_url": self.url, "api_key": API_KEY, "webhook_secret": WEBHOOK_SECRET} | changes

    def _refused(self, request):
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return Response(json.dumps({"error": "invalid token"}), status=401, content_type="application/json")
        return None

    def _shop(self, request):
        return self._refused(request) or Response(json.dumps({"name": "Fixture shop"}), content_type="application/json")

    def _orders(self, request):
        with self.lock:
            self.order_requests.append(dict(request.args))
            fault = self.faults.pop(0) if self.faults else self.fault_at.pop(len(self.order_requests), None)
        if self.before_page is not None:
            self.before_page(request)
        if fault is not None:
            status, headers, body = fault
            return Response(body, status=status, headers=headers, content_type="application/json")
        refused = self._refused(request)
        if refused:
            return refused
        limit = min(int(request.args.get("limit", 10)), self.page_size)
        orders = sorted(self.orders, key=lambda order: order["id"])
        if request.args.get("after"):
            orders = [order for order in orders if order["id"] > int(request.args["after"])]
        elif request.args.get("since"):
            since = datetime.fromisoformat(request.args["since"])
            orders = [order for order in orders if parse_datetime_utc(order["placed_at"]) >= since]
        page = orders[:limit]
        more = len(orders) > limit
        body = {"orders": page, "next": str(page[-1]["id"]) if more and page else None}
        return Response(json.dumps(body), content_type="application/json")
