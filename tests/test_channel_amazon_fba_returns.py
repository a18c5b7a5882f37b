"""Amazon's FBA customer returns report (GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA) through the Reports API
stand-in of tests/test_channel_amazon.py: the returns of orders Amazon fulfilled (order 303-1234567-0000001 is
``AFN``), merged into the orders they name like the merchant-fulfilled returns; a row read twice counts once; a
seller without FBA (the report empty, CANCELLED or FATAL) still gets the other reports.

The document (tests/fixtures/channels/amazon/fba_returns_report.tsv) has the report's documented columns:
return-date, order-id, sku, asin, fnsku, product-name, quantity, fulfillment-center-id, detailed-disposition,
reason, status, license-plate-number, customer-comments.
"""

import json
from datetime import UTC, datetime

import pytest

from tests.test_channel_amazon import (
    FIXTURES,
    adapter,
    amazon_account,  # noqa: F401 - a fixture
    stand_in_urls,  # noqa: F401 - a fixture
)
from tests.test_channel_amazon_reports import (
    RETURNS_DOCUMENT,
    SINCE,
    by_id,
    no_waiting_between_polls,  # noqa: F401 - a fixture
    returned,
    stand_in_with_orders,
)
from wagtail_customers.channels import amazon_fba_returns, amazon_reports
from wagtail_customers.channels.amazon_fba_returns import FBA_RETURNS
from wagtail_customers.channels.amazon_reports import RETURNS
from wagtail_customers.models import OrderLine
from wagtail_customers.services.ingestion import record_orders

FBA_DOCUMENT = (FIXTURES / "fba_returns_report.tsv").read_bytes()
FBA_HEADER_ONLY = FBA_DOCUMENT.split(b"\n", 1)[0] + b"\n"


def test_fba_returns_are_merged_into_the_orders_they_name(httpserver, stand_in_urls, amazon_account):  # noqa: F811
    stand_in = stand_in_with_orders(httpserver)
    stand_in.report_plans[FBA_RETURNS] = (["IN_QUEUE", "DONE"], FBA_DOCUMENT, "GZIP")

    page = adapter().fetch_orders(since=SINCE)

    requested = {body["reportType"]: body for body in stand_in.report_requests}
    assert requested[FBA_RETURNS]["marketplaceIds"] == ["A1PA6795UKMFR9"]
    assert requested[FBA_RETURNS]["dataStartTime"].startswith("2026-11-01T00:00:00")
    orders = by_id(page.orders)
    # The pass's orders and the older one the report names (fetched again); the unknown one (404) left out.
    assert set(orders) == {"303-1234567-0000001", "303-1234567-0000002", "303-1234567-0000003"}
    fulfilled_by_amazon = orders["303-1234567-0000001"]
    assert returned(fulfilled_by_amazon) == {"MUG-BLUE-350": 2, "COASTER-SET-4": 0}  # two units, one row each
    assert fulfilled_by_amazon.returned_at == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert returned(orders["303-1234567-0000003"]) == {"COASTER-SET-4": 1}  # the row names only the ASIN
    # Kept per order by the unit's license plate number, in the reports' cursor slot.
    state = json.loads(page.cursor)
    assert set(state["kept"]["303-1234567-0000001"]["fba"]) == {"LPNEX0000001", "LPNEX0000004"}
    assert state["reports"]["fba_returns"] == {"since": requested[FBA_RETURNS]["dataEndTime"]}
    assert "Handle cracked" not in page.cursor  # the customer's comment is not kept

    record_orders(amazon_account, page.orders)
    line = OrderLine.objects.get(order__external_id="303-1234567-0000001", sku="MUG-BLUE-350")
    assert line.returned_quantity == 2


def test_an_fba_return_read_twice_counts_once(httpserver, stand_in_urls):  # noqa: F811
    stand_in = stand_in_with_orders(httpserver)
    # Amazon answers the next report with the same rows (say, a period asked for again after a FATAL report).
    stand_in.report_plans[FBA_RETURNS] = (["DONE"], FBA_DOCUMENT, None)
    the_adapter = adapter()
    first = the_adapter.fetch_orders(since=SINCE)

    changed = next(order for order in stand_in.orders if order["AmazonOrderId"] == "303-1234567-0000001")
    changed["LastUpdateDate"] = "2026-12-01T12:00:00Z"
    stand_in.upper_bound = "2026-12-02T00:00:00Z"
    second = the_adapter.fetch_orders(cursor=first.cursor)

    assert [body["reportType"] for body in stand_in.report_requests].count(FBA_RETURNS) == 2
    orders = by_id(second.orders)
    assert returned(orders["303-1234567-0000001"])["MUG-BLUE-350"] == 2
    assert returned(orders["303-1234567-0000003"]) == {"COASTER-SET-4": 1}
    assert len(json.loads(second.cursor)["kept"]["303-1234567-0000001"]["fba"]) == 2


@pytest.mark.parametrize(
    ("plan", "asked_again"),
    [
        ((["DONE"], FBA_HEADER_ONLY, None), False),  # no FBA returns in the period
        ((["CANCELLED"], b"", None), False),  # Amazon had nothing for the period
        ((["IN_PROGRESS", "FATAL"], b"", None), True),  # Amazon could not make it (a seller without FBA)
    ],
)
def test_a_seller_without_fba_still_gets_the_other_reports(httpserver, stand_in_urls, plan, asked_again):  # noqa: F811
    stand_in = stand_in_with_orders(httpserver)
    stand_in.report_plans[RETURNS] = (["DONE"], RETURNS_DOCUMENT, None)
    stand_in.report_plans[FBA_RETURNS] = plan

    page = adapter().fetch_orders(since=SINCE)

    assert page.done is True
    # The merchant-fulfilled returns come through as before.
    assert returned(by_id(page.orders)["303-1234567-0000001"])["MUG-BLUE-350"] == 2
    state = json.loads(page.cursor)
    assert all("fba" not in slot for slot in state["kept"].values())
    # FATAL: the same period is asked for next pass; otherwise the next report starts where this one ended.
    assert (state["reports"]["fba_returns"] == {"since": "2026-11-01T00:00:00Z"}) is asked_again


def test_rows_without_a_license_plate_are_kept_by_order_sku_date_and_quantity():
    header = "return-date\torder-id\tsku\tasin\tquantity\tlicense-plate-number\n"
    row = "2026-11-20T10:12:44+00:00\t303-1\tMUG\tB01\t1\t\n"
    rows = amazon_reports.rows_of(header + row + row + row.replace("\t1\t", "\t2\t"))

    found = amazon_fba_returns.read(rows, amazon_reports.report_date, amazon_reports.iso)

    assert sorted(found["303-1"].values()) == [
        ["MUG", 1, "2026-11-20T10:12:44Z"],
        ["MUG", 2, "2026-11-20T10:12:44Z"],
    ]
