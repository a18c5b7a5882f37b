"""The WooCommerce adapter against a stand-in store on 127.0.0.1 (tests/channel_woocommerce_standin.py).

The adapter goes through the ``woocommerce`` package exactly as in production. The stand-in's URL is
http, so the package takes its OAuth 1.0a path (the signature in the query string), which the stand-in
checks as WooCommerce does; ``test_https_store_uses_basic_auth`` runs the https path (basic auth) over TLS
with a certificate made for the test.
"""

import datetime as dt
import ipaddress
import json
import socket
import ssl
from decimal import Decimal

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.channel_woocommerce_standin import (
    API,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    WEBHOOK_SECRET,
    WooCommerceStandIn,
    fixture,
    generated_orders,
    sign_webhook,
    webhook_headers,
)
from wagtail_customers.channels.base import AuthenticationFailed, ChannelError, MalformedResponse, RateLimited
from wagtail_customers.channels.registry import get_adapter_class
from wagtail_customers.channels.woocommerce import (
    InvalidApiKey,
    InvalidStoreUrl,
    RequestRefused,
    StoreNotFound,
    WooCommerceAdapter,
)
from wagtail_customers.models import (
    Channel,
    Customer,
    FulfilmentStatus,
    Order,
    OrderStatus,
    RateSource,
    SellerAccount,
    SyncStatus,
)
from wagtail_customers.services.ingestion import record_orders

UTC = dt.UTC


@pytest.fixture
def make_tls_server(tmp_path):
    """A stand-in server over TLS, with a certificate for 127.0.0.1 made here (and its file, to trust it)."""
    servers = []

    def make():
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = dt.datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        cert_file = tmp_path / "store.pem"
        key_file = tmp_path / "store.key"
        cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server = HTTPServer(host="127.0.0.1", ssl_context=context)
        server.start()
        servers.append(server)
        return server, cert_file

    yield make
    for server in servers:
        server.clear()
        server.stop()


@pytest.fixture
def woo_account(db):
    return SellerAccount.objects.create(name="Woo EU", channel=Channel.WOOCOMMERCE, currency="EUR")


def adapter_for(store, **changes):
    return WooCommerceAdapter(store.credentials(**changes), account_currency="EUR")


def pull_all(adapter, *, cursor=None, since=None, between_pages=None, limit=100):
    """Every page until ``done``, as the engine does; returns the orders and the last cursor."""
    orders = []
    for number in range(limit):
        page = adapter.fetch_orders(cursor=cursor, since=since)
        orders.extend(page.orders)
        cursor = page.cursor
        if page.done:
            return orders, cursor
        if between_pages:
            between_pages(number)
    raise AssertionError("the pull never finished")


# Registry and credentials.
def test_registered_for_the_woocommerce_channel():
    assert get_adapter_class("woocommerce") is WooCommerceAdapter
    assert WooCommerceAdapter.channel == Channel.WOOCOMMERCE
    secret = {field.name for field in WooCommerceAdapter.credential_fields if field.secret}
    assert secret == {"consumer_key", "consumer_secret", "webhook_secret"}
    assert {"order.created", "order.updated"} <= set(WooCommerceAdapter.webhook_topics)


