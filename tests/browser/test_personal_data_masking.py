"""Personal data masked in Chromium: a colleague who may view the shop's customers but not see their personal
data reads the listing and a customer page with names, e-mails, phones and addresses hidden (dots, with
"hidden" for screen readers) and every figure shown; searching for a buyer's e-mail finds nothing. A colleague
with "See personal data" reads the same pages in full. Both masked pages are checked by axe.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import run_axe
from tests.factories import order_data
from tests.permission_world import PASSWORD, grant, make_staff
from wagtail_customers.models import Channel, Customer, SellerAccount
from wagtail_customers.permissions import Action
from wagtail_customers.services.ingestion import record_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUYERS = (("Grace Hopper", "grace@navy.example", "+1 202 555 0101"), ("Ada Lovelace", "ada@engine.example", ""))


@pytest.fixture
def shop(db):
    account = SellerAccount.objects.create(name="Shopify EU", channel=Channel.SHOPIFY, currency="EUR")
    for index, (name, email, phone) in enumerate(BUYERS):
        data = order_data(f"S-{index}", email=email, name=name, city="Arlington", lines=((2, "25.00"),))
        data.customer.phone = phone
        data.ship_to.postal_code = "22201"
        record_order(account, data)
    return account


def personal_values():
    return [value for buyer in BUYERS for value in buyer if value] + ["Arlington", "22201"]


def test_a_masked_listing_and_customer_page(live_server, login, shop, axe_script, screenshot):
    grant(make_staff("analyst"), shop, Action.VIEW)
    page = login("analyst", PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})
    grace = Customer.objects.get(email="grace@navy.example")

    page.goto(f"{live_server.url}/admin/customers/")
    main = page.locator("main")
    expect(main.locator(f'a[href$="/admin/customers/{grace.pk}/"]').first).to_have_text(
        re.compile(rf"Customer #{grace.pk}")
    )
    text = main.inner_text()
    for value in personal_values():
        assert value not in text, value
    # The figures stay: 2 customers, 100.00 spent in all, each row's amount.
    expect(main.locator("dl.wc-stats")).to_contain_text("2")
    expect(main).to_contain_text("€50.00")
    # A masked cell is dots on screen and "hidden" for a screen reader, with a tooltip that says why.
    hidden = main.locator(".wc-hidden-value").first
    expect(hidden).to_have_attribute("title", re.compile("you may not see"))
    expect(hidden.locator(".w-sr-only")).to_have_text("hidden")
    assert run_axe(page, axe_script) == []
    screenshot(page, "customers-listing-masked")

    # Searching for the e-mail finds nothing; the order id still finds the buyer.
    page.goto(f"{live_server.url}/admin/customers/?q=grace%40navy.example")
    expect(main.locator(f'a[href$="/admin/customers/{grace.pk}/"]')).to_have_count(0)
    page.goto(f"{live_server.url}/admin/customers/?q=S-0")
    expect(main.locator(f'a[href$="/admin/customers/{grace.pk}/"]').first).to_be_visible()

    page.goto(f"{live_server.url}/admin/customers/{grace.pk}/")
    expect(page.locator("h1")).to_contain_text(f"Customer #{grace.pk}")
    page.get_by_role("tab", name="Details").click()
    details = page.locator("main")
    text = details.inner_text()
    for value in personal_values():
        assert value not in text, value
    expect(details.locator("[data-wc-amount-spent]")).to_contain_text("50.00")
    # No access request for someone who may not see what it holds.
    assert page.get_by_role("link", name="Download personal data (access request)").count() == 0
    assert run_axe(page, axe_script) == []
    screenshot(page, "customer-page-masked")


# version_neutral: the same pages as the test above, for another user.
@pytest.mark.version_neutral
def test_a_colleague_with_the_action_sees_everything(live_server, login, shop):
    grant(make_staff("support"), shop, Action.VIEW, Action.SEE_PERSONAL_DATA)
    page = login("support", PASSWORD)
    grace = Customer.objects.get(email="grace@navy.example")
    page.goto(f"{live_server.url}/admin/customers/?q=grace%40navy.example")
    expect(page.locator("main").locator(f'a[href$="/admin/customers/{grace.pk}/"]').first).to_have_text(
        re.compile("Grace Hopper")
    )
    page.goto(f"{live_server.url}/admin/customers/{grace.pk}/")
    expect(page.locator("h1")).to_contain_text("Grace Hopper")
    page.get_by_role("tab", name="Details").click()
    expect(page.locator("main")).to_contain_text("grace@navy.example")
    expect(page.locator("main")).to_contain_text("+1 202 555 0101")
    assert page.locator("main .wc-hidden-value").count() == 0
