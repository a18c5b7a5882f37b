"""Amazon's merchant-fulfilled returns and seller-feedback reports through the Reports API stand-in of
tests/test_channel_amazon.py (the FBA returns report: tests/test_channel_amazon_fba_returns.py).

The report documents (tests/fixtures/channels/amazon/*_report.tsv) are written in Amazon's column layouts:
the merchant-fulfilled flat-file returns report (Order ID, ..., ASIN, Merchant SKU, ..., Return quantity, Return
Reason, ...) and the
seller-feedback report (Date, Rating, Comments, Your Response, Order ID, Rater Email; dates day first in
Europe). A report goes IN_QUEUE -> IN_PROGRESS -> DONE, or ends CANCELLED (no data) or FATAL.
"""

import copy
import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.test_channel_amazon import (
    FIXTURES,
    AmazonStandIn,
    adapter,
    amazon_account,  # noqa: F401 - a fixture
    fixture,
    json_response,
    stand_in_urls,  # noqa: F401 - a fixture
)
from wagtail_customers.channels import amazon_reports
from wagtail_customers.channels.amazon_reports import FBA_RETURNS, FEEDBACK, RETURNS
from wagtail_customers.channels.base import ChannelError
from wagtail_customers.local_time import date_only_day
from wagtail_customers.models import Feedback, OrderLine
from wagtail_customers.services.ingestion import record_orders

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
RETURNS_DOCUMENT = (FIXTURES / "returns_report.tsv").read_bytes()
RETURNS_KIND, FEEDBACK_KIND = "returns", "feedback"
FEEDBACK_DOCUMENT = (FIXTURES / "seller_feedback_report.tsv").read_bytes()


@pytest.fixture(autouse=True)
def no_waiting_between_polls(monkeypatch):
    # The number of polls is kept; only the pause between them (10 s) is not waited in tests.
    monkeypatch.setattr(amazon_reports, "REPORT_POLL_SECONDS", 0)


def stand_in_with_orders(httpserver):
    """The documented orders (in the pass) and an older one (not in it) that the reports name."""
    documented = fixture("get_orders.json")["payload"]["Orders"]
    items = fixture("get_order_items.json")["payload"]["OrderItems"]
    older = copy.deepcopy(documented[0])
    older.update(
        AmazonOrderId="303-1234567-0000003",
        PurchaseDate="2026-10-10T10:00:00Z",
        LastUpdateDate="2026-10-12T10:00:00Z",
    )
    return AmazonStandIn(
        httpserver,
        [*documented, older],
        {"303-1234567-0000001": items, "303-1234567-0000003": [copy.deepcopy(items[1])]},
    )


def by_id(orders):
    found = {order.external_id: order for order in orders}
    assert len(found) == len(orders), "an order handed over twice in one page"
    return found


def returned(order):
    return {line.sku: line.returned_quantity for line in order.lines}


def test_returns_and_feedback_are_merged_into_the_orders_they_name(httpserver, stand_in_urls, amazon_account):  # noqa: F811
    stand_in = stand_in_with_orders(httpserver)
    stand_in.report_plans[RETURNS] = (["IN_QUEUE", "IN_PROGRESS", "DONE"], RETURNS_DOCUMENT, None)
    stand_in.report_plans[FEEDBACK] = (["DONE"], FEEDBACK_DOCUMENT, "GZIP")

    page = adapter().fetch_orders(since=SINCE)

    assert page.done is True
    requested = {body["reportType"]: body for body in stand_in.report_requests}
    assert set(requested) == {RETURNS, FEEDBACK, FBA_RETURNS}  # no FBA returns here: cancelled, no data
    assert requested[RETURNS]["marketplaceIds"] == ["A1PA6795UKMFR9"]
    assert requested[RETURNS]["dataStartTime"].startswith("2026-11-01T00:00:00")
    orders = by_id(page.orders)
    # The two orders of the pass, and the older one the reports name, fetched again (getOrder); the order
    # Amazon does not know (404) is left out.
    assert set(orders) == {"303-1234567-0000001", "303-1234567-0000002", "303-1234567-0000003"}
    shipped = orders["303-1234567-0000001"]
    assert returned(shipped) == {"MUG-BLUE-350": 2, "COASTER-SET-4": 0}  # two rows of one each
    assert shipped.returned_at == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert (shipped.feedback.rating, shipped.feedback.comment) == (2, "Tasse kam mit gesprungenem Henkel an.")
    # 22/11/26: day first in Germany; a date without a time is kept at noon UTC (local_time.DATE_ONLY_TIME).
    assert shipped.feedback.left_at == datetime(2026, 11, 22, 12, tzinfo=UTC)
    older = orders["303-1234567-0000003"]
    assert returned(older) == {"COASTER-SET-4": 1}  # the row names only the ASIN
    assert older.feedback.rating == 5
    assert orders["303-1234567-0000002"].feedback is None  # a rating of 7 is not Amazon's: skipped
    # The reports are done: the next pass asks from where these ended, and the rows are kept per order.
    state = json.loads(page.cursor)
    assert state["reports"][RETURNS_KIND] == {"since": requested[RETURNS]["dataEndTime"]}
    assert set(state["kept"]) == {"303-1234567-0000001", "303-1234567-0000003", "303-9999999-0000009"}
    assert "Rater Email" not in page.cursor and "@marketplace" not in page.cursor

    record_orders(amazon_account, page.orders)
    line = OrderLine.objects.get(order__external_id="303-1234567-0000001", sku="MUG-BLUE-350")
    assert line.returned_quantity == 2
    assert Feedback.objects.get(order__external_id="303-1234567-0000003").rating == 5
    assert Feedback.objects.count() == 2


