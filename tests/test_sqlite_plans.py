"""The index a filtered page is read by, on SQLite (wagtail_customers/sqlite_plans.py).

A bounded count of the filtered customers decides whether SQLite walks the sort order's index (many match) or
finds the rows by the filters' indexes and sorts them (few match). Either way a page shows the same rows in the
same order as without the plan, on every tab, paged on by keyset both ways, decimals and dates compared as such.
On PostgreSQL a filtered page is left to its planner and nothing is counted; only the count of a tab's new
customers is read along the first order's index there too.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.listing_support import many_customers, page_through, row_ids
from wagtail_customers.listing import TABS, CustomerListing
from wagtail_customers.models import Customer, CustomerScore, RfmGroup
from wagtail_customers.services.watchlist import add_to_watchlist
from wagtail_customers.sqlite_plans import SORT_PROBE_ROWS, USE_FILTER_INDEXES, WALK_SORT_INDEX, IndexPlanQuery

pytestmark = pytest.mark.django_db

#: These read SQLite's EXPLAIN QUERY PLAN and the SQL it is sent; PostgreSQL gets no plan and no probe, which
#: ``test_the_probe_runs_once_on_sqlite_and_only_where_an_index_is_to_choose`` checks there. CI runs both passes.
on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's query plans; the SQLite pass of `make test` runs them"
)

#: Filters on indexed columns (so the plan applies), with decimals and dates near their bounds.
FILTERS = [
    "orders_min=2",
    "amount_spent_min=100.50",
    "amount_spent_min=20&amount_spent_max=100.50",
    "orders_min=2&has_returns=yes",
    "days_since_last_order_max=40&orders_max=3",
    "return_rate_min=10",
    "on_watchlist=yes&orders_min=1",
    "rfm_group=hibernating",
    "used_promo_code=no&amount_spent_max=99.99",
    "country=DE&orders_min=2",
    "country=GB&return_rate_min=10&orders_max=3",
]
ORDERINGS = [
    "",
    "ordering=amount_spent",
    "ordering=-orders_count",
    "ordering=days_since_last_order",
    "ordering=-average_order_value",
]
#: How many rows the probe counts: below every filter's matches (walk the sort index), above them (filters).
PROBES = {WALK_SORT_INDEX: 1, USE_FILTER_INDEXES: 10_000}


@pytest.fixture
def figures(account, superuser):
    """30 customers whose figures straddle the filters' bounds (ties included), two with no order yet."""
    rows = many_customers(account, 30)
    now = timezone.now()
    amounts = [
        Decimal("100.49"),
        Decimal("100.50"),
        Decimal("100.51"),
        Decimal("99.90"),
        Decimal("20"),
        Decimal("1000"),
    ]
    for index, row in enumerate(rows):
        Customer.objects.filter(pk=row.pk).update(
            orders_count=index % 4 + 1,
            units=index % 4 + 2,
            amount_spent=amounts[index % len(amounts)],
            returned_units=index % 3,
            promo_codes_used=index % 5 == 0,
            last_order_at=now - timedelta(days=index * 3),
            country=["GB", "DE", "US", "GB", "FR"][index % 5],
        )
    for index in range(2):
        Customer.objects.create(account=account, identity_key=f"email:none{index}@example.com")
    CustomerScore.objects.bulk_create(
        CustomerScore(
            customer=row,
            account=account,
            recency_score=1,
            frequency_score=1,
            monetary_score=1,
            rfm_group=RfmGroup.HIBERNATING,
            scored_at=now,
        )
        for row in rows[::2]
    )
    add_to_watchlist(rows[3:20], superuser)


def plain_order(user, tab, params):
    """The listing's rows in its order, read without any plan (the reference)."""
    listing = CustomerListing(user, tab, params)
    return list(listing.filtered_queryset.order_by(*listing.order_by_fields()).values_list("pk", flat=True))


def with_probe(settings, rows):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "FILTER_PROBE_ROWS": rows}


def skip_the_second_probe_where_nothing_is_planned(plan):
    """PostgreSQL plans nothing and probes nothing (see the module's docstring): both probe settings read the same
    rows the same way there, so its pass (the longest of `make test`) reads them once."""
    if connection.vendor != "sqlite" and plan != WALK_SORT_INDEX:
        pytest.skip("PostgreSQL plans nothing: the other probe setting reads the same rows the same way")


