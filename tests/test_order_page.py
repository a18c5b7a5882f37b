import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.customer_page_support import staff_user
from tests.factories import moment, order_data
from tests.test_customer_page import header_actions_menu, menu_item_labels
from wagtail_customers.services.ingestion import record_order
from wagtail_customers.services.inputs import AddressData, FeedbackData, LineData, PromoCodeData

pytestmark = pytest.mark.django_db
D = Decimal


def order_url(order_id):
    return reverse("wagtail_customers_customer:order", args=[order_id])


def pl_row(html, key):
    """The text of one P&L row, tags stripped and spaces collapsed."""
    row = re.search(rf'<tr[^>]*data-wc-pl-line="{key}".*?</tr>', html, re.S).group(0)
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


def full_order(account, *, unit_cost="4.00", channel_fees="3.00", extra_lines=0):
    data = order_data(
        "O-100",
        paid_at=moment(0, 14),
        shipped_at=moment(1),
        shipping=D("5.00"),
        tax=D("2.00"),
        discount="2.00",
        channel_fees=None if channel_fees is None else D(channel_fees),
        fulfilment_cost=D("2.50"),
        fulfilment_status="fulfilled",
        sync_status="error",
    )
    data.lines = [
        LineData(
            sku="MUG-1",
            product_name="Mug <large>",
            quantity=2,
            unit_price=D("10.00"),
            discount=D("1.00"),
            unit_cost=None if unit_cost is None else D(unit_cost),
            returned_quantity=1,
        ),
        LineData(sku="TEE-2", product_name="T-shirt", quantity=1, unit_price=D("5.00"), unit_cost=D("1.50")),
    ] + [
        LineData(sku=f"X{n}", product_name=f"Extra {n}", quantity=1, unit_price=D("1.00"), unit_cost=D("0.10"))
        for n in range(extra_lines)
    ]
    data.promo_codes = [PromoCodeData("SPRING", D("2.00"))]
    data.feedback = FeedbackData(rating=5, comment="Lovely")
    data.ship_to = AddressData(name="Ada L.", line1="2 Side St", postal_code="BS1", city="Bristol", country="GB")
    return record_order(account, data)


def test_order_page_summary(admin_client, account):
    order = full_order(account)
    response = admin_client.get(order_url(order.pk))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Order O-100",
        "Shop A",
        "Shopify",
        "Fulfilled",
        "Error",  # sync status
        "Bristol",
        "2 Side St",
        "MUG-1",
        "Mug &lt;large&gt;",  # escaped
        "SPRING",
        "Rated 5 out of 5",
        "Lovely",
        "Paid",
        "Shipped",
    ):
        assert text in html, text
    assert "Mug <large>" not in html
    # Line total less the line discount, in the order's currency.
    assert "$19.00" in html
    # Totals: subtotal 25, total 25 - 2 + 5 + 2 = 30.
    assert "$25.00" in html and "$30.00" in html
    customer_url = reverse("wagtail_customers_customer:detail", args=[order.customer_id])
    assert f'href="{customer_url}"' in html
    assert reverse("wagtail_customers_customer:email", args=[order.customer_id]) + f"?order={order.pk}" in html


def test_order_page_profit_and_loss(admin_client, account):
    order = full_order(account)
    html = admin_client.get(order_url(order.pk)).content.decode()
    # Revenue 25 of goods + 5 shipping; discounts 2 + 1; cost of goods 1 kept mug x 4.00 + 1.50.
    assert pl_row(html, "revenue") == "Revenue $30.00"
    assert pl_row(html, "discounts") == "Discounts −$3.00"
    assert pl_row(html, "refunds") == "Refunds $0.00"
    assert pl_row(html, "net_revenue") == "Net revenue $27.00"
    assert pl_row(html, "channel_fees") == "Channel fees −$3.00"
    assert pl_row(html, "fulfilment_costs") == "Fulfilment and shipping costs −$2.50"
    assert pl_row(html, "cost_of_goods") == "Cost of goods −$5.50"
    assert pl_row(html, "gross_profit") == "Gross profit $16.00"
    assert pl_row(html, "margin") == "Margin 59.3 %"
    assert "incomplete" not in html


def test_a_loss_is_written_with_the_same_minus_as_the_deductions(admin_client, account):
    # Costs above the revenue: the gross profit is negative, and reads like the lines above it.
    order = full_order(account, channel_fees=Decimal("40.00"))
    html = admin_client.get(order_url(order.pk)).content.decode()
    assert pl_row(html, "gross_profit") == "Gross profit −$21.00"


