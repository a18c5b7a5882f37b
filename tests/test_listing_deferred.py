"""A searched or filtered listing is never held back by work that grows with the matching customers.

Its total is not counted before the table (``FILTERED_COUNT_LIMIT`` 0, the default: the statistics band
says how many match, page links name no last page) or, with the setting, a bounded count (``FILTERED_COUNT_LIMIT``
+ 1 rows at most: "more than N" past it); its statistics band loads after the table from its own URL
(``views/listing/statistics.py``), with the figures the page used to compute itself.
"""

import html
import re

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.listing_support import customer, many_customers, row_ids, staff_user
from tests.test_listing import HOSTILE_QUERIES, shop  # noqa: F401 (a fixture)
from wagtail_customers import keyset
from wagtail_customers.listing import TABS, CustomerListing, listing_statistics
from wagtail_customers.models import Customer
from wagtail_customers.sqlite_plans import SEARCH_PROBE_ROWS

pytestmark = pytest.mark.django_db

CUSTOMER_TABLE = Customer._meta.db_table
FETCH = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
#: Searches and filters, each with a tab (every kind of narrowing the listing offers).
FILTERED = [
    ("all", "q=example"),
    ("all", "channel=shopify"),
    ("highest-value", "q=ada&has_returns=no"),
    ("most-returned", "channel=shopify"),
    ("promo-codes", "q=bob"),
    ("watchlist", "q=example"),
    ("most-orders", "country=FR"),
]


def band_url(tab, query=""):
    return f"/admin/customers/statistics/{tab}/?{query}"


def link(response, css_class):
    match = re.search(rf'<li class="{css_class}">\s*<a(?: href="([^"]*)")?>', response.content.decode())
    return html.unescape(match[1]) if match and match[1] else None


def aggregates_over_customers(queries):
    return [q["sql"] for q in queries if CUSTOMER_TABLE in q["sql"] and re.search(r"\bSUM\s*\(", q["sql"], re.I)]


def totals_counted(queries):
    """The counts of customers among ``queries``, but for the search's bounded ones on PostgreSQL
    (``sqlite_plans.walked_for_search``): its probe of the first rows of the page's order, and its count of the
    matches up to where a walk pays."""
    counts = [q["sql"] for q in queries if CUSTOMER_TABLE in q["sql"] and "COUNT(" in q["sql"].upper()]
    probe = re.compile(rf"\bIN \(SELECT .* LIMIT {SEARCH_PROBE_ROWS}\)\)$")
    bounded = [sql for sql in counts if probe.search(sql) or re.search(r"\bLIMIT \d+\) subquery$", sql)]
    assert len(bounded) <= (2 if connection.vendor == "postgresql" else 0), bounded
    return [sql for sql in counts if sql not in bounded]


def test_a_filtered_page_runs_no_aggregate_and_shows_the_band_placeholder(admin_client, shop):  # noqa: F811
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/customers/?q=example&channel=shopify")
    assert response.status_code == 200
    assert aggregates_over_customers(queries) == []
    # No total counted before the table (FILTERED_COUNT_LIMIT 0): the band after it says how many match.
    assert totals_counted(queries) == []
    content = response.content.decode()
    assert "of the matching customers" in content and "Matching customers" in content
    assert "data-wc-stat=" not in content
    assert 'data-controller="wc-statistics-band"' in content and 'aria-live="polite"' in content
    assert "Calculating…" in content and "<noscript>" in content
    assert "/admin/customers/statistics/all/?q=example&amp;channel=shopify" in content
    assert "statistics-band-controller.js" in content
    assert response.context["statistics"] is None


def test_the_results_refresh_of_a_filtered_tab_defers_the_band_too(admin_client, shop):  # noqa: F811
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/customers/most-returned/results/?channel=shopify")
    assert aggregates_over_customers(queries) == []
    assert 'data-controller="wc-statistics-band"' in response.content.decode()


def test_an_unfiltered_page_still_shows_its_band_at_once(admin_client, shop):  # noqa: F811
    content = admin_client.get("/admin/customers/").content.decode()
    assert 'data-wc-stat="customers">4<' in content
    assert "wc-statistics-band" not in content.split("<main", 1)[1].split("</main>", 1)[0].replace(
        "statistics-band-controller.js", ""
    )


