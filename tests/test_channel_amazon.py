"""The Amazon adapter against a stand-in Selling Partner API and Login with Amazon on 127.0.0.1.

The stand-in (pytest-httpserver) answers in the shapes of tests/fixtures/channels/amazon/ (Orders API
v0, Sellers API v1, LWA); the adapter talks to it through ``python-amazon-sp-api`` as in production,
pointed there by ``CHANNEL_API_URLS``. Hundreds of orders are built at run time from Amazon's real
sale report in /work/shared/realdata/amazon/.
"""

import base64
import copy
import csv
import gzip
import json
import re
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from werkzeug import Response

from wagtail_customers.channels import amazon
from wagtail_customers.channels.amazon import MAX_PASS_RESTARTS, ORDER_STATUSES, AmazonAdapter
from wagtail_customers.channels.base import (
    RETRY_AFTER_MAX_SECONDS,
    AuthenticationFailed,
    ChannelError,
    MalformedResponse,
    RateLimited,
)
from wagtail_customers.channels.registry import get_adapter_class
from wagtail_customers.models import Channel, FulfilmentStatus, Order, OrderStatus, SellerAccount
from wagtail_customers.services.ingestion import record_orders

FIXTURES = Path(__file__).parent / "fixtures" / "channels" / "amazon"
CREDENTIALS = {
    "refresh_token": "Atzr|IwEBIStandInRefreshToken",
    "lwa_app_id": "amzn1.application-oa2-client.standin",
    "lwa_client_secret": "amzn1.oa2-cs.v1.standin-secret",
    "marketplace": "DE",
}
PASS_UPPER_BOUND = "2026-12-01T00:00:00Z"


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


def json_response(body, status=200, headers=None):
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


