"""A stand-in WooCommerce store on 127.0.0.1 (pytest-httpserver) for the WooCommerce channel's tests.

It answers ``/wp-json/wc/v3/...`` the way WooCommerce does, as its REST API documentation describes (v3):
``GET orders`` with ``modified_after`` (strict, one-second precision), ``dates_are_gmt``, ``orderby`` /
``order``, ``page`` / ``per_page`` (at most 100) and the ``X-WP-Total`` / ``X-WP-TotalPages`` headers;
``GET orders/<id>/refunds``; ``GET settings/general``. Each request is authenticated as WooCommerce does it:
over http an OAuth 1.0a signature in the query string (checked here from WooCommerce's algorithm: the
parameters sorted and percent-encoded, ``METHOD&url&params`` signed with ``consumer_secret&``), over https
HTTP basic auth. Wrong credentials get WooCommerce's 401 body.
"""

import base64
import copy
import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from werkzeug import Response

FIXTURES = Path(__file__).parent / "fixtures" / "channels" / "woocommerce"
API = "/wp-json/wc/v3"
ORDERBY = ("date", "modified", "id", "include", "title", "slug")
CONSUMER_KEY = "ck_4f1c0d2e9a7b3c5d6e8f0a1b2c3d4e5f6a7b8c9d"
CONSUMER_SECRET = "cs_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
WEBHOOK_SECRET = "w3bh00k-s3cret-&-more"


