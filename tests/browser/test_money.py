"""Money in Chromium as a German admin reads it: amounts written the German way (1.234,50 €) in the listing, its
statistics and the customer page, and an amount that leaves out orders with no exchange rate marked incomplete
(never shown as if those orders were worth 0)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from wagtail.users.models import UserProfile

from tests.browser.test_accessibility import run_axe
from tests.factories import order_data
from wagtail_customers.models import Channel, Customer, SellerAccount
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NBSP = "\N{NO-BREAK SPACE}"
INCOMPLETE = "Incomplete: 1 order has no exchange rate into this currency."


def ida_order():
    """Shopify Markets: an order in USD with the shop's own figure in EUR, and every cost known."""
    data = order_data(
        "I-1",
        email="ida@example.com",
        name="Ida Noddack",
        day=4,
        lines=((1, "20.00"),),
        currency="USD",
        account_total=Decimal("18.50"),
        channel_fees=Decimal("1.00"),
        fulfilment_cost=Decimal("2.00"),
    )
    data.lines[0].unit_cost = Decimal("5.00")
    return data


@pytest.fixture
def shop(db):
    """A EUR account: Greta spent 1.234,50 € in euros; Hans paid 80,00 € and once in XTS, which no table quotes;
    Ida paid 20.00 USD, 18,50 € as the channel converted it."""
    account = SellerAccount.objects.create(name="Shopify EU", channel=Channel.SHOPIFY, currency="EUR")
    record_orders(
        account,
        [
            order_data("G-1", email="greta@example.com", name="Greta Garbo", day=0, lines=((1, "1000.00"),)),
            order_data("G-2", email="greta@example.com", name="Greta Garbo", day=1, lines=((1, "234.50"),)),
            order_data("H-1", email="hans@example.com", name="Hans Albers", day=2, lines=((1, "80.00"),)),
            order_data(
                "H-2", email="hans@example.com", name="Hans Albers", day=3, lines=((1, "45.00"),), currency="XTS"
            ),
            ida_order(),
        ],
    )
    return account


@pytest.fixture
def german_admin(browser_admin):
    profile = UserProfile.get_for_user(browser_admin)
    profile.preferred_language = "de"
    profile.save()
    return browser_admin


def listing_row(page, customer):
    return page.locator("table.listing tbody tr").filter(has=page.locator(f"#customer_{customer.pk}_title"))


def test_a_german_admin_reads_german_amounts_and_the_incomplete_marker(
    live_server, login, german_admin, shop, screenshot, axe_script
):
    greta = Customer.objects.get(email="greta@example.com")
    hans = Customer.objects.get(email="hans@example.com")
    assert (hans.amount_spent, hans.unconverted_orders) == (Decimal("80.00"), 1)
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/?ordering=-amount_spent")

    # The listing: German grouping and decimal comma, the euro sign after the amount.
    expect(listing_row(page, greta)).to_contain_text(f"1.234,50{NBSP}€")
    hans_row = listing_row(page, hans)
    expect(hans_row).to_contain_text(f"80,00{NBSP}€")
    # Hans's amount is marked: a warning sign whose tooltip and screen-reader text say why.
    marker = hans_row.locator("[data-wc-incomplete]").first
    expect(marker).to_be_visible()
    expect(marker.locator("[title]")).to_have_attribute("title", INCOMPLETE)
    expect(marker).to_have_text(INCOMPLETE)
    expect(listing_row(page, greta).locator("[data-wc-incomplete]")).to_have_count(0)
    # The band: revenue in German, marked incomplete in writing.
    revenue = page.locator('[data-wc-stat="revenue"]')
    expect(revenue).to_contain_text(f"1.333,00{NBSP}€")
    expect(revenue.locator("[data-wc-incomplete]")).to_have_text(INCOMPLETE)
    # Over the four orders it counts.
    expect(page.locator('[data-wc-stat="average_order_value"]')).to_contain_text(f"333,25{NBSP}€")
    screenshot(page, "listing-german-amounts")

    # The customer page: amount spent in German with its marker, and the XTS order says it has no rate.
    page.goto(f"{live_server.url}/admin/customers/{hans.pk}/#tab-details")
    spent = page.locator("[data-wc-amount-spent]")
    expect(spent).to_contain_text(f"80,00{NBSP}€")
    expect(spent).to_contain_text(INCOMPLETE)
    expect(page.locator(".wc-spend-chart figcaption")).to_contain_text("1 order of these months has no exchange rate")
    page.locator("#customer-statistics-section").scroll_into_view_if_needed()
    screenshot(page, "customer-page-incomplete-amount")
    assert run_axe(page, axe_script) == []
    page.get_by_role("tab", name=re.compile("Bestellungen|Orders")).click()
    xts_row = page.locator("#tab-orders tbody tr").filter(has_text="H-2")
    expect(xts_row.locator("[data-wc-converted]")).to_have_text("no exchange rate for this date")

    # The order page: its P&L in XTS, and no column of zeros in EUR.
    xts_row.get_by_role("link", name="H-2").click()
    page.wait_for_url(re.compile(r".*/admin/customers/orders/\d+/$"))
    expect(page.locator("[data-wc-converted-total] td")).to_have_text("not known")
    in_euros = page.locator("[data-wc-pl] tbody tr td:nth-of-type(2)")
    expect(in_euros).to_have_count(9)
    assert {text.strip() for text in in_euros.all_text_contents()} == {"no exchange rate"}
    expect(page.locator('[data-wc-pl-line="revenue"] td').first).to_have_text(f"45,00{NBSP}XTS")
    assert run_axe(page, axe_script) == []


# version_neutral: the plugin's own order page markup, opened at the floors by test_customer_page.py.
@pytest.mark.version_neutral
def test_an_order_in_another_currency_shows_both_amounts_and_where_the_rate_came_from(
    live_server, login, german_admin, shop, screenshot
):
    ida = Customer.objects.get(email="ida@example.com")
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/{ida.pk}/?ordering=-total#tab-orders")
    row = page.locator("#tab-orders tbody tr").filter(has_text="I-1")
    expect(row).to_contain_text(f"20,00{NBSP}$")
    expect(row.locator("[data-wc-converted]")).to_have_text(f"18,50{NBSP}€ (the channel's figure)")

    row.get_by_role("link", name="I-1").click()
    page.wait_for_url(re.compile(r".*/admin/customers/orders/\d+/$"))
    expect(page.locator("[data-wc-converted-total] td")).to_have_text(f"18,50{NBSP}€")
    expect(page.locator("[data-wc-conversion-note]")).to_have_text(
        "In EUR as the channel converted it (1 USD = 0,925 EUR)."
    )
    # The P&L in dollars, then in euros at the order's rate, each line rounded to the cent:
    # 20.00 - 1.00 - 2.00 - 5.00 = 12.00 USD; 18,50 - 0,93 - 1,85 - 4,63 = 11,09 €.
    gross_profit = page.locator('[data-wc-pl-line="gross_profit"] td')
    expect(gross_profit).to_have_text([f"12,00{NBSP}$", f"11,09{NBSP}€"])
    page.locator("#order-pl-section").scroll_into_view_if_needed()
    screenshot(page, "order-page-pl-two-currencies")
