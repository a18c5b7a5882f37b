"""Numbers the ledger cannot hold are refused with a clear message, and nothing of them is written.

Money columns hold 14 digits, 2 after the point (below 10**12); quantities are integer columns. An amount
too large (or not a number at all: NaN, Infinity) used to be recorded on SQLite and then broke the listing
and the customer page (``decimal.InvalidOperation``); on PostgreSQL the write itself failed. A quantity or a
date out of range ended an import with "an unexpected error (OverflowError)", naming no row.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.db.models.functions import Cast
from django.urls import reverse

from tests.channel_shopify_standin import fixture
from tests.factories import order_data
from wagtail_customers.channels.base import MalformedResponse
from wagtail_customers.channels.shopify_mapping import ShapeError, amount, order_from_webhook
from wagtail_customers.importers import FORMATS, ImportFileError, run_import
from wagtail_customers.models import Customer, ImportJob, JobState, Order, OrderLine
from wagtail_customers.services.ingestion import (
    IngestionError,
    LineData,
    PromoCodeData,
    record_order,
    record_orders,
)
from wagtail_customers.services.statistics import STORED_MONEY

from .test_import_screen import upload

pytestmark = pytest.mark.django_db

LISTING = "/admin/customers/"
HEADER = "order_id,placed_at,customer_email,quantity,unit_price,order_total"
HUGE = "99999999999999999999"


def csv(*rows, header=HEADER):
    return ("\n".join([header, *rows]) + "\n").encode()


def detail_url(customer):
    return reverse("wagtail_customers_customer:detail", args=[customer.pk])


def assert_pages_answer(client):
    """The listing and every customer's page still answer 200 (not ``InvalidOperation``)."""
    assert client.get(LISTING).status_code == 200
    for customer in Customer.objects.all():
        assert client.get(detail_url(customer)).status_code == 200


@pytest.fixture
def zoe(admin_client, account):
    """A customer already in the ledger, imported from a good file."""
    upload(admin_client, account, csv("Z0,2023-12-01,z@example.com,1,10.00,"))
    admin_client.post(reverse("wagtail_customers_imports:apply", args=[ImportJob.objects.get().pk]))
    return Customer.objects.get()


def failed_job():
    job = ImportJob.objects.latest("created_at")
    assert job.state == JobState.FAILED, job.preview
    return job


# --- Imports, through the screen a user uses -------------------------------------------------------------


@pytest.mark.parametrize(
    "row, message",
    [
        # quantity x unit price = 2e12: the line total the importer computes does not fit.
        ("Z1,2024-01-01,z@example.com,2000000000,1000,", "Row 2: quantity × unit_price (2000000000000) is too large"),
        # The audit's row: a quantity beyond any integer column.
        ("Z1,2024-01-01,z@example.com,1000000000000,1000,", "Row 2: '1000000000000' in quantity is too large"),
        (f"Z1,2024-01-01,z@example.com,{HUGE},1,", f"Row 2: '{HUGE}' in quantity is too large"),
        ("Z1,0001-01-01T00:00:00+01:00,z@example.com,1,1,", "Row 2: '0001-01-01T00:00:00+01:00' in placed_at is"),
        ("Z1,9999-12-31T23:00:00-05:00,z@example.com,1,1,", "Row 2: '9999-12-31T23:00:00-05:00' in placed_at is"),
    ],
    ids=["line-total", "quantity-1e12", "quantity-1e20", "year-1", "year-9999"],
)
def test_a_number_the_ledger_cannot_hold_fails_the_import_naming_its_row(admin_client, account, zoe, row, message):
    before = Customer.objects.values().get()
    upload(admin_client, account, csv(row))
    job = failed_job()
    assert message in job.error and "unexpected" not in job.error
    assert [error["row"] for error in job.preview["errors"]] == [2]
    html = admin_client.get(reverse("wagtail_customers_imports:job", args=[job.pk])).content.decode()
    assert "too large" in html or "between" in html
    assert list(Order.objects.values_list("external_id", flat=True)) == ["Z0"]
    assert Customer.objects.values().get() == before
    assert_pages_answer(admin_client)


