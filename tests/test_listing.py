"""The customers listing: tabs, search, filters, ordering, rows per page, statistics and query counts."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F, Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.users.models import UserProfile

from tests.factories import order_data
from tests.listing_support import column_labels, customer, many_customers, row_ids, row_names, staff_user
from wagtail_customers.listing import TABS, customer_listing_queryset, listing_statistics
from wagtail_customers.models import Customer, ListingPreference, Order, SellerAccount, WatchlistEntry
from wagtail_customers.services.ingestion import record_order

pytestmark = pytest.mark.django_db

TAB_PATHS = {
    "wagtail_customers:index": "/admin/customers/",
    "wagtail_customers:highest_value": "/admin/customers/highest-value/",
    "wagtail_customers:most_orders": "/admin/customers/most-orders/",
    "wagtail_customers:most_returned": "/admin/customers/most-returned/",
    "wagtail_customers:promo_codes": "/admin/customers/promo-codes/",
    "wagtail_customers:watchlist": "/admin/customers/watchlist/",
}


def with_return(data, returned=1):
    data.lines[0].returned_quantity = returned
    return data


@pytest.fixture
def shop(account, other_account, superuser):
    """Four customers over two accounts (USD and EUR) with distinct figures on every statistic."""
    ada = customer(account, "A1", email="ada@example.com", name="Ada Lovelace", lines=((1, "100.00"),), day=10)
    record_order(account, order_data("A2", email="ada@example.com", name="Ada Lovelace", lines=((2, "50.00"),), day=20))
    bob = customer(
        account, "B1", email="bob@shop.test", name="Bob Stone", promo_codes=["SPRING"], discount="5", rating=1, day=30
    )
    cleo = record_order(
        account,
        with_return(order_data("C1", email="cleo@example.com", name="Cléo Marchand", lines=((3, "10.00"),), day=40), 2),
    ).customer
    dan = record_order(
        other_account,
        with_return(order_data("D1", email="dan@example.org", name="Dan Brown", city="Paris", lines=((1, "999.00"),))),
    ).customer
    WatchlistEntry.objects.create(customer=bob, added_by=superuser)
    return {"ada": ada, "bob": bob, "cleo": cleo, "dan": dan}


def refreshed(shop):
    return {name: Customer.objects.get(pk=c.pk) for name, c in shop.items()}


@pytest.mark.parametrize(("url_name", "path"), TAB_PATHS.items())
def test_each_tab_has_its_bookmarkable_url(admin_client, shop, url_name, path):
    assert reverse(url_name) == path
    response = admin_client.get(path)
    assert response.status_code == 200
    assert b'aria-current="page"' in response.content
    results = admin_client.get(f"{path}results/")
    assert results.status_code == 200


def test_tabs_show_their_customers_in_their_order(admin_client, shop):
    c = refreshed(shop)
    assert row_ids(admin_client.get("/admin/customers/highest-value/")) == [
        c["dan"].pk,
        c["ada"].pk,
        c["cleo"].pk,
        c["bob"].pk,
    ]
    most_orders = row_ids(admin_client.get("/admin/customers/most-orders/"))
    assert most_orders[0] == c["ada"].pk and len(most_orders) == 4
    assert row_ids(admin_client.get("/admin/customers/most-returned/")) == [c["cleo"].pk, c["dan"].pk]
    assert row_ids(admin_client.get("/admin/customers/promo-codes/")) == [c["bob"].pk]
    assert row_ids(admin_client.get("/admin/customers/watchlist/")) == [c["bob"].pk]
    all_tab = row_ids(admin_client.get("/admin/customers/"))
    assert all_tab == sorted(all_tab, key=lambda pk: Customer.objects.get(pk=pk).last_order_at, reverse=True)


def test_promo_codes_tab_always_shows_the_discount_received(admin_client, shop):
    response = admin_client.get("/admin/customers/promo-codes/")
    labels = column_labels(response)
    assert "Discount received" in labels and "Promo codes used" in labels
    assert "$5.00" in response.content.decode()
    assert "Discount received" not in column_labels(admin_client.get("/admin/customers/"))


def test_tabs_keep_search_filters_and_accounts(admin_client, shop, account):
    response = admin_client.get(f"/admin/customers/?q=ada&channel=shopify&account={account.pk}&ordering=units")
    content = response.content.decode()
    for slug in ("highest-value", "promo-codes", "watchlist"):
        link = f'href="/admin/customers/{slug}/?q=ada&amp;channel=shopify&amp;account={account.pk}"'
        assert link in content


def test_search_by_name_and_email_is_case_insensitive(admin_client, shop):
    c = shop
    assert row_ids(admin_client.get("/admin/customers/?q=LOVELACE")) == [c["ada"].pk]
    assert row_ids(admin_client.get("/admin/customers/?q=Shop.TEST")) == [c["bob"].pk]
    assert row_ids(admin_client.get("/admin/customers/highest-value/results/?q=example.com")) == [
        c["ada"].pk,
        c["cleo"].pk,
    ]
    nothing = admin_client.get("/admin/customers/?q=zzzz")
    assert row_ids(nothing) == []
    assert b"No customers match your search and filters" in nothing.content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("channel=amazon", ["dan"]),
        ("channel=shopify&channel=amazon", ["ada", "bob", "cleo", "dan"]),
        ("country=gb", ["ada", "bob", "cleo", "dan"]),
        ("orders_min=2", ["ada"]),
        ("orders_max=1", ["bob", "cleo", "dan"]),
        ("amount_spent_min=100&amount_spent_max=500", ["ada"]),
        ("has_returns=yes", ["cleo", "dan"]),
        ("has_returns=no", ["ada", "bob"]),
        ("has_negative_feedback=yes", ["bob"]),
        ("used_promo_code=yes", ["bob"]),
        ("on_watchlist=yes", ["bob"]),
        ("on_watchlist=no", ["ada", "cleo", "dan"]),
        ("last_order_from=2024-01-25&last_order_to=2024-02-05", ["bob"]),
    ],
)
def test_filters(admin_client, shop, query, expected):
    response = admin_client.get(f"/admin/customers/highest-value/?{query}")
    assert response.status_code == 200
    assert sorted(row_ids(response)) == sorted(shop[name].pk for name in expected)


@pytest.mark.parametrize("query", ["channel=amazon", "channel=amazon&channel=ebay", "rfm_group=champions"])
def test_multiple_choice_filters_read_the_rows_without_distinct(admin_client, shop, query):
    """One row per customer on each filter's path (the account, the one-to-one score): no SELECT DISTINCT, which
    sorted every customer in view before the first page. A channel is read as its seller accounts' ids, so the
    database walks the tab's sort index as it does for the account selector."""
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(f"/admin/customers/?{query}")
    assert response.status_code == 200
    rows = [q["sql"] for q in queries.captured_queries if 'FROM "wagtail_customers_customer"' in q["sql"]]
    assert rows and not [sql for sql in rows if "DISTINCT" in sql]
    if query.startswith("channel"):
        assert not [sql for sql in rows if '"channel"' in sql.split(" WHERE ", 1)[-1]]


