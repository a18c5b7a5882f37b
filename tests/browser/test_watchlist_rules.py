"""Watchlist rules in Chromium: a seller's manager creates a rule from the Customers menu, runs it, and the matching
customer is on the watchlist with the rule as the note."""

import os

import pytest
from playwright.sync_api import expect

from tests.browser.geometry import box
from tests.factories import order_data
from tests.permission_world import PASSWORD, grant, make_staff
from wagtail_customers.models import Channel, Customer, SellerAccount, WatchlistEntry, WatchlistRule
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(db):
    """Two buyers of one account: Rita returned 2 of her 3 units over 3 orders, Nils returned nothing."""
    account = SellerAccount.objects.create(name="Shop Rules", channel=Channel.SHOPIFY, currency="EUR")
    orders = []
    for i in range(3):
        rita = order_data(f"R{i}", email="rita@example.com", name="Rita Returns", lines=((1, "20.00"),), day=i)
        rita.lines[0].returned_quantity = 1 if i < 2 else 0
        orders.append(rita)
        orders.append(order_data(f"N{i}", email="nils@example.com", name="Nils Keeps", lines=((1, "20.00"),), day=i))
    record_orders(account, orders)
    return account


@pytest.fixture
def manager(shop, wagtail_page_tree):
    user = make_staff("rulesmanager")
    grant(user, shop, "view", "see_personal_data", "manage_watchlist")
    return user


def test_create_a_rule_and_run_it(live_server, login_through_the_form, manager, shop, screenshot):
    page = login_through_the_form("rulesmanager", PASSWORD)
    page.get_by_role("button", name="Customers").click()
    page.get_by_role("link", name="Watchlist rules").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/watchlist-rules/")
    expect(page.get_by_text("No watchlist rules yet.")).to_be_visible()

    page.get_by_role("link", name="Add a rule").click()
    page.get_by_label("Name").fill("High returns")
    page.get_by_label("Figure (condition 1)").select_option(label="Return rate (%)")
    page.get_by_label("Operator (condition 1)").select_option(label="more than (>)")
    page.get_by_label("Value (condition 1)").fill("30")
    page.get_by_label("Figure (condition 2)").select_option(label="Orders")
    page.get_by_label("Operator (condition 2)").select_option(label="at least (≥)")
    page.get_by_label("Value (condition 2)").fill("3")
    screenshot(page, "watchlist-rule-form")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(f"{live_server.url}/admin/customers/watchlist-rules/")
    expect(page.get_by_text("Watchlist rule “High returns” created.")).to_be_visible()
    row = page.locator("table[data-wc-watchlist-rules] tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Shop Rules")
    expect(row).to_contain_text("Return rate (%) > 30")
    expect(row).to_contain_text("Orders ≥ 3")
    rule = WatchlistRule.objects.get()
    assert (rule.account, rule.created_by, rule.conditions.count()) == (shop, manager, 2)

    row.get_by_role("button", name="Run now High returns").click()
    expect(page.get_by_text("Watchlist rule “High returns” ran: 1 customer added to the watchlist.")).to_be_visible()
    entry = WatchlistEntry.objects.get()
    assert (entry.customer.name, entry.note, entry.rule) == ("Rita Returns", "Rule: High returns", rule)

    # The customer page says which rule added them.
    page.goto(f"{live_server.url}/admin/customers/{Customer.objects.get(name='Rita Returns').pk}/")
    expect(page.locator(".wc-watchlist-note")).to_contain_text("Rule: High returns")


# version_neutral: the plugin's own condition rows on a phone; the test above fills them at the floors.
@pytest.mark.version_neutral
def test_the_conditions_are_stacked_and_usable_on_a_phone(live_server, login, manager, shop):
    """At 390 px the conditions' table took 869 px and the content area cut off all but its Figure column: below
    50em each condition is a group of its own, every field wholly in the window under its visible label."""
    page = login("rulesmanager", PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/admin/customers/watchlist-rules/add/")
    conditions = page.locator("table[data-wc-conditions]")
    assert box(conditions)["right"] <= 390
    expect(conditions.locator("thead")).to_be_hidden()
    for number in (1, 2, 3):
        for name in ("Figure", "Operator", "Value", "Days"):
            label = page.locator("label", has_text=f"{name} (condition {number})")
            expect(label).to_be_visible()
            field = page.get_by_label(f"{name} (condition {number})")
            field.scroll_into_view_if_needed()
            # Not ``ratio=1``: scrolled to the window's foot, a field may end half a pixel under it.
            expect(field).to_be_in_viewport(ratio=0.95)
            found = box(field)
            assert 0 <= found["left"] and found["right"] <= 390, (name, number, found)
            # Its label above it, not beside it.
            assert box(label)["bottom"] <= found["top"], (name, number)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_label("Name").fill("Bad feedback")
    page.get_by_label("Figure (condition 1)").select_option(label="Negative feedbacks in the last days")
    page.get_by_label("Operator (condition 1)").select_option(label="at least (≥)")
    page.get_by_label("Value (condition 1)").fill("1")
    page.get_by_label("Days (condition 1)").fill("30")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/watchlist-rules/")
    rule = WatchlistRule.objects.get()
    assert rule.describe() == "Negative feedbacks in the last days ≥ 1 (last 30 days)"

    # An existing rule's Remove box is in the window too, beside its label.
    page.goto(f"{live_server.url}/admin/customers/watchlist-rules/{rule.pk}/")
    remove = page.get_by_label("Delete (condition 1)")
    remove.scroll_into_view_if_needed()
    found = box(remove)
    assert 0 <= found["left"] and found["right"] <= 390, found
    remove.check()
    expect(remove).to_be_checked()
    if os.environ.get("WC_DEBUG_SHOT"):
        page.screenshot(path=os.environ["WC_DEBUG_SHOT"], full_page=True)
