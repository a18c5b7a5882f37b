"""eBay feedback (Commerce Feedback API v1, getFeedback) joined to orders by their lines, against the stand-in of
tests/test_channel_ebay.py: feedback counted as negative on the customer through the sync engine, pagination,
feedback read twice counted once, a line of no known order, a malformed answer, a 429 with Retry-After, and a
token without the Feedback scope (403, refused at the token endpoint) or a 404.

Orders and feedback are dated a few days before the run: the adapter remembers the lines of recent orders only.
"""

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug import Response

from tests.test_channel_ebay import (
    CREDENTIALS,
    FEEDBACK_SCOPE,
    EbayStandIn,
    adapter,
    fixture,
    generated_orders,
    json_response,
    pull_all,
    stand_in_urls,  # noqa: F401 - a fixture
)
from wagtail_customers.channels.base import MalformedResponse
from wagtail_customers.models import (
    ChannelConnection,
    Customer,
    Feedback,
    Order,
    SellerAccount,
    SyncOutcome,
)
from wagtail_customers.models.connections import ORDERS_STREAM
from wagtail_customers.services import channel_sync
from wagtail_customers.services.statistics import rebuild_statistics


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def recent(orders, days=10):
    """The orders, placed and last changed ``days`` days ago (one minute apart)."""
    orders = copy.deepcopy(orders)
    start = datetime.now(UTC) - timedelta(days=days)
    for number, order in enumerate(orders):
        order["creationDate"] = stamp(start + timedelta(minutes=number))
        order["lastModifiedDate"] = stamp(start + timedelta(minutes=number, hours=1))
    return orders


def documented_feedback(days=2):
    """get_feedback.json's entries, left ``days`` days ago."""
    entries = copy.deepcopy(fixture("get_feedback.json")["feedbackEntries"])
    for number, entry in enumerate(entries):
        entry["feedbackEnteredDate"] = stamp(datetime.now(UTC) - timedelta(days=days, minutes=number))
    return entries


def entry_for(line_id, comment_type, feedback_id, days=2):
    entry = copy.deepcopy(fixture("get_feedback.json")["feedbackEntries"][0])
    entry.update(feedbackId=feedback_id, commentType=comment_type)
    entry["feedbackEnteredDate"] = stamp(datetime.now(UTC) - timedelta(days=days))
    entry["orderLineItemSummary"]["orderLineItemId"] = line_id
    return entry


def connect():
    account = SellerAccount.objects.create(name="eBay US", channel="ebay", currency="USD")
    connection = ChannelConnection(account=account)
    connection.set_credentials(CREDENTIALS)
    connection.save()
    channel_sync.start_backfill(connection, (datetime.now(UTC) - timedelta(days=30)).date())
    return connection


def cursor_of(connection):
    return json.loads(ChannelConnection.objects.get(pk=connection.pk).cursors[ORDERS_STREAM])


def feedback_of(orders):
    return {order.external_id: order.feedback and (order.feedback.rating, order.feedback.comment) for order in orders}


@pytest.mark.django_db
def test_feedback_is_pulled_and_counted_as_negative_on_the_customer(httpserver, stand_in_urls):  # noqa: F811
    stand_in = EbayStandIn(httpserver, recent(fixture("get_orders.json")["orders"]), feedback=documented_feedback())
    connection = connect()

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    negative = Order.objects.get(external_id="09-11111-22222")
    assert (negative.feedback.rating, negative.feedback.comment) == (
        1,
        "Teapot arrived with a cracked lid, seller slow to answer.",
    )
    assert Order.objects.get(external_id="27-33333-44444").feedback.rating == 5
    assert negative.customer.negative_feedbacks == 1
    assert Customer.objects.get(orders__external_id="27-33333-44444").negative_feedbacks == 0
    assert rebuild_statistics() == 0
    # Asked with the seller's user id from getOrders, with a token of the Feedback scope.
    assert stand_in.feedback_requests == [
        {"user_id": "teapot_trading", "feedback_type": "FEEDBACK_RECEIVED", "limit": "100", "offset": "0"}
    ]
    assert [request["scope"] for request in stand_in.feedback_token_requests] == [FEEDBACK_SCOPE]
    assert cursor_of(connection)["lines"]["10051234567801"][0] == "09-11111-22222"