def fixture(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def gmt(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def generated_orders(count, *, start=datetime(2026, 9, 1, 8, 0, tzinfo=UTC), same_second_every=7):
    """``count`` orders in the documented shape, from ``order.json``, one buyer in three a guest.

    Every ``same_second_every``-th order shares its modification second with the one before, so pages
    end inside a second as they do in a busy store.
    """
    template = fixture("order.json")
    orders = []
    modified = start
    for index in range(count):
        order = copy.deepcopy(template)
        order_id = 5000 + index
        created = start + timedelta(minutes=17 * index)
        if index % same_second_every:
            modified = max(modified + timedelta(seconds=1), created + timedelta(minutes=3))
        order.update(
            id=order_id,
            number=str(order_id),
            date_created_gmt=gmt(created),
            date_created=gmt(created + timedelta(hours=1)),
            date_modified_gmt=gmt(modified),
            date_modified=gmt(modified + timedelta(hours=1)),
            date_paid_gmt=gmt(created + timedelta(minutes=1)),
            date_paid=gmt(created + timedelta(hours=1, minutes=1)),
            customer_id=0 if index % 3 == 0 else 100 + index % 40,
        )
        order["billing"]["email"] = f"buyer{index % 40}@example.org"
        order["billing"]["first_name"] = f"Buyer{index % 40}"
        orders.append(order)
    return orders


class WooCommerceStandIn:
    """The store's state (orders, refunds, settings) and its REST API on a pytest-httpserver."""

    def __init__(self, httpserver, *, orders=(), refunds=None, settings=None, scheme="http"):
        self.server = httpserver
        self.scheme = scheme
        self.orders = {order["id"]: order for order in orders}
        self.refunds = dict(refunds or {})
        self.settings = settings if settings is not None else fixture("settings_general.json")
        self.requests = []
        self.seen_nonces = set()
        httpserver.expect_request(f"{API}/orders", method="GET").respond_with_handler(self._orders)
        httpserver.expect_request(re.compile(rf"^{API}/orders/\d+/refunds$"), method="GET").respond_with_handler(
            self._refunds
        )
        httpserver.expect_request(re.compile(rf"^{API}/orders/\d+$"), method="GET").respond_with_handler(self._order)
        httpserver.expect_request(f"{API}/settings/general", method="GET").respond_with_handler(self._settings)

    @property
    def url(self):
        # 127.0.0.1 whatever name the server was started with ("localhost" by default).
        return f"{self.scheme}://127.0.0.1:{self.server.port}"

    @property
    def home_url(self):
        """The site's address as WordPress gives it (``home_url('/')``), sent in ``X-WC-Webhook-Source``."""
        return f"{self.url}/"

    def credentials(self, **changes):
        values = {
            "store_url": self.url,
            "consumer_key": CONSUMER_KEY,
            "consumer_secret": CONSUMER_SECRET,
            "webhook_secret": WEBHOOK_SECRET,
        }
        values.update(changes)
        return values

    def touch(self, order_id, moment):
        """The seller edits an order: it changes and its ``date_modified_gmt`` moves on."""
        order = self.orders[order_id]
        order["date_modified_gmt"] = gmt(moment)
        order["date_modified"] = gmt(moment + timedelta(hours=1))

    def order_requests(self):
        return [request for request in self.requests if request["path"] == f"{API}/orders"]

    # Handlers.
    def _orders(self, request):
        refused = self._authenticate(request)
        if refused:
            return refused
        args = _php_get(request)
        if args.get("orderby", "date") not in ORDERBY:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): orderby")
        per_page = int(args.get("per_page", 10))
        if not 1 <= per_page <= 100:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        page = int(args.get("page", 1))
        # The default status, "any", is every order status but the bin's.
        orders = [order for order in self.orders.values() if order["status"] != "trash"]
        if "modified_after" in args:
            if args.get("dates_are_gmt") != "true":
                return _error(500, "test_stand_in", "The adapter must send dates_are_gmt=true.")
            after = datetime.fromisoformat(args["modified_after"]).replace(tzinfo=UTC)
            orders = [order for order in orders if _utc(order["date_modified_gmt"]) > after]
        key = {"modified": "date_modified_gmt", "date": "date_created_gmt", "id": "id"}[args.get("orderby", "date")]
        # WordPress breaks ties by post id.
        orders.sort(key=lambda order: (order[key], order["id"]), reverse=args.get("order", "desc") == "desc")
        total = len(orders)
        pages = (total + per_page - 1) // per_page
        body = orders[(page - 1) * per_page : page * per_page]
        return Response(
            json.dumps(body),
            content_type="application/json; charset=UTF-8",
            headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)},
        )

    def _order(self, request):
        refused = self._authenticate(request)
        if refused:
            return refused
        order = self.orders.get(int(request.path.split("/")[-1]))
        if order is None:
            return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return Response(json.dumps(order), content_type="application/json; charset=UTF-8")

    def _refunds(self, request):
        refused = self._authenticate(request)
        if refused:
            return refused
        order_id = int(request.path.split("/")[-2])
        if order_id not in self.orders:
            return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return Response(json.dumps(self.refunds.get(order_id, [])), content_type="application/json; charset=UTF-8")

    def _settings(self, request):
        refused = self._authenticate(request)
        if refused:
            return refused
        return Response(json.dumps(self.settings), content_type="application/json; charset=UTF-8")

    # WooCommerce's authentication (WC_REST_Authentication).
    def _authenticate(self, request):
        self.requests.append(
            {
                "path": request.path,
                "args": _php_get(request),
                "query": request.query_string.decode(),
                "authorization": request.headers.get("Authorization", ""),
            }
        )
        if self.scheme == "https":
            expected = base64.b64encode(f"{CONSUMER_KEY}:{CONSUMER_SECRET}".encode()).decode()
            if request.headers.get("Authorization") != f"Basic {expected}":
                return _error(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
            return None
        params = _php_get(request)
        if params.get("oauth_consumer_key") != CONSUMER_KEY:
            return _error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if abs(int(params.get("oauth_timestamp", 0)) - time.time()) > 15 * 60:
            return _error(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
        nonce = (params.get("oauth_timestamp"), params.get("oauth_nonce"))
        if nonce in self.seen_nonces:
            return _error(401, "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.")
        self.seen_nonces.add(nonce)
        signature = params.pop("oauth_signature", "")
        base_uri = _rawurlencode(f"http://{request.host}{request.path}")
        pairs = sorted(params.items())
        normalised = "%26".join(
            f"{_rawurlencode(key).replace('%', '%25')}%3D{_rawurlencode(value).replace('%', '%25')}"
            for key, value in pairs
        )
        string_to_sign = f"{request.method}&{base_uri}&{normalised}"
        algorithm = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}.get(params["oauth_signature_method"])
        expected = base64.b64encode(
            hmac.new(f"{CONSUMER_SECRET}&".encode(), string_to_sign.encode(), algorithm).digest()
        ).decode()
        if not hmac.compare_digest(expected, signature):
            return _error(
                401, "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match."
            )
        return None


def sign_webhook(body, secret=WEBHOOK_SECRET):
    """``X-WC-Webhook-Signature`` as WooCommerce makes it: base64 of the HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def webhook_headers(
    body,
    topic="order.updated",
    *,
    delivery_id="d6f2b1e0-7f36-4a55-9d7c-2b0a51c1f9e4",
    secret=WEBHOOK_SECRET,
    source="https://shop.example.com/",
):
    """A delivery's headers as WooCommerce sends them; ``source`` is the sending site's ``home_url('/')`` (a
    stand-in store's is ``store.home_url``: the connection ignores a delivery from another site)."""
    resource, _, event = topic.partition(".")
    return {
        "X-WC-Webhook-Source": source,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign_webhook(body, secret),
        "X-WC-Webhook-ID": "17",
        "X-WC-Webhook-Delivery-ID": delivery_id,
    }


def _php_get(request):
    """The query string as PHP's $_GET reads it: a parameter given twice keeps its last value."""
    return {key: request.args.getlist(key)[-1] for key in request.args}


def _rawurlencode(text):
    return quote(str(text), safe="-_.~")


def _utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _error(status, code, message):
    return Response(
        json.dumps({"code": code, "message": message, "data": {"status": status}}),
        status=status,
        content_type="application/json; charset=UTF-8",
    )