class AmazonStandIn:
    """Orders API v0, Finances API v0, Reports API 2021-06-30, Sellers API v1 and the LWA token endpoint,
    answering as Amazon documents them.

    ``orders`` are getOrders' order objects, ``items`` their getOrderItems lists by order id. Answers queued in
    ``next_answers[kind]`` ("token", "orders", "items", "events", "reports", "documents") are given once, before
    the normal ones; ``answer_at[n]`` is given to the n-th getOrders request (1-based). ``hold_at`` (a request
    number) and ``release`` (a threading.Event) keep that getOrders request waiting until the test releases it.
    ``upper_bound`` is the pass's end Amazon reports (``LastUpdatedBefore``).
    """

    def __init__(self, httpserver, orders=(), items=None, events=None):
        self.base_url = httpserver.url_for("").rstrip("/")
        self.orders = sorted(orders, key=lambda order: order["LastUpdateDate"])
        self.items = items or {}
        self.events = events or {}
        self.events_requests = []
        self.next_answers = defaultdict(list)
        self.answer_at = {}
        self.hold_at, self.release = None, threading.Event()
        self.upper_bound = PASS_UPPER_BOUND
        self.valid_tokens = set()
        self.token_requests = []
        self.orders_requests = []
        self.items_requests = []
        httpserver.expect_request("/auth/o2/token", method="POST").respond_with_handler(self.token)
        httpserver.expect_request("/orders/v0/orders").respond_with_handler(self.get_orders)
        httpserver.expect_request(re.compile(r"^/orders/v0/orders/[^/]+/orderItems$")).respond_with_handler(
            self.get_order_items
        )
        httpserver.expect_request(re.compile(r"^/finances/v0/orders/[^/]+/financialEvents$")).respond_with_handler(
            self.get_financial_events
        )
        httpserver.expect_request(re.compile(r"^/orders/v0/orders/[^/]+$")).respond_with_handler(self.get_order)
        #: Reports API 2021-06-30. ``report_plans[reportType]``: (processing statuses given one per getReport
        #: call, the last one repeated; document bytes; compression or None). Without a plan Amazon cancels
        #: the report (it does when there is no data for the period).
        self.report_plans = {}
        self.report_requests, self.reports, self.document_fetches = [], {}, []
        httpserver.expect_request("/reports/2021-06-30/reports", method="POST").respond_with_handler(self.create_report)
        httpserver.expect_request(re.compile(r"^/reports/2021-06-30/reports/[^/]+$")).respond_with_handler(
            self.get_report
        )
        httpserver.expect_request(re.compile(r"^/reports/2021-06-30/documents/[^/]+$")).respond_with_handler(
            self.get_report_document
        )
        # The document's pre-signed URL (S3 in production): no access token.
        httpserver.expect_request(re.compile(r"^/report-bucket/[^/]+$")).respond_with_handler(self.document)
        httpserver.expect_request("/sellers/v1/marketplaceParticipations").respond_with_handler(
            lambda request: self.answer("orders", request) or json_response(fixture("marketplace_participations.json"))
        )

    def answer(self, kind, request):
        if self.next_answers[kind]:
            return self.next_answers[kind].pop(0)
        if kind != "token" and request.headers.get("x-amz-access-token") not in self.valid_tokens:
            return json_response(fixture("unauthorized.json"), status=403)
        return None

    def expire_tokens(self):
        self.valid_tokens.clear()

    def token(self, request):
        self.token_requests.append(dict(request.form))
        if queued := self.answer("token", request):
            return queued
        form = request.form
        if (form.get("grant_type"), form.get("refresh_token"), form.get("client_secret")) != (
            "refresh_token",
            CREDENTIALS["refresh_token"],
            CREDENTIALS["lwa_client_secret"],
        ):
            return json_response(fixture("lwa_invalid_grant.json"), status=400)
        body = fixture("lwa_token.json")
        body["access_token"] = f"Atza|token-{len(self.token_requests)}"
        self.valid_tokens.add(body["access_token"])
        return json_response(body)

    def get_orders(self, request):
        self.orders_requests.append(dict(request.args))
        if len(self.orders_requests) == self.hold_at:
            self.release.wait(timeout=300)
        if queued := self.answer_at.pop(len(self.orders_requests), None) or self.answer("orders", request):
            return queued
        if token := request.args.get("NextToken"):
            state = json.loads(base64.b64decode(token))
        else:
            state = {"after": request.args["LastUpdatedAfter"], "offset": 0}
            state["size"] = min(int(request.args.get("MaxResultsPerPage", 100)), 100)
        after = datetime.fromisoformat(state["after"])
        matching = [
            order
            for order in self.orders
            if after < datetime.fromisoformat(order["LastUpdateDate"]) <= datetime.fromisoformat(self.upper_bound)
        ]
        start, size = state["offset"], state["size"]
        payload = {"Orders": matching[start : start + size], "LastUpdatedBefore": self.upper_bound}
        if start + size < len(matching):
            payload["NextToken"] = base64.b64encode(json.dumps({**state, "offset": start + size}).encode()).decode()
        return json_response({"payload": payload})

    def get_financial_events(self, request):
        order_id = request.path.split("/")[-2]
        self.events_requests.append(order_id)
        if queued := self.answer("events", request):
            return queued
        return json_response({"payload": {"FinancialEvents": self.events.get(order_id, {})}})

    def get_order(self, request):
        order_id = request.path.split("/")[-1]
        if queued := self.answer("orders", request):
            return queued
        for order in self.orders:
            if order["AmazonOrderId"] == order_id:
                return json_response({"payload": order})
        return json_response(
            {"errors": [{"code": "NotFound", "message": "Order not found", "details": ""}]}, status=404
        )

    def create_report(self, request):
        if queued := self.answer("reports", request):
            return queued
        body = json.loads(request.data)
        self.report_requests.append(body)
        report_id = f"5000{len(self.report_requests):04d}"
        statuses, content, compression = self.report_plans.get(body["reportType"], (["CANCELLED"], b"", None))
        self.reports[report_id] = {"body": body, "statuses": list(statuses), "content": content, "gzip": compression}
        return json_response({"reportId": report_id}, status=202)

    def get_report(self, request):
        if queued := self.answer("reports", request):
            return queued
        report_id = request.path.split("/")[-1]
        report = self.reports[report_id]
        status = report["statuses"].pop(0) if len(report["statuses"]) > 1 else report["statuses"][0]
        body = report["body"]
        answer = {
            "reportId": report_id,
            "reportType": body["reportType"],
            "marketplaceIds": body["marketplaceIds"],
            "dataStartTime": body["dataStartTime"],
            "dataEndTime": body["dataEndTime"],
            "createdTime": body["dataEndTime"],
            "processingStatus": status,
        }
        if status in ("IN_PROGRESS", "DONE", "FATAL"):
            answer["processingStartTime"] = body["dataEndTime"]
        if status in ("DONE", "FATAL"):
            answer["processingEndTime"] = body["dataEndTime"]
            # FATAL reports may have a document too: the error report (never read as data).
            answer["reportDocumentId"] = f"amzn1.spdoc.1.4.eu.{report_id}"
        return json_response(answer)

    def get_report_document(self, request):
        if queued := self.answer("reports", request):
            return queued
        document_id = request.path.split("/")[-1]
        report = self.reports[document_id.rsplit(".", 1)[-1]]
        answer = {"reportDocumentId": document_id, "url": f"{self.base_url}/report-bucket/{document_id}"}
        if report["gzip"]:
            answer["compressionAlgorithm"] = "GZIP"
        return json_response(answer)

    def document(self, request):
        document_id = request.path.split("/")[-1]
        self.document_fetches.append(document_id)
        if self.next_answers["documents"]:
            return self.next_answers["documents"].pop(0)
        report = self.reports[document_id.rsplit(".", 1)[-1]]
        content = gzip.compress(report["content"]) if report["gzip"] else report["content"]
        return Response(content, content_type="text/plain; charset=utf-8")

    def get_order_items(self, request):
        order_id = request.path.split("/")[-2]
        self.items_requests.append(order_id)
        if queued := self.answer("items", request):
            return queued
        return json_response({"payload": {"AmazonOrderId": order_id, "OrderItems": self.items.get(order_id, [])}})