def test_orders_whose_sum_does_not_fit_the_customers_amount_spent_fail_the_import(admin_client, account):
    # Each total fits an amount; the customer's amount spent, their sum, does not.
    upload(
        admin_client,
        account,
        csv("Z1,2024-01-01,z@example.com,,,999999999999", "Z2,2024-01-02,z@example.com,,,999999999999"),
    )
    job = failed_job()
    assert "Row 3: Order Z2: the customer's amount spent would be 1999999999998.00" in job.error
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert_pages_answer(admin_client)


def test_an_order_pushing_an_existing_customers_sum_past_the_limit_fails_the_import(admin_client, account, zoe):
    upload(admin_client, account, csv("Z1,2024-01-01,z@example.com,,,999999999989"))
    admin_client.post(reverse("wagtail_customers_imports:apply", args=[ImportJob.objects.latest("created_at").pk]))
    zoe.refresh_from_db()
    assert zoe.amount_spent == Decimal("999999999999.00")
    before = Customer.objects.values().get()
    upload(admin_client, account, csv("Z2,2024-01-02,z@example.com,,,1.00"))
    job = failed_job()
    assert "Row 2: Order Z2: the customer's amount spent would be 1000000000000.00" in job.error
    assert Order.objects.count() == 2 and Customer.objects.values().get() == before
    assert_pages_answer(admin_client)


def test_an_order_whose_subtotal_does_not_fit_fails_the_import_naming_its_row(admin_client, account):
    # Each line fits; their sum, the total the import works out (and the subtotal the ledger does), does not.
    upload(
        admin_client,
        account,
        csv("Z1,2024-01-01,z@example.com,1,600000000000,", "Z1,2024-01-01,,1,600000000000,"),
    )
    job = failed_job()
    assert job.error.startswith("Row 2: Order Z1: the total (1200000000000.00) is too large for an amount")
    assert job.preview["errors"] == [{"row": 2, "message": job.error.removeprefix("Row 2: ")}]
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert_pages_answer(admin_client)


def test_an_order_total_rounding_up_past_the_limit_is_refused(account):
    with pytest.raises(ImportFileError, match=r"Row 2: '999999999999.999' in order_total is too large"):
        run_import(account, csv("Z1,2024-01-01,z@example.com,,,999999999999.999"))
    assert not Order.objects.exists()


#: For each layout: (header, a good row, delimiter, quantity column, date column).
LAYOUTS = {
    "generic": ("order_id,placed_at,customer_email,sku,quantity", "1,2024-01-01,a@example.com,MUG,1", ",",
                "quantity", "placed_at"),
    "shopify": ("Name,Created at,Email,Lineitem sku,Lineitem quantity",
                "#1,2024-01-01 10:00:00 -0500,a@example.com,MUG,1", ",", "Lineitem quantity", "Created at"),
    "amazon_orders": ("amazon-order-id\tpurchase-date\torder-status\tsku\tquantity-purchased",
                      "111-1\t2024-01-01T10:00:00+00:00\tShipped\tMUG\t1", "\t", "quantity-purchased", "purchase-date"),
    "amazon_sale_report": ("Order ID,Date,Status,SKU,Qty", "405-1,04-30-22,Shipped,MUG,1", ",", "Qty", "Date"),
    "online_retail": ("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID",
                      "536365,MUG,Mug,1,12/1/2010 8:26,2.55,17850", ",", "Quantity", "InvoiceDate"),
}  # fmt: skip


def layout_file(fmt, column, value):
    header, good, delimiter, *_ = LAYOUTS[fmt]
    cells = good.split(delimiter)
    cells[header.split(delimiter).index(column)] = value
    return f"{header}\n{delimiter.join(cells)}\n".encode()


def test_every_layout_is_covered():
    assert set(LAYOUTS) == set(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_layout_files_import_as_they_are(account, fmt):
    header, good, delimiter, quantity, _date = LAYOUTS[fmt]
    assert run_import(account, layout_file(fmt, quantity, "2"), format_name=fmt).orders_created == 1


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", [HUGE, "2147483648"])
def test_a_quantity_beyond_an_integer_column_names_its_row_and_column_in_every_layout(account, fmt, value):
    quantity = LAYOUTS[fmt][3]
    with pytest.raises(ImportFileError, match=f"Row 2: '{value}' in {quantity} is too large") as error:
        run_import(account, layout_file(fmt, quantity, value), format_name=fmt)
    assert [entry["row"] for entry in error.value.errors] == [2]
    assert not Order.objects.exists() and not Customer.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "1899-12-31", "3000-01-01"])
