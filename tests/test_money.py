"""Money as the admin user reads it: Babel's currency formats in the user's admin language."""

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from html import unescape

import pytest
from babel import Locale, localedata
from babel.numbers import format_currency, get_currency_symbol
from django.urls import reverse
from django.utils import translation
from wagtail.users.models import UserProfile

from tests.factories import order_data
from wagtail_customers.exchange_rates import rate_for
from wagtail_customers.models import Customer, RateSource
from wagtail_customers.money import currency_pattern, format_money, format_rate
from wagtail_customers.services.ingestion import record_order, record_orders

D = Decimal

NBSP = "\N{NO-BREAK SPACE}"


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("de", "1234.5", "EUR", f"1.234,50{NBSP}€"),
        ("en", "1234.5", "EUR", "€1,234.50"),
        ("en-us", "1234.5", "USD", "$1,234.50"),
        ("en-gb", "-3", "GBP", "-£3.00"),
        ("de", "1234", "JPY", f"1.234{NBSP}¥"),  # the yen has no minor unit
        # A Django language Babel does not know falls back to its base language, then to English.
        ("de-xx", "1234.5", "EUR", f"1.234,50{NBSP}€"),
        ("xx", "1234.5", "EUR", "€1,234.50"),
        # A code that is no currency keeps the code after the number rather than Babel's glued "XYZ1,234.50".
        ("en", "1234.5", "XYZ", f"1,234.50{NBSP}XYZ"),
        # A symbol ending in a letter is spaced from the digits, as CLDR says (Babel glues it: "CHF1,234.50").
        ("en", "1234.5", "CHF", f"CHF{NBSP}1,234.50"),
        ("en", "-3", "SEK", f"-SEK{NBSP}3.00"),
        ("en", "1234.5", "KWD", f"KWD{NBSP}1,234.500"),
        ("nl", "1234.5", "CHF", f"CHF{NBSP}1.234,50"),
        ("de", "1234.5", "xyz", f"1.234,50{NBSP}XYZ"),
        # Rounded half up, as the stored averages and the exports' cells are (Babel rounds half to even).
        ("en", "1000.50", "JPY", "¥1,001"),
        ("en", "1001.50", "JPY", "¥1,002"),
        ("en", "1234.565", "USD", "$1,234.57"),
        ("en", "1.0125", "KWD", f"KWD{NBSP}1.013"),
        ("en", "0.125", "XYZ", f"0.13{NBSP}XYZ"),
    ],
)
def test_format_money_in_a_language(language, amount, currency, expected):
    assert format_money(Decimal(amount), currency, language) == expected


def test_the_filled_in_pattern_writes_what_babel_format_currency_writes_in_every_locale():
    # format_money fills the currency's symbol into the locale's pattern once (money.currency_pattern).
    amounts = [D("0"), D("1234.5"), D("-1234.567"), D("1234567.891"), D("0.005")]
    currencies = ["EUR", "USD", "JPY", "BHD", "INR", "CHF", "GBP", "BRL", "CNY", "SEK"]
    compared = 0
    for name in localedata.locale_identifiers():
        locale = Locale.parse(name)
        for code in currencies:
            pattern = currency_pattern(locale, code)
            if pattern is None:
                # Babel formats it (a pattern naming the currency in words): nothing to compare.
                continue
            symbol = get_currency_symbol(code, locale)
            for amount in amounts:
                written = pattern.apply(amount, locale, currency=code)
                # The one difference allowed: CLDR's space between a symbol's letter and a digit, which Babel omits.
                unspaced = written.replace(f"{symbol}{NBSP}", symbol).replace(f"{NBSP}{symbol}", symbol)
                expected = format_currency(amount, code, locale=locale)
                assert written == expected or unspaced == expected, (name, code, amount)
                compared += 1
    assert compared > 10_000


@pytest.mark.parametrize(
    ("rate", "language", "expected"),
    [
        ("1.0919", "en", "1.0919"),
        ("0.923456789", "de", "0,923457"),
        ("1234.5", "de", "1.234,5"),
        # A small rate keeps six significant digits: 1 VND in EUR, 1 IDR in USD.
        ("0.0000366", "en", "0.0000366"),
        ("0.00006123456", "en", "0.0000612346"),
        ("0.0913", "en", "0.0913"),
    ],
)
def test_format_rate_keeps_six_decimals_or_six_significant_digits(rate, language, expected):
    assert format_rate(Decimal(rate), language) == expected


def test_format_money_follows_the_active_language_and_leaves_none_empty():
    with translation.override("de"):
        assert format_money(Decimal("1234.50"), "EUR") == f"1.234,50{NBSP}€"
    with translation.override("en"):
        assert format_money(Decimal("1234.50"), "EUR") == "€1,234.50"
    assert format_money(None, "EUR") == ""