@pytest.fixture
def stand_in_urls(httpserver, settings):
    base = httpserver.url_for("").rstrip("/")
    settings.WAGTAIL_CUSTOMERS = {
        **settings.WAGTAIL_CUSTOMERS,
        "CHANNEL_API_URLS": {"amazon": {"sp_api": base, "lwa": base + "/auth/o2/token"}},
    }
    return base


@pytest.fixture
def amazon_account(db):
    return SellerAccount.objects.create(name="Amazon DE", channel=Channel.AMAZON, currency="EUR")


def adapter():
    return AmazonAdapter(CREDENTIALS, account_currency="EUR")


def pull_all(the_adapter, *, since=None, cursor=None, limit=50):
    """Every page until ``done``, as the engine would fetch them: (orders, last cursor, pages)."""
    orders, pages = [], 0
    for _ in range(limit):
        page = the_adapter.fetch_orders(cursor=cursor, since=since)
        orders.extend(page.orders)
        cursor, pages = page.cursor, pages + 1
        if page.done:
            return orders, cursor, pages
    raise AssertionError("no end of pages")


# Orders from Amazon's real sale report (India): order id, status, SKU, quantity, amount, currency, ship-to.
REPORT_STATUSES = {"Cancelled": "Canceled", "Shipped": "Shipped", "Shipped - Delivered to Buyer": "Shipped"}


