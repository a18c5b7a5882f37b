import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.users.models import UserProfile

from tests.customer_page_support import staff_user
from tests.factories import moment, order_data
from wagtail_customers.channels import amazon_reports
from wagtail_customers.compat import STIMULUS_TABS
from wagtail_customers.models import EventKind, OrderEvent, SellerAccount, WatchlistEntry
from wagtail_customers.services.ingestion import record_order, record_orders
from wagtail_customers.services.inputs import AddressData, FeedbackData

pytestmark = pytest.mark.django_db


def detail_url(customer_id, query=""):
    return reverse("wagtail_customers_customer:detail", args=[customer_id]) + query


def section(html, tab):
    """The HTML of one tab panel."""
    start = html.index(f'<section id="tab-{tab}"')
    end = html.find('<section id="tab-', start + 1)
    return html[start : end if end > 0 else html.index("</main>")]


@pytest.fixture
def ada(account):
    """A customer with two orders, milestones, feedback, a promo code, a return and a second address."""
    first = order_data(
        "A-1",
        day=0,
        lines=((2, "10.00"), (1, "5.00")),
        promo_codes=("WELCOME10",),
        discount="1.00",
        paid_at=moment(0, 13),
        shipped_at=moment(1),
        delivered_at=moment(3),
        city="Bristol",
    )
    first.feedback = FeedbackData(rating=2, comment="Box was <b>crushed</b>", left_at=moment(4))
    first.lines[0].returned_quantity = 1
    second = order_data("A-2", day=40, lines=((1, "30.00"),), status="shipped", shipped_at=moment(41))
    record_orders(account, [first, second])
    return account.customers.get()


def test_customer_page_has_three_tabs_and_header(admin_client, ada):
    response = admin_client.get(detail_url(ada.pk))
    assert response.status_code == 200
    html = response.content.decode()
    for tab, title in (("timeline", "Timeline"), ("details", "Details"), ("orders", "Orders")):
        assert f'id="tab-label-{tab}"' in html and title in html
        section(html, tab)
    assert ('data-controller="w-tabs"' if STIMULUS_TABS else "data-tabs") in html
    assert "Ada Lovelace" in html
    # Superuser: every header action the plugin has a URL for.
    assert reverse("wagtail_customers_customer:email", args=[ada.pk]) in html
    assert reverse("wagtail_customers:delete", args=[ada.pk]) in html


def test_the_customer_page_of_a_site_without_time_zones(admin_client, ada, settings):
    # USE_TZ = False stores naive datetimes: the spending chart's aware start was refused by the database, and
    # timezone.localtime() refuses naive values: the page answered 500.
    settings.USE_TZ = False
    assert admin_client.get(detail_url(ada.pk)).status_code == 200


def test_timeline_shows_orders_with_milestones_feedback_and_events_newest_first(admin_client, ada, superuser):
    first, second = ada.orders.order_by("placed_at")
    OrderEvent.objects.create(
        customer=ada, order=first, kind=EventKind.EMAIL, occurred_at=moment(60), message="Sorry\n\nA <i>new</i> box"
    )
    OrderEvent.objects.create(customer=ada, kind=EventKind.NOTE, occurred_at=moment(20), message="Called them")
    OrderEvent.objects.create(
        customer=ada, kind=EventKind.WATCHLIST, occurred_at=moment(50), message="Added to the watchlist", user=superuser
    )
    html = section(admin_client.get(detail_url(ada.pk)).content.decode(), "timeline")

    # Newest first: the e-mail about A-1 (day 60), the watchlist change (day 50), order A-2 (day 40),
    # the note (day 20), order A-1 (day 0).
    order_texts = ("Sorry", "Added to the watchlist", "Order A-2", "Called them", "Order A-1")
    positions = [html.index(text) for text in order_texts]
    assert positions == sorted(positions)
    email = html[html.index("E-mail sent") : html.index("Added to the watchlist")]
    order_url = reverse("wagtail_customers_customer:order", args=[first.pk])
    assert "About order A-1" in email and f'href="{order_url}"' in email
    assert "A &lt;i&gt;new&lt;/i&gt; box" in email and "<i>new</i>" not in html
    a1 = html[html.index("Order A-1") :]
    # Inside an order, newest first too: feedback (day 4), delivered (3), shipped (1), paid, placed.
    labels = re.findall(r'class="wc-timeline__label">([^<]+)<', a1)
    assert labels == ["Feedback left", "Delivered", "Shipped", "Paid", "Placed"]
    assert "Rated 2 out of 5" in a1
    assert "Box was &lt;b&gt;crushed&lt;/b&gt;" in a1
    # Each order's current status as a badge.
    assert re.search(r'class="w-status[^"]*">\s*Shipped', html)
    assert "by root" in html