def test_a_date_out_of_range_names_its_row_and_column_in_every_layout(account, fmt, value):
    date = LAYOUTS[fmt][4]
    message = f"Row 2: '{value}' in {date} is not a date between the years 1900 and 2999."
    with pytest.raises(ImportFileError, match=re.escape(message)) as error:
        run_import(account, layout_file(fmt, date, value), format_name=fmt)
    assert [entry["row"] for entry in error.value.errors] == [2]
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_online_retail_quantity_times_price_too_large_names_its_row(account):
    content = layout_file("online_retail", "Quantity", "2147483647").replace(b",2.55,", b",999999.00,")
    with pytest.raises(ImportFileError, match=r"Row 2: Quantity × UnitPrice \(\d+\) is too large"):
        run_import(account, content, format_name="online_retail")
    assert not Order.objects.exists()


def test_shopify_quantity_times_price_too_large_names_its_row(account):
    content = (
        b"Name,Created at,Email,Lineitem sku,Lineitem quantity,Lineitem price\n"
        b"#1,2024-01-01 10:00:00 -0500,a@example.com,MUG,2000000,999999.00\n"
    )
    with pytest.raises(ImportFileError, match=r"Row 2: Lineitem quantity × Lineitem price .* is too large"):
        run_import(account, content, format_name="shopify")
    assert not Order.objects.exists()


# --- The ingestion service: every channel's way in --------------------------------------------------------

NAN, INF, TOO_LARGE = Decimal("NaN"), Decimal("Infinity"), Decimal("1e12")


def _line(**values):
    return LineData(sku="BIG", **{"quantity": 1, "unit_price": Decimal("1.00"), **values})


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.lines.append(_line(unit_price=NAN)), "the unit price of line 2 (BIG) is not a number (NaN)"),
        (lambda d: d.lines.append(_line(unit_price=TOO_LARGE)), "the unit price of line 2 (BIG) (1000000000000) is"),
        (
            lambda d: d.lines.append(_line(quantity=2000, unit_price=Decimal("999999999.99"))),
            "the line total of line 2 (BIG) (1999999999980.00) is too large for an amount (at most 999,999,999,999.99)",
        ),
        (lambda d: d.lines.append(_line(line_total=-INF)), "the line total of line 2 (BIG) is not a number"),
        (lambda d: d.lines.append(_line(discount=TOO_LARGE)), "the discount of line 2 (BIG) (1000000000000) is too"),
        (lambda d: d.lines.append(_line(unit_cost=TOO_LARGE)), "the unit cost of line 2 (BIG) (1000000000000) is"),
        (lambda d: d.lines.append(_line(quantity=2**31)), "quantity 2147483648 is too large (at most 2147483647)"),
        (
            lambda d: d.lines.extend([_line(unit_price=Decimal("6e11")), _line(unit_price=Decimal("6e11"))]),
            "the subtotal (1200000000020.00) is too large",
        ),
        (lambda d: setattr(d, "shipping", INF), "the shipping is not a number (Infinity)"),
        (lambda d: setattr(d, "tax", -TOO_LARGE), "the tax (-1000000000000) is too large"),
        (lambda d: setattr(d, "total", Decimal("999999999999.995")), "the total (999999999999.995) is too large"),
        (lambda d: setattr(d, "refunded", NAN), "the refunded amount is not a number"),
        (lambda d: setattr(d, "channel_fees", TOO_LARGE), "the channel fees (1000000000000) is too large"),
        (lambda d: setattr(d, "account_total", NAN), "the total in the account's currency is not a number"),
        (lambda d: setattr(d, "exchange_rate", NAN), "the exchange rate is not a number"),
        # Stored as converted to 0.00, the order counted as nothing spent, not as unconverted.
        (lambda d: setattr(d, "exchange_rate", Decimal(0)), "the exchange rate must be above 0, not 0"),
        (lambda d: setattr(d, "exchange_rate", Decimal("-1.08")), "the exchange rate must be above 0, not -1.08"),
        (lambda d: d.promo_codes.append(PromoCodeData("BIG", TOO_LARGE)), "the discount of promo code BIG (1000"),
        (
            lambda d: d.lines.extend([_line(discount=Decimal("6e11")), _line(discount=Decimal("6e11"))]),
            "the sum of the order and line discounts (1200000000000) is too large",
        ),
    ],
)
def test_amounts_the_money_columns_cannot_hold_are_refused_naming_the_order(admin_client, account, change, message):
    good, bad = order_data("1"), order_data("2", email="b@example.com")
    change(bad)
    with pytest.raises(IngestionError, match="^" + re.escape(f"Order 2: {message}")) as error:
        record_orders(account, [good, bad])
    assert error.value.order_id == "2"
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert_pages_answer(admin_client)