def test_feedback_over_several_pages(httpserver, stand_in_urls, realdata):  # noqa: F811
    orders = recent(generated_orders(realdata, 250))
    kinds = ("POSITIVE", "NEUTRAL", "NEGATIVE")
    entries = [
        entry_for(order["lineItems"][0]["lineItemId"], kinds[number % 3], f"14{number:08d}")
        for number, order in enumerate(orders)
    ]
    stand_in = EbayStandIn(httpserver, orders, feedback=entries)

    pulled, cursor, _pages = pull_all(adapter(), since=datetime.now(UTC) - timedelta(days=20))

    assert [request["offset"] for request in stand_in.feedback_requests] == ["0", "100", "200"]
    # The feedback is read at the end of the pass: the orders of the first page (200) were handed over before,
    # so they are fetched again (getOrder) and handed over with it; the last page's 50 get it as they are.
    assert len(stand_in.get_order_requests) == 200 == len(set(stand_in.get_order_requests))
    last_handed_over = {order.external_id: order for order in pulled}
    assert len(last_handed_over) == 250
    ratings = [order.feedback.rating for order in last_handed_over.values()]
    assert sorted(ratings) == sorted([5, 3, 1][number % 3] for number in range(250))
    assert json.loads(cursor)["feedback"]["skipped"] == 0


@pytest.mark.django_db
def test_feedback_read_twice_counts_once_and_a_later_pull_keeps_it(httpserver, stand_in_urls):  # noqa: F811
    stand_in = EbayStandIn(httpserver, recent(fixture("get_orders.json")["orders"]), feedback=documented_feedback())
    connection = connect()
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.DONE

    # The order changes on eBay later; the next pass lists it again and reads the same feedback again.
    stand_in.orders[0]["lastModifiedDate"] = stamp(datetime.now(UTC))
    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE, result.error
    assert len(stand_in.feedback_requests) == 2
    assert Feedback.objects.count() == 2
    assert Order.objects.get(external_id="09-11111-22222").feedback.rating == 1
    assert Customer.objects.get(orders__external_id="09-11111-22222").negative_feedbacks == 1
    assert len(cursor_of(connection)["kept"]["09-11111-22222"]["feedback"]) == 1
    assert rebuild_statistics() == 0


def test_feedback_found_in_a_later_pass_fetches_its_order_again(httpserver, stand_in_urls):  # noqa: F811
    stand_in = EbayStandIn(httpserver, recent(fixture("get_orders.json")["orders"]))
    _orders, cursor, _pages = pull_all(adapter(), since=datetime.now(UTC) - timedelta(days=20))

    # The buyer leaves feedback after the orders were pulled; the next pass lists no changed order.
    stand_in.feedback = [entry_for("10051234567801", "NEUTRAL", "1498765432099", days=0)]
    orders, cursor, _pages = pull_all(adapter(), cursor=cursor)

    assert stand_in.get_order_requests == ["09-11111-22222"]
    assert feedback_of(orders) == {"09-11111-22222": (3, "Teapot arrived with a cracked lid, seller slow to answer.")}


def test_feedback_on_a_line_of_no_known_order_is_skipped_and_counted(httpserver, stand_in_urls):  # noqa: F811
    entries = [*documented_feedback(), entry_for("10099999999901", "NEGATIVE", "1498765432077")]
    stand_in = EbayStandIn(httpserver, recent(fixture("get_orders.json")["orders"]), feedback=entries)

    orders, cursor, _pages = pull_all(adapter(), since=datetime.now(UTC) - timedelta(days=20))

    assert stand_in.get_order_requests == []
    assert feedback_of(orders) == {
        "09-11111-22222": (1, "Teapot arrived with a cracked lid, seller slow to answer."),
        "27-33333-44444": (5, "Sturdy infuser, quick shipping."),
    }
    assert json.loads(cursor)["feedback"]["skipped"] == 1