def test_timeline_pages_hold_each_event_once(admin_client, account):
    orders = [order_data(f"T-{n:02}", day=n * 2) for n in range(25)]
    record_orders(account, orders)
    customer = account.customers.get()
    # One event between every two orders (odd days), and one after the last; some are about an older order.
    for n in range(25):
        OrderEvent.objects.create(
            customer=customer,
            order=customer.orders.get(external_id="T-00") if n % 5 == 0 else None,
            kind=EventKind.NOTE,
            occurred_at=moment(n * 2 + 1),
            message=f"N{n:02}",
        )
    seen_orders, seen_notes = [], []
    for page in (1, 2, 3):
        html = section(admin_client.get(detail_url(customer.pk, f"?timeline_page={page}")).content.decode(), "timeline")
        seen_orders += re.findall(r"Order (T-\d\d)", html)
        seen_notes += re.findall(r"N\d\d", html)
    assert seen_orders == [f"T-{n:02}" for n in reversed(range(25))]
    assert seen_notes == [f"N{n:02}" for n in reversed(range(25))]
    # Page 2 starts with the note just after its first order, and holds 10 orders.
    page_2 = section(admin_client.get(detail_url(customer.pk, "?timeline_page=2")).content.decode(), "timeline")
    assert re.findall(r"N\d\d|Order T-\d\d", page_2)[:2] == ["N14", "Order T-14"]
    assert 'href="?timeline_page=3#tab-timeline"' in page_2
    # Hostile page numbers: a page, never an error.
    for query in ("?timeline_page=abc", "?timeline_page=-3", "?timeline_page=1e99", "?timeline_page=99999"):
        assert admin_client.get(detail_url(customer.pk, query)).status_code == 200, query
    last = section(admin_client.get(detail_url(customer.pk, "?timeline_page=99999")).content.decode(), "timeline")
    assert re.findall(r"Order (T-\d\d)", last) == ["T-04", "T-03", "T-02", "T-01", "T-00"]


def test_details_tab(admin_client, ada, account):
    WatchlistEntry.objects.create(customer=ada, note="Asks for <refunds> often")
    ada.refresh_from_db()
    html = section(admin_client.get(detail_url(ada.pk)).content.decode(), "details")
    assert "ada@example.com" in html
    # Own address (from the latest order) and the other one seen on an order.
    assert "London" in html and "Bristol" in html
    assert "Shop A" in html and "Shopify" in html
    assert "WELCOME10" in html
    # 3 units bought (cancelled none) + 1; one returned: 1 / 4 = 25 %.
    assert ada.units == 4 and ada.returned_units == 1
    assert "25.0 %" in html
    # Average order value: (24 + 30) / 2 in the account's currency.
    assert ada.amount_spent == Decimal("54.00")
    assert "$27.00" in html
    # Two orders: a repeat customer, as the listing's column and filter call it (its band counts "Repeat customers").
    assert re.search(r"<dt>Repeat customer</dt>\s*<dd>Yes</dd>", html)
    assert "Repeat buyer" not in html
    assert "This customer is on the watchlist." in html
    assert "Asks for &lt;refunds&gt; often" in html
    # The server-rendered chart: 12 months, two with spend.
    svg = re.search(r"<svg role=\"img\".*?</svg>", html, re.S).group(0)
    assert svg.count("<rect") == 12
    assert len(re.findall(r'height="(?!0")[\d.]+"', svg)) >= 2
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def other_addresses_html(client, customer):
    """The Details tab's "Other addresses on their orders" entry."""
    html = section(client.get(detail_url(customer.pk)).content.decode(), "details")
    start = html.index("Other addresses on their orders")
    return html[start : html.index("</dd>", start)]


