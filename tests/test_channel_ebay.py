"""The eBay adapter against a stand-in Fulfillment API and OAuth token endpoint on 127.0.0.1.

The stand-in (pytest-httpserver) answers in the shapes of tests/fixtures/channels/ebay/ (Sell
Fulfillment API v1, identity OAuth); the adapter talks to it over ``requests`` as in production,
pointed there by ``CHANNEL_API_URLS``. Hundreds of orders are built at run time from the fixture's
documented order, with SKUs and amounts from the real sale report in /work/shared/realdata/amazon/.
"""

import base64
import copy
import csv
import json
import re
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest
from werkzeug import Response

from wagtail_customers.channels.base import AuthenticationFailed, ChannelError, MalformedResponse, RateLimited
from wagtail_customers.channels.ebay import EbayAdapter
from wagtail_customers.channels.registry import get_adapter_class
from wagtail_customers.models import Channel, FulfilmentStatus, Order, OrderStatus, SellerAccount
from wagtail_customers.services.ingestion import record_orders

FIXTURES = Path(__file__).parent / "fixtures" / "channels" / "ebay"
CREDENTIALS = {
    "client_id": "TeapotTr-Customer-PRD-0123456789-abcdef01",
    "client_secret": "PRD-standin-cert-id-secret",
    "refresh_token": "v^1.1#i^1#r^1#StandInRefreshToken",
}
ORDERS_SCOPE = "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly"
FEEDBACK_SCOPE = "https://api.ebay.com/oauth/api_scope/commerce.feedback.readonly"
FILTER = re.compile(r"^lastmodifieddate:\[(?P<since>[^.\]]+\.\d{3}Z)\.\.\]$")


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


def json_response(body, status=200, headers=None):
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


