"""The Shopify adapter against a stand-in Admin GraphQL API on 127.0.0.1 (pytest-httpserver).

The stand-in answers in the shapes of tests/fixtures/channels/shopify/ (Admin API 2026-07, see the README
there). The many-page backfill is Store A's real orders export (shared/realdata/shopify/), read by the CSV
importer and written into the documented ``Order`` shape at test time: what the API brings must be what the
export brings.
"""

import copy
import json
import socket
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.channel_shopify_standin import (
    CLIENT_ID,
    FIXTURES,
    SECRET,
    TOKEN,
    StandIn,
    as_graphql,
    fixture,
    iso,
    opaque,
    signed,
    store_a_orders,
    webhook_headers,
)
from wagtail_customers.channels.base import (
    AuthenticationFailed,
    ChannelError,
    MalformedResponse,
    RateLimited,
)
from wagtail_customers.channels.registry import get_adapter_class
from wagtail_customers.channels.shopify import (
    API_VERSION,
    LINES_PER_ORDER,
    ORDERS_PER_PAGE,
    QueryTooCostly,
    ShopifyAdapter,
)
from wagtail_customers.models import (
    Customer,
    FulfilmentStatus,
    Order,
    OrderStatus,
    RateSource,
    SellerAccount,
    SyncStatus,
)
from wagtail_customers.services.ingestion import record_order, record_orders


@pytest.fixture
def stand_in_url(settings, httpserver):
    settings.WAGTAIL_CUSTOMERS = {
        **(getattr(settings, "WAGTAIL_CUSTOMERS", None) or {}),
        "CHANNEL_API_URLS": {"shopify": {"admin": httpserver.url_for("/")}},
    }
    return httpserver.url_for("/")


def adapter(currency="USD", **credentials):
    return ShopifyAdapter(
        {"shop": "anas-tees.myshopify.com", "access_token": TOKEN, "client_secret": SECRET, **credentials},
        account_currency=currency,
    )


def fetch_all(shop, **kwargs):
    pages, cursor = [], None
    while True:
        page = shop.fetch_orders(cursor=cursor, **kwargs)
        pages.append(page)
        cursor = page.cursor
        if page.done:
            return pages


def comparable(order):
    """What the CSV and the API both say about an order (not the buyer id: the CSV has none)."""
    return (
        order.external_id,
        order.placed_at,
        order.status,
        order.fulfilment_status,
        order.currency,
        order.discount,
        order.shipping,
        order.tax,
        order.total,
        order.refunded,
        order.customer.email,
        order.customer.name,
        order.customer.phone,
        (order.ship_to.line1, order.ship_to.postal_code, order.ship_to.city, order.ship_to.country),
        [(line.sku, line.product_name, line.quantity, line.unit_price, line.discount) for line in order.lines],
        [(code.code, code.discount) for code in order.promo_codes],
        order.shipped_at,
        order.cancelled_at,
    )


def test_the_registry_names_the_shopify_adapter():
    assert get_adapter_class("shopify") is ShopifyAdapter
    assert ShopifyAdapter.channel == "shopify"
    assert {field.name for field in ShopifyAdapter.credential_fields if field.secret} == {
        "access_token",
        "client_secret",
        "webhook_signing_key",
    }
    assert ShopifyAdapter.capabilities.fees is False and ShopifyAdapter.capabilities.webhooks is True