def test_other_addresses_are_not_crowded_out_by_names_at_the_customers_own_address(admin_client, client, account):
    # One order to Paris, then 25 to the customer's own London address, each under another recipient name: the 21
    # distinct (name, address) rows read before were all London's, then left out, and the tab said "none".
    record_order(account, order_data("P-1", day=0, city="Paris", name="Ada Lovelace"))
    for n in range(25):
        record_order(account, order_data(f"L-{n}", day=n + 1, city="London", name=f"Ada Lovelace {n}"))
    customer = account.customers.get()
    assert customer.city == "London"
    html = other_addresses_html(admin_client, customer)
    assert re.findall(r"<li><address>(.*?)</address></li>", html) == [
        "Ada Lovelace<br>1 Main St<br>Paris<br>United Kingdom"
    ]
    assert "More addresses" not in html and "none" not in html

    # Without "See personal data": the same address, hidden but for its country.
    client.force_login(staff_user("masked", {account: {"can_view": True, "can_see_personal_data": False}}))
    html = other_addresses_html(client, customer)
    assert len(re.findall(r"<li><address>", html)) == 1
    assert "wc-hidden-value" in html and "United Kingdom" in html
    assert "Paris" not in html and "Main St" not in html and "Lovelace" not in html


def test_other_addresses_are_the_latest_used_places_once_each_and_more_says_so(admin_client, account):
    places = [f"Town {n:02}" for n in range(22)]
    orders = [order_data(f"T-{n}", day=n, city=city, name=f"Recipient {n}") for n, city in enumerate(places)]
    # Town 00 again, lately, under another name: one address, as recent as its latest order.
    orders.append(order_data("T-again", day=30, city="Town 00", name="Another Name"))
    # No address at all, and the customer's own (the latest order's).
    orders.append(order_data("T-blank", day=31, city=None))
    orders.append(order_data("T-own", day=32, city="London"))
    record_orders(account, orders)
    customer = account.customers.get()
    html = other_addresses_html(admin_client, customer)
    towns = re.findall(r"Town \d\d", html)
    # 22 other places, 20 shown: the latest used first; the two used longest ago are on the Orders tab.
    assert towns == ["Town 00", *[f"Town {n:02}" for n in range(21, 2, -1)]]
    assert "More addresses are on older orders" in html
    assert "London" not in html


def test_orders_tab_sorts_with_an_allow_list_and_pages(admin_client, account):
    record_orders(account, [order_data(f"S-{n}", day=n, lines=((1, f"{(n * 7) % 10 + 1}.00"),)) for n in range(30)])
    customer = account.customers.get()

    def order_ids(query):
        html = section(admin_client.get(detail_url(customer.pk, query)).content.decode(), "orders")
        return re.findall(r">\s*(S-\d+)\s*</a>", html)

    by_date = order_ids("")
    assert by_date[:3] == ["S-29", "S-28", "S-27"] and len(by_date) == 25
    assert order_ids("?orders_page=2") == ["S-4", "S-3", "S-2", "S-1", "S-0"]
    by_total = order_ids("?ordering=-total")
    totals = {f"S-{n}": (n * 7) % 10 + 1 for n in range(30)}
    assert [totals[i] for i in by_total] == sorted(totals.values(), reverse=True)[:25]
    assert order_ids("?ordering=units") and order_ids("?ordering=-items")
    # Hostile or unknown parameters: the default order, never an error.
    hostile = ("?ordering=customer__account__name", "?ordering=-lines__unit_cost", "?ordering=%00", "?orders_page=x")
    for query in hostile:
        assert order_ids(query) == by_date, query
    assert order_ids("?orders_page=999") == ["S-4", "S-3", "S-2", "S-1", "S-0"]
    # The Orders tab opens when its parameters are present; sort links keep it open.
    html = admin_client.get(detail_url(customer.pk, "?ordering=-total")).content.decode()
    if STIMULUS_TABS:  # Wagtail 7.0's tabs open the tab named in the anchor only, which the links carry
        assert 'data-w-tabs-active-panel-id-value="tab-orders"' in html
    assert "ordering=total#tab-orders" in html