@pytest.mark.parametrize(("tab", "query"), FILTERED)
def test_the_band_fragment_has_the_figures_of_the_old_filtered_band(admin_client, shop, superuser, tab, query):  # noqa: F811
    response = admin_client.get(band_url(tab, query), **FETCH)
    assert response.status_code == 200
    listing = CustomerListing(superuser, tab, dict(pair.split("=") for pair in query.split("&")))
    assert listing.narrows_beyond_accounts
    assert response.context["statistics"] == listing_statistics(listing.filtered_queryset)
    content = response.content.decode()
    assert content.lstrip().startswith("<dl") and "<html" not in content
    assert f'data-wc-stat="customers">{listing.filtered_queryset.count()}<' in content


def test_the_band_fragment_of_every_tab_without_filters_is_the_summary_band(admin_client, shop, superuser):  # noqa: F811
    for tab in TABS:
        response = admin_client.get(band_url(tab.slug), **FETCH)
        assert response.context["statistics"] == CustomerListing(superuser, tab, {}).statistics()


def test_without_javascript_the_band_opens_on_a_page_of_its_own(admin_client, shop):  # noqa: F811
    response = admin_client.get(band_url("all", "q=example&p=2&after=x"))
    content = response.content.decode()
    assert response.status_code == 200 and "<html" in content
    assert 'data-wc-stat="customers">' in content
    # Back to the same listing, without the page's position.
    assert 'href="/admin/customers/?q=example"' in content


def test_the_band_fragment_refuses_users_without_access(client, shop):  # noqa: F811
    assert client.get(band_url("all", "q=example")).status_code == 302  # to the login page
    client.force_login(staff_user("nobody"))
    assert client.get(band_url("all", "q=example"), **FETCH).status_code == 403
    assert client.get(band_url("all", "q=example")).status_code == 403


def test_a_tampered_band_url_shows_nothing_of_other_accounts(client, shop, account, other_account):  # noqa: F811
    client.force_login(staff_user("viewer", {account: {"can_view": True}}))
    mine = client.get(band_url("all", "q=example"), **FETCH).context["statistics"]
    assert mine["customers"] == Customer.objects.filter(account=account, email__contains="example").count()
    theirs = client.get(band_url("all", f"q=example&account={other_account.pk}"), **FETCH).context["statistics"]
    assert theirs["customers"] == 0 and theirs["currencies"] == []
    # Dan (the other account's) is the one customer in Paris: a search for it finds nothing here.
    assert client.get(band_url("highest-value", "q=Paris"), **FETCH).context["statistics"]["customers"] == 0


def test_an_unknown_tab_is_not_found(admin_client):
    assert admin_client.get(band_url("no-such-tab"), **FETCH).status_code == 404


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_parameters_never_make_the_band_fragment_fail(admin_client, shop, query):  # noqa: F811
    for tab in ("all", "most-returned"):
        for headers in (FETCH, {}):
            response = admin_client.get(band_url(tab, query), **headers)
            assert response.status_code == 200, (tab, query)


# --- The bounded count -------------------------------------------------------------------------------


@pytest.fixture
def twelve_matches(account):
    many_customers(account, 12, prefix="match")
    many_customers(account, 3, prefix="other")


@override_settings(WAGTAIL_CUSTOMERS={"FILTERED_COUNT_LIMIT": 5})
def test_past_the_limit_the_listing_says_more_than_and_names_no_last_page(admin_client, twelve_matches):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/customers/?q=match&per_page=10")
    assert [q["sql"] for q in queries if "LIMIT 6" in q["sql"] and "COUNT(" in q["sql"].upper()]
    content = response.content.decode()
    assert len(row_ids(response)) == 10
    assert "Showing 1–10 of more than 5 customers" in content
    assert "There are more than 5 matches" in content
    assert "Page 1</p>" in content and "Page 1 of" not in content
    second = link(response, "next")
    assert second and "p=2" in second
    response = admin_client.get(second)
    content = response.content.decode()
    assert len(row_ids(response)) == 2
    assert "Showing 11–12 of more than 5 customers" in content and "Page 2</p>" in content
    assert link(response, "next") is None
    first = admin_client.get(link(response, "prev"))
    assert len(row_ids(first)) == 10 and link(first, "next")