class EbayStandIn:
    """getOrders, the Post-Order return search, getFeedback and the OAuth token endpoint, answering as eBay
    documents them.

    Answers queued in ``next_answers[kind]`` ("token", "orders", "returns", "feedback") are given once, before
    the normal ones; a token asked for the Feedback scope is refused unless ``feedback_scope_granted``;
    ``answer_at[n]`` is given to the n-th getOrders request (1-based). ``hold_at`` (a request number) and
    ``release`` (a threading.Event) keep that request waiting until the test releases it.
    """

    def __init__(self, httpserver, orders=(), returns=(), feedback=()):
        self.base = httpserver.url_for("").rstrip("/")
        self.orders = list(orders)
        #: Post-Order API return members (see return_search.json), searched by creation date and state.
        self.returns = list(returns)
        self.returns_requests = []
        #: getFeedback entries (see get_feedback.json), listed the newest first.
        self.feedback = list(feedback)
        self.feedback_requests = []
        self.feedback_scope_granted = True
        self.feedback_tokens = set()
        self.feedback_token_requests = []
        self.get_order_requests = []
        self.next_answers = defaultdict(list)
        self.answer_at = {}
        self.hold_at, self.release = None, threading.Event()
        self.valid_tokens = set()
        self.token_requests = []
        self.orders_requests = []
        httpserver.expect_request("/identity/v1/oauth2/token", method="POST").respond_with_handler(self.token)
        httpserver.expect_request("/sell/fulfillment/v1/order", method="GET").respond_with_handler(self.get_orders)
        httpserver.expect_request(re.compile(r"^/sell/fulfillment/v1/order/[^/]+$"), method="GET").respond_with_handler(
            self.get_order
        )
        httpserver.expect_request("/post-order/v2/return/search", method="GET").respond_with_handler(
            self.search_returns
        )
        httpserver.expect_request("/commerce/feedback/v1/feedback", method="GET").respond_with_handler(
            self.get_feedback
        )

    def authorised(self, request, scheme="Bearer"):
        return request.headers.get("Authorization", "").removeprefix(f"{scheme} ") in self.valid_tokens

    def get_order(self, request):
        self.get_order_requests.append(request.path.rsplit("/", 1)[1])
        if not self.authorised(request):
            return json_response(fixture("invalid_access_token.json"), status=401)
        for order in self.orders:
            if order["orderId"] == self.get_order_requests[-1]:
                return json_response(order)
        return json_response(fixture("order_not_found.json"), status=404)

    def search_returns(self, request):
        self.returns_requests.append(dict(request.args))
        if self.next_answers["returns"]:
            return self.next_answers["returns"].pop(0)
        if not self.authorised(request, "IAF"):
            return json_response(fixture("invalid_access_token.json"), status=401)
        start = datetime.fromisoformat(request.args["creation_date_range_from"])
        end = datetime.fromisoformat(request.args["creation_date_range_to"])
        limit = int(request.args.get("limit", 25))
        page = int(request.args.get("offset", 1))
        # As eBay: without return_state only the open returns (ALL_OPEN); return_state=CLOSED the closed ones.
        closed = request.args.get("return_state") == "CLOSED"
        matching = [
            member
            for member in self.returns
            if start <= datetime.fromisoformat(member["creationInfo"]["creationDate"]["value"]) <= end
            and (member.get("state") == "CLOSED") == closed
        ]
        body = copy.deepcopy(fixture("return_search.json"))
        body["members"] = matching[(page - 1) * limit : page * limit]
        body["paginationOutput"] = {
            "limit": limit,
            "offset": page,
            "totalEntries": len(matching),
            "totalPages": max((len(matching) + limit - 1) // limit, 1),
        }
        body["total"] = len(matching)
        return json_response(body)

    def get_feedback(self, request):
        self.feedback_requests.append(dict(request.args))
        if self.next_answers["feedback"]:
            return self.next_answers["feedback"].pop(0)
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.feedback_tokens:
            return json_response(fixture("invalid_access_token.json"), status=401)
        assert request.args["feedback_type"] == "FEEDBACK_RECEIVED" and request.args["user_id"] == "teapot_trading"
        limit, offset = int(request.args.get("limit", 25)), int(request.args.get("offset", 0))
        entries = sorted(self.feedback, key=lambda entry: entry["feedbackEnteredDate"], reverse=True)
        page = entries[offset : offset + limit]
        pagination = {"count": len(page), "limit": limit, "offset": offset, "total": len(entries)}
        if offset + limit < len(entries):
            pagination["next"] = "/feedback?" + urlencode({**request.args, "offset": offset + limit})
        return json_response({"feedbackEntries": page, "pagination": pagination})

    def expire_tokens(self):
        self.valid_tokens.clear()
        self.feedback_tokens.clear()

    def token(self, request):
        if request.form.get("scope") == FEEDBACK_SCOPE:
            self.feedback_token_requests.append(dict(request.form))
            if not self.feedback_scope_granted:
                return json_response({"error": "invalid_scope", "error_description": "scope not granted"}, 400)
            body = fixture("token.json")
            body["access_token"] = f"v^1.1#feedback-token-{len(self.feedback_token_requests)}"
            self.feedback_tokens.add(body["access_token"])
            return json_response(body)
        self.token_requests.append(dict(request.form))
        if self.next_answers["token"]:
            return self.next_answers["token"].pop(0)
        basic = base64.b64encode(f"{CREDENTIALS['client_id']}:{CREDENTIALS['client_secret']}".encode()).decode()
        form = request.form
        if request.headers.get("Authorization") != f"Basic {basic}":
            return json_response({"error": "invalid_client", "error_description": "client authentication failed"}, 401)
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != CREDENTIALS["refresh_token"]:
            return json_response(fixture("invalid_grant.json"), status=400)
        assert form.get("scope") == ORDERS_SCOPE
        body = fixture("token.json")
        body["access_token"] = f"v^1.1#token-{len(self.token_requests)}"
        self.valid_tokens.add(body["access_token"])
        return json_response(body)

    def get_orders(self, request):
        self.orders_requests.append(dict(request.args))
        if len(self.orders_requests) == self.hold_at:
            self.release.wait(timeout=300)
        if queued := self.answer_at.pop(len(self.orders_requests), None):
            return queued
        if self.next_answers["orders"]:
            return self.next_answers["orders"].pop(0)
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid_tokens:
            return json_response(fixture("invalid_access_token.json"), status=401)
        limit = min(int(request.args.get("limit", 50)), 200)
        offset = int(request.args.get("offset", 0))
        matching = self.orders
        if "filter" in request.args:
            since = datetime.fromisoformat(FILTER.match(request.args["filter"])["since"])
            matching = [order for order in self.orders if datetime.fromisoformat(order["lastModifiedDate"]) >= since]
        # eBay lists the newest orders first.
        matching = sorted(matching, key=lambda order: order["creationDate"], reverse=True)
        body = {
            "href": f"{self.base}/sell/fulfillment/v1/order?{urlencode(request.args)}",
            "total": len(matching),
            "limit": limit,
            "offset": offset,
            "orders": matching[offset : offset + limit],
        }
        if offset + limit < len(matching):
            body["next"] = f"{self.base}/sell/fulfillment/v1/order?" + urlencode(
                {**request.args, "offset": offset + limit}
            )
        return json_response(body)


@pytest.fixture
def stand_in_urls(httpserver, settings):
    base = httpserver.url_for("").rstrip("/")
    settings.WAGTAIL_CUSTOMERS = {
        **settings.WAGTAIL_CUSTOMERS,
        "CHANNEL_API_URLS": {"ebay": {"api": base, "identity": base, "post_order": base}},
    }
    return base


@pytest.fixture
def ebay_account(db):
    return SellerAccount.objects.create(name="eBay US", channel=Channel.EBAY, currency="USD")


def adapter():
    return EbayAdapter(CREDENTIALS, account_currency="USD")


def pull_all(the_adapter, *, since=None, cursor=None, limit=50):
    orders, pages = [], 0
    for _ in range(limit):
        page = the_adapter.fetch_orders(cursor=cursor, since=since)
        orders.extend(page.orders)
        cursor, pages = page.cursor, pages + 1
        if page.done:
            return orders, cursor, pages
    raise AssertionError("no end of pages")


def generated_orders(realdata, count, *, currencies=("USD",)):
    """``count`` orders in the documented shape, with SKUs and amounts from a real sale report."""
    with (realdata / "amazon" / "international_sale_report_first2709rows.customer_pseudonymised.csv").open(
        newline="", encoding="utf-8"
    ) as file:
        rows = [row for row in csv.DictReader(file) if row["SKU"] and row["GROSS AMT"]]
    template = fixture("get_orders.json")["orders"][0]
    start = datetime(2026, 10, 1, tzinfo=UTC)
    orders = []
    for number in range(count):
        row = rows[number % len(rows)]
        currency = currencies[number % len(currencies)]
        amount = Decimal(row["GROSS AMT"]).quantize(Decimal("0.01"))
        quantity = max(int(Decimal(row["PCS"] or "1")), 1)

        def money(value, currency=currency):
            return {"value": str(value), "currency": currency}

        order = copy.deepcopy(template)
        created = start + timedelta(minutes=11 * number)
        order.update(
            orderId=f"{number:02d}-{number:05d}-{number * 7 % 99999:05d}",
            creationDate=created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            lastModifiedDate=(created + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            orderPaymentStatus="PAID",
            orderFulfillmentStatus="FULFILLED" if number % 3 else "NOT_STARTED",
            pricingSummary={"priceSubtotal": money(amount), "total": money(amount)},
            paymentSummary={"payments": [], "refunds": []},
            totalMarketplaceFee=money((amount * Decimal("0.13")).quantize(Decimal("0.01"))),
        )
        order["buyer"] = {"username": row["CUSTOMER"].lower().replace(" ", "_")}
        order["lineItems"] = [
            {
                "lineItemId": f"{number:010d}",
                "sku": row["SKU"],
                "title": f"{row['Style']} {row['Size']}",
                "quantity": quantity,
                "lineItemCost": money(amount),
                "discountedLineItemCost": money(amount),
                "appliedPromotions": [],
            }
        ]
        orders.append(order)
    return orders


def test_registered_as_the_ebay_adapter():
    assert get_adapter_class("ebay") is EbayAdapter


def test_the_documented_orders_are_mapped(httpserver, stand_in_urls, ebay_account):
    stand_in = EbayStandIn(httpserver, fixture("get_orders.json")["orders"])

    page = adapter().fetch_orders(since=datetime(2026, 11, 1, tzinfo=UTC))

    assert page.done
    assert stand_in.orders_requests[0] == {
        "limit": "200",
        "offset": "0",
        "filter": "lastmodifieddate:[2026-11-01T00:00:00.000Z..]",
    }
    by_id = {order.external_id: order for order in page.orders}
    paid = by_id["09-11111-22222"]
    assert (paid.status, paid.fulfilment_status) == (OrderStatus.PARTIALLY_REFUNDED, FulfilmentStatus.FULFILLED)
    assert paid.placed_at == datetime(2026, 11, 3, 10, 21, 44, tzinfo=UTC)
    assert (paid.customer.external_id, paid.customer.email, paid.customer.name, paid.customer.phone) == (
        "kettle_fan_77",
        "robin.example@example.com",
        "Robin Example",
        "4155550100",
    )
    assert paid.currency == "USD"
    assert (paid.subtotal, paid.shipping, paid.total, paid.refunded) == (
        Decimal("64.00"),
        Decimal("5.99"),
        Decimal("63.59"),
        Decimal("12.00"),
    )
    assert paid.channel_fees == Decimal("8.39")
    assert [(line.sku, line.quantity, line.unit_price, line.line_total, line.discount) for line in paid.lines] == [
        ("TEAPOT-CAST-1L", 2, Decimal("24.00"), Decimal("48.00"), Decimal("4.80")),
        ("TEA-SENCHA-100", 1, Decimal("16.00"), Decimal("16.00"), Decimal("1.60")),
    ]
    # The lines carry the whole discount; the order-level remainder is nothing.
    assert paid.discount == Decimal("0.00")
    assert [(promo.code, promo.discount) for promo in paid.promo_codes] == [("5012345678", Decimal("6.40"))]
    assert (paid.ship_to.line2, paid.ship_to.city, paid.ship_to.country) == ("Apt 4", "San Francisco", "US")
    assert paid.paid_at == datetime(2026, 11, 3, 10, 22, 1, tzinfo=UTC)
    assert paid.refunded_at == datetime(2026, 11, 6, 8, 2, 10, tzinfo=UTC)

    cancelled = by_id["27-33333-44444"]
    assert (cancelled.status, cancelled.fulfilment_status) == (OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED)
    assert cancelled.cancelled_at == datetime(2026, 11, 5, 19, 10, 30, tzinfo=UTC)
    # eBay's placeholder once the address is no longer given is not an e-mail address.
    assert cancelled.customer.email == ""
    assert (cancelled.currency, cancelled.refunded) == ("GBP", Decimal("15.45"))

    record_orders(ebay_account, page.orders)
    stored = Order.objects.get(external_id="09-11111-22222")
    # The order-level discount is nothing; with its lines' discounts the buyer got 6.40.
    assert (stored.total, stored.discount, stored.account_discount, stored.channel_fees, stored.customer.email) == (
        Decimal("63.59"),
        Decimal("0.00"),
        Decimal("6.40"),
        Decimal("8.39"),
        "robin.example@example.com",
    )
    assert Order.objects.get(external_id="27-33333-44444").currency == "GBP"


def test_paid_orders_by_fulfilment_status():
    template = fixture("get_orders.json")["orders"][0]
    expected = {
        ("PAID", "NOT_STARTED"): (OrderStatus.PAID, FulfilmentStatus.UNFULFILLED),
        ("PAID", "IN_PROGRESS"): (OrderStatus.PAID, FulfilmentStatus.PARTIAL),
        ("PAID", "FULFILLED"): (OrderStatus.SHIPPED, FulfilmentStatus.FULFILLED),
        ("PENDING", "NOT_STARTED"): (OrderStatus.PENDING, FulfilmentStatus.UNFULFILLED),
        ("FULLY_REFUNDED", "FULFILLED"): (OrderStatus.REFUNDED, FulfilmentStatus.FULFILLED),
    }
    the_adapter = adapter()
    for (payment, fulfilment), statuses in expected.items():
        order = the_adapter._order({**template, "orderPaymentStatus": payment, "orderFulfillmentStatus": fulfilment})
        assert (order.status, order.fulfilment_status) == statuses, (payment, fulfilment)


@pytest.mark.parametrize(
    ("payment", "refunds", "spent"),
    [
        # Cancelled before the buyer paid, or after their payment failed: nothing spent.
        ("PENDING", [], False),
        ("FAILED", [], False),
        # Paid, then cancelled: the total stands, less what was refunded.
        ("PAID", [], True),
        ("FULLY_REFUNDED", [{"refundStatus": "REFUNDED", "amount": {"value": "1.00", "currency": "USD"}}], True),
    ],
)
def test_a_cancelled_order_counts_only_what_the_buyer_paid(payment, refunds, spent):
    template = fixture("get_orders.json")["orders"][0]
    order = adapter()._order(
        {
            **template,
            "orderPaymentStatus": payment,
            "cancelStatus": {"cancelState": "CANCELED", "cancelledDate": "2024-03-02T10:00:00.000Z"},
            "paymentSummary": {"payments": [], "refunds": refunds},
            # The fixture's line refund is a refund too (lineItems[].refunds): none here but the order's own.
            "lineItems": [{**item, "refunds": None} for item in template["lineItems"]],
        }
    )
    assert order.status == OrderStatus.CANCELLED
    assert (order.total > 0) is spent
    assert order.total == (Decimal(template["pricingSummary"]["total"]["value"]) if spent else 0)


def test_line_item_refunds_count_once_with_the_order_level_ones(httpserver, stand_in_urls, ebay_account):
    """eBay gives a line refunded by itself only under lineItems[].refunds, with its refundId."""

    def money(value):
        return {"value": value, "currency": "USD"}

    template = fixture("get_orders.json")["orders"][0]
    by_line = copy.deepcopy(template)
    by_line["orderId"] = "09-11111-33333"
    by_line["paymentSummary"]["refunds"] = []
    by_line["lineItems"][0]["refunds"] = [
        {"refundId": "7RL1", "refundDate": "2026-11-07T09:00:00.000Z", "amount": money("24.00")}
    ]
    by_line["lineItems"][1]["refunds"] = [
        {"refundId": "7RL2", "refundDate": "2026-11-08T09:30:00.000Z", "amount": money("16.00")},
        {"refundId": "7RL3", "amount": money("5.00")},  # no refund date: not (yet) refunded
    ]
    both = copy.deepcopy(template)
    both["orderId"] = "09-11111-44444"
    # The order-level refund again under its line, by its id, and another refund of the second line only.
    both["lineItems"][0]["refunds"] = [{**both["paymentSummary"]["refunds"][0], "refundStatus": None}]
    both["lineItems"][1]["refunds"] = [
        {"refundId": "8RL9", "refundDate": "2026-11-04T12:00:00.000Z", "amount": money("16.00")}
    ]
    over = copy.deepcopy(by_line)
    over["orderId"] = "09-11111-55555"
    over["lineItems"][1]["refunds"][0]["amount"] = money("60.00")
    fully = copy.deepcopy(template)
    fully.update(orderId="09-11111-66666", orderPaymentStatus="FULLY_REFUNDED")
    fully["paymentSummary"]["refunds"] = []
    fully["lineItems"][0]["refunds"] = None
    EbayStandIn(httpserver, [by_line, both, over, fully])

    page = adapter().fetch_orders(since=datetime(2026, 11, 1, tzinfo=UTC))

    by_id = {order.external_id: order for order in page.orders}
    assert (by_id["09-11111-33333"].refunded, by_id["09-11111-33333"].refunded_at) == (
        Decimal("40.00"),
        datetime(2026, 11, 8, 9, 30, tzinfo=UTC),
    )
    assert (by_id["09-11111-44444"].refunded, by_id["09-11111-44444"].refunded_at) == (
        Decimal("28.00"),
        datetime(2026, 11, 6, 8, 2, 10, tzinfo=UTC),
    )
    assert by_id["09-11111-55555"].refunded == Decimal("63.59")  # never more than the total
    assert by_id["09-11111-66666"].refunded == Decimal("63.59")  # refunded in full, no refund in the answer

    record_orders(ebay_account, page.orders)
    stored = Order.objects.get(external_id="09-11111-33333")
    assert (stored.total, stored.refunded) == (Decimal("63.59"), Decimal("40.00"))
    # The same buyer for the four: 23.59 + 35.59 kept, nothing of the two refunded in full.
    stored.customer.refresh_from_db()
    assert stored.customer.amount_spent == Decimal("59.18")


def test_hundreds_of_orders_over_several_pages(httpserver, stand_in_urls, ebay_account, realdata):
    orders = generated_orders(realdata, 450)
    stand_in = EbayStandIn(httpserver, orders)
    the_adapter = adapter()
    started = datetime.now(UTC)

    pulled, cursor, pages = pull_all(the_adapter, since=datetime(2026, 9, 1, tzinfo=UTC))

    assert pages == 3
    assert [args["offset"] for args in stand_in.orders_requests] == ["0", "200", "400"]
    assert {args["filter"] for args in stand_in.orders_requests} == {"lastmodifieddate:[2026-09-01T00:00:00.000Z..]"}
    assert sorted(order.external_id for order in pulled) == sorted(order["orderId"] for order in orders)
    assert len(stand_in.token_requests) == 1
    # The next pass starts a little before this one started, so orders changed meanwhile are read again.
    next_since = datetime.fromisoformat(json.loads(cursor)["since"])
    assert started - timedelta(minutes=6) < next_since <= started

    result = record_orders(ebay_account, pulled)
    assert result.orders_created == 450
    assert Order.objects.filter(account=ebay_account).count() == 450
    assert Order.objects.exclude(channel_fees=None).count() == 450

    again, _, _ = pull_all(the_adapter, cursor=cursor)
    assert again == []


def test_orders_in_several_currencies(httpserver, stand_in_urls, ebay_account, realdata):
    EbayStandIn(httpserver, generated_orders(realdata, 8, currencies=("USD", "GBP", "EUR", "AUD")))
    page = adapter().fetch_orders()
    record_orders(ebay_account, page.orders)
    counts = defaultdict(int)
    for currency in Order.objects.values_list("currency", flat=True):
        counts[currency] += 1
    assert dict(counts) == {"USD": 2, "GBP": 2, "EUR": 2, "AUD": 2}
    assert not Order.objects.filter(currency="USD").exclude(rate_source="same").exists()


def test_too_many_requests_is_rate_limited_with_retry_after(httpserver, stand_in_urls):
    stand_in = EbayStandIn(httpserver, fixture("get_orders.json")["orders"])
    stand_in.next_answers["orders"] = [json_response(fixture("too_many_requests.json"), 429, {"Retry-After": "12"})]
    the_adapter = adapter()
    with pytest.raises(RateLimited) as error:
        the_adapter.fetch_orders()
    assert (error.value.retry_after, error.value.retryable) == (12, True)
    assert "Too many requests" in error.value.message
    assert len(the_adapter.fetch_orders().orders) == 2


@pytest.mark.parametrize(
    "answer",
    [
        json_response({"errors": [{"errorId": 1500, "domain": "API_FULFILLMENT", "message": "System error."}]}, 500),
        Response("<html>503 Service Unavailable</html>", status=503, content_type="text/html"),
    ],
    ids=["500", "503-html"],
)
def test_server_errors_are_retryable(httpserver, stand_in_urls, answer):
    stand_in = EbayStandIn(httpserver)
    stand_in.next_answers["orders"] = [answer]
    with pytest.raises(ChannelError) as error:
        adapter().fetch_orders()
    assert error.value.retryable and not isinstance(error.value, RateLimited)


def test_an_expired_access_token_is_refreshed(httpserver, stand_in_urls):
    stand_in = EbayStandIn(httpserver, fixture("get_orders.json")["orders"])
    the_adapter = adapter()
    the_adapter.fetch_orders()
    stand_in.expire_tokens()

    assert len(the_adapter.fetch_orders().orders) == 2
    assert len(stand_in.token_requests) == 2


def test_access_refused_with_a_fresh_token_needs_the_seller(httpserver, stand_in_urls):
    stand_in = EbayStandIn(httpserver)
    stand_in.next_answers["orders"] = [json_response(fixture("invalid_access_token.json"), 401)] * 2
    with pytest.raises(AuthenticationFailed) as error:
        adapter().fetch_orders()
    assert not error.value.retryable


@pytest.mark.parametrize(
    "credentials",
    [{**CREDENTIALS, "refresh_token": "v^1.1#revoked"}, {**CREDENTIALS, "client_secret": "wrong-secret"}],
    ids=["invalid-grant", "invalid-client"],
)
def test_refused_credentials_need_the_seller(httpserver, stand_in_urls, credentials):
    stand_in = EbayStandIn(httpserver)
    with pytest.raises(AuthenticationFailed) as error:
        EbayAdapter(credentials).fetch_orders()
    assert not error.value.retryable
    assert "revoked" not in error.value.message and "wrong-secret" not in error.value.message
    assert stand_in.orders_requests == []


@pytest.mark.parametrize(
    "answer",
    [
        Response("{not json", status=200, content_type="application/json"),
        json_response({"total": 1, "orders": {"orderId": "1"}}),
        json_response({"total": 1, "orders": [{"orderId": "1"}]}),
        json_response({"total": 1, "orders": [{"orderId": "1", "creationDate": "2026-11-01T00:00:00.000Z",
                                               "pricingSummary": {"total": {"value": "ten", "currency": "USD"}}}]}),
    ],
    ids=["not-json", "orders-not-a-list", "no-creation-date", "amount-not-a-number"],
)  # fmt: skip
def test_malformed_answers_record_nothing(httpserver, stand_in_urls, answer):
    stand_in = EbayStandIn(httpserver)
    stand_in.next_answers["orders"] = [answer]
    with pytest.raises(MalformedResponse):
        adapter().fetch_orders()


@pytest.mark.parametrize(
    "changes",
    [
        {"lineItems": [{"quantity": "two"}]},
        {"lineItems": ["x"]},
        {"paymentSummary": {"refunds": [None]}},
        # Kept as 1E+100 (limits.within_arithmetic), but a line's unit price cannot be rounded to cents.
        {"lineItems": [{"quantity": 2, "lineItemCost": {"value": "1E+1000000", "currency": "USD"}}]},
    ],
    ids=["quantity-in-words", "line-not-an-object", "refund-not-an-object", "amount-past-arithmetic"],
)
def test_an_order_with_a_wrong_typed_field_is_malformed_by_its_id(changes):
    """Not an unexpected error the sync cannot place: the seller is told which order blocks the connection."""
    order = {**fixture("get_orders.json")["orders"][0], **changes}
    with pytest.raises(MalformedResponse, match=r"^eBay order 09-11111-22222 is not in the documented shape"):
        adapter()._order(order)


def test_an_amount_that_is_not_a_number_names_its_order():
    order = fixture("get_orders.json")["orders"][0]
    order["pricingSummary"]["tax"] = {"value": "ten", "currency": "USD"}
    with pytest.raises(MalformedResponse, match=r"^eBay order 09-11111-22222: eBay sent an amount that is not a num"):
        adapter()._order(order)


def test_a_malformed_token_answer_is_malformed(httpserver, stand_in_urls):
    stand_in = EbayStandIn(httpserver)
    stand_in.next_answers["token"] = [json_response({"token_type": "User Access Token"})]
    with pytest.raises(MalformedResponse):
        adapter().fetch_orders()


def test_check_calls_get_orders(httpserver, stand_in_urls):
    stand_in = EbayStandIn(httpserver, fixture("get_orders.json")["orders"])
    assert "2" in str(adapter().check())
    assert stand_in.orders_requests == [{"limit": "1", "offset": "0"}]


def test_production_endpoints_by_default():
    the_adapter = adapter()
    assert (the_adapter.api_url, the_adapter.identity_url) == ("https://api.ebay.com", "https://api.ebay.com")