def test_a_channel_filter_shows_only_the_accounts_in_scope(client, shop):
    """The channel's accounts are read from every account, then narrowed by the user's grants like any listing."""
    client.force_login(staff_user("seller", {shop["ada"].account: {}}))
    assert row_ids(client.get("/admin/customers/?channel=amazon")) == []
    assert sorted(row_ids(client.get("/admin/customers/?channel=amazon&channel=shopify"))) == sorted(
        shop[name].pk for name in ("ada", "bob", "cleo")
    )


def test_active_filters_show_as_chips(admin_client, shop):
    response = admin_client.get("/admin/customers/?channel=amazon&has_returns=yes&orders_min=1")
    content = response.content.decode()
    assert "Channel:" in content and "Amazon" in content
    assert "Has returns:" in content
    # Not counted before the table (FILTERED_COUNT_LIMIT 0): the statistics band, loaded after it, says how many.
    assert "Matching customers" in content and len(row_ids(response)) == 1


def test_number_range_chips_write_numbers_in_the_users_language(admin_client, superuser, shop):
    """ "Amount spent: 250.5 - alle" in the German admin: Wagtail's range chip wrote the bound with ``str()``."""
    profile = UserProfile.get_for_user(superuser)
    profile.preferred_language = "de"
    profile.save()
    query = "amount_spent_min=1250.5&orders_max=2000&days_since_last_order_min=1200&probability_active_max=99.5"
    html = admin_client.get(f"/admin/customers/?{query}").content.decode()
    chips = html.split('class="w-active-filters"', 1)[1].split("</ul>", 1)[0]
    values = dict(re.findall(r"([^<>]+):\s*</span>\s*<b[^>]*>([^<]*)</b>", chips))
    assert {label.strip(): value for label, value in values.items()} == {
        "Amount spent": "1.250,5 - alle",
        "Orders": "alle - 2.000",
        "Days since last order": "1.200 - alle",
        "Probability active (%)": "alle - 99,5",
    }