def realdata_orders(realdata, count):
    rows = defaultdict(list)
    with (realdata / "amazon" / "amazon_sale_report_first796rows.csv").open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            rows[row["Order ID"]].append(row)
    orders, items = [], {}
    start = datetime(2026, 10, 1, tzinfo=UTC)
    for number, (order_id, order_rows) in enumerate(list(rows.items())[:count]):
        first = order_rows[0]
        purchased = start + timedelta(minutes=7 * number)
        currency = first["currency"] or "INR"
        order_items = []
        for index, row in enumerate(order_rows):
            order_items.append(
                {
                    "ASIN": row["ASIN"],
                    "SellerSKU": row["SKU"],
                    "OrderItemId": f"{number:06d}{index:02d}",
                    "Title": f"{row['Category']} {row['Style']} {row['Size']}",
                    "QuantityOrdered": int(row["Qty"] or 0),
                    "ItemPrice": {"CurrencyCode": currency, "Amount": row["Amount"] or "0.00"},
                    "PromotionIds": [code for code in row["promotion-ids"].split(",") if code][:2],
                }
            )
        status = REPORT_STATUSES.get(first["Status"], "Shipped")
        total = sum(Decimal(item["ItemPrice"]["Amount"]) for item in order_items)
        orders.append(
            {
                "AmazonOrderId": order_id,
                "PurchaseDate": purchased.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "LastUpdateDate": (purchased + timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "OrderStatus": status,
                "OrderTotal": {"CurrencyCode": currency, "Amount": str(total)},
                "MarketplaceId": "A21TJRUUN4KGV",
                "ShippingAddress": {
                    "City": first["ship-city"],
                    "StateOrRegion": first["ship-state"],
                    "PostalCode": first["ship-postal-code"].removesuffix(".0"),
                    "CountryCode": first["ship-country"],
                },
                "BuyerInfo": {},
            }
        )
        items[order_id] = order_items
    return orders, items


def test_registered_as_the_amazon_adapter():
    assert get_adapter_class("amazon") is AmazonAdapter


def test_the_documented_order_and_items_are_mapped(httpserver, stand_in_urls, amazon_account):
    documented = fixture("get_orders.json")["payload"]["Orders"]
    items = fixture("get_order_items.json")["payload"]["OrderItems"]
    events = fixture("financial_events.json")["payload"]["FinancialEvents"]
    stand_in = AmazonStandIn(httpserver, documented, {"303-1234567-0000001": items}, {"303-1234567-0000001": events})

    page = adapter().fetch_orders(since=datetime(2026, 11, 1, tzinfo=UTC))

    assert page.done is True
    assert json.loads(page.cursor)["after"] == PASS_UPPER_BOUND
    assert stand_in.orders_requests[0]["LastUpdatedAfter"] == "2026-11-01T00:00:00Z"
    assert stand_in.orders_requests[0]["MarketplaceIds"] == "A1PA6795UKMFR9"
    shipped, pending = page.orders
    assert shipped.external_id == "303-1234567-0000001"
    assert shipped.placed_at == datetime(2026, 11, 2, 9, 14, 5, tzinfo=UTC)
    # Shipped, then the coasters refunded (Finances API).
    assert (shipped.status, shipped.fulfilment_status) == (OrderStatus.PARTIALLY_REFUNDED, FulfilmentStatus.FULFILLED)
    assert (shipped.refunded, shipped.refunded_at) == (Decimal("9.99"), datetime(2026, 11, 10, 12, tzinfo=UTC))
    # Fulfilment fees and commissions, less the commission Amazon gave back on the refund (1.20 - 0.30).
    assert shipped.channel_fees == Decimal("14.58")
    assert shipped.currency == "EUR"
    # The relay address is the only buyer detail Amazon gave; no buyer id.
    assert shipped.customer.email == "3kq9x7r2m4w8z1c@marketplace.amazon.de"
    assert shipped.customer.external_id == ""
    # In Europe prices include VAT (OrderTotal is the prices, shipping and discounts alone): the ledger keeps them
    # without it, as its P&L counts revenue, and the VAT apart (the discount's VAT taken off it).
    assert [(line.sku, line.quantity, line.unit_price, line.line_total) for line in shipped.lines] == [
        ("MUG-BLUE-350", 2, Decimal("13.44"), Decimal("31.98") - Decimal("5.11")),
        ("COASTER-SET-4", 1, Decimal("8.39"), Decimal("9.99") - Decimal("1.60")),
    ]
    assert shipped.subtotal == Decimal("35.26")
    assert shipped.discount == Decimal("3.20") - Decimal("0.51")
    assert shipped.shipping == Decimal("3.99") - Decimal("0.64")
    assert shipped.tax == Decimal("5.11") + Decimal("0.64") + Decimal("1.60") - Decimal("0.51")
    assert shipped.total == Decimal("42.76") == shipped.subtotal - shipped.discount + shipped.shipping + shipped.tax
    assert [code.code for code in shipped.promo_codes] == ["WINTER10"]
    assert (shipped.ship_to.city, shipped.ship_to.postal_code, shipped.ship_to.country) == ("München", "80331", "DE")
    # A Pending order: no prices yet, no buyer details, no financial events asked for.
    assert (pending.status, pending.total, pending.customer.email) == (OrderStatus.PENDING, Decimal("0.00"), "")
    assert pending.channel_fees is None
    assert stand_in.events_requests == ["303-1234567-0000001"]

    result = record_orders(amazon_account, page.orders)
    assert result.orders_created == 2
    stored = Order.objects.get(external_id="303-1234567-0000001")
    assert (stored.total, stored.refunded, stored.channel_fees, stored.currency, stored.customer.email) == (
        Decimal("42.76"),
        Decimal("9.99"),
        Decimal("14.58"),
        "EUR",
        "3kq9x7r2m4w8z1c@marketplace.amazon.de",
    )


def test_without_the_finance_role_orders_come_without_fees(httpserver, stand_in_urls):
    documented = fixture("get_orders.json")["payload"]["Orders"]
    orders = [{**documented[0], "AmazonOrderId": f"303-7777777-{index:07d}"} for index in range(3)]
    stand_in = AmazonStandIn(httpserver, orders)
    stand_in.next_answers["events"] = [json_response(fixture("unauthorized.json"), status=403)] * 2
    the_adapter = adapter()

    page = the_adapter.fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC))

    assert len(page.orders) == 3
    assert [order.channel_fees for order in page.orders] == [None, None, None]
    assert (page.orders[0].status, page.orders[0].refunded) == (OrderStatus.SHIPPED, Decimal("0"))
    # Refused twice (with a fresh token the second time), then not asked again for this connection.
    assert len(stand_in.events_requests) == 2
    assert the_adapter.fees_available is False