@pytest.fixture
def german_admin(admin_client, superuser):
    """The admin client of a superuser whose preferred admin language (account preferences) is German."""
    profile = UserProfile.get_for_user(superuser)
    profile.preferred_language = "de"
    profile.save()
    return admin_client


@pytest.fixture
def big_spender(other_account):
    """A customer of the EUR account with 1,234.50 € spent over two orders."""
    record_order(other_account, order_data("G-1", day=0, lines=((1, "1000.00"),)))
    return record_order(other_account, order_data("G-2", day=1, lines=((1, "234.50"),)))


@pytest.mark.django_db
def test_a_german_admin_sees_german_amounts_in_the_listing_and_band(german_admin, big_spender):
    html = german_admin.get("/admin/customers/").content.decode()
    assert f"1.234,50{NBSP}€" in html  # the Amount spent cell and the band's revenue
    assert f"617,25{NBSP}€" in html  # the band's average order value
    assert "1,234.50" not in html


@pytest.mark.django_db
def test_a_german_admin_sees_german_amounts_on_the_customer_and_order_pages(german_admin, big_spender):
    customer_url = reverse("wagtail_customers_customer:detail", args=[big_spender.customer_id])
    html = german_admin.get(customer_url).content.decode()
    assert f"1.234,50{NBSP}€" in html  # amount spent
    assert f"1.000,00{NBSP}€" in html  # the first order on the timeline, the orders tab and the spend chart
    order_html = german_admin.get(reverse("wagtail_customers_customer:order", args=[big_spender.pk])).content.decode()
    assert f"234,50{NBSP}€" in order_html
    assert "234.50" not in order_html


@pytest.mark.django_db
def test_an_english_admin_sees_english_amounts(admin_client, big_spender):
    html = admin_client.get("/admin/customers/").content.decode()
    assert "€1,234.50" in html


# --- Orders in other currencies: converted amounts, where the rate came from, never a silent 0 -------------


