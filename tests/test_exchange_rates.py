"""Exchange rates (wagtail_customers.exchange_rates) and each order's money in its account's currency.

The expected figures come from currencyconverter used directly, with its own API: an independent
computation from the same ECB table the plugin embeds.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from currency_converter import CurrencyConverter
from django.utils import timezone

from tests.factories import order_data
from wagtail_customers.exchange_rates import ECBRateTable, get_rate_table, rate_for
from wagtail_customers.models import Customer, Order, RateSource
from wagtail_customers.services.conversion import convert
from wagtail_customers.services.ingestion import record_order, record_orders

CENT = Decimal("0.01")
FRIDAY, SATURDAY, MONDAY = datetime.date(2024, 1, 5), datetime.date(2024, 1, 6), datetime.date(2024, 1, 8)


@pytest.fixture(scope="module")
def ecb():
    return CurrencyConverter(decimal=True, fallback_on_missing_rate=True, fallback_on_missing_rate_method="last_known")


def expected(amount, currency, to_currency, on, ecb):
    return ecb.convert(Decimal(amount), currency, to_currency, date=on).quantize(CENT, rounding=ROUND_HALF_UP)


class FixedRates:
    """A source a site could plug in: one rate, for test currency XTS into USD, on any date."""

    def rate(self, from_currency, to_currency, on):
        return Decimal("2.5") if (from_currency, to_currency) == ("XTS", "USD") else None


def test_the_default_source_is_the_embedded_ecb_table(db):
    table = get_rate_table()
    assert isinstance(table, ECBRateTable)
    assert table.origin == "embedded"
    assert get_rate_table() is table  # kept per process


def test_rates_on_quoted_days_and_days_without_a_quote(db, ecb):
    assert rate_for("USD", "USD", FRIDAY) == 1
    assert rate_for("usd", "EUR", FRIDAY) == ecb.convert(Decimal(1), "USD", "EUR", date=FRIDAY)
    assert rate_for("EUR", "GBP", FRIDAY) == ecb.convert(Decimal(1), "EUR", "GBP", date=FRIDAY)
    assert rate_for("GBP", "USD", MONDAY) == ecb.convert(Decimal(1), "GBP", "USD", date=MONDAY)
    # Weekend: Friday's quote.
    assert rate_for("USD", "EUR", SATURDAY) == rate_for("USD", "EUR", FRIDAY)
    assert rate_for("USD", "EUR", SATURDAY) == ecb.convert(Decimal(1), "USD", "EUR", date=SATURDAY)


def test_unknown_rates(db, settings):
    last = get_rate_table().last_date("USD")
    assert rate_for("XTS", "EUR", FRIDAY) is None  # no such currency in the table
    assert rate_for("USD", "EUR", datetime.date(1998, 12, 31)) is None  # before the first quote
    assert rate_for("USD", "EUR", last + datetime.timedelta(days=7)) == rate_for("USD", "EUR", last)
    assert rate_for("USD", "EUR", last + datetime.timedelta(days=8)) is None  # older than 7 days
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXCHANGE_RATES_MAX_AGE_DAYS": 30}
    assert rate_for("USD", "EUR", last + datetime.timedelta(days=30)) == rate_for("USD", "EUR", last)
    # The ECB stopped quoting RUB on 2022-03-01: its old quote is not used for later orders.
    assert rate_for("RUB", "EUR", datetime.date(2022, 3, 1)) is not None
    assert rate_for("RUB", "EUR", datetime.date(2023, 3, 1)) is None


def test_orders_are_converted_at_their_dates_rate(account, ecb):
    # account: USD
    record_order(account, order_data("1", lines=((2, "10.00"),)))
    euro = order_data("2", lines=((1, "99.99"), (1, "0.01")), currency="EUR", discount="5.00", refunded="7.77")
    euro.lines[0].discount = Decimal("1.25")
    record_order(account, euro)
    same, converted = Order.objects.get(external_id="1"), Order.objects.get(external_id="2")
    assert (same.rate_source, same.exchange_rate, same.account_total) == (RateSource.SAME, 1, Decimal("20.00"))
    assert converted.rate_source == RateSource.TABLE
    day = converted.placed_at.date()
    assert converted.exchange_rate == ecb.convert(Decimal(1), "EUR", "USD", date=day).quantize(Decimal("1E-10"))
    assert converted.account_total == expected(converted.total, "EUR", "USD", day, ecb)
    assert converted.account_refunded == expected("7.77", "EUR", "USD", day, ecb)
    assert converted.account_discount == expected("6.25", "EUR", "USD", day, ecb)
    customer = Customer.objects.get()
    assert customer.amount_spent == Decimal("20.00") + converted.account_total - converted.account_refunded
    assert customer.discount_total == converted.account_discount
    assert customer.unconverted_orders == 0 and customer.amount_spent_is_complete


def test_an_order_without_a_rate_is_counted_apart_never_as_zero(account):
    record_order(account, order_data("1", lines=((1, "10.00"),)))
    record_order(account, order_data("2", lines=((1, "80.00"),), currency="XTS"))
    unknown = Order.objects.get(external_id="2")
    assert unknown.rate_source == RateSource.UNKNOWN
    assert (unknown.exchange_rate, unknown.account_total, unknown.account_refunded) == (None, None, None)
    customer = Customer.objects.get()
    assert (customer.orders_count, customer.unconverted_orders, customer.amount_spent) == (2, 1, Decimal("10.00"))
    assert not customer.amount_spent_is_complete
    assert customer.average_order_value == Decimal("10.00")  # over the converted order only


def test_the_channels_own_figures_win_over_the_table(account):
    shop_money = order_data("1", lines=((1, "100.00"),), currency="EUR", refunded="10.00")
    shop_money.account_total = Decimal("108.40")
    record_order(account, shop_money)
    order = Order.objects.get()
    assert order.rate_source == RateSource.CHANNEL
    assert order.account_total == Decimal("108.40")
    assert order.exchange_rate == Decimal("1.0840000000")  # implied by the converted total
    assert order.account_refunded == Decimal("10.84")
    given_rate = order_data("2", lines=((1, "100.00"),), currency="EUR", exchange_rate=Decimal("1.2"))
    record_order(account, given_rate)
    assert Order.objects.get(external_id="2").account_total == Decimal("120.00")


def test_an_update_with_new_amounts_is_converted_again(account, ecb):
    record_order(account, order_data("1", lines=((1, "10.00"),), currency="EUR"))
    result = record_orders(account, [order_data("1", lines=((1, "30.00"),), currency="EUR")])
    assert result.orders_updated == 1
    order = Order.objects.get()
    assert order.account_total == expected("30.00", "EUR", "USD", order.placed_at.date(), ecb)
    assert Customer.objects.get().amount_spent == order.account_total
    # Recording it again as it is changes nothing.
    assert record_orders(account, [order_data("1", lines=((1, "30.00"),), currency="EUR")]).orders_unchanged == 1


def test_the_bulk_path_converts_every_order(account, ecb):
    batch = [order_data(str(n), day=n, lines=((1, "12.34"),), currency="GBP") for n in range(10)]
    record_orders(account, batch, batch_size=4)
    for order in Order.objects.all():
        day = order.placed_at.date()
        assert order.account_total == expected("12.34", "GBP", "USD", day, ecb), day


def test_a_source_plugged_through_the_setting(account, settings):
    settings.WAGTAIL_CUSTOMERS = {
        **settings.WAGTAIL_CUSTOMERS,
        "EXCHANGE_RATES_SOURCE": "tests.test_exchange_rates.FixedRates",
    }
    assert isinstance(get_rate_table(), FixedRates)
    record_order(account, order_data("1", lines=((1, "10.00"),), currency="XTS"))
    record_order(account, order_data("2", lines=((1, "10.00"),), currency="EUR"))
    assert Order.objects.get(external_id="1").account_total == Decimal("25.00")
    assert Order.objects.get(external_id="2").rate_source == RateSource.UNKNOWN
    customer = Customer.objects.get()
    assert (customer.amount_spent, customer.unconverted_orders) == (Decimal("25.00"), 1)


@pytest.mark.parametrize(
    "overrides, check_id",
    [
        ({"EXCHANGE_RATES_SOURCE": "myshop.nowhere.Rates"}, "wagtail_customers.E030"),
        ({"EXCHANGE_RATES_SOURCE": "decimal.Decimal"}, "wagtail_customers.E030"),  # a class with no rate()
        ({"EXCHANGE_RATES_MAX_AGE_DAYS": -1}, "wagtail_customers.E031"),
        ({"EXCHANGE_RATES_MAX_AGE_DAYS": "7"}, "wagtail_customers.E031"),
        ({"EXCHANGE_RATES_URL": "/srv/rates.zip"}, "wagtail_customers.E032"),
    ],
)
def test_system_checks_of_the_exchange_rate_settings(settings, overrides, check_id):
    from wagtail_customers.checks import check_exchange_rates

    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, **overrides}
    assert [message.id for message in check_exchange_rates()] == [check_id]


def test_the_default_and_a_plugged_source_pass_the_checks(settings):
    from wagtail_customers.checks import check_exchange_rates

    assert check_exchange_rates() == []
    settings.WAGTAIL_CUSTOMERS = {
        **settings.WAGTAIL_CUSTOMERS,
        "EXCHANGE_RATES_SOURCE": "tests.test_exchange_rates.FixedRates",
        "EXCHANGE_RATES_MAX_AGE_DAYS": 0,
        "EXCHANGE_RATES_URL": "https://www.ecb.europa.eu/stats/eurofxref/eurofxref.zip",
    }
    assert check_exchange_rates() == []


def test_an_amount_too_large_for_the_columns_once_converted_is_unknown_not_an_error(db):
    converted = convert(
        currency="EUR",
        account_currency="IDR",
        placed_at=timezone.now(),
        total=Decimal("60000000.00"),
        refunded=Decimal("0"),
        discount=Decimal("0"),
        channel_rate=Decimal("17500"),
    )
    assert converted.as_tuple() == (None, RateSource.UNKNOWN, None, None, None)