def test_a_shipped_order_without_posted_events_has_unknown_fees(httpserver, stand_in_urls):
    documented = fixture("get_orders.json")["payload"]["Orders"][:1]
    AmazonStandIn(httpserver, documented)
    (order,) = adapter().fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC)).orders
    assert (order.status, order.channel_fees, order.refunded) == (OrderStatus.SHIPPED, None, Decimal("0"))


def test_every_documented_order_status_is_mapped(httpserver, stand_in_urls):
    template = fixture("get_orders.json")["payload"]["Orders"][1]
    orders = [
        {**template, "AmazonOrderId": f"303-0000000-{index:07d}", "OrderStatus": status}
        for index, status in enumerate(ORDER_STATUSES)
    ]
    AmazonStandIn(httpserver, orders)
    page = adapter().fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC))
    assert {order.external_id: order.status for order in page.orders} == {
        "303-0000000-0000000": OrderStatus.PENDING,
        "303-0000000-0000001": OrderStatus.PAID,
        "303-0000000-0000002": OrderStatus.PAID,
        "303-0000000-0000003": OrderStatus.SHIPPED,
        "303-0000000-0000004": OrderStatus.CANCELLED,
        "303-0000000-0000005": OrderStatus.CANCELLED,
        "303-0000000-0000006": OrderStatus.SHIPPED,
        "303-0000000-0000007": OrderStatus.PENDING,
    }
    assert set(ORDER_STATUSES) == {
        "Pending",
        "Unshipped",
        "PartiallyShipped",
        "Shipped",
        "Canceled",
        "Unfulfillable",
        "InvoiceUnconfirmed",
        "PendingAvailability",
    }


def test_hundreds_of_real_orders_over_several_pages(httpserver, stand_in_urls, amazon_account, realdata):
    orders, items = realdata_orders(realdata, 350)
    assert len(orders) == 350
    stand_in = AmazonStandIn(httpserver, orders, items)
    the_adapter = adapter()

    pulled, cursor, pages = pull_all(the_adapter, since=datetime(2026, 9, 1, tzinfo=UTC))

    assert pages == 4
    assert [order.external_id for order in pulled] == [order["AmazonOrderId"] for order in stand_in.orders]
    # After the first page, only the NextToken is sent (Amazon ignores the other filters then).
    assert [("NextToken" in args, "LastUpdatedAfter" in args) for args in stand_in.orders_requests] == [
        (False, True),
        (True, False),
        (True, False),
        (True, False),
    ]
    assert len(stand_in.items_requests) == 350
    # One access token for the whole pass.
    assert len(stand_in.token_requests) == 1
    assert json.loads(cursor)["after"] == PASS_UPPER_BOUND

    record_orders(amazon_account, pulled)
    assert Order.objects.filter(account=amazon_account).count() == 350
    assert set(Order.objects.values_list("currency", flat=True)) == {"INR"}
    cancelled = Order.objects.filter(status=OrderStatus.CANCELLED)
    assert cancelled.exists() and not cancelled.exclude(total=0).exists()

    # The next scheduled pull starts from the pass's upper bound: nothing new.
    again, _, _ = pull_all(the_adapter, cursor=cursor)
    assert again == []
    assert stand_in.orders_requests[-1]["LastUpdatedAfter"] == PASS_UPPER_BOUND