@pytest.mark.django_db
def test_backfill_of_store_a_over_many_pages_brings_what_the_export_brings(realdata, httpserver, stand_in_url):
    from_file = store_a_orders(realdata)
    stand_in = StandIn(httpserver, as_graphql(from_file))

    pages = fetch_all(adapter())

    fetched = [order for page in pages for order in page.orders]
    assert len(fetched) == len(from_file) == 409
    assert len(pages) == -(-409 // ORDERS_PER_PAGE) == 82
    assert all(not page.done for page in pages[:-1]) and pages[-1].done
    assert all(order.sync_status == SyncStatus.SYNCED for order in fetched)
    by_name = {order.external_id: order for order in fetched}
    assert len(by_name) == 409
    assert [comparable(by_name[order.external_id]) for order in from_file] == [comparable(order) for order in from_file]
    # Every request names the token, the pinned version, and from the second page on the previous end cursor.
    orders_queries = stand_in.queries("Orders")
    assert [query["variables"]["after"] for query in orders_queries[:2]] == [None, opaque(ORDERS_PER_PAGE)]
    assert all(headers["X-Shopify-Access-Token"] == TOKEN for headers, _ in stand_in.requests)

    # Recorded, the customers' figures are those of the same export imported as a file.
    via_api = SellerAccount.objects.create(name="Store A live", channel="shopify", currency="USD")
    via_file = SellerAccount.objects.create(name="Store A file", channel="shopify", currency="USD")
    for page in pages:
        record_orders(via_api, page.orders)
    record_orders(via_file, from_file)

    def figures(account):
        return sorted(
            (customer.email.lower(), customer.orders_count, customer.amount_spent)
            for customer in Customer.objects.filter(account=account).exclude(email="")
        )

    assert figures(via_api) == figures(via_file)
    assert Order.objects.filter(account=via_api).count() == 409


@pytest.mark.django_db
def test_the_next_pull_starts_at_the_newest_change_and_brings_later_changes(realdata, httpserver, stand_in_url):
    nodes = as_graphql(store_a_orders(realdata)[:25])
    stand_in = StandIn(httpserver, nodes)
    shop = adapter()
    last = fetch_all(shop)[-1]
    newest = max(node["updatedAt"] for node in nodes)
    assert json.loads(last.cursor) == {"after": None, "high": None, "since": newest}

    # Nothing changed: the pull asks from the high-water mark and gets only the newest order again.
    again = shop.fetch_orders(cursor=last.cursor)
    assert again.done and len(again.orders) == 1
    assert stand_in.queries("Orders")[-1]["variables"]["query"] == f"updated_at:>='{newest}'"

    # An order is refunded in Shopify: the next pull brings it.
    changed = nodes[3]
    changed["updatedAt"] = iso(datetime.fromisoformat(newest) + timedelta(days=2))
    changed["displayFinancialStatus"] = "REFUNDED"
    changed["totalRefundedSet"] = changed["totalPriceSet"]
    page = shop.fetch_orders(cursor=again.cursor)
    assert [order.external_id for order in page.orders][-1] == changed["name"]
    assert page.orders[-1].status == OrderStatus.REFUNDED
    assert json.loads(page.cursor)["since"] == changed["updatedAt"]


@pytest.mark.django_db
def test_a_backfill_from_a_date_filters_by_updated_at(httpserver, stand_in_url):
    stand_in = StandIn(httpserver, [fixture("order_multicurrency.json"), fixture("order_cancelled_guest.json")])
    page = adapter().fetch_orders(since=date(2026, 10, 10))
    assert stand_in.queries("Orders")[0]["variables"]["query"] == "updated_at:>='2026-10-10T00:00:00Z'"
    assert [order.external_id for order in page.orders] == ["#1001"]
    page = adapter().fetch_orders(since=datetime(2026, 10, 1, 12, tzinfo=UTC))
    assert [order.external_id for order in page.orders] == ["#1002", "#1001"]
    assert stand_in.queries("Orders")[1]["variables"]["query"] == "updated_at:>='2026-10-01T12:00:00Z'"


def an_order_with_lines(count):
    node = fixture("order_cancelled_guest.json")
    template = node["lineItems"]["nodes"][0]
    node["lineItems"]["nodes"] = [
        {**copy.deepcopy(template), "id": f"gid://shopify/LineItem/{number}", "sku": f"SKU-{number}"}
        for number in range(count)
    ]
    return node


@pytest.mark.django_db
def test_an_order_with_more_lines_than_the_page_query_fetches_the_rest(httpserver, stand_in_url):
    node = an_order_with_lines(175)
    stand_in = StandIn(httpserver, [node])
    (order,) = adapter().fetch_orders().orders
    assert [line.sku for line in order.lines] == [f"SKU-{number}" for number in range(175)]
    assert [query["variables"]["after"] for query in stand_in.queries("OrderLines")] == [
        opaque(LINES_PER_ORDER),
        opaque(LINES_PER_ORDER + 100),
    ]


@pytest.mark.django_db
def test_a_next_page_of_lines_without_a_new_cursor_is_malformed(httpserver, stand_in_url):
    """Read again from the start, or the same page again, its lines would count twice (or for ever)."""
    node = an_order_with_lines(175)
    stand_in = StandIn(httpserver, [node])
    lines = {"nodes": [], "pageInfo": {"hasNextPage": True, "endCursor": None}}
    stand_in.at[2] = (200, stand_in.envelope({"order": {"lineItems": lines}}), None)
    with pytest.raises(MalformedResponse):
        adapter().fetch_orders()


def an_order_with_many_refunds():
    """12 lines, each returned: 11 in one refund (more than the page query's 10 lines of a refund), the last one in
    the 4th of 4 refunds (more than its 3 refunds); 4 fulfilments, the 4th delivered last."""
    node = fixture("order_multicurrency.json")
    template = node["lineItems"]["nodes"][1]
    node["lineItems"]["nodes"] = [
        {**copy.deepcopy(template), "id": f"gid://shopify/LineItem/{number}", "sku": f"SKU-{number}"}
        for number in range(12)
    ]
    refund = node["refunds"][0]
    node["refunds"] = [
        {
            **copy.deepcopy(refund),
            "id": f"gid://shopify/Refund/{day}",
            "createdAt": f"2026-10-{day:02d}T10:00:00Z",
            "refundLineItems": {"nodes": []},
        }
        for day in (10, 11, 12, 13)
    ]
    node["refunds"][0]["refundLineItems"]["nodes"] = [
        {"quantity": 1, "lineItem": {"id": f"gid://shopify/LineItem/{number}"}} for number in range(11)
    ]
    node["refunds"][3]["refundLineItems"]["nodes"] = [{"quantity": 1, "lineItem": {"id": "gid://shopify/LineItem/11"}}]
    node["fulfillments"] = [
        {
            "createdAt": f"2026-10-{day:02d}T10:00:00Z",
            "deliveredAt": f"2026-10-{day + 2:02d}T10:00:00Z",
            "status": "SUCCESS",
            "displayStatus": "FULFILLED",
        }
        for day in (5, 6, 7, 8)
    ]
    node["displayFinancialStatus"] = "REFUNDED"
    return node


@pytest.mark.django_db
def test_an_order_with_more_refunds_and_refunded_lines_than_the_page_query_fetches_the_rest(
    httpserver, stand_in_url, account
):
    stand_in = StandIn(httpserver, [an_order_with_many_refunds()])
    body = (FIXTURES / "webhook_refunds_create.json").read_bytes()
    node_id = "gid://shopify/Order/5551234567001"
    # The pull, fetch_order and the refunds/create webhook (which fetches its order) bring the same whole order.
    shop = adapter()
    (pulled,) = shop.fetch_orders().orders
    fetched = shop.fetch_order(node_id)
    (pushed,) = shop.orders_from_webhook("refunds/create", json.loads(body))
    for data in (pulled, fetched, pushed):
        assert [(line.sku, line.quantity, line.returned_quantity) for line in data.lines] == [
            (f"SKU-{number}", 1, 1) for number in range(12)
        ]
        assert data.refunded_at == datetime(2026, 10, 13, 10, tzinfo=UTC)
        assert (data.shipped_at, data.delivered_at) == (
            datetime(2026, 10, 5, 10, tzinfo=UTC),
            datetime(2026, 10, 10, 10, tzinfo=UTC),
        )
    # Each time: all refunds and fulfilments once, then the 1st refund's lines past its first 10 and the lines of
    # the 4th refund, which the page query did not bring.
    assert [query["variables"] for query in stand_in.queries("OrderHistory")] == [{"id": node_id}] * 3
    assert [query["variables"] for query in stand_in.queries("RefundLines")] == [
        {"id": "gid://shopify/Refund/10", "after": opaque(10)},
        {"id": "gid://shopify/Refund/13", "after": None},
    ] * 3
    order = record_order(account, pulled)
    order.refresh_from_db()
    assert sorted(order.lines.values_list("returned_quantity", flat=True)) == [1] * 12
    assert order.refunded_at == datetime(2026, 10, 13, 10, tzinfo=UTC)
    assert order.customer.returned_units == 12


@pytest.mark.django_db
def test_a_multi_currency_order_keeps_the_buyers_money_and_shopifys_shop_money(httpserver, stand_in_url, account):
    StandIn(httpserver, [fixture("order_multicurrency.json")])
    (data,) = adapter("USD").fetch_orders().orders

    assert (data.currency, data.total, data.refunded, data.shipping, data.tax) == (
        "EUR", Decimal("72.23"), Decimal("10.80"), Decimal("4.90"), Decimal("11.53"),
    )  # fmt: skip
    assert (data.account_total, data.account_refunded, data.account_discount) == (
        Decimal("79.45"), Decimal("11.88"), Decimal("6.82"),
    )  # fmt: skip
    # The code's discount was allocated to the lines: it is on the lines, not again on the order.
    assert data.discount == Decimal("0.00")
    assert [
        (line.sku, line.quantity, line.unit_price, line.discount, line.returned_quantity) for line in data.lines
    ] == [
        ("TEE-BLK-M", 2, Decimal("25.00"), Decimal("5.00"), 0),
        ("MUG-01", 1, Decimal("12.00"), Decimal("1.20"), 1),
    ]
    assert [(code.code, code.discount) for code in data.promo_codes] == [("WELCOME10", Decimal("6.20"))]
    assert (data.status, data.fulfilment_status) == (OrderStatus.PARTIALLY_REFUNDED, FulfilmentStatus.FULFILLED)
    assert data.refunded_at == datetime(2026, 10, 12, 13, 59, 58, tzinfo=UTC)
    assert data.shipped_at == datetime(2026, 10, 6, 10, tzinfo=UTC)
    # Recognised by e-mail, as the CSV import recognises Shopify's buyers (mapping.buyer); the id only without one.
    assert (data.customer.external_id, data.customer.email, data.customer.name, data.customer.phone) == (
        "", "ana.garcia@example.com", "Ana García", "+34600000000",
    )  # fmt: skip
    assert (data.ship_to.city, data.ship_to.state, data.ship_to.country, data.ship_to.postal_code) == (
        "Madrid", "M", "ES", "28013",
    )  # fmt: skip

    order = record_order(account, data)  # a USD account
    order.refresh_from_db()
    assert (order.currency, order.total, order.account_total, order.account_refunded) == (
        "EUR", Decimal("72.23"), Decimal("79.45"), Decimal("11.88"),
    )  # fmt: skip
    assert order.rate_source == RateSource.CHANNEL


@pytest.mark.django_db
@pytest.mark.django_db
def test_units_removed_by_an_order_edit_do_not_count(httpserver, stand_in_url, account):
    """``quantity`` keeps the units an edit removed; ``currentQuantity`` has neither those nor the refunded ones."""
    node = fixture("order_multicurrency.json")
    # Three tees ordered, one removed by an edit; the mug, refunded, is still one unit bought and returned.
    node["lineItems"]["nodes"][0].update(quantity=3, currentQuantity=2)
    cancelled = fixture("order_cancelled_guest.json")
    StandIn(httpserver, [node, cancelled])

    by_name = {order.external_id: order for order in adapter().fetch_orders().orders}

    edited = by_name["#1001"]
    assert [(line.sku, line.quantity, line.line_total, line.returned_quantity) for line in edited.lines] == [
        ("TEE-BLK-M", 2, Decimal("50.00"), 0),
        ("MUG-01", 1, Decimal("12.00"), 1),
    ]
    # A cancelled order keeps what was ordered (currentQuantity is 0 there).
    assert [line.quantity for line in by_name["#1002"].lines] == [2]
    # The amount spent stays the order's total less its refunds.
    order = record_order(account, edited)
    assert [(line.sku, line.quantity) for line in order.lines.order_by("sku")] == [("MUG-01", 1), ("TEE-BLK-M", 2)]
    assert order.customer.amount_spent == order.account_total - order.account_refunded


def test_a_webhook_of_an_edited_order_counts_the_units_left():
    payload = fixture("webhook_orders_create.json")
    payload["line_items"][0].update(quantity=3, current_quantity=2)
    (data,) = adapter().orders_from_webhook("orders/updated", payload)
    assert [(line.quantity, line.line_total) for line in data.lines] == [(2, Decimal("50.00")), (1, Decimal("12.00"))]
    # An older payload without current_quantity keeps the quantity.
    del payload["line_items"][0]["current_quantity"]
    (data,) = adapter().orders_from_webhook("orders/updated", payload)
    assert data.lines[0].quantity == 3


def test_shop_money_in_another_currency_than_the_accounts_is_not_taken_as_the_accounts(httpserver, stand_in_url):
    StandIn(httpserver, [fixture("order_multicurrency.json")])
    (data,) = adapter("GBP").fetch_orders().orders
    assert (data.account_total, data.account_refunded, data.account_discount) == (None, None, None)


@pytest.mark.django_db
def test_a_cancelled_guest_order(httpserver, stand_in_url):
    StandIn(httpserver, [fixture("order_cancelled_guest.json")])
    (data,) = adapter().fetch_orders().orders
    assert (data.status, data.fulfilment_status) == (OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED)
    assert data.cancelled_at == datetime(2026, 10, 8, 8, tzinfo=UTC)
    assert (data.customer.external_id, data.customer.email, data.paid_at) == ("", "guest.buyer@example.com", None)
    assert data.ship_to.is_empty()


@pytest.mark.django_db
def test_a_page_shopify_finds_too_costly_is_halved_until_it_passes(httpserver, stand_in_url):
    stand_in = StandIn(httpserver, as_graphql_fixture_copies(7))
    stand_in.max_orders_per_query = 2
    shop = adapter()
    pages = fetch_all(shop)
    assert [len(page.orders) for page in pages] == [2, 2, 2, 1]
    assert [query["variables"]["first"] for query in stand_in.queries("Orders")] == [ORDERS_PER_PAGE, 2, 2, 2, 2]
    stand_in.max_orders_per_query = 0
    with pytest.raises(QueryTooCostly) as caught:
        adapter().fetch_orders()
    assert caught.value.retryable is False


def as_graphql_fixture_copies(count):
    nodes = []
    for number in range(count):
        node = fixture("order_cancelled_guest.json")
        node.update(id=f"gid://shopify/Order/{number}", name=f"#{2000 + number}")
        nodes.append(node)
    return nodes


def test_check_names_the_shop_through_the_pinned_version(httpserver, stand_in_url):
    stand_in = StandIn(httpserver)
    assert adapter().check() == "Ana's Tees (USD)"
    ((headers, body),) = stand_in.requests
    assert headers["X-Shopify-Access-Token"] == TOKEN
    assert body["query"].strip().startswith("query Shop")
    assert "The seller account is in EUR, not the shop's USD" in adapter("EUR").check()


def test_without_a_stand_in_the_shop_is_reached_over_https_on_its_own_domain(settings):
    settings.WAGTAIL_CUSTOMERS = {**(getattr(settings, "WAGTAIL_CUSTOMERS", None) or {}), "CHANNEL_API_URLS": {}}
    for typed in (
        "anas-tees",
        "anas-tees.myshopify.com",
        "https://Anas-Tees.myshopify.com/admin/orders",
        # The admin's address as sellers see it today: the handle is the shop's myshopify.com name.
        "https://admin.shopify.com/store/anas-tees",
        "https://admin.shopify.com/store/Anas-Tees/orders?inContextTimeframe=today",
        "admin.shopify.com/store/anas-tees",
    ):
        assert adapter(shop=typed).endpoint == f"https://anas-tees.myshopify.com/admin/api/{API_VERSION}/graphql.json"
    for wrong in (
        "",
        "http://127.0.0.1:8000",
        "shop.example.com",
        "evil.com/x.myshopify.com",
        "https://admin.shopify.com/",
        "https://admin.shopify.com/store/",
        "https://admin.shopify.com/store/evil.com",
        "https://evil.example/admin.shopify.com/store/anas-tees",
    ):
        with pytest.raises(AuthenticationFailed):
            adapter(shop=wrong).endpoint  # noqa: B018


def test_a_dev_dashboard_app_gets_its_token_by_the_client_credentials_grant(httpserver, stand_in_url):
    stand_in = StandIn(httpserver)
    shop = adapter(access_token="", client_id=CLIENT_ID)
    assert shop.check() == "Ana's Tees (USD)"
    assert shop.check() == "Ana's Tees (USD)"
    # One grant for both calls: the token lasts 24 hours.
    assert stand_in.grants() == [{"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET}]
    assert [headers["X-Shopify-Access-Token"] for headers, body in stand_in.requests if "query" in body] == [
        "shpat_granted_1",
        "shpat_granted_1",
    ]
    # Shopify stops taking it (expired early, app reinstalled): a new one is asked for, once.
    stand_in.revoke_granted_tokens()
    assert shop.check() == "Ana's Tees (USD)"
    assert len(stand_in.grants()) == 2
    assert stand_in.requests[-1][0]["X-Shopify-Access-Token"] == "shpat_granted_2"


def test_a_wrong_client_secret_or_no_credentials_is_an_authentication_failure(httpserver, stand_in_url):
    stand_in = StandIn(httpserver)
    with pytest.raises(AuthenticationFailed) as caught:
        adapter(access_token="", client_id=CLIENT_ID, client_secret="shpss_wrong").check()
    assert caught.value.retryable is False and "shpss" not in caught.value.message
    with pytest.raises(AuthenticationFailed):
        adapter(access_token="", client_id="").check()
    assert not stand_in.queries("Shop")


def test_a_wrong_or_revoked_token_is_an_authentication_failure(httpserver, stand_in_url):
    StandIn(httpserver)
    with pytest.raises(AuthenticationFailed) as caught:
        adapter(access_token="shpat_revoked").fetch_orders()
    assert caught.value.retryable is False
    assert "shpat" not in caught.value.message


def test_a_missing_scope_is_an_authentication_failure(httpserver, stand_in_url):
    stand_in = StandIn(httpserver)
    stand_in.script.append((200, fixture("access_denied_response.json"), None))
    with pytest.raises(AuthenticationFailed, match="read_orders"):
        adapter().fetch_orders()


def test_a_forbidden_answer_is_an_authentication_failure(httpserver, stand_in_url):
    stand_in = StandIn(httpserver)
    stand_in.script.append((403, {"errors": "Forbidden"}, None))
    with pytest.raises(AuthenticationFailed):
        adapter().check()


@pytest.mark.django_db
def test_throttled_answers_wait_what_the_bucket_needs_then_the_same_page_comes(httpserver, stand_in_url):
    stand_in = StandIn(httpserver, [fixture("order_multicurrency.json")])
    stand_in.script.append((200, fixture("throttled_response.json"), None))
    shop = adapter()
    with pytest.raises(RateLimited) as caught:
        shop.fetch_orders()
    # (902 requested - 302 available) / 100 restored per second
    assert caught.value.retry_after == 6 and caught.value.retryable
    assert [order.external_id for order in shop.fetch_orders().orders] == ["#1001"]


def test_429_follows_retry_after(httpserver, stand_in_url):
    stand_in = StandIn(httpserver)
    stand_in.script.append((429, {"errors": "Exceeded 2 calls per second for api client."}, {"Retry-After": "2.0"}))
    with pytest.raises(RateLimited) as caught:
        adapter().check()
    assert caught.value.retry_after == 2


def test_429_without_retry_after(httpserver, stand_in_url):
    stand_in = StandIn(httpserver)
    stand_in.script.append((429, {"errors": "Too many requests"}, None))
    with pytest.raises(RateLimited) as caught:
        adapter().check()
    assert caught.value.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable_channel_errors(httpserver, stand_in_url, status):
    stand_in = StandIn(httpserver)
    stand_in.script.append((status, "<html><body>Something went wrong</body></html>", None))
    with pytest.raises(ChannelError) as caught:
        adapter().fetch_orders()
    assert type(caught.value) is ChannelError and caught.value.retryable
    assert str(status) in caught.value.message


@pytest.mark.parametrize("status", [402, 404, 423])
def test_a_frozen_locked_or_missing_shop_needs_the_seller(httpserver, stand_in_url, status):
    stand_in = StandIn(httpserver)
    stand_in.script.append((status, {"errors": "Not Found"}, None))
    with pytest.raises(ChannelError) as caught:
        adapter().check()
    assert caught.value.retryable is False


def test_an_unreachable_shop_is_a_retryable_channel_error(settings):
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.WAGTAIL_CUSTOMERS = {
        **(getattr(settings, "WAGTAIL_CUSTOMERS", None) or {}),
        "CHANNEL_API_URLS": {"shopify": {"admin": f"http://127.0.0.1:{port}"}},
    }
    with pytest.raises(ChannelError) as caught:
        adapter().check()
    assert type(caught.value) is ChannelError and caught.value.retryable
    # In words for the seller, not the HTTP client's class name ("ConnectionError").
    assert str(caught.value.message) == (
        "Shopify could not be reached: no connection could be made (check the address and that the store is online)."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answer",
    [
        "<html>Shopify is down for maintenance</html>",
        ["not", "an", "object"],
        {"data": None},
        {"data": {"orders": {"pageInfo": {"hasNextPage": False}}}},
        {"data": {"orders": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": [{"name": "#9"}]}}},
    ],
    ids=["html", "list", "no-data", "no-nodes", "node-without-fields"],
)
def test_a_malformed_answer_is_refused_whole(httpserver, stand_in_url, answer):
    stand_in = StandIn(httpserver)
    stand_in.script.append((200, answer, None))
    with pytest.raises(MalformedResponse):
        adapter().fetch_orders()


@pytest.mark.django_db
def test_an_amount_that_is_not_a_number_is_malformed(httpserver, stand_in_url):
    node = fixture("order_multicurrency.json")
    node["totalPriceSet"]["presentmentMoney"]["amount"] = "seventy"
    StandIn(httpserver, [node])
    with pytest.raises(MalformedResponse, match="#1001"):
        adapter().fetch_orders()


def test_an_unreadable_cursor_is_malformed():
    with pytest.raises(MalformedResponse):
        adapter().fetch_orders(cursor="{not json")


# Webhooks.
def test_a_webhook_signed_with_the_client_secret_is_accepted():
    body = (FIXTURES / "webhook_orders_create.json").read_bytes()
    shop = adapter()
    headers = webhook_headers(body)
    assert shop.verify_webhook(headers, body)
    assert shop.webhook_topic(headers) == "orders/create"
    assert shop.webhook_delivery_id(headers) == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    # Header names in any case, and Django's request.META spelling.
    lowered = {name.lower(): value for name, value in headers.items()}
    assert shop.verify_webhook(lowered, body) and shop.webhook_topic(lowered) == "orders/create"
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    assert shop.verify_webhook(meta, body) and shop.webhook_topic(meta) == "orders/create"
    without_webhook_id = {name: value for name, value in headers.items() if name != "X-Shopify-Webhook-Id"}
    assert shop.webhook_delivery_id(without_webhook_id) == "98880550-7158-44d4-b7cd-2c97c8a091b5"


def test_a_webhook_with_a_wrong_or_missing_signature_is_refused():
    body = (FIXTURES / "webhook_orders_create.json").read_bytes()
    shop = adapter()
    assert not shop.verify_webhook(webhook_headers(body, **{"X-Shopify-Hmac-Sha256": signed(body, "other")}), body)
    assert not shop.verify_webhook(webhook_headers(body), body.replace(b"79.45", b"0.01"))  # tampered body
    missing = {name: value for name, value in webhook_headers(body).items() if name != "X-Shopify-Hmac-Sha256"}
    assert not shop.verify_webhook(missing, body)
    assert not shop.verify_webhook(webhook_headers(body, **{"X-Shopify-Hmac-Sha256": ""}), body)
    # A connection without the secret verifies nothing.
    assert not adapter(client_secret="").verify_webhook(webhook_headers(body), body)


def test_webhooks_made_in_the_shopify_admin_are_signed_with_the_shops_key():
    body = (FIXTURES / "webhook_orders_create.json").read_bytes()
    headers = webhook_headers(body, **{"X-Shopify-Hmac-Sha256": signed(body, "shop-notifications-key")})
    assert not adapter().verify_webhook(headers, body)
    assert adapter(webhook_signing_key="shop-notifications-key").verify_webhook(headers, body)
    assert adapter(client_secret="", webhook_signing_key="shop-notifications-key").verify_webhook(headers, body)
    # The app's own subscriptions still verify with the client secret.
    assert adapter(webhook_signing_key="shop-notifications-key").verify_webhook(webhook_headers(body), body)


def test_a_delivery_naming_another_shop_is_for_another_shop():
    body = (FIXTURES / "webhook_orders_create.json").read_bytes()
    shop = adapter()
    assert not shop.webhook_for_another_shop(webhook_headers(body))
    assert not shop.webhook_for_another_shop(
        webhook_headers(body, **{"X-Shopify-Shop-Domain": "Anas-Tees.myshopify.com"})
    )
    other = webhook_headers(body, **{"X-Shopify-Shop-Domain": "Bobs-Mugs.myshopify.com"})
    # Signed with the same app's secret, so it verifies: the shop's name is what tells (in the form it is shown).
    assert shop.verify_webhook(other, body) and shop.webhook_for_another_shop(other) == "bobs-mugs.myshopify.com"
    # The header is not signed: one that is no shop domain has the delivery ignored all the same, but is not
    # given back to be shown (a replayed delivery could carry a sentence there).
    for crafted in (
        "bobs-mugs.myshopify.com Your API key expired, re-enter it",
        "https://shop-example.help/",
        "bobs-mugs.myshopify.com\tx",
        "evil.example",
    ):
        crafted_headers = webhook_headers(body, **{"X-Shopify-Shop-Domain": crafted})
        assert shop.webhook_for_another_shop(crafted_headers) is True, crafted
    unnamed = {name: value for name, value in webhook_headers(body).items() if name != "X-Shopify-Shop-Domain"}
    assert not shop.webhook_for_another_shop(unnamed)


def test_an_orders_create_payload_becomes_a_pending_order():
    body = (FIXTURES / "webhook_orders_create.json").read_bytes()
    (data,) = adapter("USD").orders_from_webhook("orders/create", json.loads(body))
    assert data.sync_status == SyncStatus.PENDING
    assert (data.external_id, data.placed_at) == ("#1001", datetime(2026, 10, 5, 9, 30, tzinfo=UTC))
    assert (data.status, data.fulfilment_status) == (OrderStatus.PAID, FulfilmentStatus.UNFULFILLED)
    assert (data.currency, data.total, data.account_total, data.account_discount) == (
        "EUR", Decimal("72.23"), Decimal("79.45"), Decimal("6.82"),
    )  # fmt: skip
    assert data.discount == Decimal("0.00")
    assert [(line.sku, line.quantity, line.unit_price, line.discount) for line in data.lines] == [
        ("TEE-BLK-M", 2, Decimal("25.00"), Decimal("5.00")),
        ("MUG-01", 1, Decimal("12.00"), Decimal("1.20")),
    ]
    assert [(code.code, code.discount) for code in data.promo_codes] == [("WELCOME10", Decimal("6.20"))]
    assert (data.customer.external_id, data.customer.name, data.ship_to.country) == ("", "Ana García", "ES")
    # The raw body works as well as the parsed one.
    assert adapter().orders_from_webhook("orders/create", body)[0] == data


def test_an_orders_updated_payload_with_a_refund_and_a_delivered_fulfilment():
    payload = fixture("webhook_orders_create.json")
    refund = fixture("webhook_refunds_create.json")
    payload.update(
        updated_at="2026-10-12T16:00:00+02:00",
        financial_status="partially_refunded",
        fulfillment_status="fulfilled",
        refunds=[refund],
        fulfillments=[
            {"created_at": "2026-10-06T12:00:00+02:00", "updated_at": "2026-10-08T09:00:00+02:00", "status": "success",
             "shipment_status": "delivered"},
        ],
    )  # fmt: skip
    (data,) = adapter().orders_from_webhook("orders/updated", payload)
    assert (data.status, data.fulfilment_status) == (OrderStatus.PARTIALLY_REFUNDED, FulfilmentStatus.FULFILLED)
    assert (data.refunded, data.refunded_at) == (Decimal("10.80"), datetime(2026, 10, 12, 13, 59, 58, tzinfo=UTC))
    assert [line.returned_quantity for line in data.lines] == [0, 1]
    assert data.shipped_at == datetime(2026, 10, 6, 10, tzinfo=UTC)
    assert data.delivered_at == datetime(2026, 10, 8, 7, tzinfo=UTC)


def test_a_webhook_payload_that_is_not_an_order_is_malformed():
    with pytest.raises(MalformedResponse):
        adapter().orders_from_webhook("orders/create", {"id": 1})
    with pytest.raises(MalformedResponse):
        adapter().orders_from_webhook("orders/create", b"not json")
    with pytest.raises(MalformedResponse):
        adapter().orders_from_webhook("refunds/create", {"id": 9})
    assert adapter().orders_from_webhook("products/update", {"id": 1}) == []


@pytest.mark.django_db
def test_refunds_create_fetches_its_order_as_it_stands_now(httpserver, stand_in_url, account):
    stand_in = StandIn(httpserver, [fixture("order_multicurrency.json")])
    body = (FIXTURES / "webhook_refunds_create.json").read_bytes()
    shop = adapter()
    assert shop.verify_webhook(webhook_headers(body, topic="refunds/create"), body)
    (data,) = shop.orders_from_webhook("refunds/create", json.loads(body))
    assert [query["variables"] for query in stand_in.queries("Order")] == [{"id": "gid://shopify/Order/5551234567001"}]
    assert (data.external_id, data.sync_status, data.refunded) == ("#1001", SyncStatus.PENDING, Decimal("10.80"))
    assert [line.returned_quantity for line in data.lines] == [0, 1]
    order = record_order(account, data)
    assert order.sync_status == SyncStatus.PENDING and order.status == OrderStatus.PARTIALLY_REFUNDED
    # A refund of an order Shopify no longer has brings nothing.
    assert shop.orders_from_webhook("refunds/create", {"id": 1, "order_id": 42}) == []


def test_a_buyer_is_recognised_by_e_mail_like_the_csv_import_and_by_id_without_one():
    from wagtail_customers.channels.shopify_mapping import buyer

    assert buyer("7001", email="ana@example.com", name="Ana", phone="").external_id == ""
    assert buyer("7001", email=" ", name="Ana", phone="+34").external_id == "7001"


@pytest.mark.parametrize(("financial", "total"), [("voided", "0.00"), ("paid", "72.23")])
def test_a_webhook_of_a_cancelled_order_counts_what_was_charged(financial, total):
    from tests.channel_shopify_standin import fixture
    from wagtail_customers.channels.shopify_mapping import order_from_webhook

    payload = fixture("webhook_orders_create.json")
    payload.update(financial_status=financial, cancelled_at="2024-03-02T10:00:00Z")
    data = order_from_webhook(payload, account_currency="USD")
    assert data.status == "cancelled" and data.total == Decimal(total)
    # The shop's own figure follows: a voided order is worth nothing in the account's currency either.
    assert data.account_total == (Decimal("0.00") if financial == "voided" else Decimal("79.45"))