def test_a_report_still_in_progress_is_looked_at_again_next_pass(httpserver, stand_in_urls):  # noqa: F811
    stand_in = stand_in_with_orders(httpserver)
    stand_in.report_plans[RETURNS] = (["IN_PROGRESS"], RETURNS_DOCUMENT, None)
    the_adapter = adapter()

    first = the_adapter.fetch_orders(since=SINCE)

    assert first.done is True
    assert all(line.returned_quantity == 0 for order in first.orders for line in order.lines)
    pending = json.loads(first.cursor)["reports"][RETURNS_KIND]
    assert pending["id"] and pending["since"].startswith("2026-11-01")
    asked = len(stand_in.report_requests)

    # Amazon finishes it; the next pass asks for no new returns report, it reads the pending one.
    stand_in.reports[pending["id"]]["statuses"] = ["DONE"]
    second = the_adapter.fetch_orders(cursor=first.cursor)

    assert [body["reportType"] for body in stand_in.report_requests[asked:]] == [FEEDBACK, FBA_RETURNS]
    assert returned(by_id(second.orders)["303-1234567-0000001"])["MUG-BLUE-350"] == 2
    assert "id" not in json.loads(second.cursor)["reports"][RETURNS_KIND]


def test_a_fatal_report_is_asked_for_again_and_a_cancelled_one_means_no_data(httpserver, stand_in_urls):  # noqa: F811
    stand_in = stand_in_with_orders(httpserver)
    stand_in.report_plans[RETURNS] = (["IN_PROGRESS", "FATAL"], b"", None)
    stand_in.report_plans[FEEDBACK] = (["IN_QUEUE", "CANCELLED"], b"", None)
    the_adapter = adapter()

    first = the_adapter.fetch_orders(since=SINCE)

    state = json.loads(first.cursor)["reports"]
    # FATAL: nothing read (not even its error document), the same period is asked for next pass.
    assert state[RETURNS_KIND] == {"since": "2026-11-01T00:00:00Z"}
    # CANCELLED: Amazon had nothing for the period; the next report starts where this one ended.
    assert state[FEEDBACK_KIND]["since"] > "2026-11-01T00:00:00Z" and "id" not in state[FEEDBACK_KIND]
    assert stand_in.document_fetches == []
    assert all(order.feedback is None for order in first.orders)

    stand_in.report_plans[RETURNS] = (["DONE"], RETURNS_DOCUMENT, None)
    second = the_adapter.fetch_orders(cursor=first.cursor)

    again = [body for body in stand_in.report_requests if body["reportType"] == RETURNS]
    assert [body["dataStartTime"][:19] for body in again] == ["2026-11-01T00:00:00"] * 2
    assert returned(by_id(second.orders)["303-1234567-0000003"]) == {"COASTER-SET-4": 1}


def returns_document_with(*changed_rows):
    """The fixture's returns report with more rows: its first row with the given columns changed."""
    lines = RETURNS_DOCUMENT.decode().splitlines()
    header = lines[0].split("\t")
    first = dict(zip(header, lines[1].split("\t"), strict=True))
    more = ["\t".join({**first, **changes}[name] for name in header) for changes in changed_rows]
    return ("\n".join([*lines, *more]) + "\n").encode()