def test_orders_in_several_currencies_keep_theirs(httpserver, stand_in_urls, amazon_account):
    template = fixture("get_orders.json")["payload"]["Orders"][0]
    item = fixture("get_order_items.json")["payload"]["OrderItems"][1]
    orders, items = [], {}
    for index, (currency, amount, country) in enumerate(
        [("EUR", "9.99", "DE"), ("GBP", "8.49", "GB"), ("SEK", "119.00", "SE"), ("PLN", "44.90", "PL")]
    ):
        order_id = f"303-5555555-{index:07d}"
        orders.append(
            {
                **template,
                "AmazonOrderId": order_id,
                "OrderTotal": {"CurrencyCode": currency, "Amount": amount},
                "ShippingAddress": {**template["ShippingAddress"], "CountryCode": country},
            }
        )
        items[order_id] = [{**item, "ItemPrice": {"CurrencyCode": currency, "Amount": amount}}]
    AmazonStandIn(httpserver, orders, items)

    page = adapter().fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC))
    record_orders(amazon_account, page.orders)

    assert dict(Order.objects.values_list("currency", "total")) == {
        "EUR": Decimal("9.99"),
        "GBP": Decimal("8.49"),
        "SEK": Decimal("119.00"),
        "PLN": Decimal("44.90"),
    }
    # Each converted into the account's euros (the EUR one at rate 1).
    assert Order.objects.get(currency="EUR").account_total == Decimal("9.99")


def test_quota_exceeded_on_get_orders_is_rate_limited_with_amazons_wait(httpserver, stand_in_urls):
    stand_in = AmazonStandIn(httpserver)
    stand_in.next_answers["orders"] = [
        json_response(fixture("quota_exceeded.json"), status=429, headers={"x-amzn-RateLimit-Limit": "0.0167"}),
        json_response(fixture("quota_exceeded.json"), status=429, headers={"Retry-After": "7"}),
    ]
    the_adapter = adapter()

    with pytest.raises(RateLimited) as first:
        the_adapter.fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC))
    assert first.value.retryable
    assert first.value.retry_after == pytest.approx(59.88, abs=0.01)
    assert "QuotaExceeded" in first.value.message
    with pytest.raises(RateLimited) as second:
        the_adapter.fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC))
    assert second.value.retry_after == 7
    # Then it answers.
    assert the_adapter.fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC)).done


def test_throttled_order_items_are_waited_for_within_the_page(httpserver, stand_in_urls):
    documented = fixture("get_orders.json")["payload"]["Orders"][:1]
    items = fixture("get_order_items.json")["payload"]["OrderItems"]
    stand_in = AmazonStandIn(httpserver, documented, {"303-1234567-0000001": items})
    # getOrderItems' own quota: 100 requests a second here, so one request's share is 10 ms.
    stand_in.next_answers["items"] = [
        json_response(fixture("quota_exceeded.json"), status=429, headers={"x-amzn-RateLimit-Limit": "100"})
    ] * 2

    page = adapter().fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC))

    assert len(page.orders[0].lines) == 2
    assert stand_in.items_requests == ["303-1234567-0000001"] * 3


@pytest.mark.parametrize(
    "answer",
    [
        json_response({"errors": [{"code": "InternalFailure", "message": "We encountered an internal error."}]}, 500),
        json_response({"errors": [{"code": "ServiceUnavailable", "message": "Service temporarily unavailable."}]}, 503),
        Response("<html><body>502 Bad Gateway</body></html>", status=502, content_type="text/html"),
    ],
    ids=["500", "503", "502-html"],
)
def test_server_errors_are_retryable(httpserver, stand_in_urls, answer):
    stand_in = AmazonStandIn(httpserver)
    stand_in.next_answers["orders"] = [answer]
    with pytest.raises(ChannelError) as error:
        adapter().fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC))
    assert error.value.retryable
    assert not isinstance(error.value, AuthenticationFailed)


