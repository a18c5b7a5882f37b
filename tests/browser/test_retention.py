"""A retention rule set in Chromium: from the seller accounts listing to the rule's page, Preview (nothing saved),
Save and its confirmation, then the daily run's report on the listing and the page. The rule's page is checked by
axe."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_accessibility import run_axe
from tests.factories import order_data
from wagtail_customers.models import Channel, Customer, RetentionRule, SellerAccount
from wagtail_customers.services.ingestion import record_order
from wagtail_customers.services.retention import apply_retention

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def amazon(db):
    account = SellerAccount.objects.create(name="Amazon DE", channel=Channel.AMAZON, currency="EUR")
    now = timezone.now()
    for number, days in enumerate((60, 45, 10)):
        data = order_data(f"302-{number}", email=f"buyer{number}@example.com", name=f"Buyer {number}")
        data.placed_at = now - timedelta(days=days + 2)
        data.shipped_at = now - timedelta(days=days)
        record_order(account, data)
    return account


def test_set_a_rule_preview_it_and_see_the_last_run(live_server, login, browser_admin, amazon, axe_script, screenshot):
    page = login("browseradmin", "browser-pw")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/customers/accounts/")
    row = page.locator("tr", has_text="Amazon DE")
    row.get_by_role("link", name="No rule").click()
    page.wait_for_url(re.compile(rf"/admin/customers/retention/{amazon.pk}/$"))
    expect(page.locator("main")).to_contain_text("Amazon DE has no retention rule")

    page.get_by_label("after the order's shipment").check()
    page.get_by_label("Days").fill("50")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-wc-retention-preview]")).to_contain_text(
        "Preview, not saved: “Erase personal data 50 days after the order's shipment” would erase the personal "
        "data of 1 customer now."
    )
    assert not RetentionRule.objects.exists()

    page.get_by_label("Days").fill("30")
    # A new rule starts disabled: erasing daily is a choice the seller makes, not what one click on Save does.
    enabled = page.get_by_role("checkbox", name="Enabled")
    expect(enabled).not_to_be_checked()
    enabled.check()
    page.get_by_role("button", name="Save").click()
    # Enabling asks first, with what the next run will erase.
    expect(page.locator("[data-wc-retention-confirm]")).to_contain_text(
        "“Erase personal data 30 days after the order's shipment” will erase the personal data of 2 customers at the "
        "next run, on "
    )
    assert not RetentionRule.objects.exists()
    assert run_axe(page, axe_script) == []
    page.get_by_role("button", name="Save the rule").click()
    expect(page.locator(".messages")).to_contain_text("Retention rule set")
    expect(page.locator("[data-wc-retention-preview]")).to_contain_text(
        "Applied now, the rule would erase the personal data of 2 customers."
    )
    rule = RetentionRule.objects.get()
    assert (rule.account, rule.basis, rule.days, rule.is_enabled) == (amazon, "shipment", 30, True)
    assert run_axe(page, axe_script) == []

    # The daily run (here called directly), then its report on the listing and on the page.
    apply_retention()
    page.goto(f"{live_server.url}/admin/customers/accounts/")
    row = page.locator("tr", has_text="Amazon DE")
    expect(row).to_contain_text("Erase personal data 30 days after the order's shipment")
    expect(row).to_contain_text("2 customers erased")
    assert run_axe(page, axe_script) == []
    row.get_by_role("link", name="Erase personal data 30 days after the order's shipment").click()
    page.wait_for_url(re.compile(rf"/admin/customers/retention/{amazon.pk}/$"))
    runs = page.locator("table", has_text="Customers erased")
    expect(runs).to_contain_text("30 days after the order's shipment")
    erased = Customer.objects.filter(erased_at__isnull=False).order_by("pk")
    assert erased.count() == 2
    for customer in erased:
        expect(runs.get_by_role("link", name=str(customer.pk), exact=True)).to_be_visible()
    expect(page.locator("[data-wc-retention-preview]")).to_contain_text("would erase the personal data of 0 customers")
    assert run_axe(page, axe_script) == []
    screenshot(page, "retention-rule")