def test_rejected_and_closed_return_requests_are_not_returns(httpserver, stand_in_urls, amazon_account, caplog):  # noqa: F811
    stand_in = stand_in_with_orders(httpserver)
    coaster = {"ASIN": "B0EXAMPLE02", "Merchant SKU": "COASTER-SET-4"}
    document = returns_document_with(
        {"Return request status": "Rejected", "Return quantity": "3"},
        {"Return request status": "Closed", "Refunded Amount": "", **coaster},
        {"Return request status": "closed", "Refunded Amount": "0.00", **coaster},
        # Closed once the item came back (or once refunded): a return.
        {"Return request status": "Closed", "Return delivery date": "2026-11-25T09:00:00+00:00", **coaster},
        {"Order ID": "303-1234567-0000002", "Return request status": "Return request rejected"},
    )
    stand_in.report_plans[RETURNS] = (["DONE"], document, None)

    with caplog.at_level("INFO", logger="wagtail_customers.channels.amazon_reports"):
        page = adapter().fetch_orders(since=SINCE)

    orders = by_id(page.orders)
    shipped = orders["303-1234567-0000001"]
    assert returned(shipped) == {"MUG-BLUE-350": 2, "COASTER-SET-4": 1}
    assert shipped.returned_at == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert not any(line.returned_quantity for line in orders["303-1234567-0000002"].lines)
    kept = json.loads(page.cursor)["kept"]
    # What the report says came back (the lines' quantities cap what is recorded anyway).
    assert kept["303-1234567-0000001"]["returns"] == {"MUG-BLUE-350": 2, "COASTER-SET-4": 1}
    assert "303-1234567-0000002" not in kept
    assert "4 rejected or closed request(s)" in caplog.text
    record_orders(amazon_account, page.orders)
    line = OrderLine.objects.get(order__external_id="303-1234567-0000001", sku="COASTER-SET-4")
    assert line.returned_quantity == 1


def test_returns_and_feedback_stay_when_the_order_is_pulled_again(httpserver, stand_in_urls, amazon_account):  # noqa: F811
    stand_in = stand_in_with_orders(httpserver)
    stand_in.report_plans[RETURNS] = (["DONE"], RETURNS_DOCUMENT, None)
    stand_in.report_plans[FEEDBACK] = (["DONE"], FEEDBACK_DOCUMENT, "GZIP")
    the_adapter = adapter()
    first = the_adapter.fetch_orders(since=SINCE)
    record_orders(amazon_account, first.orders)

    # The order changes on Amazon later; the reports of the next pass have nothing new (cancelled).
    stand_in.report_plans.clear()
    changed = next(order for order in stand_in.orders if order["AmazonOrderId"] == "303-1234567-0000001")
    changed["LastUpdateDate"] = "2026-12-01T12:00:00Z"
    stand_in.upper_bound = "2026-12-02T00:00:00Z"
    second = the_adapter.fetch_orders(cursor=first.cursor)

    again = by_id(second.orders)
    assert set(again) == {"303-1234567-0000001"}
    assert returned(again["303-1234567-0000001"])["MUG-BLUE-350"] == 2
    assert again["303-1234567-0000001"].feedback.rating == 2
    result = record_orders(amazon_account, second.orders)
    assert result.orders_unchanged == 1
    assert OrderLine.objects.get(order__external_id="303-1234567-0000001", sku="MUG-BLUE-350").returned_quantity == 2
    assert Feedback.objects.filter(order__external_id="303-1234567-0000001").exists()


def test_without_the_reports_role_orders_come_without_returns(httpserver, stand_in_urls):  # noqa: F811
    stand_in = stand_in_with_orders(httpserver)
    refused = json_response(fixture("unauthorized.json"), status=403)
    stand_in.next_answers["reports"] += [refused, refused]
    the_adapter = adapter()

    page = the_adapter.fetch_orders(since=SINCE)

    assert page.done is True
    assert {order.external_id for order in page.orders} == {"303-1234567-0000001", "303-1234567-0000002"}
    assert the_adapter.reports_available is False
    assert "reports" not in json.loads(page.cursor)


def test_an_expired_document_url_is_a_retryable_error(httpserver, stand_in_urls):  # noqa: F811
    stand_in = stand_in_with_orders(httpserver)
    stand_in.report_plans[RETURNS] = (["DONE"], RETURNS_DOCUMENT, None)
    # S3 answers an expired pre-signed URL with 403 and an XML error: never read as a report.
    stand_in.next_answers["documents"].append(json_response({"Error": "Request has expired"}, status=403))

    with pytest.raises(ChannelError) as raised:
        adapter().fetch_orders(since=SINCE)

    assert raised.value.retryable and "HTTP 403" in raised.value.message