@override_settings(WAGTAIL_CUSTOMERS={"FILTERED_COUNT_LIMIT": 5})
def test_past_the_limit_every_match_is_reachable_by_page_number_and_a_page_too_far_is_the_first(admin_client, account):
    matches = many_customers(account, 23, prefix="match")
    seen = []
    for number in (1, 2, 3):
        response = admin_client.get(f"/admin/customers/?q=match&per_page=10&p={number}")
        seen += row_ids(response)
        assert (link(response, "next") is None) == (number == 3)
    assert sorted(seen) == [c.pk for c in matches]
    too_far = admin_client.get("/admin/customers/?q=match&per_page=10&p=99")
    assert row_ids(too_far) == row_ids(admin_client.get("/admin/customers/?q=match&per_page=10"))
    for bad in ("0", "-1", "abc"):
        assert admin_client.get(f"/admin/customers/?q=match&per_page=10&p={bad}").status_code in (200, 404)


@override_settings(WAGTAIL_CUSTOMERS={"FILTERED_COUNT_LIMIT": 5})
def test_within_the_limit_the_count_is_exact(admin_client, account):
    many_customers(account, 4, prefix="few")
    content = admin_client.get("/admin/customers/?q=few").content.decode()
    assert "Showing 1–4 of 4 customers" in content and "Page 1 of 1" in content


@override_settings(WAGTAIL_CUSTOMERS={"FILTERED_COUNT_LIMIT": "lots"})
def test_an_unreadable_limit_falls_back_to_the_default(admin_client, account):
    customer(account, "X1", email="solo@example.com")
    content = admin_client.get("/admin/customers/?q=solo").content.decode()
    assert "Showing 1–1 of the matching customers" in content


def test_uncounted_every_match_is_reachable_forwards_and_back_and_a_page_too_far_is_the_first(admin_client, account):
    matches = many_customers(account, 23, prefix="match")
    response = admin_client.get("/admin/customers/?q=match&per_page=10")
    seen, pages = row_ids(response), [response]
    while (following := link(response, "next")) is not None:
        response = admin_client.get(following)
        seen += row_ids(response)
        pages.append(response)
    assert sorted(seen) == [c.pk for c in matches] and len(pages) == 3
    content = pages[-1].content.decode()
    assert "Showing 21–23 of the matching customers" in content and "Page 3</p>" in content
    back = admin_client.get(link(pages[-1], "prev"))
    assert row_ids(back) == row_ids(pages[1]) and link(back, "next")
    assert row_ids(admin_client.get("/admin/customers/?q=match&per_page=10&p=99")) == row_ids(pages[0])


def test_uncounted_the_pages_query_count_is_the_same_at_10_and_100_rows_and_deep(admin_client, account):
    many_customers(account, 230, prefix="deep")
    admin_client.get("/admin/customers/?q=deep")  # warm caches
    counts = {}
    for per_page, number in ((10, 1), (100, 1), (10, 3), (100, 2)):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(f"/admin/customers/?q=deep&per_page={per_page}&p={number}")
        assert len(row_ids(response)) == per_page
        assert not totals_counted(queries)
        counts[per_page, number] = len(queries)
    assert len(set(counts.values())) == 1, counts


@override_settings(WAGTAIL_CUSTOMERS={"FILTERED_COUNT_LIMIT": 5})
def test_a_filtered_pages_query_count_is_the_same_at_10_and_100_rows_and_deep(admin_client, account, superuser):
    many_customers(account, 230, prefix="deep")
    admin_client.get("/admin/customers/?q=deep")  # warm caches
    counts = {}
    for per_page, number in ((10, 1), (100, 1), (10, 3), (100, 2)):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(f"/admin/customers/?q=deep&per_page={per_page}&p={number}")
        assert len(row_ids(response)) == per_page
        counts[per_page, number] = len(queries)
    assert len(set(counts.values())) == 1, counts
    # Sought by keyset position (the Next link): one query for each of the seek's reads where the page by number
    # has one (the rest of a run of equal keys, the keys beyond, and the NULLs where they sort after the values).
    key_path, descending = CustomerListing(superuser, "all", {"q": "deep"}).sort_key()
    position = keyset.Position(timezone.now(), 1)
    reads = len(keyset.seek(key_path, descending, position, nulls_high=keyset.nulls_sort_high()))
    second = link(admin_client.get("/admin/customers/?q=deep&per_page=10"), "next")
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(second)
    assert len(queries) <= counts[10, 1] + reads - 1