@pytest.mark.parametrize(
    ("typed", "url"),
    [
        ("https://shop.example.com/", "https://shop.example.com"),
        ("shop.example.com", "https://shop.example.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("https://example.com/shop/wp-admin/admin.php?page=wc-settings", "https://example.com/shop"),
        ("https://shop.example.com/wp-json/wc/v3", "https://shop.example.com"),
        # A phone's keyboard capitalises the first letter: the package tests url.startswith("https").
        ("Https://shop.example.com", "https://shop.example.com"),
        ("HTTP://127.0.0.1:8080/", "http://127.0.0.1:8080"),
    ],
)
def test_the_store_url_as_typed(typed, url):
    assert WooCommerceAdapter({"store_url": typed}).store_url == url


# The documented order, mapped.
def test_a_documented_order_is_mapped(httpserver):
    store = WooCommerceStandIn(httpserver, orders=[fixture("order.json")])
    page = adapter_for(store).fetch_orders()
    assert page.done
    (order,) = page.orders
    assert order.external_id == "1041"
    assert order.placed_at == dt.datetime(2026, 11, 2, 9, 15, 4, tzinfo=UTC)
    assert order.paid_at == dt.datetime(2026, 11, 2, 9, 16, 40, tzinfo=UTC)
    assert (order.status, order.fulfilment_status) == (OrderStatus.PAID, FulfilmentStatus.UNFULFILLED)
    assert order.sync_status == SyncStatus.SYNCED
    assert order.currency == "EUR"
    assert order.customer.external_id == "27"
    assert order.customer.email == "margit.oberhauser@example.org"
    assert order.customer.name == "Margit Oberhauser"
    assert order.customer.phone == "+43 1 5550123"
    assert (order.ship_to.line1, order.ship_to.postal_code, order.ship_to.city, order.ship_to.country) == (
        "Lindengasse 12",
        "1070",
        "Wien",
        "AT",
    )
    assert (order.subtotal, order.shipping, order.tax, order.total) == (
        Decimal("39.00"),
        Decimal("4.90"),
        Decimal("8.78"),
        Decimal("52.68"),
    )
    assert order.discount == 0 and order.refunded == 0
    assert order.channel_fees is None  # not in WooCommerce's API: unknown, not zero
    towels, mug = order.lines
    assert (towels.sku, towels.product_name, towels.quantity, towels.unit_price, towels.line_total) == (
        "TT-LIN-01",
        "Linen tea towel",
        3,
        Decimal("8.90"),
        Decimal("26.70"),
    )
    assert mug.sku == "MUG-EN-BL" and mug.quantity == 1 and mug.discount == 0


def test_http_store_requests_are_signed_with_oauth1_in_the_query(httpserver):
    """The package's http path: no Authorization header, the secret never sent, the signature checked."""
    store = WooCommerceStandIn(httpserver, orders=[fixture("order.json")])
    adapter_for(store).fetch_orders(since=dt.datetime(2026, 10, 1, tzinfo=UTC))
    (request,) = store.order_requests()
    assert request["authorization"] == ""
    assert request["args"]["oauth_consumer_key"] == CONSUMER_KEY
    assert request["args"]["oauth_signature_method"] == "HMAC-SHA256"
    assert CONSUMER_SECRET not in request["query"]
    assert request["args"]["orderby"] == "modified" and request["args"]["order"] == "asc"
    assert request["args"]["per_page"] == "100" and request["args"]["page"] == "1"
    assert request["args"]["dates_are_gmt"] == "true"
    # One second of overlap: modified_after is strict.
    assert request["args"]["modified_after"] == "2026-09-30T23:59:59"


def test_https_store_uses_basic_auth(make_tls_server, monkeypatch):
    server, ca_file = make_tls_server()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    store = WooCommerceStandIn(server, orders=[fixture("order.json")], scheme="https")
    assert store.url.startswith("https://")
    page = adapter_for(store).fetch_orders()
    assert [order.external_id for order in page.orders] == ["1041"]
    (request,) = store.order_requests()
    assert request["authorization"].startswith("Basic ")
    assert "oauth_signature" not in request["args"] and CONSUMER_SECRET not in request["query"]


def test_a_store_url_typed_with_a_capital_scheme_still_uses_basic_auth(make_tls_server, monkeypatch):
    """The package picks basic authentication by url.startswith("https"): "Https://" got OAuth 1 over https, which
    WooCommerce refuses."""
    server, ca_file = make_tls_server()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    store = WooCommerceStandIn(server, orders=[fixture("order.json")], scheme="https")
    typed = store.url.replace("https://", "Https://")

    page = adapter_for(store, store_url=typed).fetch_orders()

    assert [order.external_id for order in page.orders] == ["1041"]
    (request,) = store.order_requests()
    assert request["authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("consumer_key", CONSUMER_KEY + "\u200b"),  # an invisible space copied with it
        ("consumer_secret", "\u201c" + CONSUMER_SECRET + "\u201d"),  # curly quotes
    ],
)
def test_a_stored_key_basic_auth_cannot_send_is_said_to_be_the_key_not_the_address(
    make_tls_server, monkeypatch, field, typed
):
    """requests' basic authentication raises UnicodeEncodeError (a ValueError) for a character Latin-1 lacks: it
    was reported as a store URL that is no web address."""
    server, ca_file = make_tls_server()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    store = WooCommerceStandIn(server, orders=[fixture("order.json")], scheme="https")

    with pytest.raises(InvalidApiKey) as raised:
        adapter_for(store, **{field: typed}).fetch_orders()

    assert not isinstance(raised.value, InvalidStoreUrl)
    assert raised.value.retryable is False
    assert raised.value.message == (
        "The stored consumer key or secret has a character no WooCommerce key has (a curly quote, an invisible "
        "space). Copy them again from WooCommerce › Settings › Advanced › REST API into the credentials and save them."
    )
    # The same store with the key as WooCommerce gave it: the address was right all along.
    assert [order.external_id for order in adapter_for(store).fetch_orders().orders] == ["1041"]


def test_a_stored_store_url_with_a_query_is_refused_before_any_request(httpserver):
    """The package appends /wp-json/... to the address as it is: after a query, the API's path is lost."""
    store = WooCommerceStandIn(httpserver, orders=[fixture("order.json")])

    with pytest.raises(InvalidStoreUrl) as raised:
        adapter_for(store, store_url=f"{store.url}/?lang=en").fetch_orders()

    assert raised.value.retryable is False
    assert raised.value.message.startswith("The stored store URL has a query (?…) or fragment (#…) after the address")
    assert store.order_requests() == []
    # Without it, the same store answers.
    assert len(adapter_for(store).fetch_orders().orders) == 1