def test_an_expired_access_token_is_refreshed_once(httpserver, stand_in_urls):
    documented = fixture("get_orders.json")["payload"]["Orders"]
    stand_in = AmazonStandIn(httpserver, documented)
    the_adapter = adapter()
    the_adapter.fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC))
    assert len(stand_in.token_requests) == 1

    stand_in.expire_tokens()
    page = the_adapter.fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC))

    assert len(page.orders) == 2
    assert len(stand_in.token_requests) == 2


def test_access_refused_even_with_a_fresh_token_needs_the_seller(httpserver, stand_in_urls):
    stand_in = AmazonStandIn(httpserver)
    stand_in.next_answers["orders"] = [json_response(fixture("unauthorized.json"), status=403)] * 2
    with pytest.raises(AuthenticationFailed) as error:
        adapter().fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC))
    assert not error.value.retryable
    assert len(stand_in.token_requests) == 2


def test_an_invalid_grant_at_the_token_url_needs_the_seller(httpserver, stand_in_urls):
    stand_in = AmazonStandIn(httpserver)
    with pytest.raises(AuthenticationFailed) as error:
        AmazonAdapter({**CREDENTIALS, "refresh_token": "Atzr|revoked"}).fetch_orders()
    assert "invalid_grant" in error.value.message
    assert not error.value.retryable
    # The secrets are not in the message shown to the seller.
    assert "revoked" not in error.value.message and CREDENTIALS["lwa_client_secret"] not in error.value.message
    assert stand_in.orders_requests == []


@pytest.mark.parametrize(
    "answer",
    [
        Response("{not json", status=200, content_type="application/json"),
        json_response({"payload": {"Orders": "none"}}),
        json_response({"payload": {"Orders": [{"AmazonOrderId": "1", "OrderStatus": "Teleported"}]}}),
        json_response([]),
    ],
    ids=["not-json", "orders-not-a-list", "unknown-status", "a-list"],
)
def test_malformed_answers_record_nothing(httpserver, stand_in_urls, answer):
    stand_in = AmazonStandIn(httpserver)
    stand_in.next_answers["orders"] = [answer]
    with pytest.raises(MalformedResponse):
        adapter().fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("order_changes", "item_changes"),
    [
        ({}, {"QuantityOrdered": "two"}),
        ({}, None),  # an item that is not an object
        ({"OrderTotal": "42.76"}, {}),
    ],
    ids=["quantity-in-words", "item-not-an-object", "order-total-not-an-object"],
)
def test_an_order_with_a_wrong_typed_field_is_malformed_by_its_id(
    httpserver, stand_in_urls, order_changes, item_changes
):
    """Not an unexpected error the sync cannot place: the seller is told which order blocks the connection."""
    order = {**fixture("get_orders.json")["payload"]["Orders"][0], **order_changes}
    items = fixture("get_order_items.json")["payload"]["OrderItems"]
    items[0] = "x" if item_changes is None else {**items[0], **item_changes}
    AmazonStandIn(httpserver, [order], {order["AmazonOrderId"]: items})
    with pytest.raises(MalformedResponse, match=r"^Amazon order 303-1234567-0000001 is not in the documented shape"):
        adapter().fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC))


