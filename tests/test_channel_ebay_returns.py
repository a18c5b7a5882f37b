"""eBay returns (Post-Order API v2 return search) merged into the orders they name, against the stand-in of
tests/test_channel_ebay.py: the documented returns (one open, one closed by the buyer), pagination, an order named
but unknown to getOrder, a token without the Post-Order scope (403), a later pull keeping the returns, and a return
that is cancelled or refunded after it was read."""

import copy
import json
from datetime import UTC, datetime

import pytest

from tests.test_channel_ebay import (
    EbayStandIn,
    adapter,
    fixture,
    generated_orders,
    json_response,
    pull_all,
    stand_in_urls,  # noqa: F401 - a fixture
)

#: After the documented orders' last change: a pass from here lists no order, only the returns bring them.
LATER = datetime(2026, 11, 20, tzinfo=UTC)


def returned(order):
    return {line.sku: line.returned_quantity for line in order.lines}


def open_searches(stand_in):
    """The searches for open returns (the default), not those for the closed ones."""
    return [request for request in stand_in.returns_requests if "return_state" not in request]


def return_member(order_id, item_id, quantity, created, return_id):
    member = copy.deepcopy(fixture("return_search.json")["members"][0])
    member.update(returnId=return_id, orderId=order_id)
    member["creationInfo"]["item"].update(itemId=item_id, returnQuantity=quantity)
    member["creationInfo"]["creationDate"]["value"] = created
    return member


def test_the_documented_return_is_merged_into_an_order_fetched_again(httpserver, stand_in_urls):  # noqa: F811
    stand_in = EbayStandIn(httpserver, fixture("get_orders.json")["orders"], fixture("return_search.json")["members"])

    orders, cursor, _pages = pull_all(adapter(), since=LATER)

    assert [order.external_id for order in orders] == ["09-11111-22222"]
    assert stand_in.get_order_requests == ["09-11111-22222"]
    # The return names the listing (legacyItemId 110551234567), the line with SKU TEAPOT-CAST-1L.
    assert returned(orders[0]) == {"TEAPOT-CAST-1L": 1, "TEA-SENCHA-100": 0}
    assert orders[0].returned_at == datetime(2026, 11, 10, 15, 4, 5, tzinfo=UTC)
    # The search was asked with the Post-Order token header and a creation date range.
    request = stand_in.returns_requests[0]
    assert request["offset"] == "1" and request["creation_date_range_from"] < request["creation_date_range_to"]
    assert json.loads(cursor)["kept"]["09-11111-22222"]["by_id"]["5000123456"][2] == 1


def test_an_order_of_the_pass_gets_its_returns_without_fetching_it_again(httpserver, stand_in_urls):  # noqa: F811
    stand_in = EbayStandIn(httpserver, fixture("get_orders.json")["orders"], fixture("return_search.json")["members"])

    orders, _cursor, _pages = pull_all(adapter(), since=datetime(2026, 11, 1, tzinfo=UTC))

    assert stand_in.get_order_requests == []
    by_id = {order.external_id: order for order in orders}
    assert len(orders) == 2
    assert returned(by_id["09-11111-22222"])["TEAPOT-CAST-1L"] == 1


def test_returns_over_several_pages(httpserver, stand_in_urls, realdata):  # noqa: F811
    orders = generated_orders(realdata, 250)
    members = [
        return_member(order["orderId"], order["lineItems"][0]["sku"], 1, "2026-11-15T10:00:00.000Z", f"50{number:08d}")
        for number, order in enumerate(orders)
    ]
    # The generated lines have no legacyItemId: a return naming the SKU still finds its line.
    stand_in = EbayStandIn(httpserver, orders, members)

    pulled, _cursor, _pages = pull_all(adapter(), since=LATER)

    assert [request["offset"] for request in open_searches(stand_in)] == ["1", "2"]
    assert len(pulled) == 250 == len(set(stand_in.get_order_requests))
    assert all(sum(returned(order).values()) == 1 for order in pulled)


def test_an_order_named_but_unknown_is_skipped(httpserver, stand_in_urls):  # noqa: F811
    members = [
        *fixture("return_search.json")["members"],
        return_member("99-99999-99999", "110559999999", 1, "2026-11-12T10:00:00.000Z", "5000999999"),
    ]
    stand_in = EbayStandIn(httpserver, fixture("get_orders.json")["orders"], members)

    orders, _cursor, _pages = pull_all(adapter(), since=LATER)

    assert sorted(stand_in.get_order_requests) == ["09-11111-22222", "99-99999-99999"]
    assert [order.external_id for order in orders] == ["09-11111-22222"]


def test_a_token_without_the_post_order_scope_brings_orders_without_returns(httpserver, stand_in_urls):  # noqa: F811
    stand_in = EbayStandIn(httpserver, fixture("get_orders.json")["orders"], fixture("return_search.json")["members"])
    stand_in.next_answers["returns"].append(json_response(fixture("insufficient_scope.json"), status=403))
    the_adapter = adapter()

    orders, cursor, _pages = pull_all(the_adapter, since=datetime(2026, 11, 1, tzinfo=UTC))

    assert len(orders) == 2
    assert all(line.returned_quantity == 0 for order in orders for line in order.lines)
    assert "returns" not in json.loads(cursor) and "kept" not in json.loads(cursor)
    # The same adapter does not ask again within its run.
    pull_all(the_adapter, cursor=cursor)
    assert len(stand_in.returns_requests) == 1


