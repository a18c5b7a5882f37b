"""Merging duplicate customers in Chromium: from the customer page's "Actions" menu, find the duplicate, compare both
side by side with the statistics after the merge, merge, then undo from the success message; the state afterwards
is the state before. The merge screen is checked by axe.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import run_axe
from tests.browser.test_destructive_actions import assert_no_error_page
from tests.factories import order_data
from tests.permission_world import PASSWORD, grant, make_staff
from tests.test_merge import state
from wagtail_customers.models import Channel, Customer, CustomerMerge, Order, SellerAccount
from wagtail_customers.permissions import Action
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(db):
    account = SellerAccount.objects.create(name="Shopify EU", channel=Channel.SHOPIFY, currency="EUR")
    record_orders(
        account,
        [
            order_data("S-1", email="grace@example.com", name="Grace Hopper", day=1, lines=((1, "10.00"),)),
            order_data("S-2", email="grace@example.com", name="Grace Hopper", day=4, lines=((2, "10.00"),)),
            order_data("S-3", email="g.hopper@navy.example", name="Grace Hopper", day=6, lines=((1, "15.00"),)),
            order_data("S-4", email="other@example.com", name="Someone Else", day=2),
        ],
    )
    return account


@pytest.fixture
def merger_page(live_server, login, shop):
    """A colleague who may view, see personal data and delete on the shop, at 1280 px."""
    grant(make_staff("merger"), shop, Action.VIEW, Action.DELETE, Action.SEE_PERSONAL_DATA)
    page = login("merger", PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})
    return page


def test_merge_and_undo_from_the_customer_page(merger_page, live_server, shop, axe_script, screenshot):
    page = merger_page
    kept = Customer.objects.get(email="grace@example.com")
    duplicate = Customer.objects.get(email="g.hopper@navy.example")
    before = state(shop)
    detail = f"{live_server.url}/admin/customers/{kept.pk}/"
    page.goto(detail)

    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Merge with…").click()
    page.wait_for_url(re.compile(rf"/admin/customers/{kept.pk}/merge/$"))
    # The namesake is suggested; the other customer is not.
    results = page.locator("[data-wc-merge-results]")
    expect(results).to_contain_text("g.hopper@navy.example")
    expect(results).not_to_contain_text("other@example.com")
    results.get_by_role("link", name=re.compile("Compare with")).click()
    page.wait_for_url(re.compile(rf"/merge/\?other={duplicate.pk}$"))

    table = page.locator("[data-wc-merge-table]")
    expect(table).to_contain_text("grace@example.com")
    expect(table).to_contain_text("g.hopper@navy.example")
    orders_row = table.locator("tr[data-wc-statistic]").first
    expect(orders_row.locator("[data-wc-after]")).to_have_text("3")
    assert run_axe(page, axe_script) == []
    screenshot(page, "customer-merge-screen")

    page.get_by_role("button", name="Yes, merge").click()
    page.wait_for_url(detail)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("merged into")
    assert not Customer.objects.filter(pk=duplicate.pk).exists()
    assert set(Order.objects.filter(customer=kept).values_list("external_id", flat=True)) == {"S-1", "S-2", "S-3"}
    kept.refresh_from_db()
    assert kept.orders_count == 3

    page.locator(".messages").get_by_role("link", name="Undo").click()
    page.wait_for_url(re.compile(rf"/admin/customers/{kept.pk}/merge/undo/\?merge="))
    expect(page.locator("main")).to_contain_text("Undo the merge of")
    page.get_by_role("button", name="Yes, undo the merge").click()
    page.wait_for_url(detail)
    assert_no_error_page(page)
    expect(page.locator(".messages")).to_contain_text("Merge undone")
    assert state(shop) == before
    assert CustomerMerge.objects.get().undone_at is not None
