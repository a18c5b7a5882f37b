"""A stand-in for Shopify's Admin GraphQL API (pytest-httpserver), and Store A's real export in its shapes.

Shared by tests/test_channel_shopify.py (the adapter) and tests/test_channel_shopify_engine.py (the sync engine
with the adapter). The answers follow tests/fixtures/channels/shopify/ (Admin API 2026-07, see its README).
"""

import base64
import copy
import hashlib
import hmac
import json
import re
from datetime import UTC
from decimal import Decimal
from pathlib import Path

from werkzeug.wrappers import Response

from wagtail_customers.channels.shopify import API_VERSION, LINES_PER_ORDER
from wagtail_customers.importers.base import ImportReport, read_table
from wagtail_customers.importers.shopify import ShopifyFormat
from wagtail_customers.models import FulfilmentStatus, OrderStatus

FIXTURES = Path(__file__).parent / "fixtures" / "channels" / "shopify"
STORE_A = "shopify/storeA_orders_export_1.pseudonymised.csv"
TOKEN = "shpat_0123456789abcdef0123456789abcdef"
SECRET = "shpss_client_secret_for_tests"
CLIENT_ID = "3f2a6c1b9e8d7f6a5b4c3d2e1f0a9b8c"
GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"


def fixture(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def iso(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def opaque(offset):
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def offset_of(cursor):
    return json.loads(base64.b64decode(cursor))["offset"] if cursor else 0


def page(items, first, after=None):
    """A connection's page: ``first`` items after the cursor ``after``."""
    start = offset_of(after)
    end = start + first
    return {"pageInfo": {"hasNextPage": end < len(items), "endCursor": opaque(end)}, "nodes": items[start:end]}


def first_of(query, field):
    """The ``first:`` the query asks of a field (a connection or a list), else None (all of it)."""
    asked = re.search(rf"\b{field}\(first: (\d+)", query)
    return int(asked.group(1)) if asked else None


class StandIn:
    """Shopify's Admin GraphQL endpoint for one shop: orders sorted by ``updatedAt``, cursor pagination, the
    ``updated_at:>=`` search filter, nested line-item pages, ``order(id:)``, ``refund(id:)`` and ``shop``. As
    Shopify does, it gives no more of a connection or list than the query's ``first:`` asks (``refunds``,
    ``refundLineItems``, ``fulfillments``), with ``pageInfo`` where the query selects it. ``script`` holds
    answers given instead of the next requests (throttling, 5xx...)."""

    def __init__(self, httpserver, orders=()):
        self.orders = list(orders)
        self.script = []
        #: {GraphQL request number (1 = the first): (status, answer, headers)}: a failure at a chosen point.
        self.at = {}
        self.requests = []
        self.graphql_requests = 0
        #: The most orders one ``orders`` query may ask for before its cost is refused (MAX_COST_EXCEEDED).
        self.max_orders_per_query = 250
        #: Tokens handed out by the client credentials grant and still valid.
        self.granted = []
        httpserver.expect_request(GRAPHQL_PATH, method="POST").respond_with_handler(self.handle)
        httpserver.expect_request("/admin/oauth/access_token", method="POST").respond_with_handler(self.grant)

    def json(self, body, status=200, headers=None):
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")

    def grant(self, request):
        """The client credentials grant: a form-encoded client ID and secret for a 24-hour token."""
        self.requests.append((dict(request.headers), {"grant": dict(request.form)}))
        form = request.form
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
            "client_credentials", CLIENT_ID, SECRET,
        ):  # fmt: skip
            return self.json(fixture("access_token_error_response.json"), 400)
        answer = fixture("access_token_response.json")
        answer["access_token"] = f"shpat_granted_{len(self.grants())}"
        self.granted.append(answer["access_token"])
        return self.json(answer)

    def revoke_granted_tokens(self):
        self.granted.clear()

    def handle(self, request):
        body = json.loads(request.get_data())
        self.requests.append((dict(request.headers), body))
        self.graphql_requests += 1
        if self.script or self.graphql_requests in self.at:
            status, answer, headers = self.script.pop(0) if self.script else self.at.pop(self.graphql_requests)
            if isinstance(answer, str):
                return Response(answer, status=status, headers=headers, content_type="text/html")
            return self.json(answer, status, headers)
        if request.headers.get("X-Shopify-Access-Token") not in (TOKEN, *self.granted):
            return self.json(fixture("invalid_token_response.json"), 401)
        query, variables = body["query"], body.get("variables") or {}
        self.query = query
        name = re.match(r"\s*query (\w+)", query).group(1)
        return self.json(getattr(self, f"answer_{name}")(variables))

    def envelope(self, data):
        answer = fixture("orders_response.json")
        answer["data"] = data
        return answer

    def credentials(self):
        """A Dev Dashboard app's credentials (tokens by the client credentials grant)."""
        return {"shop": "anas-tees.myshopify.com", "client_id": CLIENT_ID, "client_secret": SECRET}

    def answer_Shop(self, variables):
        return fixture("shop_response.json")

    def page_lines(self, node, first, after=None):
        lines = copy.deepcopy(node["lineItems"]["nodes"])
        if not re.search(r"\bcurrentQuantity\b", self.query):
            for line in lines:
                line.pop("currentQuantity", None)
        return page(lines, first, after)

    def as_answered(self, node):
        node = copy.deepcopy(node)
        node["lineItems"] = self.page_lines(node, LINES_PER_ORDER)
        node["refunds"] = node.get("refunds", [])[: first_of(self.query, "refunds")]
        lines_asked = first_of(self.query, "refundLineItems")
        with_page_info = re.search(r"refundLineItems\(first: \d+\)\s*\{\s*pageInfo", self.query)
        for refund in node["refunds"]:
            refund["refundLineItems"] = page(refund["refundLineItems"]["nodes"], lines_asked or 250)
            if not with_page_info:
                del refund["refundLineItems"]["pageInfo"]
        node["fulfillments"] = node.get("fulfillments", [])[: first_of(self.query, "fulfillments")]
        return node

    def answer_Orders(self, variables):
        if variables["first"] > self.max_orders_per_query:
            return fixture("max_cost_exceeded_response.json")
        since = re.fullmatch(r"updated_at:>='(.+)'", variables["query"]) if variables.get("query") else None
        selected = sorted(
            (node for node in self.orders if not since or node["updatedAt"] >= since.group(1)),
            key=lambda node: (node["updatedAt"], node["id"]),
        )
        start = offset_of(variables.get("after"))
        end = start + variables["first"]
        return self.envelope(
            {
                "orders": {
                    "pageInfo": {"hasNextPage": end < len(selected), "endCursor": opaque(end)},
                    "nodes": [self.as_answered(node) for node in selected[start:end]],
                }
            }
        )

    def answer_Order(self, variables):
        node = next((node for node in self.orders if node["id"] == variables["id"]), None)
        return self.envelope({"order": self.as_answered(node) if node else None})

    def answer_OrderLines(self, variables):
        node = next(node for node in self.orders if node["id"] == variables["id"])
        return self.envelope({"order": {"lineItems": self.page_lines(node, 100, variables.get("after"))}})

    def answer_OrderHistory(self, variables):
        node = next(node for node in self.orders if node["id"] == variables["id"])
        refunds = node.get("refunds", [])[: first_of(self.query, "refunds")]
        return self.envelope(
            {
                "order": {
                    "refunds": [{"id": refund["id"], "createdAt": refund["createdAt"]} for refund in refunds],
                    "fulfillments": node.get("fulfillments", [])[: first_of(self.query, "fulfillments")],
                }
            }
        )

    def answer_RefundLines(self, variables):
        refund = next(
            refund for node in self.orders for refund in node.get("refunds", []) if refund["id"] == variables["id"]
        )
        lines = refund["refundLineItems"]["nodes"]
        return self.envelope(
            {"refund": {"refundLineItems": page(lines, first_of(self.query, "refundLineItems"), variables["after"])}}
        )

    def queries(self, name):
        return [body for _, body in self.requests if re.match(rf"\s*query {name}\b", body.get("query", ""))]

    def grants(self):
        return [body["grant"] for _, body in self.requests if "grant" in body]


# Store A's export in the documented Order shape.
FINANCIAL = {
    OrderStatus.PENDING: "PENDING",
    OrderStatus.PAID: "PAID",
    OrderStatus.SHIPPED: "PAID",
    OrderStatus.DELIVERED: "PAID",
    OrderStatus.REFUNDED: "REFUNDED",
    OrderStatus.PARTIALLY_REFUNDED: "PARTIALLY_REFUNDED",
    OrderStatus.CANCELLED: "VOIDED",
}
FULFILMENT = {
    FulfilmentStatus.UNFULFILLED: "UNFULFILLED",
    FulfilmentStatus.CANCELLED: "UNFULFILLED",
    FulfilmentStatus.PARTIAL: "PARTIALLY_FULFILLED",
    FulfilmentStatus.FULFILLED: "FULFILLED",
    FulfilmentStatus.RETURNED: "RESTOCKED",
}


def money_set(value, currency):
    text = str(value)
    return {
        "shopMoney": {"amount": text, "currencyCode": currency},
        "presentmentMoney": {"amount": text, "currencyCode": currency},
    }


def store_a_orders(realdata):
    """Store A's orders as the CSV importer reads them."""
    table = read_table((realdata / STORE_A).read_bytes(), "orders.csv")
    report = ImportReport()
    orders = ShopifyFormat().parse(table, report)
    assert not report.errors
    return orders


def as_graphql(orders):
    """Each ``OrderData`` written back as the ``Order`` node Shopify's API would give for it."""
    customer_ids = {}
    nodes = []
    for index, order in enumerate(orders):
        currency = order.currency or "USD"
        who = order.customer.email.lower() or order.customer.name
        customer = None
        if who:  # a buyer with an e-mail, or one known by name only (an order taken by phone)
            customer_id = customer_ids.setdefault(who, 100_000 + len(customer_ids))
            customer = {
                "id": f"gid://shopify/Customer/{customer_id}",
                "displayName": order.customer.name,
                "defaultEmailAddress": {"emailAddress": order.customer.email} if order.customer.email else None,
                "defaultPhoneNumber": {"phoneNumber": order.customer.phone} if order.customer.phone else None,
            }
        line_discounts = sum((line.discount for line in order.lines), Decimal("0"))
        moments = [order.placed_at, order.shipped_at, order.cancelled_at, order.paid_at]
        ship_to = order.ship_to
        nodes.append(
            {
                "id": f"gid://shopify/Order/{5000000 + index}",
                "name": order.external_id,
                "email": order.customer.email or None,
                "phone": order.customer.phone or None,
                "createdAt": iso(order.placed_at),
                "processedAt": iso(order.placed_at),
                "updatedAt": iso(max(filter(None, moments))),
                "cancelledAt": iso(order.cancelled_at),
                "closedAt": None,
                # A cancelled order the buyer paid for (its total kept) stays "PAID" until it is refunded.
                "displayFinancialStatus": "PAID"
                if order.status == OrderStatus.CANCELLED and order.total
                else FINANCIAL[order.status],
                "displayFulfillmentStatus": FULFILMENT[order.fulfilment_status],
                "discountCodes": [code.code for code in order.promo_codes],
                "customer": customer,
                "subtotalPriceSet": money_set(
                    sum((line.line_total for line in order.lines), Decimal("0")) - order.discount - line_discounts,
                    currency,
                ),
                "totalDiscountsSet": money_set(order.discount + line_discounts, currency),
                "totalShippingPriceSet": money_set(order.shipping, currency),
                "totalTaxSet": money_set(order.tax, currency),
                "totalPriceSet": money_set(order.total, currency),
                "totalRefundedSet": money_set(order.refunded, currency),
                "shippingAddress": None
                if ship_to.is_empty()
                else {
                    "name": ship_to.name,
                    "address1": ship_to.line1,
                    "address2": ship_to.line2 or None,
                    "zip": ship_to.postal_code,
                    "city": ship_to.city,
                    "province": None,
                    "provinceCode": ship_to.state or None,
                    "countryCodeV2": ship_to.country,
                    "phone": ship_to.phone or None,
                },
                "lineItems": {
                    "nodes": [
                        {
                            "id": f"gid://shopify/LineItem/{index}-{number}",
                            "sku": line.sku or None,
                            "name": line.product_name,
                            "quantity": line.quantity,
                            # Units neither refunded nor removed by an edit: a cancelled order has none left.
                            "currentQuantity": 0 if order.status == OrderStatus.CANCELLED else line.quantity,
                            "originalUnitPriceSet": money_set(line.unit_price, currency),
                            "discountAllocations": [{"allocatedAmountSet": money_set(line.discount, currency)}]
                            if line.discount
                            else [],
                        }
                        for number, line in enumerate(order.lines)
                    ]
                },
                "refunds": [],
                "fulfillments": [
                    {
                        "createdAt": iso(order.shipped_at),
                        "deliveredAt": None,
                        "status": "SUCCESS",
                        "displayStatus": "FULFILLED",
                    }
                ]
                if order.shipped_at
                else [],
            }
        )
    return nodes


def signed(body, secret=SECRET):
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def webhook_headers(body, topic="orders/create", **extra):
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signed(body),
        "X-Shopify-Shop-Domain": "anas-tees.myshopify.com",
        "X-Shopify-API-Version": API_VERSION,
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        **extra,
    }