# Pagination and the cursor.
def test_a_backfill_of_hundreds_of_orders_over_several_pages(httpserver, woo_account):
    store = WooCommerceStandIn(httpserver, orders=generated_orders(345))
    adapter = adapter_for(store)
    pages = 0
    cursor = None
    seen = []
    while True:
        page = adapter.fetch_orders(cursor=cursor)
        pages += 1
        seen.extend(page.orders)
        record_orders(woo_account, page.orders)
        cursor = page.cursor
        if page.done:
            break
    assert pages >= 4
    assert {order.external_id for order in seen} == {str(5000 + index) for index in range(345)}
    assert Order.objects.filter(account=woo_account).count() == 345
    # Guests (customer_id 0) are matched by e-mail, registered buyers by their id: 40 e-mails, 40 buyers.
    assert Customer.objects.filter(account=woo_account).count() <= 80
    every_page_header = {request["args"]["per_page"] for request in store.order_requests()}
    assert every_page_header == {"100"}

    # The next scheduled pull asks only from the high-water mark on.
    latest = max(order["date_modified_gmt"] for order in store.orders.values())
    assert json.loads(cursor)["modified_after"] == latest
    store.touch(5010, dt.datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    changed, cursor = pull_all(adapter, cursor=cursor)
    assert [order.external_id for order in changed if order.external_id == "5010"] == ["5010"]
    assert len(changed) <= 3  # the changed order and those of the mark's own second
    assert json.loads(cursor)["modified_after"] == "2026-12-01T10:00:00"


def test_an_order_changed_during_the_backfill_skips_nothing(httpserver):
    """Changing an order moves it to the end of an orderby=modified list; page numbers alone would skip one."""
    store = WooCommerceStandIn(httpserver, orders=generated_orders(260, same_second_every=1000))
    changed_at = dt.datetime(2026, 12, 2, 8, 0, tzinfo=UTC)

    def seller_edits_an_early_order(page_number):
        if page_number == 0:
            store.touch(5003, changed_at)

    orders, _ = pull_all(adapter_for(store), between_pages=seller_edits_an_early_order)
    assert {order.external_id for order in orders} == {str(5000 + index) for index in range(260)}


def test_a_whole_page_changed_in_one_second_goes_on_by_page_number(httpserver):
    """A bulk status change gives hundreds of orders the same second: the mark cannot move, the page does."""
    orders = generated_orders(230)
    for order in orders:
        order["date_modified_gmt"] = "2026-11-30T12:00:00"
    store = WooCommerceStandIn(httpserver, orders=orders)
    fetched, cursor = pull_all(adapter_for(store))
    assert {order.external_id for order in fetched} == {order["number"] for order in orders}
    pages = [request["args"]["page"] for request in store.order_requests()]
    assert pages[-3:] == ["1", "2", "3"]
    assert json.loads(cursor) == {"modified_after": "2026-11-30T12:00:00", "page": 1}


def test_a_pull_with_nothing_new_keeps_its_mark(httpserver):
    store = WooCommerceStandIn(httpserver, orders=[])
    cursor = json.dumps({"modified_after": "2026-11-01T00:00:00", "page": 1})
    page = adapter_for(store).fetch_orders(cursor=cursor)
    assert page.done and page.orders == []
    assert json.loads(page.cursor) == {"modified_after": "2026-11-01T00:00:00", "page": 1}


def test_an_unreadable_stored_cursor_is_reported(httpserver):
    store = WooCommerceStandIn(httpserver, orders=[])
    with pytest.raises(MalformedResponse):
        adapter_for(store).fetch_orders(cursor="not json")


# Errors.
def test_429_with_retry_after_is_rate_limited_and_the_same_cursor_goes_on(httpserver):
    store = WooCommerceStandIn(httpserver, orders=generated_orders(150))
    adapter = adapter_for(store)
    first = adapter.fetch_orders()
    httpserver.expect_oneshot_request(f"{API}/orders").respond_with_json(
        {"code": "rate_limited", "message": "Too many requests.", "data": {"status": 429}},
        status=429,
        headers={"Retry-After": "30"},
    )
    with pytest.raises(RateLimited) as raised:
        adapter.fetch_orders(cursor=first.cursor)
    assert raised.value.retry_after == 30 and raised.value.retryable
    rest, _ = pull_all(adapter, cursor=first.cursor)
    assert {o.external_id for o in first.orders + rest} == {str(5000 + index) for index in range(150)}


def test_retry_after_as_an_http_date(httpserver):
    store = WooCommerceStandIn(httpserver, orders=[])
    when = dt.datetime.now(UTC) + dt.timedelta(seconds=120)
    httpserver.expect_oneshot_request(f"{API}/orders").respond_with_data(
        "", status=429, headers={"Retry-After": when.strftime("%a, %d %b %Y %H:%M:%S GMT")}
    )
    with pytest.raises(RateLimited) as raised:
        adapter_for(store).fetch_orders()
    assert 100 <= raised.value.retry_after <= 120


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable_channel_errors(httpserver, status):
    store = WooCommerceStandIn(httpserver, orders=[])
    httpserver.expect_oneshot_request(f"{API}/orders").respond_with_data("<html>Error</html>", status=status)
    with pytest.raises(ChannelError) as raised:
        adapter_for(store).fetch_orders()
    assert type(raised.value) is ChannelError and raised.value.retryable
    assert str(status) in raised.value.message


def test_an_unreachable_store_is_a_retryable_error_without_the_key_in_its_message():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = WooCommerceAdapter(
        {"store_url": f"http://127.0.0.1:{port}", "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET}
    )
    with pytest.raises(ChannelError) as raised:
        adapter.fetch_orders()
    assert raised.value.retryable
    assert CONSUMER_KEY not in raised.value.message and "oauth" not in raised.value.message


def test_a_wrong_secret_fails_the_signature_check_with_401(httpserver):
    store = WooCommerceStandIn(httpserver, orders=[fixture("order.json")])
    with pytest.raises(AuthenticationFailed) as raised:
        adapter_for(store, consumer_secret="cs_wrong").fetch_orders()
    assert not raised.value.retryable
    assert "Invalid signature" in raised.value.message
    assert "cs_wrong" not in raised.value.message


def test_a_key_without_read_access_is_refused(httpserver):
    store = WooCommerceStandIn(httpserver, orders=[])
    httpserver.expect_oneshot_request(f"{API}/orders").respond_with_json(fixture("error_cannot_view.json"), status=401)
    with pytest.raises(AuthenticationFailed) as raised:
        adapter_for(store).fetch_orders()
    assert "woocommerce_rest_cannot_view" in raised.value.message


def test_a_refused_parameter_is_not_retried(httpserver):
    store = WooCommerceStandIn(httpserver, orders=[])
    httpserver.expect_oneshot_request(f"{API}/orders").respond_with_json(
        fixture("error_invalid_param.json"), status=400
    )
    with pytest.raises(RequestRefused) as raised:
        adapter_for(store).fetch_orders()
    assert not raised.value.retryable and "orderby" in raised.value.message


def test_no_rest_api_at_the_url(httpserver):
    adapter = WooCommerceAdapter(
        {"store_url": httpserver.url_for("/"), "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET}
    )
    httpserver.expect_request(f"{API}/orders").respond_with_json(
        {
            "code": "rest_no_route",
            "message": "No route was found matching the URL and request method.",
            "data": {"status": 404},
        },
        status=404,
    )
    with pytest.raises(StoreNotFound) as raised:
        adapter.fetch_orders()
    assert not raised.value.retryable


@pytest.mark.parametrize(
    "body",
    [
        "<!DOCTYPE html><html><body>Maintenance</body></html>",  # a caching or maintenance plugin's page
        '[{"id": 1, "date_created_gmt": "2026-11-01T10:00:00"',  # cut short
        '{"orders": []}',  # not a list
        '[{"id": "abc"}]',  # no numeric id
        '[{"id": "abc", "refunds": [{"id": 1, "total": "-1.00"}]}]',  # nor for its refunds
        '[{"id": 7, "date_created_gmt": "2026-11-01T10:00:00", "total": "ten"}]',  # not an amount
        '[{"id": 7, "date_created_gmt": "yesterday", "date_modified_gmt": "2026-11-01T10:00:00"}]',
        '[{"id": 7, "date_created_gmt": "2026-11-01T10:00:00", "line_items": [{"quantity": "2"}]}]',
    ],
)
def test_malformed_answers_are_reported_and_give_no_orders(httpserver, body):
    store = WooCommerceStandIn(httpserver, orders=[])
    httpserver.expect_oneshot_request(f"{API}/orders").respond_with_response(
        Response(body, status=200, content_type="application/json")
    )
    with pytest.raises(MalformedResponse):
        adapter_for(store).fetch_orders()


def test_an_amount_past_decimal_arithmetic_names_its_order(httpserver):
    """Not an unexpected error (InvalidOperation) the sync cannot place: the seller is told which order it is."""
    order = fixture("order.json")
    order["total"] = "1e40"
    store = WooCommerceStandIn(httpserver, orders=[order])
    with pytest.raises(MalformedResponse, match=r"^WooCommerce order 1041: total '1e40' is not an amount"):
        adapter_for(store).fetch_orders()


# Guests, coupons, refunds, currencies.
def test_guest_orders_are_matched_by_email(httpserver, woo_account):
    first = fixture("order_guest_coupon.json")
    second = fixture("order_guest_coupon.json")
    second.update(id=1090, number="1090", date_modified_gmt="2026-11-08T10:00:00")
    second["billing"]["email"] = "jonas.lindqvist@example.net"
    store = WooCommerceStandIn(httpserver, orders=[first, second])
    orders, _ = pull_all(adapter_for(store))
    assert [order.customer.external_id for order in orders] == ["", ""]
    record_orders(woo_account, orders)
    customer = Customer.objects.get(account=woo_account)
    assert customer.orders_count == 2


def test_coupons_become_promo_codes_and_discounts_count_once(httpserver, woo_account):
    store = WooCommerceStandIn(httpserver, orders=[fixture("order_guest_coupon.json")])
    (order,) = adapter_for(store).fetch_orders().orders
    assert [(code.code, code.discount) for code in order.promo_codes] == [("winter10", Decimal("5.00"))]
    (line,) = order.lines
    assert (line.line_total, line.discount) == (Decimal("50.00"), Decimal("5.00"))
    assert order.discount == 0  # all of discount_total is on the line
    assert order.total == Decimal("54.00")
    assert (order.status, order.fulfilment_status) == (OrderStatus.SHIPPED, FulfilmentStatus.FULFILLED)
    assert order.shipped_at == dt.datetime(2026, 11, 7, 8, 40, 2, tzinfo=UTC)
    assert (order.ship_to.name, order.ship_to.city, order.ship_to.phone) == (
        "Elin Lindqvist",
        "Stockholm",
        "+46 8 555 0142",
    )
    record_orders(woo_account, [order])
    stored = Order.objects.get(account=woo_account)
    assert stored.account_discount == Decimal("5.00")
    assert list(stored.promo_codes.values_list("code", flat=True)) == ["winter10"]


def test_refunds_give_the_refunded_amount_units_and_date(httpserver, woo_account):
    store = WooCommerceStandIn(
        httpserver,
        orders=[fixture("order_refunded.json"), fixture("order.json")],
        refunds={1063: fixture("refunds_1063.json")},
    )
    orders, _ = pull_all(adapter_for(store))
    refunded = next(order for order in orders if order.external_id == "1063")
    assert refunded.refunded == Decimal("27.00")
    assert refunded.status == OrderStatus.PARTIALLY_REFUNDED
    assert refunded.refunded_at == dt.datetime(2026, 11, 20, 14, 5, 30, tzinfo=UTC)
    napkins, candles = refunded.lines
    assert (napkins.returned_quantity, candles.returned_quantity) == (1, 0)
    # No shipping address (a collected order): the billing one, with the billing phone.
    assert (refunded.ship_to.city, refunded.ship_to.phone) == ("Wien", "+43 1 5550123")
    # The refunds endpoint is asked only for the order that has refunds.
    refund_calls = [request["path"] for request in store.requests if request["path"].endswith("/refunds")]
    assert refund_calls == [f"{API}/orders/1063/refunds"]
    record_orders(woo_account, orders)
    assert Order.objects.get(account=woo_account, external_id="1063").refunded == Decimal("27.00")


def test_an_order_marked_refunded_by_hand_counts_as_refunded(httpserver):
    order = fixture("order.json")
    order["status"] = "refunded"
    store = WooCommerceStandIn(httpserver, orders=[order])
    (mapped,) = adapter_for(store).fetch_orders().orders
    assert (mapped.status, mapped.refunded) == (OrderStatus.REFUNDED, Decimal("52.68"))


def test_a_fully_refunded_order(httpserver):
    order = fixture("order_refunded.json")
    order["status"] = "refunded"
    order["refunds"] = [{"id": 1080, "reason": "", "total": "-78.00"}]
    store = WooCommerceStandIn(httpserver, orders=[order], refunds={1063: []})
    (mapped,) = adapter_for(store).fetch_orders().orders
    assert (mapped.status, mapped.fulfilment_status, mapped.refunded) == (
        OrderStatus.REFUNDED,
        FulfilmentStatus.FULFILLED,
        Decimal("78.00"),
    )


@pytest.mark.parametrize(("status", "paid"), [("cancelled", False), ("failed", False), ("cancelled", True)])
def test_a_cancelled_order_that_was_never_paid_spent_nothing(httpserver, woo_account, status, paid):
    order = fixture("order.json")
    order["status"] = status
    if not paid:
        order["date_paid_gmt"] = order["date_paid"] = None
    store = WooCommerceStandIn(httpserver, orders=[order])
    (mapped,) = adapter_for(store).fetch_orders().orders
    assert mapped.total == (Decimal("52.68") if paid else 0)
    record_orders(woo_account, [mapped])
    customer = Customer.objects.get(account=woo_account)
    assert (customer.orders_count, customer.units) == (1, 0)
    assert customer.amount_spent == (Decimal("52.68") if paid else 0)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", (OrderStatus.PENDING, FulfilmentStatus.UNFULFILLED)),
        ("on-hold", (OrderStatus.PENDING, FulfilmentStatus.UNFULFILLED)),
        ("processing", (OrderStatus.PAID, FulfilmentStatus.UNFULFILLED)),
        ("completed", (OrderStatus.SHIPPED, FulfilmentStatus.FULFILLED)),
        ("cancelled", (OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED)),
        ("failed", (OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED)),
        ("trash", (OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED)),
        ("refunded", (OrderStatus.REFUNDED, FulfilmentStatus.UNFULFILLED)),
        ("wc-awaiting-shipment", (OrderStatus.PAID, FulfilmentStatus.UNFULFILLED)),  # a plugin's status, paid
    ],
)
def test_statuses(httpserver, status, expected):
    """Through an order.updated delivery: a pull does not list orders in the bin."""
    order = fixture("order.json")
    order["status"] = status
    store = WooCommerceStandIn(httpserver, orders=[order])
    (mapped,) = adapter_for(store).orders_from_webhook("order.updated", order)
    assert (mapped.status, mapped.fulfilment_status) == expected


def test_an_order_in_another_currency_than_the_account(httpserver, woo_account):
    """A multi-currency plugin's USD order in a EUR store: kept in USD, converted at the site's rate table."""
    store = WooCommerceStandIn(httpserver, orders=[fixture("order_usd.json")])
    (order,) = adapter_for(store).fetch_orders().orders
    assert order.currency == "USD"
    assert order.exchange_rate is None and order.account_total is None  # core WooCommerce gives no rate
    assert order.total == Decimal("72.00")
    record_orders(woo_account, [order])
    stored = Order.objects.get(account=woo_account)
    assert stored.currency == "USD" and stored.total == Decimal("72.00")
    assert stored.rate_source == RateSource.TABLE
    assert stored.account_total == (Decimal("72.00") * stored.exchange_rate).quantize(Decimal("0.01"))
    # A dollar was worth less than a euro in October 2024 (a date in the rate table of every supported version).
    assert stored.account_total < stored.total


# check().
def test_check_names_the_store_and_its_currency(httpserver):
    store = WooCommerceStandIn(httpserver, orders=[])
    description = str(WooCommerceAdapter(store.credentials(), account_currency="EUR").check())
    assert "127.0.0.1" in description and "EUR" in description
    converted = str(WooCommerceAdapter(store.credentials(), account_currency="USD").check())
    assert "EUR" in converted and "USD" in converted
    assert {request["path"] for request in store.requests} == {f"{API}/settings/general", f"{API}/orders"}


def test_check_with_a_wrong_key(httpserver):
    store = WooCommerceStandIn(httpserver, orders=[])
    with pytest.raises(AuthenticationFailed):
        adapter_for(store, consumer_key="ck_nope").check()


# Webhooks.
def test_webhook_signature_good_bad_and_missing(httpserver):
    store = WooCommerceStandIn(httpserver, orders=[])
    adapter = adapter_for(store)
    body = json.dumps(fixture("order.json")).encode()
    headers = webhook_headers(body)
    assert adapter.verify_webhook(headers, body)
    assert adapter.verify_webhook({key.lower(): value for key, value in headers.items()}, body)
    assert not adapter.verify_webhook(headers, body.replace(b"52.68", b"0.01"))
    assert not adapter.verify_webhook(webhook_headers(body, secret="another secret"), body)
    missing = {key: value for key, value in headers.items() if key != "X-WC-Webhook-Signature"}
    assert not adapter.verify_webhook(missing, body)
    assert not adapter.verify_webhook({**headers, "X-WC-Webhook-Signature": ""}, body)
    without_secret = adapter_for(store, webhook_secret="")
    assert not without_secret.verify_webhook(headers, body)
    assert sign_webhook(body) == headers["X-WC-Webhook-Signature"]
    # A tampered header with non-ASCII characters is a failed check, not an exception (a 500).
    assert not adapter.verify_webhook({**headers, "X-WC-Webhook-Signature": "sïgnature=="}, body)


def test_a_delivery_naming_another_site_is_for_another_shop():
    """One webhook secret typed into two stores: the other store's deliveries verify, and name their own site."""
    body = json.dumps(fixture("order.json")).encode()
    shop = WooCommerceAdapter({"store_url": "https://Shop.Example.com/", "webhook_secret": WEBHOOK_SECRET})
    # The store's own address, as WordPress's home_url('/') gives it or written otherwise.
    for source in (
        "https://shop.example.com/",
        "https://shop.example.com",
        "HTTPS://SHOP.Example.COM/",
        "http://shop.example.com/",  # a site moved to https (or the connection made before it did)
        "https://shop.example.com:443/",
        "http://shop.example.com:80",
        "https://shop.example.com/?lang=fr",  # a language plugin's home_url
        " https://shop.example.com/ ",
    ):
        headers = webhook_headers(body, source=source)
        assert shop.verify_webhook(headers, body) and not shop.webhook_for_another_shop(headers), source
    # Another site: signed with the same secret, so it verifies; the address is what tells.
    for source in (
        "https://www.shop.example.com/",  # another host, www. or not
        "https://shop.example.org/",
        "https://shop.example.com:8443/",
        "https://shop.example.com/fr/",  # another WordPress in a sub-path
        "https://example.com/",
        "https://[oops/",  # not an address at all: not this store's
    ):
        headers = webhook_headers(body, source=source)
        assert shop.verify_webhook(headers, body) and shop.webhook_for_another_shop(headers), source
    # What the connection page may name: the address rebuilt from its parts, never the header as sent (it is not
    # signed, and a signed delivery can be sent again with another one); True when it is no web address.
    for source, shown in (
        ("https://www.shop.example.com/", "https://www.shop.example.com/"),
        ("HTTPS://Other.Example:8443/Shop/?lang=fr#top", "https://other.example:8443/Shop/"),
        ("https://user:password@other.example", "https://other.example/"),
        ("https://[2001:db8::1]:8443/", "https://[2001:db8::1]:8443/"),
        ("https://shop-example.help/ Your API key expired — re-enter it", True),
        ("https://shop-example.help/\u00a0Your\u00a0API\u00a0key\u00a0expired", True),
        ("Your API key expired", True),
        ("https://[oops/", True),
        ("ftp://other.example/", True),
    ):
        assert shop.webhook_for_another_shop({"X-WC-Webhook-Source": source}) == shown, source
    lowered = {key.lower(): value for key, value in webhook_headers(body, source="https://other.example/").items()}
    assert shop.webhook_for_another_shop(lowered)
    # No address (WooCommerce before 2.6; the ping on saving a webhook, answered before this): taken as before.
    unnamed = {key: value for key, value in webhook_headers(body).items() if key != "X-WC-Webhook-Source"}
    assert not shop.webhook_for_another_shop(unnamed)
    assert not shop.webhook_for_another_shop(webhook_headers(body, source="  "))


@pytest.mark.parametrize(
    ("typed", "same", "other"),
    [
        ("https://example.com/shop", "https://example.com/shop/", "https://example.com/"),
        ("https://example.com/", "https://Example.com/", "https://example.com/shop/"),
        (
            "https://example.com/shop/wp-admin/admin.php?page=wc-settings",
            "http://example.com/shop/",
            "https://example.com/shop2/",
        ),
        ("https://www.shop.example.com", "http://WWW.shop.example.com/", "https://shop.example.com/"),
        ("http://127.0.0.1:8080", "https://127.0.0.1:8080/", "http://127.0.0.1:8081/"),
        ("shop.example.com", "https://shop.example.com./", "https://shop.example.com.evil.example/"),
        ("https://bücher.example", "https://xn--bcher-kva.example/", "https://buecher.example/"),
        # UTS 46, as requests reaches it: straße.de is xn--strae-oqa.de, not strasse.de.
        ("https://straße.de", "https://xn--strae-oqa.de/", "https://strasse.de/"),
        # A site without pretty links: its API at /index.php/wp-json, its own address without index.php.
        ("https://example.com/index.php/wp-json/wc/v3/", "https://example.com/", "https://example.com/shop/"),
        ("https://[2001:db8:0:0::1]:8443/", "https://[2001:DB8::1]:8443/", "https://[2001:db8::2]:8443/"),
    ],
)
def test_the_store_url_as_typed_against_the_sites_address(typed, same, other):
    shop = WooCommerceAdapter({"store_url": typed})
    assert not shop.webhook_for_another_shop({"X-WC-Webhook-Source": same})
    assert shop.webhook_for_another_shop({"X-WC-Webhook-Source": other})


def test_webhook_topics_and_delivery_ids(httpserver):
    store = WooCommerceStandIn(httpserver, orders=[])
    adapter = adapter_for(store)
    body = json.dumps(fixture("order_guest_coupon.json")).encode()
    for topic in ("order.created", "order.updated"):
        headers = webhook_headers(body, topic, delivery_id=f"delivery-{topic}")
        assert adapter.verify_webhook(headers, body)
        assert adapter.webhook_topic(headers) == topic
        # With the signature: WooCommerce's id names the webhook and the second, not the delivery.
        assert adapter.webhook_delivery_id(headers) == f"delivery-{topic}:{headers['X-WC-Webhook-Signature']}"
        (order,) = adapter.orders_from_webhook(topic, json.loads(body))
        assert order.external_id == "1057" and order.sync_status == SyncStatus.PENDING
        assert [code.code for code in order.promo_codes] == ["winter10"]
    # Raw bytes are accepted too.
    assert adapter.orders_from_webhook("order.updated", body)[0].external_id == "1057"
    # Other resources are not orders.
    assert adapter.orders_from_webhook("product.updated", {"id": 12, "name": "Mug"}) == []
    with pytest.raises(MalformedResponse):
        adapter.orders_from_webhook("order.updated", b"<html>")
    # A webhook saved with "Legacy API v3" sends {"order": {...}}: the seller is told what to change.
    with pytest.raises(MalformedResponse, match="WP REST API Integration v3"):
        adapter.orders_from_webhook("order.updated", {"order": {"id": 1057, "order_number": 1057}})


def test_a_webhook_for_a_refunded_order_fetches_its_refunds(httpserver):
    store = WooCommerceStandIn(
        httpserver, orders=[fixture("order_refunded.json")], refunds={1063: fixture("refunds_1063.json")}
    )
    (order,) = adapter_for(store).orders_from_webhook("order.updated", fixture("order_refunded.json"))
    assert order.refunded == Decimal("27.00") and order.lines[0].returned_quantity == 1
    assert order.sync_status == SyncStatus.PENDING


def test_the_ping_on_saving_a_webhook_is_recognised_and_not_verified(httpserver):
    """WooCommerce posts ``webhook_id=<n>`` unsigned when a webhook is saved, and wants a 200 for it."""
    store = WooCommerceStandIn(httpserver, orders=[])
    adapter = adapter_for(store)
    ping_headers = {"User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7)"}
    assert adapter.is_webhook_ping(ping_headers, b"webhook_id=17")
    assert not adapter.verify_webhook(ping_headers, b"webhook_id=17")
    assert adapter.webhook_topic(ping_headers) == ""
    body = json.dumps(fixture("order.json")).encode()
    assert not adapter.is_webhook_ping(webhook_headers(body), body)
    assert not adapter.is_webhook_ping(ping_headers, b"webhook_id=17&status=1")
    assert WEBHOOK_SECRET  # the stand-in's secret is the one the adapter holds


def test_an_order_moved_to_the_bin_is_fetched_and_recorded_cancelled(httpserver):
    """order.deleted carries only the id, and the order list leaves the bin out: the order is fetched by id."""
    binned = fixture("order.json")
    binned["status"] = "trash"
    store = WooCommerceStandIn(httpserver, orders=[binned])
    adapter = adapter_for(store)
    assert adapter.fetch_orders().orders == []  # the pull does not see it
    body = json.dumps({"id": 1041}).encode()
    headers = webhook_headers(body, "order.deleted")
    assert adapter.verify_webhook(headers, body)
    (order,) = adapter.orders_from_webhook(adapter.webhook_topic(headers), body)
    assert (order.external_id, order.status, order.sync_status) == ("1041", OrderStatus.CANCELLED, SyncStatus.PENDING)
    # Deleted for good: WooCommerce answers 404 and nothing changes.
    assert adapter.orders_from_webhook("order.deleted", {"id": 999}) == []
    with pytest.raises(MalformedResponse):
        adapter.orders_from_webhook("order.deleted", {"id": "1041"})


def test_a_sites_address_sent_in_utf8_is_read_as_such_through_a_wsgi_server():
    """WordPress sends ``home_url`` as it is, UTF-8; a WSGI server hands a header over read as Latin-1."""
    shop = WooCommerceAdapter({"store_url": "https://bücher.example/laden"})
    as_wsgi_reads_it = "https://bücher.example/laden/".encode().decode("latin-1")
    assert not shop.webhook_for_another_shop({"X-WC-Webhook-Source": as_wsgi_reads_it})
    another = "https://bücher.example/".encode().decode("latin-1")
    assert shop.webhook_for_another_shop({"X-WC-Webhook-Source": another})


def test_a_store_that_cannot_be_reached_is_explained_in_words(httpserver):
    """Not the HTTP client's class name ("ConnectionError", "SSLError"); never the URL, whose query string carries
    the signed consumer key over http."""
    store = WooCommerceStandIn(httpserver, orders=[])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    for url, reason in (
        (f"http://127.0.0.1:{closed}", "no connection could be made"),
        (f"https://127.0.0.1:{httpserver.port}", "the secure connection failed"),  # a plain-http server
    ):
        adapter = WooCommerceAdapter(store.credentials(store_url=url), account_currency="EUR")
        with pytest.raises(ChannelError) as caught:
            adapter.fetch_orders()
        message = str(caught.value.message)
        assert message.startswith(f"The store could not be reached: {reason}"), message
        assert "Error" not in message and "consumer_key" not in message
