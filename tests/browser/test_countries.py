"""Countries in Chromium: the listing's country filter offers the countries present with counts (loaded just after
the page, views/listing/country_choices.py) and refreshes the results in place; a German admin reads the names in
German."""

import re

import pytest
from playwright.sync_api import expect
from wagtail.users.models import UserProfile

from tests.factories import order_data
from wagtail_customers.models import Channel, SellerAccount
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.inputs import AddressData

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = "table.listing tbody td.title [id^=customer_]"


@pytest.fixture
def shop(db):
    """Three customers in Germany (written three ways), two in the United Kingdom, one in "Channel Islands"."""
    account = SellerAccount.objects.create(name="Shopify EU", channel=Channel.SHOPIFY, currency="EUR")
    countries = ["DE", "Germany", "Deutschland", "UK", "United Kingdom", "Channel Islands"]
    orders = []
    for number, country in enumerate(countries):
        data = order_data(f"c-{number}", email=f"buyer{number}@example.com", name=f"Buyer {number}")
        data.ship_to = AddressData(city="Town", country=country)
        orders.append(data)
    record_orders(account, orders)
    return account


def choose_country(page, label):
    page.locator("#filters-drilldown [data-controller=w-dropdown] > button").first.click()
    page.locator("button[aria-controls=drilldown-id_country]").click()
    page.locator("select[name=country]").select_option(label=label)


def test_the_country_filter_offers_the_countries_present_with_counts(live_server, login, browser_admin, shop):
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/")
    expect(page.locator(NAMES)).to_have_count(6)
    choose_country(page, "Germany (3)")
    expect(page.locator(NAMES)).to_have_count(3)
    expect(page).to_have_url(re.compile(r"country=DE"))
    select = page.locator("select[name=country]")
    expect(select).to_have_attribute("aria-busy", "false")
    options = select.locator("option").all_text_contents()
    assert [option.strip() for option in options] == [
        "Any country",
        "Channel Islands (1)",
        "Germany (3)",
        "United Kingdom (2)",
    ]
    expect(select).to_have_value("DE")


def test_a_bookmarked_country_stays_selected_and_a_removed_chip_reloads_the_choices(
    live_server, login, browser_admin, shop
):
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/?country=Channel+Islands")
    expect(page.locator(NAMES)).to_have_count(1)
    # The chip names the country without a count; the choices fill in around the selection.
    expect(page.locator(".w-active-filters")).to_contain_text("Channel Islands")
    select = page.locator("select[name=country]")
    expect(select.locator("option")).to_have_count(4)
    expect(select).to_have_value("Channel Islands")
    expect(select).to_have_attribute("aria-busy", "false")
    # Removing the chip swaps in a new filters drawer, which loads its own choices.
    select.evaluate("element => { element.dataset.before = 'yes'; }")
    page.locator(".w-active-filters .w-pill__remove").click()
    expect(page.locator(NAMES)).to_have_count(6)
    expect(page.locator("select[name=country][data-before]")).to_have_count(0)
    expect(select.locator("option")).to_have_count(4)
    expect(select).to_have_value("")


# version_neutral: the names are Babel's, read the same at every version; the widget is driven at the floors above.
@pytest.mark.version_neutral
def test_a_german_admin_reads_country_names_in_german(live_server, login, browser_admin, shop):
    profile = UserProfile.get_for_user(browser_admin)
    profile.preferred_language = "de"
    profile.save()
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/")
    expect(page.locator("table.listing tbody")).to_contain_text("Vereinigtes Königreich")
    expect(page.locator("table.listing tbody")).to_contain_text("Deutschland")
    expect(page.locator("select[name=country] option", has_text="Deutschland (3)")).to_have_count(1)