@pytest.mark.parametrize("plan", PROBES)
def test_a_planned_listing_has_the_rows_and_order_of_the_plain_one(settings, superuser, figures, plan):
    skip_the_second_probe_where_nothing_is_planned(plan)
    with_probe(settings, PROBES[plan])
    for tab in TABS:
        for filters in FILTERS:
            for ordering in ORDERINGS:
                params = dict(part.split("=") for part in filter(None, f"{filters}&{ordering}".split("&")))
                expected = plain_order(superuser, tab.slug, params)
                queryset = CustomerListing(superuser, tab.slug, params).queryset
                assert list(queryset.values_list("pk", flat=True)) == expected, (tab.slug, filters, ordering)
                assert list(queryset.reverse().values_list("pk", flat=True)) == expected[::-1]
                if connection.vendor == "sqlite" and tab.slug == "all" and not ordering:
                    assert queryset.query.index_plan == plan, filters


# version_neutral: the plugin's own seek over more combinations; the test above reads the planned pages at the floors.
@pytest.mark.version_neutral
@pytest.mark.parametrize("plan", PROBES)
def test_pages_sought_by_keyset_both_ways_show_every_filtered_customer_once(
    settings, admin_client, superuser, figures, plan
):
    skip_the_second_probe_where_nothing_is_planned(plan)
    with_probe(settings, PROBES[plan])
    for tab in TABS:
        for filters in ("orders_min=2", "amount_spent_min=20&amount_spent_max=100.50", "on_watchlist=yes&orders_min=1"):
            for ordering in ("", "&ordering=amount_spent"):
                expected = plain_order(
                    superuser, tab.slug, dict(p.split("=") for p in f"{filters}{ordering}".split("&"))
                )
                url = f"{reverse(f'wagtail_customers:{tab.url_name}')}?{filters}{ordering}&per_page=10"
                forwards, backwards = page_through(admin_client, url)
                assert [pk for rows in forwards for pk in rows] == expected, (tab.slug, filters, ordering)
                assert backwards == forwards


def test_decimal_bounds_compare_as_numbers_when_the_filter_index_is_disqualified(settings, superuser, figures):
    # Django sends a decimal to SQLite as text: "+amount_spent >= '100.50'" would compare 99.90 as text.
    with_probe(settings, 1)
    listing = CustomerListing(superuser, "all", {"amount_spent_min": "100.50"})
    amounts = [row.amount_spent for row in listing.queryset]
    assert amounts and min(amounts) == Decimal("100.50")
    assert len(amounts) == Customer.objects.filter(amount_spent__gte=Decimal("100.50")).count()