def text_of(html):
    """The page's text, tags stripped and spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def mixed(account):
    """A USD customer with an order in USD, one in EUR (the ECB table's rate), one whose channel converted it
    and two in XTS, the ISO test code no table quotes (no rate)."""
    record_orders(
        account,
        [
            order_data("M-1", day=0, lines=((1, "100.00"),)),
            order_data("M-2", day=2, lines=((1, "50.00"),), currency="EUR", refunded="5.00"),
            order_data("M-3", day=3, lines=((1, "80.00"),), currency="XTS"),
            order_data("M-4", day=4, lines=((1, "10.00"),), currency="XTS"),
            order_data("M-5", day=5, lines=((1, "20.00"),), currency="GBP", account_total=D("25.40")),
        ],
    )
    customer = account.customers.get()
    return customer, {order.external_id: order for order in customer.orders.all()}


@pytest.mark.django_db
def test_the_statistics_count_the_converted_orders_and_the_unconverted_ones_apart(mixed):
    customer, orders = mixed
    euro = orders["M-2"]
    # The EUR order at the ECB rate of its day (3 January 2024), checked against the table itself.
    rate = rate_for("EUR", "USD", date(2024, 1, 3))
    assert (euro.rate_source, euro.exchange_rate) == (RateSource.TABLE, rate.quantize(D("1E-10")))
    assert euro.account_total == (D("50.00") * rate).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    spent = D("100.00") + euro.account_total - euro.account_refunded + D("25.40")
    assert (customer.amount_spent, customer.unconverted_orders) == (spent, 2)
    assert customer.average_order_value == (spent / 3).quantize(D("0.01"))


@pytest.mark.django_db
def test_the_listing_marks_an_incomplete_amount_spent_and_the_band_its_revenue(admin_client, mixed, other_account):
    customer, _orders = mixed
    record_order(other_account, order_data("E-1", email="eve@example.com", lines=((1, "7.00"),)))
    response = admin_client.get("/admin/customers/")
    html = response.content.decode()
    note = "Incomplete: 2 orders have no exchange rate into this currency."
    row = next(row for row in html.split("<tr")[1:] if f"customer_{customer.pk}_title" in row)
    assert format_money(customer.amount_spent, "USD") in row and note in row and "data-wc-incomplete" in row
    eve = Customer.objects.get(email="eve@example.com")
    eve_row = next(row for row in html.split("<tr")[1:] if f"customer_{eve.pk}_title" in row)
    assert "data-wc-incomplete" not in eve_row
    # The band: USD revenue marked (written out), EUR revenue not; the average is over the converted orders.
    revenue = re.search(r'data-wc-stat="revenue">(.*?)</dd>', html, re.S).group(1)
    assert text_of(revenue) == f"€7.00 {format_money(customer.amount_spent, 'USD')} {note}"
    usd = next(row for row in response.context["statistics"]["currencies"] if row["currency"] == "USD")
    assert (usd["orders"], usd["unconverted_orders"]) == (5, 2)
    assert usd["average_order_value"] == (customer.amount_spent / 3).quantize(D("0.01"))


@pytest.mark.django_db
def test_the_customer_page_shows_the_incomplete_amount_and_each_orders_conversion(admin_client, mixed):
    customer, orders = mixed
    html = admin_client.get(reverse("wagtail_customers_customer:detail", args=[customer.pk])).content.decode()
    spent = re.search(r"<dd data-wc-amount-spent>(.*?)</dd>", html, re.S).group(1)
    assert text_of(spent) == (
        f"{format_money(customer.amount_spent, 'USD')} Incomplete: 2 orders have no exchange rate into this currency."
    )
    # The Orders tab: each order in its own currency, and in USD with where the figure came from.
    orders_tab = html[html.index('<section id="tab-orders"') :]
    rows = {}
    for row in orders_tab.split("<tr")[2:]:
        if match := re.search(r">\s*(M-\d)\s*</a>", row):
            rows[match.group(1)] = text_of(row)
    euro = orders["M-2"]
    # The rate's date written out as the order page writes it: "01/03/2024" would read as 1 March in Europe.
    assert (
        f"€50.00 {format_money(euro.account_total, 'USD')} (the ECB reference rate in force on Jan. 3, 2024)"
        in rows["M-2"]
    )
    assert "€50.00 $" in rows["M-2"]
    assert "XTS 80.00 no exchange rate for this date" in rows["M-3"]
    assert "£20.00 $25.40 (the channel's figure)" in rows["M-5"]
    assert "$100.00" in rows["M-1"] and "(" not in rows["M-1"].split("$100.00")[1].split("Paid")[0]
    # The spend chart counts the converted orders (January: all but the XTS ones) and says what it leaves out.
    chart = re.search(r'<figure class="wc-spend-chart">.*?</figure>', html, re.S).group(0)
    assert f"January 2024: {format_money(customer.amount_spent, 'USD')}" in chart
    assert "Incomplete: 2 orders of these months have no exchange rate into USD and are left out." in text_of(chart)


@pytest.mark.django_db
def test_the_order_page_shows_the_converted_total_the_rate_and_a_pl_in_both_currencies(admin_client, mixed):
    _customer, orders = mixed
    euro = orders["M-2"]
    html = admin_client.get(reverse("wagtail_customers_customer:order", args=[euro.pk])).content.decode()
    text = text_of(html)
    rate = format_rate(euro.exchange_rate)
    assert f"Total in USD, the account's currency {format_money(euro.account_total, 'USD')}" in text
    assert f"Refunded in USD {format_money(euro.account_refunded, 'USD')}" in text
    assert f"Converted at the ECB reference rate in force on Jan. 3, 2024: 1 EUR = {rate} USD." in text
    # The P&L: in EUR, then in USD at the order's rate (refunds as the order keeps them in USD).
    revenue = format_money((D("50.00") * euro.exchange_rate).quantize(D("0.01"), rounding=ROUND_HALF_UP), "USD")
    assert "EUR (order) USD (account)" in text
    assert f"Revenue €50.00 {revenue}" in text
    assert f"Refunds −€5.00 −{format_money(euro.account_refunded, 'USD')}" in text


@pytest.mark.django_db
def test_an_order_with_no_rate_says_so_on_the_order_page_never_zero(admin_client, mixed):
    _customer, orders = mixed
    html = admin_client.get(reverse("wagtail_customers_customer:order", args=[orders["M-3"].pk])).content.decode()
    text = text_of(html)
    assert "Total in USD, the account's currency not known" in text
    assert "No exchange rate from XTS to USD for Jan. 4, 2024: this order is left out" in text
    assert "Revenue XTS 80.00 no exchange rate" in text
    assert "so its profit and loss is in XTS only" in text
    assert "$0.00" not in text


class HalfRates:
    """A site's own rate source (EXCHANGE_RATES_SOURCE): 1 unit of anything is 0.5 of the other currency."""

    def rate(self, from_currency, to_currency, on):
        return D("0.5")


@pytest.mark.django_db
def test_a_sites_own_rate_source_is_named_as_the_exchange_rate_table(admin_client, account, settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXCHANGE_RATES_SOURCE": "tests.test_money.HalfRates"}
    order = record_order(account, order_data("T-1", day=2, lines=((1, "50.00"),), currency="EUR"))
    text = text_of(admin_client.get(reverse("wagtail_customers_customer:order", args=[order.pk])).content.decode())
    assert "Total in USD, the account's currency $25.00" in text
    assert "Converted at the exchange-rate table's rate in force on Jan. 3, 2024: 1 EUR = 0.5 USD." in text
    customer_page = admin_client.get(reverse("wagtail_customers_customer:detail", args=[order.customer_id]))
    assert "$25.00 (the exchange-rate table's rate in force on Jan. 3, 2024)" in text_of(customer_page.content.decode())