def test_orders_tab_sorts_totals_in_several_currencies_by_what_they_are_worth(admin_client, account):
    record_orders(
        account,
        [
            order_data("YEN", day=1, currency="JPY", exchange_rate=Decimal("0.0067"), lines=((1, "15000"),)),
            order_data("USD", day=2, lines=((1, "900.00"),)),
            order_data("CENTS", day=3, lines=((1, "0.50"),)),
            # No exchange rate: not worth less than the others, just not comparable; last either way.
            order_data("XTS", day=4, currency="XTS", lines=((1, "99999.00"),)),
        ],
    )
    customer = account.customers.get()

    def order_ids(query):
        html = section(admin_client.get(detail_url(customer.pk, query)).content.decode(), "orders")
        return re.findall(r">\s*([A-Z]{3,5})\s*</a>", html)

    assert order_ids("?ordering=-total") == ["USD", "YEN", "CENTS", "XTS"]
    assert order_ids("?ordering=total") == ["CENTS", "YEN", "USD", "XTS"]


def test_orders_tab_columns_and_menu(admin_client, ada):
    html = section(admin_client.get(detail_url(ada.pk)).content.decode(), "orders")
    for column in ("Order", "Date", "Items", "Units", "Total", "Status", "Channel", "Sync", "Fulfilment"):
        assert f"{column}\n" in html or f"{column}<" in html, column
    a1 = ada.orders.get(external_id="A-1")
    rows = [row for row in html.split("<tr")[1:] if re.search(r">\s*A-1\s*</a>", row)]
    assert len(rows) == 1
    row = rows[0]
    assert "$24.00" in row  # 25 of goods less the 1.00 order discount
    # The month in words, as the details tab writes dates ("01/01/2024" reads two ways).
    assert "Jan. 1, 2024, noon" in row and "01/01/2024" not in row
    assert "Shopify" in row and "Synced" in row and "Unfulfilled" in row
    assert "E-mail customer about this order" in row
    assert reverse("wagtail_customers_customer:email", args=[ada.pk]) + f"?order={a1.pk}" in row
    assert "View order" in row and reverse("wagtail_customers_customer:order", args=[a1.pk]) in row
    assert 'aria-label="More options for order A-1"' in row


@pytest.mark.parametrize("query", ["", "?ordering=-units&orders_page=2", "?timeline_page=2"])
def test_query_count_does_not_grow_with_orders(admin_client, account, other_account, query):
    def build(target, count):
        record_orders(
            target,
            [
                order_data(f"Q-{n}", email="many@example.com", day=n, promo_codes=("X",), rating=3, paid_at=moment(n))
                for n in range(count)
            ],
        )
        customer = target.customers.get(email="many@example.com")
        for n in range(count):
            OrderEvent.objects.create(customer=customer, kind=EventKind.NOTE, occurred_at=moment(n, 13), message="n")
        return customer

    small, big = build(account, 5), build(other_account, 50)
    admin_client.get(detail_url(small.pk, query))  # warm Wagtail's per-process caches
    counts = []
    for customer in (small, big):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(detail_url(customer.pk, query))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 30


def test_another_accounts_customer_is_404(client, account, other_account):
    mine = record_order(account, order_data("M-1")).customer
    theirs = record_order(other_account, order_data("B-1", email="bob@example.com")).customer
    client.force_login(staff_user("seller", {account: {"can_view": True}}))
    assert client.get(detail_url(mine.pk)).status_code == 200
    assert client.get(detail_url(theirs.pk)).status_code == 404
    assert client.get(detail_url(999_999)).status_code == 404
    assert client.get(detail_url(9_223_372_036_854_775_807)).status_code == 404


def test_disabled_account_and_no_grant_are_404(client, account):
    customer = record_order(account, order_data("D-1")).customer
    client.force_login(staff_user("nogrant"))
    assert client.get(detail_url(customer.pk)).status_code == 404
    SellerAccount.objects.filter(pk=account.pk).update(is_enabled=False)
    client.force_login(staff_user("granted", {account: {"can_view": True}}))
    assert client.get(detail_url(customer.pk)).status_code == 404