def test_a_throttled_report_request_waits_for_the_next_pass(httpserver, stand_in_urls):  # noqa: F811
    stand_in = stand_in_with_orders(httpserver)
    stand_in.report_plans[FEEDBACK] = (["DONE"], FEEDBACK_DOCUMENT, "GZIP")
    throttled = json_response(fixture("quota_exceeded.json"), status=429, headers={"x-amzn-RateLimit-Limit": "0.0167"})
    stand_in.next_answers["reports"].append(throttled)  # the first createReport (returns)
    the_adapter = adapter()

    page = the_adapter.fetch_orders(since=SINCE)

    assert page.done is True
    state = json.loads(page.cursor)["reports"]
    assert state[RETURNS_KIND] == {"since": "2026-11-01T00:00:00Z"}  # not asked yet: next pass
    assert by_id(page.orders)["303-1234567-0000001"].feedback.rating == 2  # the feedback report came


def test_feedback_dates_are_read_the_marketplaces_way():
    header = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n"
    rows = amazon_reports.rows_of(header + "3/11/26\t4\tOk\t\t111-1\tx\n")
    assert amazon_reports.read_feedback(rows, "US")["111-1"][2] == datetime(2026, 3, 11, 12, tzinfo=UTC)
    assert amazon_reports.read_feedback(rows, "DE")["111-1"][2] == datetime(2026, 11, 3, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "zone", ["Pacific/Pago_Pago", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Asia/Magadan"]
)
def test_a_feedback_date_falls_on_its_day_from_utc_minus_12_to_utc_plus_11(zone):
    """Read at midnight UTC, 25 December was 24 December everywhere west of Greenwich."""
    header = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n"
    rows = amazon_reports.rows_of(header + "12/25/26\t1\tBroken\t\t111-1\tx\n")
    left_at = amazon_reports.read_feedback(rows, "US")["111-1"][2]
    assert left_at.astimezone(ZoneInfo(zone)).date() == date(2026, 12, 25)
    assert date_only_day(left_at) == date(2026, 12, 25)


@pytest.mark.parametrize("written", ["12/25/26", "2026-12-25", " 2026-12-25 "])
def test_a_date_without_a_time_is_its_day_however_it_is_written(written):
    assert amazon_reports.report_date(written) == datetime(2026, 12, 25, 12, tzinfo=UTC)
    # A date with a time of day is that moment; one that is no date is none.
    assert amazon_reports.report_date("0000-00-00") is None
    assert amazon_reports.report_date("2026-02-30") is None
    assert amazon_reports.report_date("2026-12-25T00:30:00Z") == datetime(2026, 12, 25, 0, 30, tzinfo=UTC)


def test_a_feedback_date_kept_at_midnight_utc_before_the_upgrade_is_its_days_noon():
    """Rows kept in the cursor by the previous release (up to KEEP_DAYS) carry the day at midnight UTC: an order
    pulled again must not move its feedback back there (migration 0037 moved the stored ones to noon)."""
    from tests.factories import order_data

    slot = {"feedback": [1, "Broken", "2026-12-25T00:00:00Z"], "seen": "2026-12-26T00:00:00Z"}
    order = amazon_reports.apply_kept(order_data("114-1"), slot, {})
    assert order.feedback.left_at == datetime(2026, 12, 25, 12, tzinfo=UTC)
    slot["feedback"][2] = "2026-12-25T12:00:00Z"  # kept by this release
    assert amazon_reports.apply_kept(order_data("114-1"), slot, {}).feedback.left_at == datetime(
        2026, 12, 25, 12, tzinfo=UTC
    )


def test_an_order_without_kept_returns_or_feedback_keeps_the_stored_ones():
    # Kept KEEP_DAYS only: an order changed on Amazon later (a late refund) must not lose what was read of it.
    from tests.factories import order_data
    from wagtail_customers.channels.amazon_reports import apply_kept

    order = apply_kept(order_data("114-1"), None, {})
    assert (order.keep_stored_returns, order.keep_stored_feedback) == (True, True)
    order = apply_kept(order_data("114-1"), {"returns": {"SKU0": 1}, "seen": "2026-12-01T00:00:00Z"}, {})
    assert (order.keep_stored_returns, order.keep_stored_feedback) == (False, True)
    assert order.lines[0].returned_quantity == 1
    order = apply_kept(order_data("114-1"), {"feedback": [2, "Late", None], "seen": "2026-12-01T00:00:00Z"}, {})
    assert (order.keep_stored_returns, order.keep_stored_feedback) == (True, False)
    assert order.feedback.rating == 2