def page_query(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    pages = [q["sql"] for q in queries if "ORDER BY" in q["sql"] and 'FROM "wagtail_customers_customer"' in q["sql"]]
    return response, pages[-1], queries


def query_plan(sql):
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return " / ".join(row[-1] for row in cursor.fetchall())


def planned_page(settings, client, account, probe_rows):
    """The page's SQL and SQLite's plan for it, for one account with "2 orders or more" (indexed both ways)."""
    with_probe(settings, probe_rows)
    response, sql, _queries = page_query(client, f"/admin/customers/?account={account.pk}&orders_min=2&per_page=10")
    assert row_ids(response)
    return sql, query_plan(sql)


@on_sqlite
def test_many_matches_walk_the_sort_index_with_the_filter_terms_disqualified(settings, admin_client, account, figures):
    sql, plan = planned_page(settings, admin_client, account, 5)
    assert '+"wagtail_customers_customer"."orders_count"' in sql
    assert "wc_cust_acc_last" in plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan


@on_sqlite
def test_few_matches_are_found_by_the_filter_index_and_sorted(settings, admin_client, account, figures):
    sql, plan = planned_page(settings, admin_client, account, 10_000)
    assert 'ORDER BY +"wagtail_customers_customer"."last_order_at" DESC' in sql
    assert "wc_cust_acc_orders (account_id=? AND orders_count>?)" in plan
    assert "TEMP B-TREE FOR ORDER BY" in plan


@on_sqlite
def test_the_filter_matching_fewest_customers_alone_leads_the_read(settings, admin_client, account, figures):
    # 6 in Germany, 22 with 2 orders or more: the country's index finds the rows, the orders are tested on each.
    with_probe(settings, 10_000)
    url = f"/admin/customers/?account={account.pk}&country=DE&orders_min=2&per_page=10"
    response, sql, queries = page_query(admin_client, url)
    assert (
        row_ids(response) == plain_order(response.wsgi_request.user, "all", {"country": "DE", "orders_min": "2"})[:10]
    )
    assert len(probes(queries)) == 2  # each filter alone
    assert '+"wagtail_customers_customer"."orders_count"' in sql
    assert '"wagtail_customers_customer"."country" = ' in sql
    assert "wc_cust_acc_country (account_id=? AND country=?)" in query_plan(sql)


@on_sqlite
def test_a_filter_is_weighed_by_what_its_index_reads_not_by_the_tab_s_customers(settings, superuser, figures):
    # 2 orders or more: 22 customers, 13 of them on the Watchlist (17 watched). Among the tab's customers it is
    # under the probe's 15, yet its index reads all 22: it does not lead, and the Watchlist's order is walked
    # (its partial index), where 13 of the first rows match.
    with_probe(settings, 15)
    params = {"orders_min": "2"}
    queryset = CustomerListing(superuser, "watchlist", params).queryset
    assert (queryset.query.index_plan, queryset.query.leading_field) == (WALK_SORT_INDEX, None)
    assert list(queryset.values_list("pk", flat=True)) == plain_order(superuser, "watchlist", params)
    assert len(plain_order(superuser, "watchlist", params)) == 13
    # Matching fewer than the probe across the accounts, it leads as on any tab.
    with_probe(settings, 23)
    queryset = CustomerListing(superuser, "watchlist", params).queryset
    assert (queryset.query.index_plan, queryset.query.leading_field.name) == (USE_FILTER_INDEXES, "orders_count")
    assert list(queryset.values_list("pk", flat=True)) == plain_order(superuser, "watchlist", params)


@on_sqlite
def test_broad_filters_that_together_select_few_are_found_by_their_indexes(settings, superuser, figures):
    # 6 in Germany and 7 with 4 orders, each at least the probe's 5; one customer has both, so the walk finds
    # fewer than 5 at the top of the order and the filters are counted together.
    with_probe(settings, 5)
    params = {"country": "DE", "orders_min": "4"}
    queryset = CustomerListing(superuser, "all", params).queryset
    assert (queryset.query.index_plan, queryset.query.leading_field) == (USE_FILTER_INDEXES, None)
    assert list(queryset.values_list("pk", flat=True)) == plain_order(superuser, "all", params)
    assert len(plain_order(superuser, "all", params)) == 1


@on_sqlite
@pytest.mark.parametrize(("tab", "column"), [("most-returned", "returned_units"), ("promo-codes", "promo_codes_used")])
def test_the_new_customers_of_a_tab_are_counted_along_the_first_order_index(admin_client, figures, tab, column):
    # The Most returned tab's "returned_units > 0" is a range SQLite could take instead, reading every return; the
    # Promo codes tab's "promo_codes_used > 0" opens its partial index.
    _response, _sql, queries = page_query(admin_client, f"/admin/customers/{tab}/?per_page=10")
    (count,) = [q["sql"] for q in queries if "COUNT(*)" in q["sql"] and "first_order_at" in q["sql"]]
    assert f'+"wagtail_customers_customer"."{column}" > 0' in count
    assert "wc_cust_acc_first (account_id=? AND first_order_at>?)" in query_plan(count)


#: How each database's count writes a term no index may serve (SQLite's unary ``+``; PostgreSQL's ``+ 0``).
UNINDEXED_TERM = {
    "sqlite": '+"wagtail_customers_customer"."{column}" > 0',
    "postgresql": '("wagtail_customers_customer"."{column}" + 0) > 0',
}


@pytest.mark.parametrize(("tab", "column"), [("most-returned", "returned_units"), ("promo-codes", "promo_codes_used")])
def test_each_database_counts_a_tab_s_new_customers_along_their_index_and_shows_the_same_figure(
    admin_client, figures, tab, column
):
    # PostgreSQL combined the new customers' range with the Promo codes tab's whole partial index (4.6 ms at L).
    Customer.objects.update(returned_units=1, promo_codes_used=1, first_order_at=timezone.now() - timedelta(days=2))
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(f"/admin/customers/{tab}/?per_page=10")
    (count,) = [q["sql"] for q in queries if "COUNT(*)" in q["sql"] and "first_order_at" in q["sql"]]
    assert UNINDEXED_TERM[connection.vendor].format(column=column) in count
    # The same figure as the plain count.
    shown = f'data-wc-stat="new_customers">{Customer.objects.count()}<'
    assert shown in response.content.decode()


@on_sqlite
def test_a_filter_whose_matches_lie_at_the_end_of_the_order_keeps_sqlites_plan(settings, superuser, account):
    # 520 customers by most orders: the 20 small spenders have one order and come last, beyond the rows the
    # second probe reads, so walking the orders index would pass every big spender before the first of them.
    rows = many_customers(account, SORT_PROBE_ROWS + 20)
    Customer.objects.filter(pk__in=[row.pk for row in rows[:SORT_PROBE_ROWS]]).update(
        orders_count=9, amount_spent=Decimal("500")
    )
    Customer.objects.filter(pk__in=[row.pk for row in rows[SORT_PROBE_ROWS:]]).update(amount_spent=Decimal("10"))
    with_probe(settings, 5)
    params = {"amount_spent_max": "20"}
    queryset = CustomerListing(superuser, "most-orders", params).queryset
    assert not isinstance(queryset.query, IndexPlanQuery)
    assert list(queryset.values_list("pk", flat=True)) == plain_order(superuser, "most-orders", params)
    assert len(plain_order(superuser, "most-orders", params)) == 20


@on_sqlite
def test_a_count_or_an_exists_of_a_planned_listing_is_left_to_sqlite(settings, superuser, figures):
    # Nothing to sort: a count by the filter's index is the cheap one (exports and bulk actions count the listing).
    with_probe(settings, 1)
    queryset = CustomerListing(superuser, "all", {"orders_min": "2"}).queryset
    assert queryset.query.index_plan == WALK_SORT_INDEX
    with CaptureQueriesContext(connection) as queries:
        assert queryset.count() == Customer.objects.filter(orders_count__gte=2).count()
        assert queryset.exists()
        list(queryset[:3])
    counted, existed, listed = [q["sql"] for q in queries if q["sql"].startswith("SELECT")][-3:]
    assert '+"wagtail_customers_customer"' not in counted + existed
    assert '+"wagtail_customers_customer"."orders_count"' in listed


def probes(queries):
    return [q["sql"] for q in queries if "COUNT(*)" in q["sql"] and "LIMIT 1000" in q["sql"]]


@pytest.mark.parametrize(
    ("query", "probed"),
    [
        ("orders_min=2", True),
        ("rfm_group=hibernating", True),
        ("", False),
        ("country=DE", True),
        ("country=DE&orders_min=2&has_negative_feedback=yes", 2),
        ("has_negative_feedback=yes", False),
        ("q=bulk&orders_min=2", False),
        ("orders_min=2&ordering=expected_spend", False),
        ("ordering=-orders_count&orders_min=2", False),
    ],
)
def test_the_probe_runs_once_on_sqlite_and_only_where_an_index_is_to_choose(admin_client, figures, query, probed):
    _response, _sql, queries = page_query(admin_client, f"/admin/customers/?{query}&per_page=10")
    expected = int(probed) if connection.vendor == "sqlite" else 0
    assert len(probes(queries)) == expected
    # Each filter counted alone, unordered, so it is read along its own index.
    assert not [sql for sql in probes(queries) if "ORDER BY" in sql]


@on_sqlite
def test_the_export_reuse_check_reads_only_the_erased_customers(account):
    from wagtail_customers.exports.jobs import erased_since
    from wagtail_customers.models import ExportJob

    job = ExportJob(account_ids=[account.pk], created_at=timezone.now())
    with CaptureQueriesContext(connection) as captured:
        assert not erased_since(job)
    (sql,) = [query["sql"] for query in captured.captured_queries]
    assert "wc_cust_acc_erased (account_id=? AND erased_at>?)" in query_plan(sql)