def test_a_customers_amount_spent_that_would_not_fit_refuses_the_order(admin_client, account):
    record_order(account, order_data("A", lines=((1, "999999999999.00"),)))
    with pytest.raises(IngestionError, match=r"^Order B: the customer's amount spent would be 1000000000009.00"):
        record_order(account, order_data("B", lines=((1, "10.00"),)))
    customer = Customer.objects.get()
    assert customer.amount_spent == Decimal("999999999999.00") and customer.orders_count == 1
    assert list(Order.objects.values_list("external_id", flat=True)) == ["A"]
    assert_pages_answer(admin_client)


def test_a_customers_discount_received_that_would_not_fit_refuses_the_batch(admin_client, account):
    orders = [order_data(name, lines=((1, "700000000000.00"),), discount="600000000000.00") for name in "AB"]
    with pytest.raises(IngestionError, match=r"^Order B: the customer's discount received would be 1200000000000.00"):
        record_orders(account, orders)
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert_pages_answer(admin_client)


def test_an_order_moved_away_is_checked_for_the_customer_it_leaves(account):
    # A refund larger than its order's total: moving that order away raises the sum of the customer it leaves.
    record_orders(
        account,
        [
            order_data("A", lines=((1, "600000000000.00"),)),
            order_data("B", lines=((1, "400000000000.00"),)),
            order_data("N", lines=((1, "1.00"),), refunded="1000.00"),
        ],
    )
    before = list(Customer.objects.values())
    with pytest.raises(IngestionError, match=r"^Order N: the customer's amount spent would be 1000000000000.00"):
        record_order(account, order_data("N", email="b@example.com", lines=((1, "1.00"),)))
    assert list(Customer.objects.values()) == before


def test_amounts_up_to_the_limit_are_recorded(account):
    record_order(account, order_data("A", lines=((1, "999999999999.99"),)))
    customer = Customer.objects.get()
    assert customer.amount_spent == Decimal("999999999999.99") and OrderLine.objects.get().line_total == Decimal(
        "999999999999.99"
    )


# --- Channel mappings -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", float("nan")])
def test_shopify_amounts_that_are_not_finite_numbers_are_malformed(value):
    with pytest.raises(ShapeError):
        amount(value)


def test_a_shopify_webhook_with_a_nan_total_is_malformed():
    payload = fixture("webhook_orders_create.json")
    payload["total_price_set"]["presentment_money"]["amount"] = "NaN"
    with pytest.raises(MalformedResponse, match="NaN"):
        order_from_webhook(payload, account_currency="USD")


def test_a_shopify_order_of_1e13_is_refused_by_the_ledger_not_recorded(admin_client, account):
    payload = fixture("webhook_orders_create.json")
    payload["total_price_set"]["presentment_money"]["amount"] = "1e13"
    data = order_from_webhook(payload, account_currency="USD")
    with pytest.raises(IngestionError, match=r"^Order #1001: the total \(10000000000000.00\) is too large"):
        record_order(account, data)
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert_pages_answer(admin_client)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf"])
def test_amazon_and_ebay_amounts_that_are_not_finite_are_malformed(value):
    from wagtail_customers.channels import amazon, ebay

    with pytest.raises(MalformedResponse):
        amazon._amount(value)
    with pytest.raises(MalformedResponse):
        ebay._amount({"value": value, "currency": "USD"})


# --- Customer figures: checked where the statistics are written ------------------------------------------