def header_actions_menu(html):
    """The HTML of the header's "Actions" menu (shown in a narrow window in place of the header's buttons)."""
    start = html.index('class="wc-header-menu"')
    return html[start : html.index("</header>", start)]


def menu_item_labels(menu):
    """The labels of the menu's items (links and buttons), in order, after the menu's own button."""
    items = menu.split("</button>", 1)[1]
    return [" ".join(label.split()) for label in re.findall(r"</svg>([^<]+)</(?:a|button)>", items)]


def test_the_header_actions_menu_holds_every_header_action(admin_client, ada):
    response = admin_client.get(detail_url(ada.pk))
    html = response.content.decode()
    menu = header_actions_menu(html)
    # Its button is named by its visible label.
    assert re.search(
        r'<button type="button" class="w-dropdown__toggle [^"]*wc-header-menu__toggle"[^>]*>\s*Actions', menu
    )
    # Every action of the header, in the header's order, as links (the watchlist toggle a form's button), with the
    # same URLs: the menu is made from the header's own buttons.
    labels = [
        "Add to watchlist",
        "E-mail customer",
        "Export orders",
        "Download personal data (access request)",
        "Erase personal data",
        "Merge with…",
        "Delete",
    ]
    items = menu.split("</button>", 1)[1]  # after the menu's button
    assert menu_item_labels(menu) == labels
    for url in (
        reverse("wagtail_customers_customer:email", args=[ada.pk]),
        reverse("wagtail_customers_exports:customer_orders", args=[ada.pk]),
        reverse("wagtail_customers_customer:personal_data", args=[ada.pk]),
        reverse("wagtail_customers_customer:merge", args=[ada.pk]),
        reverse("wagtail_customers:delete", args=[ada.pk]) + "?next=",
        reverse("wagtail_customers:erase", args=[ada.pk]) + "?next=",
    ):
        assert f'href="{url}' in menu, url
        # And in the header's buttons or its "..." menu, before it.
        assert f'href="{url}' in html[: html.index('class="wc-header-menu"')], url
    assert 'action="{}"'.format(reverse("wagtail_customers:watchlist_toggle", args=[ada.pk])) in menu
    # Menu items, not header buttons.
    assert "w-header-button" not in items


def test_no_actions_no_actions_menu(client, account):
    customer = record_order(account, order_data("N-1")).customer
    client.force_login(staff_user("viewer", {account: {"can_view": True}}))
    html = client.get(detail_url(customer.pk)).content.decode()
    assert "wc-header-menu" not in html and "w-slim-header-buttons" not in html


def test_anonymous_is_sent_to_login(client, account):
    customer = record_order(account, order_data("L-1")).customer
    response = client.get(detail_url(customer.pk))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_header_actions_follow_the_grants(client, account):
    customer = record_order(account, order_data("H-1")).customer
    email_url = reverse("wagtail_customers_customer:email", args=[customer.pk])
    delete_url = reverse("wagtail_customers:delete", args=[customer.pk])

    client.force_login(staff_user("viewer", {account: {"can_view": True}}))
    html = client.get(detail_url(customer.pk)).content.decode()
    assert email_url not in html and delete_url not in html
    assert "E-mail customer about this order" not in html
    assert "Add to watchlist" not in html

    client.force_login(staff_user("manager", {account: {"can_view": True, "can_email": True, "can_delete": True}}))
    html = client.get(detail_url(customer.pk)).content.decode()
    assert email_url in html and delete_url in html
    assert "E-mail customer about this order" in html