def test_missing_costs_show_as_not_known_and_profit_incomplete(admin_client, account):
    order = full_order(account, unit_cost=None, channel_fees=None)
    html = admin_client.get(order_url(order.pk)).content.decode()
    assert "not known" in pl_row(html, "channel_fees")
    assert "not known" in pl_row(html, "cost_of_goods")
    assert "Unit cost not known for 1 of the order" in pl_row(html, "cost_of_goods")
    assert pl_row(html, "gross_profit") == "Gross profit incomplete"
    assert pl_row(html, "margin") == "Margin not known"
    # Never as if the costs were zero: 27 - 2.50 - 1.50 (the one known line) is only a ceiling.
    assert "Profit is incomplete: Channel fees, Cost of goods not known" in " ".join(html.split())
    assert "at most that" in html and "$23.00" in html
    assert "$16.00" not in html


def test_another_accounts_order_is_404(client, account, other_account):
    mine = record_order(account, order_data("M-1"))
    theirs = record_order(other_account, order_data("B-1", email="bob@example.com"))
    client.force_login(staff_user("seller", {account: {"can_view": True}}))
    assert client.get(order_url(mine.pk)).status_code == 200
    assert client.get(order_url(theirs.pk)).status_code == 404
    assert client.get(order_url(10**12)).status_code == 404
    assert client.get(order_url(9_223_372_036_854_775_807)).status_code == 404


def test_email_action_on_order_page_follows_the_grant(client, account):
    order = record_order(account, order_data("G-1"))
    email_url = reverse("wagtail_customers_customer:email", args=[order.customer_id])
    client.force_login(staff_user("viewer", {account: {"can_view": True}}))
    assert email_url not in client.get(order_url(order.pk)).content.decode()
    client.force_login(staff_user("mailer", {account: {"can_view": True, "can_email": True}}))
    assert email_url in client.get(order_url(order.pk)).content.decode()


def test_query_count_does_not_grow_with_lines(admin_client, account, other_account):
    small = full_order(account, extra_lines=3)
    big = full_order(other_account, extra_lines=48)
    admin_client.get(order_url(small.pk))  # warm Wagtail's per-process caches
    counts = []
    for order in (small, big):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(order_url(order.pk))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert b"Extra 47" in response.content


def test_order_without_lines_or_address(admin_client, account):
    data = order_data("N-1", lines=(), city="")
    order = record_order(account, data)
    html = admin_client.get(order_url(order.pk)).content.decode()
    assert "The channel reported no lines for this order." in html
    assert "The channel gave no shipping address for this order." in html


def test_the_order_page_header_actions_menu_holds_every_header_action(admin_client, account):
    """On a phone the order page's header actions are in one "Actions" menu (as the customer page's): made from the
    header's own buttons, in their order, with the same URLs, as menu items."""
    order = record_order(account, order_data("H-1"))
    html = admin_client.get(order_url(order.pk)).content.decode()
    menu = header_actions_menu(html)
    header = html[: html.index('class="wc-header-menu"')]
    # Its button is named by its visible label.
    assert re.search(
        r'<button type="button" class="w-dropdown__toggle [^"]*wc-header-menu__toggle"[^>]*>\s*Actions', menu
    )
    assert menu_item_labels(menu) == ["E-mail customer about this order", "Customer"]
    for url in (
        reverse("wagtail_customers_customer:email", args=[order.customer_id]) + f"?order={order.pk}",
        reverse("wagtail_customers_customer:detail", args=[order.customer_id]),
    ):
        assert f'href="{url}"' in menu, url
        # And among the header's buttons, before it.
        assert f'href="{url}"' in header, url
    # Menu items, not header buttons; the header has no "..." menu: the one dropdown of its actions is this one.
    assert "w-header-button" not in menu.split("</button>", 1)[1]
    actions = html[html.index('id="w-slim-header-buttons"') : html.index("</header>")]
    assert len(re.findall(r"<button [^>]*class=\"w-dropdown__toggle[ \"]", actions)) == 1


def test_the_order_page_actions_menu_follows_the_grant(client, account):
    """A user who may not e-mail the customer: the menu has the one action the header has."""
    order = record_order(account, order_data("H-2"))
    client.force_login(staff_user("viewer", {account: {"can_view": True}}))
    html = client.get(order_url(order.pk)).content.decode()
    assert menu_item_labels(header_actions_menu(html)) == ["Customer"]
    assert reverse("wagtail_customers_customer:email", args=[order.customer_id]) not in html


def test_the_order_page_actions_menu_opens_the_channels_contact_page_in_a_new_tab(admin_client, account):
    """An account that contacts buyers on the channel's page: the menu's item is the header's link, a new tab."""
    account.contact_url_template = "https://sellercentral.example.com/messaging/contact?orderID={order_id}"
    account.save()
    order = record_order(account, order_data("H-3"))
    menu = header_actions_menu(admin_client.get(order_url(order.pk)).content.decode())
    link = re.search(r'<a [^>]*href="https://sellercentral\.example\.com/messaging/contact\?orderID=H-3"[^>]*>', menu)
    assert link, menu
    assert 'target="_blank"' in link.group(0) and 'rel="noopener noreferrer"' in link.group(0)
    assert menu_item_labels(menu) == ["E-mail customer about this order", "Customer"]