def test_a_merge_whose_sums_together_reach_the_limit_is_refused_and_changes_nothing(account):
    from wagtail_customers.models import CustomerAlias, CustomerMerge
    from wagtail_customers.services.merge import MergeError, merge_customers

    record_order(account, order_data("A", email="a@example.com", lines=((1, "600000000000.00"),)))
    record_order(account, order_data("B", email="b@example.com", lines=((1, "400000000000.00"),)))
    kept, merged = Customer.objects.order_by("pk")
    before = list(Customer.objects.order_by("pk").values())
    with pytest.raises(MergeError, match=r"^The merged customers' figures together would be too large"):
        merge_customers(kept, merged)
    assert list(Customer.objects.order_by("pk").values()) == before
    assert dict(Order.objects.values_list("external_id", "customer_id")) == {"A": kept.pk, "B": merged.pk}
    assert not CustomerMerge.objects.exists() and not CustomerAlias.objects.exists()


def test_the_merge_screen_refuses_figures_too_large_before_yes_merge(admin_client, account):
    from django.urls import reverse

    from wagtail_customers.models import CustomerMerge

    record_order(account, order_data("A", email="a@example.com", lines=((1, "600000000000.00"),)))
    record_order(account, order_data("B", email="b@example.com", lines=((1, "400000000000.00"),)))
    kept, merged = Customer.objects.order_by("pk")
    url = reverse("wagtail_customers_customer:merge", args=(kept.pk,))
    page = admin_client.get(url, {"other": merged.pk})
    assert page.status_code == 200
    text = page.content.decode()
    # The refusal on the comparison, and no button to confirm it.
    assert "figures together would be too large to store" in text
    assert "Yes, merge" not in text
    response = admin_client.post(url, {"other": merged.pk}, follow=True)
    assert response.status_code == 200
    assert "figures together would be too large to store" in response.content.decode()
    assert not CustomerMerge.objects.exists() and Customer.objects.count() == 2


def _store_amount_spent(customer, value):
    from django.db import connection

    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL's numeric(14, 2) cannot hold a figure over the limit")
    Customer.objects.filter(pk=customer.pk).update(amount_spent=value)


def test_a_customer_stored_over_the_limit_still_gets_a_refund(account):
    # Written before the check existed: two orders whose sum the column cannot hold.
    orders = [order_data(name, lines=((1, "999999999999.00"),)) for name in "AB"]
    record_orders(account, orders, refresh_stats=False)
    _store_amount_spent(Customer.objects.get(), Decimal("1999999999998.00"))
    # A refund makes the figure smaller: recorded, though still over the limit.
    record_order(account, order_data("A", lines=((1, "999999999999.00"),), refunded="500000000000.00"))
    assert Order.objects.get(external_id="A").refunded == Decimal("500000000000.00")
    stored = Customer.objects.annotate(wide=Cast("amount_spent", STORED_MONEY)).values_list("wide", flat=True)
    assert stored.get() == Decimal("1499999999998.00")
    # An order that makes it larger is still refused.
    with pytest.raises(IngestionError, match=r"^Order C: the customer's amount spent would be 1499999999999.00"):
        record_order(account, order_data("C", lines=((1, "1.00"),)))


def test_a_figure_over_the_limit_does_not_let_another_grow_past_it(account):
    orders = [order_data(name, lines=((1, "999999999999.00"),)) for name in "AB"]
    record_orders(account, orders, refresh_stats=False)
    _store_amount_spent(Customer.objects.get(), Decimal("1999999999998.00"))
    # The amount spent stays as stored (each order's total is 0): the discount received is checked all the same.
    record_order(account, order_data("D1", lines=((1, "600000000000.00"),), discount="600000000000.00"))
    with pytest.raises(IngestionError, match=r"^Order D2: the customer's discount received would be"):
        record_order(account, order_data("D2", lines=((1, "600000000000.00"),), discount="600000000000.00"))
    assert not Order.objects.filter(external_id="D2").exists()


def test_an_amount_with_a_tiny_exponent_is_refused_naming_the_order(account):
    """PostgreSQL's number input refuses an exponent below -1000: the write failed with an unexpected DataError."""
    data = order_data("T", lines=((1, "1.00"),))
    data.lines[0].unit_price = Decimal("1E-1001")
    with pytest.raises(IngestionError, match=r"^Order T: the unit price of line 1 \(SKU0\) \(.*\) is not an amount"):
        record_order(account, data)
    assert not Order.objects.exists()