def test_watchlist_toggle_posts_when_allowed(client, account):
    customer = record_order(account, order_data("W-1")).customer
    client.force_login(staff_user("watcher", {account: {"can_view": True, "can_manage_watchlist": True}}))
    page_url = detail_url(customer.pk)
    html = client.get(page_url).content.decode()
    toggle_url = reverse("wagtail_customers:watchlist_toggle", args=[customer.pk])
    forms = re.findall(rf'<form method="post" action="{re.escape(toggle_url)}".*?</form>', html, re.S)
    # The header button, the same in the header's "Actions" menu for a narrow window, and the Details tab.
    assert len(forms) == 3
    assert forms[0] == forms[1].replace('class=""', 'class="w-header-button button"')
    header_form = forms[0]
    assert re.search(r'name="csrfmiddlewaretoken" value="\w{32,}"', header_form)
    assert "Add to watchlist" in header_form
    fields = dict(re.findall(r'name="(next|watch)" value="([^"]*)"', header_form))
    assert fields == {"next": page_url, "watch": "1"}

    response = client.post(toggle_url, fields)
    assert response.status_code == 302 and response["Location"] == page_url
    assert WatchlistEntry.objects.filter(customer=customer).exists()
    html = client.get(page_url).content.decode()
    assert "Remove from watchlist" in html and 'name="watch" value="0"' in html
    assert "Added to the watchlist" in section(html, "timeline")


def test_customer_without_orders_has_empty_states(admin_client, account):
    data = order_data("E-1", city="")
    data.ship_to = AddressData()
    customer = record_order(account, data).customer
    customer.orders.all().delete()
    html = admin_client.get(detail_url(customer.pk)).content.decode()
    assert "Nothing on this customer&#x27;s timeline yet" in html or "Nothing on this customer's timeline yet" in html
    assert "This customer has no orders." in html
    assert "No spend in USD" in html


def test_a_returned_order_has_a_returned_entry_on_the_timeline(admin_client, account):
    # Amazon's reports (and the demo) say an order came back without saying when.
    undated = order_data("R-1", day=0, status="returned", delivered_at=moment(3), fulfilment_status="returned")
    dated = order_data("R-2", day=10, status="returned", delivered_at=moment(13), returned_at=moment(20))
    record_orders(account, [undated, dated])
    customer = account.customers.get()
    html = section(admin_client.get(detail_url(customer.pk)).content.decode(), "timeline")
    r1 = html[html.index("Order R-1") :]
    r2 = html[html.index("Order R-2") : html.index("Order R-1")]
    assert re.findall(r'class="wc-timeline__label">([^<]+)<', r1) == ["Returned", "Delivered", "Placed"]
    assert "date not known" in r1
    # A reported date is used, and the return is not shown twice.
    assert re.findall(r'class="wc-timeline__label">([^<]+)<', r2) == ["Returned", "Delivered", "Placed"]
    assert "date not known" not in r2


def test_an_amazon_feedback_date_shows_as_its_day_in_any_time_zone(admin_client, account, superuser):
    """Amazon's feedback report gives a date only ("12/25/26"): kept at midnight UTC, a New York user saw feedback
    left on 25 December as "Dec. 24, 2026, 7 p.m."; it is its day, without a time of day."""
    header = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n"
    rows = amazon_reports.rows_of(header + "12/25/26\t1\tBroken\t\tA-1\tx\n")
    rating, comment, left_at = amazon_reports.read_feedback(rows, "US")["A-1"]
    order = order_data("A-1", day=0)
    order.feedback = FeedbackData(rating=rating, comment=comment, left_at=left_at)
    record_orders(account, [order])
    profile = UserProfile.get_for_user(superuser)
    profile.current_time_zone = "America/New_York"
    profile.save()

    html = section(admin_client.get(detail_url(account.customers.get().pk)).content.decode(), "timeline")

    feedback = html[html.index("Feedback left") : html.index("Rated 1 out of 5")]
    assert '<time class="wc-timeline__time" datetime="2026-12-25">Dec. 25, 2026</time>' in feedback
    # The order's own milestones keep their time of day, in the user's zone (2024-01-01 12:00 UTC).
    assert "Jan. 1, 2024, 7 a.m." in html


def test_the_orders_table_writes_the_sync_moment_with_the_month_in_words(admin_client, ada):
    ada.orders.filter(external_id="A-1").update(synced_at=moment(2, 9))
    html = section(admin_client.get(detail_url(ada.pk)).content.decode(), "orders")
    row = next(row for row in html.split("<tr")[1:] if re.search(r">\s*A-1\s*</a>", row))
    assert "Synced, Jan. 3, 2024, 9 a.m." in row and "01/03/2024" not in row
