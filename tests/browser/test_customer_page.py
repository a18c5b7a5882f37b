import re
from decimal import Decimal

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.factories import moment, order_data
from wagtail_customers.models import EventKind, OrderEvent, WatchlistEntry
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.inputs import FeedbackData, LineData

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def grace_orders():
    """Eight months of orders for one customer, with costs on most of them."""
    orders = []
    for n in range(8):
        data = order_data(
            f"GH-{100 + n}",
            email="grace@example.com",
            name="Grace Hopper",
            day=n * 31,
            status="delivered" if n < 7 else "paid",
            fulfilment_status="fulfilled" if n < 7 else "unfulfilled",
            paid_at=moment(n * 31, 13),
            shipped_at=moment(n * 31 + 1) if n < 7 else None,
            delivered_at=moment(n * 31 + 3) if n < 7 else None,
            promo_codes=("NAVY10",) if n % 3 == 0 else (),
            discount="1.00" if n % 3 == 0 else "0",
            channel_fees=Decimal("2.40"),
            fulfilment_cost=Decimal("3.10"),
            shipping=Decimal("4.90"),
            city="Arlington" if n % 2 else "New York",
        )
        data.lines = [
            LineData(
                sku="COBOL-1",
                product_name="COBOL manual",
                quantity=1 + n % 2,
                unit_price=Decimal("18.00"),
                unit_cost=Decimal("6.50"),
            ),
            LineData(
                sku="BUG-2",
                product_name="Moth in a frame",
                quantity=1,
                unit_price=Decimal("9.00"),
                unit_cost=Decimal("2.25"),
            ),
        ]
        if n == 2:
            data.feedback = FeedbackData(rating=5, comment="Works first time.", left_at=moment(n * 31 + 5))
        orders.append(data)
    return orders


def test_customer_page_tabs_order_pl_and_email(live_server, login, browser_admin, account, screenshot):
    record_orders(account, grace_orders())
    customer = account.customers.get(email="grace@example.com")
    OrderEvent.objects.create(
        customer=customer, kind=EventKind.NOTE, occurred_at=moment(200), message="Prefers invoices by post."
    )

    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/")
    page.get_by_role("link", name="Grace Hopper", exact=True).first.click()
    page.wait_for_url(re.compile(rf".*/admin/customers/{customer.pk}/(#.*)?$"))

    # Timeline (the first tab): newest order first, with its milestones and status badge.
    timeline = page.locator("#tab-timeline")
    expect(timeline).to_be_visible()
    expect(timeline.locator(".wc-timeline__title").first).to_have_text("Order GH-107")
    expect(timeline.get_by_text("Prefers invoices by post.")).to_be_visible()
    screenshot(page, "customer-page-timeline")

    # Details: statistics, promo codes and the server-rendered chart.
    page.get_by_role("tab", name="Details").click()
    details = page.locator("#tab-details")
    expect(details).to_be_visible()
    expect(timeline).to_be_hidden()
    expect(details.get_by_text("NAVY10")).to_be_visible()
    expect(details.locator("svg[role=img] rect")).to_have_count(12)
    expect(details.get_by_text("Arlington").first).to_be_visible()
    screenshot(page, "customer-page-details")
    details.locator("#customer-spend-section").scroll_into_view_if_needed()
    screenshot(page, "customer-page-spend-chart")

    # Orders: sortable table, then the order's "..." menu to its page.
    page.get_by_role("tab", name="Orders").click()
    orders = page.locator("#tab-orders")
    expect(orders).to_be_visible()
    expect(orders.locator("tbody tr")).to_have_count(8)
    orders.get_by_role("link", name="Total").click()
    page.wait_for_url(re.compile(r".*ordering=total#tab-orders$"))
    expect(page.locator("#tab-orders")).to_be_visible()
    screenshot(page, "customer-page-orders")
    # The same address pasted without its anchor opens the Orders tab too (Wagtail 7.0 chose the first tab).
    page.goto(f"{live_server.url}/admin/customers/{customer.pk}/?ordering=total")
    expect(page.locator("#tab-orders")).to_be_visible()
    expect(page.locator("#tab-timeline")).to_be_hidden()
    expect(page.get_by_role("tab", name="Orders")).to_have_attribute("aria-selected", "true")
    page.get_by_role("button", name="More options for order GH-104").click()
    page.get_by_role("link", name="View order").click()
    page.wait_for_url(re.compile(r".*/admin/customers/orders/\d+/$"))

    # The order page and its P&L: 1 x 18 + 1 x 9 + 4.90 shipping; costs 2.40 + 3.10 + 6.50 + 2.25.
    pl = page.locator("[data-wc-pl]")
    expect(pl.locator('[data-wc-pl-line="revenue"] td')).to_have_text("$31.90")
    expect(pl.locator('[data-wc-pl-line="gross_profit"] td')).to_have_text("$17.65")
    expect(pl.locator('[data-wc-pl-line="margin"] td')).to_have_text("55.3 %")
    page.locator("#order-pl-section").scroll_into_view_if_needed()
    screenshot(page, "order-page-pl")

    # E-mail the customer about this order, then see it on the timeline.
    page.get_by_role("link", name="E-mail customer about this order").click()
    expect(page.get_by_label("Order reference")).to_have_value("GH-104")
    page.get_by_label("Reason for contacting").select_option(label="Shipping")
    page.get_by_label("Subject").fill("Your COBOL manual")
    page.get_by_label("Message").fill("Dear Grace,\nthe second volume ships <tomorrow>.")
    screenshot(page, "customer-page-email")
    page.get_by_role("button", name="Send e-mail").click()
    page.wait_for_url(re.compile(rf".*/admin/customers/{customer.pk}/$"))
    expect(page.get_by_text("E-mail sent to grace@example.com.")).to_be_visible()
    # Newest first: the e-mail tops the timeline, with a link to the order it is about.
    entry = page.locator("#tab-timeline .wc-timeline__item").first
    expect(entry).to_contain_text("E-mail sent")
    expect(entry).to_contain_text("About order GH-104")
    expect(entry).to_contain_text("Shipping: Your COBOL manual")
    expect(entry).to_contain_text("the second volume ships <tomorrow>.")
    screenshot(page, "customer-page-email-sent")

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["grace@example.com"] and mail.outbox[0].subject == "Shipping: Your COBOL manual"


