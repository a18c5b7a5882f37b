"""Why a channel could not be reached, in the seller's words (``channels.base.unreachable_reason``), from the
errors the HTTP clients the adapters use (requests for Shopify, WooCommerce and eBay; httpx for Amazon) raise on
real failed connections to a server on 127.0.0.1 (no proxy set in the environment)."""

import socket

import httpx
import pytest
import requests

from wagtail_customers.channels.base import unreachable_reason

SECURE = "the secure connection failed"
PROXY = "the proxy server this site goes through"
REDIRECTS = "the address sends the request on from one address to another without end"
NO_CONNECTION = "no connection could be made"


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raised(call):
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the client's own exception is the subject
        call()
    return str(unreachable_reason(caught.value))


def test_https_to_a_server_speaking_plain_http_is_a_failed_secure_connection(httpserver):
    httpserver.expect_request("/").respond_with_data("plain")
    url = f"https://127.0.0.1:{httpserver.port}/"
    assert raised(lambda: requests.get(url, timeout=5)).startswith(SECURE)
    # httpx says ConnectError; the ssl module's error it was raised from tells it apart.
    assert raised(lambda: httpx.get(url, timeout=5)).startswith(SECURE)


def test_a_proxy_that_does_not_pass_the_request_on_is_named(httpserver):
    # A plain web server as the proxy: it answers CONNECT with an error.
    proxy = f"http://127.0.0.1:{httpserver.port}"
    target = "https://shop.example.com/"
    assert raised(lambda: requests.get(target, proxies={"https": proxy}, timeout=5)).startswith(PROXY)
    assert raised(lambda: httpx.get(target, proxy=proxy, timeout=5)).startswith(PROXY)
    # No proxy listening at all.
    down = f"http://127.0.0.1:{closed_port()}"
    assert raised(lambda: requests.get(target, proxies={"https": down}, timeout=5)).startswith(PROXY)


def test_an_address_redirecting_for_ever_is_named(httpserver):
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    assert raised(lambda: requests.get(httpserver.url_for("/loop"), timeout=5)).startswith(REDIRECTS)


def test_nobody_listening_is_no_connection():
    url = f"http://127.0.0.1:{closed_port()}/"
    assert raised(lambda: requests.get(url, timeout=5)).startswith(NO_CONNECTION)
    assert raised(lambda: httpx.get(url, timeout=5)).startswith(NO_CONNECTION)


def test_a_cycle_of_causes_ends():
    first, second = ValueError("a"), KeyError("b")
    first.__context__, second.__context__ = second, first
    assert str(unreachable_reason(first)).startswith(NO_CONNECTION)