def test_the_lowest_rating_of_an_order_s_lines_stands(httpserver, stand_in_urls):  # noqa: F811
    entries = [
        entry_for("10051234567801", "POSITIVE", "1498765432001"),
        entry_for("10051234567802", "NEUTRAL", "1498765432002"),
    ]
    EbayStandIn(httpserver, recent(fixture("get_orders.json")["orders"][:1]), feedback=entries)

    orders, _cursor, _pages = pull_all(adapter(), since=datetime.now(UTC) - timedelta(days=20))

    assert orders[0].feedback.rating == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answer",
    [
        json_response({"feedbackEntries": {"feedbackId": "1"}, "pagination": {}}),
        Response("<html>maintenance</html>", status=200, content_type="text/html"),
    ],
    ids=["not-a-list", "not-json"],
)
def test_a_malformed_feedback_answer_is_a_clear_error_and_writes_nothing(httpserver, stand_in_urls, answer):  # noqa: F811
    stand_in = EbayStandIn(httpserver, recent(fixture("get_orders.json")["orders"]), feedback=documented_feedback())
    stand_in.next_answers["feedback"].append(answer)

    with pytest.raises(MalformedResponse) as error:
        adapter().fetch_orders(since=datetime.now(UTC) - timedelta(days=20))
    assert "eBay" in error.value.message

    stand_in.next_answers["feedback"].append(answer)
    connection = connect()
    result = channel_sync.sync_connection(connection.pk)
    assert result.outcome == SyncOutcome.FAILED and "eBay" in result.error
    assert Order.objects.count() == 0 and Feedback.objects.count() == 0
    assert ORDERS_STREAM not in ChannelConnection.objects.get(pk=connection.pk).cursors

    # The next run reads the same page and the feedback.
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.DONE
    assert (Order.objects.count(), Feedback.objects.count()) == (2, 2)


def test_a_throttled_feedback_read_waits_as_retry_after_says(httpserver, stand_in_urls):  # noqa: F811
    stand_in = EbayStandIn(httpserver, recent(fixture("get_orders.json")["orders"]), feedback=documented_feedback())
    stand_in.next_answers["feedback"].append(
        json_response(fixture("too_many_requests.json"), 429, {"Retry-After": "120"})
    )
    before = datetime.now(UTC)

    orders, cursor, _pages = pull_all(adapter(), since=before - timedelta(days=20))

    assert len(orders) == 2 and all(order.feedback is None for order in orders)
    wait_until = datetime.fromisoformat(json.loads(cursor)["feedback"]["wait_until"])
    assert before + timedelta(seconds=119) < wait_until < datetime.now(UTC) + timedelta(seconds=121)
    assert "kept" not in json.loads(cursor)
    # Before that time a pass does not ask.
    pull_all(adapter(), cursor=cursor)
    assert len(stand_in.feedback_requests) == 1

    # Once it has passed, the next pass reads the feedback and fetches the orders it names again.
    state = json.loads(cursor)
    state["feedback"]["wait_until"] = stamp(datetime.now(UTC) - timedelta(seconds=1))
    orders, cursor, _pages = pull_all(adapter(), cursor=json.dumps(state))

    assert len(stand_in.feedback_requests) == 2
    assert sorted(stand_in.get_order_requests) == ["09-11111-22222", "27-33333-44444"]
    assert {key: value[0] for key, value in feedback_of(orders).items()} == {
        "09-11111-22222": 1,
        "27-33333-44444": 5,
    }


@pytest.mark.parametrize("refusal", ["403", "404", "scope-not-granted"])
def test_no_feedback_scope_or_no_feedback_api_brings_orders_without_feedback(httpserver, stand_in_urls, refusal):  # noqa: F811
    stand_in = EbayStandIn(httpserver, recent(fixture("get_orders.json")["orders"]), feedback=documented_feedback())
    if refusal == "403":
        stand_in.next_answers["feedback"].append(json_response(fixture("insufficient_scope.json"), status=403))
    elif refusal == "404":
        stand_in.next_answers["feedback"].append(
            json_response({"errors": [{"errorId": 11001, "domain": "API_FEEDBACK", "message": "Not found."}]}, 404)
        )
    else:
        stand_in.feedback_scope_granted = False
    the_adapter = adapter()

    orders, cursor, _pages = pull_all(the_adapter, since=datetime.now(UTC) - timedelta(days=20))

    assert len(orders) == 2 and all(order.feedback is None for order in orders)
    assert "feedback" not in json.loads(cursor) and "kept" not in json.loads(cursor)
    # The same adapter does not ask again within its run.
    asked = len(stand_in.feedback_requests) + len(stand_in.feedback_token_requests)
    pull_all(the_adapter, cursor=cursor)
    assert len(stand_in.feedback_requests) + len(stand_in.feedback_token_requests) == asked