# version_neutral: the same toggle view as the listing's eye and the phone's actions menu below, both driven at the
# floors.
@pytest.mark.version_neutral
def test_watchlist_toggle_from_the_header(live_server, login, browser_admin, account):
    record_orders(account, grace_orders()[:1])
    customer = account.customers.get()
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/{customer.pk}/")
    page.locator("#w-slim-header-buttons").get_by_role("button", name="Add to watchlist").click()
    expect(page.locator("#w-slim-header-buttons").get_by_role("button", name="Remove from watchlist")).to_be_visible()
    assert WatchlistEntry.objects.filter(customer=customer).exists()
    page.get_by_role("tab", name="Details").click()
    expect(page.locator("#tab-details").get_by_text("This customer is on the watchlist.")).to_be_visible()


def test_watchlist_toggle_from_the_actions_menu_on_a_phone(live_server, login, browser_admin, account):
    """In a narrow window the header's actions are in its "Actions" menu: the watchlist toggle there still POSTs."""
    record_orders(account, grace_orders()[:1])
    customer = account.customers.get()
    page = login("browseradmin", "browser-pw")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/admin/customers/{customer.pk}/")
    header = page.locator("#w-slim-header-buttons")
    expect(header.get_by_role("button", name="Add to watchlist")).to_be_hidden()
    header.get_by_role("button", name="Actions", exact=True).click()
    menu = page.locator(".wc-header-menu [data-w-dropdown-target=content]")
    menu.get_by_role("button", name="Add to watchlist").click()
    expect(page.locator(".messages")).to_contain_text("is on the watchlist")
    assert WatchlistEntry.objects.filter(customer=customer).exists()
    header.get_by_role("button", name="Actions", exact=True).click()
    expect(menu.get_by_role("button", name="Remove from watchlist")).to_be_visible()


# version_neutral: the plugin's own details markup and CSS.
@pytest.mark.version_neutral
def test_the_details_on_a_phone_put_each_label_above_its_value(live_server, login, browser_admin, account):
    """Beside the longest label a value had about 100 px: an e-mail address broke every few letters."""
    record_orders(account, grace_orders()[:1])
    customer = account.customers.get()
    page = login("browseradmin", "browser-pw")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/admin/customers/{customer.pk}/#tab-details")
    page.get_by_role("tab", name="Details").click()
    label = page.locator("#tab-details dt", has_text="E-mail").first
    value = label.locator("xpath=following-sibling::dd[1]")
    expect(value).to_contain_text(customer.email)
    label_box, value_box = label.bounding_box(), value.bounding_box()
    assert value_box["y"] >= label_box["y"] + label_box["height"] - 1, (label_box, value_box)
    assert value_box["width"] > 250, value_box