HOSTILE_QUERIES = [
    "p=-1",
    "p=abc",
    "p=99999999999999999999",
    # A search or filter leaves the count inexact: a page number past any OFFSET the database takes.
    "q=bulk&p=99999999999999999999",
    "has_returns=no&p=99999999999999999999",
    "per_page=7",
    "per_page=-100",
    "per_page=1e9",
    "per_page=%00",
    "ordering=password",
    "ordering=--amount_spent",
    "ordering=account__access_grants__user__password",
    "ordering=-",
    "q=%00",
    "q=" + "x" * 5000,
    "q=%27%3B%20DROP%20TABLE%20wagtail_customers_customer%3B--",
    "q=%25%25_%5C",
    "account=abc",
    "account=99999999999999999999999",
    "account=-1",
    "account=%00",
    "account=1&account=x",
    "channel=nonsense",
    "country=%00",
    "orders_min=abc",
    "orders_min=99999999999999999999999999",
    "orders_max=-5",
    "amount_spent_min=1e999",
    "amount_spent_min=NaN",
    "amount_spent_max=Infinity",
    "last_order_from=9999-12-31",
    "last_order_to=0001-01-01",
    "last_order_from=2024-13-45",
    "has_returns=maybe",
    "on_watchlist=%00",
    "_w_filter_fragment=1&channel=amazon",
    "export=csv",
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_query_parameters_never_produce_a_server_error(admin_client, shop, query):
    for path in ("/admin/customers/", "/admin/customers/most-returned/results/"):
        response = admin_client.get(f"{path}?{query}")
        assert response.status_code == 200, (path, query)
        assert response["Content-Type"].startswith("text/html")


def test_the_paginator_caps_page_numbers_where_the_listings_read_does():
    from wagtail_customers.views.listing import pagination

    paginator = pagination.KnownCountPaginator(list(range(30)), 25, known_count=None, count_is_exact=False)
    assert paginator.validate_number("99999999999999999999") == pagination.MAX_PAGE_NUMBER
    assert paginator.validate_number("7") == 7


def test_wagtails_spreadsheet_export_of_the_listing_is_off(admin_client, shop):
    response = admin_client.get("/admin/customers/?export=csv")
    assert response["Content-Type"].startswith("text/html")


def test_an_unreadable_filter_value_drops_only_that_filter(admin_client, shop):
    response = admin_client.get("/admin/customers/highest-value/?orders_min=abc&channel=amazon")
    assert row_ids(response) == [shop["dan"].pk]


@pytest.mark.parametrize("per_page", [10, 25, 50, 100])
def test_rows_per_page_choices(admin_client, account, per_page):
    many_customers(account, 101)
    response = admin_client.get(f"/admin/customers/?per_page={per_page}")
    assert len(row_ids(response)) == per_page
    assert f"Showing 1–{per_page} of 101 customers" in response.content.decode()


@pytest.mark.parametrize("value", ["7", "0", "1000", "abc", ""])
def test_other_rows_per_page_fall_back_to_the_default(admin_client, account, value):
    many_customers(account, 30)
    assert len(row_ids(admin_client.get(f"/admin/customers/?per_page={value}"))) == 25


def test_the_footer_shows_page_count_rows_shown_and_total(admin_client, account):
    many_customers(account, 23)
    response = admin_client.get("/admin/customers/?per_page=10&p=3")
    content = response.content.decode()
    assert "Showing 21–23 of 23 customers" in content
    assert "Page 3 of 3" in content


def test_remembered_rows_per_page_apply_and_the_url_wins(admin_client, account, superuser):
    many_customers(account, 60)
    ListingPreference.objects.create(user=superuser, per_page=50)
    assert len(row_ids(admin_client.get("/admin/customers/"))) == 50
    assert len(row_ids(admin_client.get("/admin/customers/?per_page=10"))) == 10


def test_ordering_by_a_sortable_column_both_ways(admin_client, shop):
    c = refreshed(shop)
    by_units = sorted(c.values(), key=lambda x: (x.units, -x.pk))
    assert row_ids(admin_client.get("/admin/customers/?ordering=units")) == [x.pk for x in by_units]
    names = row_names(admin_client.get("/admin/customers/?ordering=-name"))
    assert names == sorted(names, reverse=True)


def test_the_table_is_named_by_its_tab_and_says_its_order_to_screen_readers(admin_client, shop):
    page = admin_client.get("/admin/customers/highest-value/").content.decode()
    assert '<caption class="w-sr-only">Customers: Highest value</caption>' in page
    head = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    # The tab's default order (amount spent, descending): on that column only.
    assert re.findall(r'aria-sort="(\w+)"', head) == ["descending"]
    assert re.search(r'<th[^>]*aria-sort="descending"><a[^>]*>\s*Amount spent', head)
    page = admin_client.get("/admin/customers/?ordering=units").content.decode()
    head = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert re.findall(r'aria-sort="(\w+)"', head) == ["ascending"]
    assert re.search(r'<th[^>]*aria-sort="ascending"><a[^>]*>\s*Units', head)


@pytest.mark.parametrize("ordering", ["address", "identity_key", "pk", "email__password", "-account__access_grants"])
def test_ordering_outside_the_allow_list_uses_the_tabs_default(admin_client, shop, ordering):
    default = row_ids(admin_client.get("/admin/customers/highest-value/"))
    assert row_ids(admin_client.get(f"/admin/customers/highest-value/?ordering={ordering}")) == default


def test_statistics_match_the_database(admin_client, shop, account, other_account):
    response = admin_client.get("/admin/customers/")
    stats = response.context["statistics"]
    customers = Customer.objects.all()
    assert stats["customers"] == customers.count() == 4
    assert stats["repeat_customers"] == customers.filter(orders_count__gte=2).count() == 1
    assert stats["repeat_rate"] == Decimal("25.0")
    assert stats["units"] == customers.aggregate(n=Sum("units"))["n"]
    assert stats["returned_units"] == 3
    assert stats["return_rate"] == (Decimal(3) * 100 / stats["units"]).quantize(Decimal("0.1"))
    assert stats["promo_customers"] == 1
    assert stats["negative_feedbacks"] == 1
    assert stats["watched"] == 1
    since = timezone.now() - timezone.timedelta(days=30)
    assert stats["new_customers"] == customers.filter(first_order_at__gte=since).count()
    # Revenue per currency, checked against the orders themselves (never added across currencies).
    revenue = {}
    for currency in ("USD", "EUR"):
        orders = Order.objects.filter(currency=currency, account__currency=currency)
        revenue[currency] = orders.aggregate(total=Sum(F("total") - F("refunded")))["total"]
    assert {row["currency"]: row["revenue"] for row in stats["currencies"]} == revenue
    usd = next(row for row in stats["currencies"] if row["currency"] == "USD")
    usd_orders = Order.objects.filter(account=account).count()
    assert usd["average_order_value"] == (revenue["USD"] / usd_orders).quantize(Decimal("0.01"))
    content = response.content.decode()
    assert "€999.00" in content


def test_statistics_follow_the_tab_filters_and_search(admin_client, shop):
    # Filtered, the band loads after the table, from its own URL (views/listing/statistics.py).
    band = admin_client.get(
        "/admin/customers/statistics/most-returned/?channel=shopify", HTTP_X_REQUESTED_WITH="XMLHttpRequest"
    )
    stats = band.context["statistics"]
    assert stats["customers"] == 1
    assert stats["returned_units"] == 2
    assert [row["currency"] for row in stats["currencies"]] == ["USD"]


def test_statistics_are_aggregates_over_customers_never_over_orders(admin_client, shop):
    with CaptureQueriesContext(connection) as queries:
        admin_client.get("/admin/customers/")
    order_table = Order._meta.db_table
    assert not [q["sql"] for q in queries if f'"{order_table}"' in q["sql"]]


def test_the_seller_accounts_are_read_once_for_a_user_who_sees_them_all(admin_client, account, other_account):
    """A superuser's page reads the enabled accounts for the selector and takes what each row may do from them
    (``account_ids_by_action`` given their ids), not from a second read of the same accounts."""
    customer(account, "A1", name="Ada")
    customer(other_account, "B1", name="Bea")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/customers/")
    accounts_table = SellerAccount._meta.db_table
    # Reads of the accounts themselves (a join or a subquery of them elsewhere is not one).
    reads = [q["sql"] for q in queries if q["sql"].split(" FROM ", 1)[-1].startswith(f'"{accounts_table}"')]
    assert len(reads) == 1, "\n".join(r[:300] for r in reads)
    # Every row still has its menu's delete item and its watchlist form, which those ids decide.
    html = response.content.decode()
    assert html.count('class="wc-watch"') == 2 and html.count("/delete/") >= 2


def test_the_paginator_does_not_count_again(admin_client, account):
    many_customers(account, 30)
    with CaptureQueriesContext(connection) as queries:
        admin_client.get("/admin/customers/?per_page=10")
    # The country filter's grouped count (its choices) is not a count of the page's rows.
    counts = [
        q["sql"]
        for q in queries
        if "COUNT(" in q["sql"].upper() and Customer._meta.db_table in q["sql"] and "GROUP BY" not in q["sql"].upper()
    ]
    assert len(counts) == 1, counts


def test_query_count_is_the_same_at_10_and_100_rows(admin_client, account, other_account, superuser):
    many = many_customers(account, 60, prefix="alpha") + many_customers(other_account, 50, prefix="bravo")
    WatchlistEntry.objects.bulk_create([WatchlistEntry(customer=c, added_by=superuser) for c in many[::3]])
    admin_client.get("/admin/customers/")  # warm caches (content types, site root...)
    counts = {}
    for per_page in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(f"/admin/customers/?per_page={per_page}&ordering=-amount_spent")
        assert len(row_ids(response)) == per_page
        counts[per_page] = len(queries)
    assert counts[10] == counts[100]


def test_a_sort_by_personal_data_costs_no_query_more(admin_client, account):
    """Whether the user may sort by name (services/personal_data.py) is read from the grants the rows read anyway."""
    many_customers(account, 12, prefix="alpha")
    admin_client.get("/admin/customers/")  # warm caches (content types, site root...)
    counts = {}
    for ordering in ("-amount_spent", "name"):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(f"/admin/customers/?ordering={ordering}")
        assert response.status_code == 200 and row_ids(response)
        counts[ordering] = len(queries)
    assert counts["name"] == counts["-amount_spent"], counts


def test_customer_listing_queryset_is_what_the_listing_shows(admin_client, shop, superuser):
    params = {"q": "example", "has_returns": "no", "ordering": "-amount_spent"}
    queryset = customer_listing_queryset(superuser, "all", params)
    shown = row_ids(admin_client.get("/admin/customers/", params))
    assert list(queryset.values_list("pk", flat=True)) == shown == [shop["ada"].pk]
    with pytest.raises(ValueError):
        customer_listing_queryset(superuser, "no-such-tab", {})


def test_every_tab_works_through_the_shared_function(shop, superuser):
    for tab in TABS:
        queryset = customer_listing_queryset(superuser, tab, {})
        stats = listing_statistics(queryset)
        assert stats["customers"] == queryset.count()


def test_the_name_links_to_the_customer_page(admin_client, shop):
    content = admin_client.get("/admin/customers/").content.decode()
    assert f'href="/admin/customers/{shop["ada"].pk}/"' in content


def test_the_bands_return_rate_is_rounded_as_the_customers_own(admin_client, account):
    """Half up, as the database rounds a customer's return rate: 1 unit of 16 is 6.25 %, shown 6.3 % in both
    (the band's half to even showed 6.2 % beside a row of 6.3 %)."""
    data = order_data("R-1", lines=((16, "5.00"),))
    data.lines[0].returned_quantity = 1
    record_order(account, data)
    stats = admin_client.get("/admin/customers/").context["statistics"]
    assert stats["return_rate"] == Customer.objects.get().return_rate == Decimal("6.3")