def test_a_later_pull_keeps_the_returns_and_reads_each_return_once(httpserver, stand_in_urls):  # noqa: F811
    stand_in = EbayStandIn(httpserver, fixture("get_orders.json")["orders"], fixture("return_search.json")["members"])
    _orders, cursor, _pages = pull_all(adapter(), since=LATER)

    # The order changes on eBay later (a note, a shipment): the next pull lists it and it keeps its return.
    stand_in.orders[0]["lastModifiedDate"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    orders, cursor, _pages = pull_all(adapter(), cursor=cursor)

    assert [order.external_id for order in orders] == ["09-11111-22222"]
    assert returned(orders[0])["TEAPOT-CAST-1L"] == 1
    assert orders[0].returned_at == datetime(2026, 11, 10, 15, 4, 5, tzinfo=UTC)
    # The second search starts where the first ended: the return is not read (nor counted) twice.
    first, second = open_searches(stand_in)
    assert second["creation_date_range_from"] == first["creation_date_range_to"]
    assert len(json.loads(cursor)["kept"]["09-11111-22222"]["by_id"]) == 1


def test_a_throttled_return_search_waits_for_the_next_pass(httpserver, stand_in_urls):  # noqa: F811
    stand_in = EbayStandIn(httpserver, fixture("get_orders.json")["orders"], fixture("return_search.json")["members"])
    stand_in.next_answers["returns"].append(json_response(fixture("too_many_requests.json"), 429, {"Retry-After": "0"}))

    orders, cursor, _pages = pull_all(adapter(), since=LATER)

    assert orders == [] and "kept" not in json.loads(cursor)
    orders, cursor, _pages = pull_all(adapter(), cursor=cursor)

    assert [order.external_id for order in orders] == ["09-11111-22222"]
    assert returned(orders[0])["TEAPOT-CAST-1L"] == 1


def test_a_return_closed_without_a_refund_does_not_count(httpserver, stand_in_urls):  # noqa: F811
    # The fixture's second return (order 27-33333-44444) was closed by the buyer: no refund, nothing came back.
    stand_in = EbayStandIn(httpserver, fixture("get_orders.json")["orders"], fixture("return_search.json")["members"])

    orders, cursor, _pages = pull_all(adapter(), since=datetime(2026, 11, 1, tzinfo=UTC))

    by_id = {order.external_id: order for order in orders}
    assert returned(by_id["27-33333-44444"]) == {"INFUSER-STEEL": 0}
    assert by_id["27-33333-44444"].returned_at is None
    assert "27-33333-44444" not in json.loads(cursor)["kept"]
    # Both searches were made: the open returns (eBay's default) and the closed ones.
    assert [request.get("return_state") for request in stand_in.returns_requests] == [None, "CLOSED"]


def test_a_return_cancelled_after_it_was_read_stops_counting(httpserver, stand_in_urls):  # noqa: F811
    stand_in = EbayStandIn(httpserver, fixture("get_orders.json")["orders"], fixture("return_search.json")["members"])
    _orders, cursor, _pages = pull_all(adapter(), since=LATER)
    assert "5000123456" in json.loads(cursor)["kept"]["09-11111-22222"]["by_id"]

    # The buyer cancels the return request: eBay closes it, without a refund.
    stand_in.returns[0].update(state="CLOSED", status="CLOSED")
    orders, cursor, _pages = pull_all(adapter(), cursor=cursor)

    # The search for closed returns goes back to the oldest return kept, created before the last pass.
    closed = [request for request in stand_in.returns_requests if request.get("return_state") == "CLOSED"][-1]
    assert closed["creation_date_range_from"] == "2026-11-10T15:04:05.000Z"
    # The order is fetched again and recorded without the return.
    assert stand_in.get_order_requests == ["09-11111-22222", "09-11111-22222"]
    assert [order.external_id for order in orders] == ["09-11111-22222"]
    assert returned(orders[0]) == {"TEAPOT-CAST-1L": 0, "TEA-SENCHA-100": 0}
    assert orders[0].returned_at is None
    assert json.loads(cursor)["kept"]["09-11111-22222"]["by_id"] == {}


@pytest.mark.parametrize(("state", "refund", "counted"), [("CLOSED", 12.0, 1), ("ITEM_KEPT", None, 0)])
def test_a_refunded_closed_return_counts_and_a_kept_item_does_not(
    httpserver,
    stand_in_urls,  # noqa: F811
    state,
    refund,
    counted,
):
    member = copy.deepcopy(fixture("return_search.json")["members"][0])
    member.update(state=state, status=state)
    if refund:
        member["sellerTotalRefund"]["actualRefundAmount"] = {"value": refund, "currency": "USD"}
    EbayStandIn(httpserver, fixture("get_orders.json")["orders"], [member])

    orders, _cursor, _pages = pull_all(adapter(), since=datetime(2026, 11, 1, tzinfo=UTC))

    by_id = {order.external_id: order for order in orders}
    assert returned(by_id["09-11111-22222"])["TEAPOT-CAST-1L"] == counted