def test_units_that_would_not_fit_the_customers_column_refuse_the_order(account):
    with pytest.raises(IngestionError, match=r"^Order U: the customer's units would be 4000000000,") as error:
        record_order(account, order_data("U", lines=((2_000_000_000, "0.00"), (2_000_000_000, "0.00"))))
    assert error.value.order_id == "U"
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_a_huge_number_is_refused_with_a_short_message(account):
    data = order_data("H", lines=((1, "1.00"),))
    data.lines[0].unit_price = Decimal("1E+1000000")
    with pytest.raises(IngestionError, match=r"^Order H: the unit price of line 1 \(SKU0\) \(1.000000E\+1000000\)"):
        record_order(account, data)
    for value, message in (
        ("1E+1000000", r"Row 2: '1E\+1000000' in unit_price is too large for an amount"),
        ("9" * 5000, r"Row 2: '9{20}…' in unit_price is too large for an amount"),
    ):
        with pytest.raises(ImportFileError, match=message) as error:
            run_import(account, csv(f"Z1,2024-01-01,z@example.com,1,{value},"))
        assert len(str(error.value)) < 200
    with pytest.raises(ImportFileError, match=r"'9{20}…' in quantity is too large \(at most 2147483647\)"):
        run_import(account, csv(f"Z1,2024-01-01,z@example.com,{'9' * 5000},1.00,"))
    assert not Order.objects.exists()


def test_a_huge_channel_amount_reaches_the_service_and_is_refused_there(account):
    from wagtail_customers.channels import amazon, ebay

    huge = amazon._amount("1E+1000000")
    assert huge == ebay._amount({"value": "1E+1000000", "currency": "USD"}) == Decimal("1E+100")
    data = order_data("H", lines=((1, "1.00"),))
    data.lines[0].unit_price = huge * 3  # the channels' sums and products must not overflow
    with pytest.raises(IngestionError, match=r"^Order H: the unit price of line 1 \(SKU0\) \(3.000000E\+100\)"):
        record_order(account, data)


def test_a_batch_reads_no_sums_besides_the_statistics(account):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    orders = [order_data(f"{n}", email=f"c{n % 7}@example.com") for n in range(20)]
    with CaptureQueriesContext(connection) as deferred:
        record_orders(account, orders, refresh_stats=False)
    assert not [q["sql"] for q in deferred.captured_queries if "SUM(" in q["sql"].upper()]
    with CaptureQueriesContext(connection) as refreshed:
        record_orders(account, [order_data(f"{n}", email=f"c{n % 7}@example.com", day=1) for n in range(20)])
    # The statistics' own one (over the orders, which carry their lines' figures) and no other.
    assert len([q for q in refreshed.captured_queries if "SUM(" in q["sql"].upper()]) == 1


def test_the_rate_refresh_skips_a_customer_whose_figures_would_not_fit(tmp_path):
    from wagtail_customers.models import SellerAccount
    from wagtail_customers.services.rate_refresh import refresh_rates

    from .test_exchange_rates_refresh import ECBRateTable, ecb_csv, placed

    last = ECBRateTable().last_date()
    days = (last + datetime.timedelta(days=21), last + datetime.timedelta(days=22))
    account = SellerAccount.objects.create(name="EU shop", channel="shopify", currency="EUR")
    record_order(account, order_data("BIG", email="big@example.com", lines=((1, "999999999999.00"),)))
    for number, email in (("U1", "big@example.com"), ("U2", "small@example.com")):
        data = order_data(number, email=email, lines=((1, "110.00"),), currency="USD")
        data.placed_at = placed(days[0])
        record_order(account, data)
    rates_file = tmp_path / "eurofxref-hist.csv"
    rates_file.write_bytes(ecb_csv(days))
    result = refresh_rates(str(rates_file))
    assert (result.orders_converted, result.orders_still_unknown) == (1, 1)
    assert dict(Order.objects.filter(external_id__startswith="U").values_list("external_id", "rate_source")) == {
        "U1": "unknown",
        "U2": "table",
    }
    big, small = (Customer.objects.get(email=f"{name}@example.com") for name in ("big", "small"))
    assert (big.amount_spent, big.unconverted_orders) == (Decimal("999999999999.00"), 1)
    assert (small.amount_spent, small.unconverted_orders) == (Decimal("100.00"), 0)