def test_an_amount_that_is_not_a_number_names_its_order(httpserver, stand_in_urls):
    order = fixture("get_orders.json")["payload"]["Orders"][0]
    order["OrderTotal"]["Amount"] = "ten"
    AmazonStandIn(httpserver, [order])
    with pytest.raises(MalformedResponse, match=r"^Amazon order 303-1234567-0000001: Amazon sent an amount that is"):
        adapter().fetch_orders(since=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("limit", ["nan", "inf", "-1", "0", "one"])
def test_an_unreadable_rate_limit_header_gives_no_wait(limit):
    assert amazon._retry_after({"x-amzn-RateLimit-Limit": limit}) is None


def test_a_tiny_rate_limit_waits_at_most_a_day():
    assert amazon._retry_after({"x-amzn-RateLimit-Limit": "1e-300"}) == RETRY_AFTER_MAX_SECONDS == 24 * 3600


def test_a_malformed_token_answer_is_malformed(httpserver, stand_in_urls):
    stand_in = AmazonStandIn(httpserver)
    stand_in.next_answers["token"] = [Response("<html>maintenance</html>", status=503, content_type="text/html")]
    with pytest.raises(MalformedResponse):
        adapter().fetch_orders()


def test_an_expired_next_token_starts_the_pass_again(httpserver, stand_in_urls, realdata):
    orders, items = realdata_orders(realdata, 150)
    stand_in = AmazonStandIn(httpserver, orders, items)
    the_adapter = adapter()
    first = the_adapter.fetch_orders(since=datetime(2026, 9, 1, tzinfo=UTC))
    assert not first.done and len(first.orders) == 100
    stand_in.next_answers["orders"] = [
        json_response({"errors": [{"code": "InvalidInput", "message": "Invalid NextToken."}]}, 400)
    ]

    restart = the_adapter.fetch_orders(cursor=first.cursor)

    assert (restart.orders, restart.done) == ([], False)
    # Nothing of the reports yet; the start counted, so that it is a new position.
    assert json.loads(restart.cursor) == {"after": "2026-09-01T00:00:00Z", "restarts": 1}
    rest, _, _ = pull_all(the_adapter, cursor=restart.cursor)
    assert len(rest) == 150


def test_check_names_the_marketplace(httpserver, stand_in_urls):
    AmazonStandIn(httpserver)
    assert adapter().check() == "Amazon.de (DE)"


def test_an_unknown_marketplace_is_refused_before_any_call():
    with pytest.raises(AuthenticationFailed):
        AmazonAdapter({**CREDENTIALS, "marketplace": "XX"})


def test_a_next_token_refused_again_and_again_stops_the_pass(httpserver, stand_in_urls, realdata):
    orders, items = realdata_orders(realdata, 150)
    stand_in = AmazonStandIn(httpserver, orders, items)
    the_adapter = adapter()
    cursor = the_adapter.fetch_orders(since=datetime(2026, 9, 1, tzinfo=UTC)).cursor
    refused = json_response({"errors": [{"code": "InvalidInput", "message": "Invalid NextToken."}]}, 400)
    for restarts in range(1, MAX_PASS_RESTARTS + 1):
        stand_in.next_answers["orders"] = [refused]
        cursor = the_adapter.fetch_orders(cursor=cursor).cursor  # the pass starts again
        assert json.loads(cursor)["restarts"] == restarts
        cursor = the_adapter.fetch_orders(cursor=cursor).cursor  # its first page, and a token again
    stand_in.next_answers["orders"] = [refused]
    with pytest.raises(ChannelError, match="refused its own next-page token 4 times during this sync"):
        the_adapter.fetch_orders(cursor=cursor)
    # The next sync (a new adapter) from the same stored cursor starts the pass again: the connection is not stuck.
    stand_in.next_answers["orders"] = [refused]
    assert json.loads(adapter().fetch_orders(cursor=cursor).cursor)["restarts"] == MAX_PASS_RESTARTS + 1


def test_a_refund_of_a_discounted_item_is_what_the_buyer_got_back():
    events = copy.deepcopy(fixture("financial_events.json")["payload"]["FinancialEvents"])
    [item] = events["RefundEventList"][0]["ShipmentItemAdjustmentList"]
    # The coasters had 2.00 off: Amazon takes the promotion back, so the buyer got 7.99.
    item["PromotionAdjustmentList"] = [
        {
            "PromotionType": "PromotionMetaDataDefinitionValue",
            "PromotionAmount": {"CurrencyCode": "EUR", "CurrencyAmount": 2.00},
        }
    ]
    assert amazon._money_from_events(events)["refunded"] == Decimal("7.99")


def test_prices_without_tax_are_kept_as_they_are():
    """In the United States OrderTotal is the prices, shipping and discounts plus the tax: nothing to take out."""
    raw = copy.deepcopy(fixture("get_orders.json")["payload"]["Orders"][0])
    items = copy.deepcopy(fixture("get_order_items.json")["payload"]["OrderItems"])
    raw["OrderTotal"]["Amount"] = str(Decimal("41.97") - Decimal("3.20") + Decimal("3.99") + Decimal("7.35"))
    order = adapter()._order_data(
        raw, raw["AmazonOrderId"], datetime(2026, 11, 2, tzinfo=UTC), (OrderStatus.SHIPPED, "fulfilled"), items, None
    )
    assert [line.line_total for line in order.lines] == [Decimal("31.98"), Decimal("9.99")]
    assert (order.discount, order.shipping, order.tax) == (Decimal("3.20"), Decimal("3.99"), Decimal("7.35"))
