"""A search's page read along the sort index when its matches lie dense along it (``sqlite_plans.walked_for_search``,
on PostgreSQL; SQLite plans a search itself).

PostgreSQL cannot estimate how many customers ``LIKE '%smith%'`` matches, and fetched every match through the trigram
indexes to sort them. The first rows of the page's order are probed: dense matches and the page is read along the
sort index, the search's terms written so that no index serves them; few or none (a name, an order number) and they
are left to the indexes. The rows and their order are those of the plain read either way.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.listing_support import ONE_ORDERING_OF_EACH_KIND, many_customers, page_through, row_ids
from wagtail_customers import sqlite_plans
from wagtail_customers.columns import COLUMNS
from wagtail_customers.listing import CustomerListing
from wagtail_customers.models import Customer
from wagtail_customers.models.summary import SummarySegment
from wagtail_customers.services.watchlist import add_to_watchlist
from wagtail_customers.sqlite_plans import WALK_SORT_INDEX, leading_fields, walked_for_search

pytestmark = pytest.mark.django_db

PER_PAGE = 10
#: Where the walk applies.
WALKS = connection.vendor == "postgresql"
ORDERINGS = [prefix + column.name for column in COLUMNS if column.sort_field for prefix in ("", "-")]


@pytest.fixture
def smiths(account):
    """120 customers: 100 Smiths (names and e-mails), 20 others; two Smiths share their last order's date."""
    found = many_customers(account, 100, prefix="smith")
    many_customers(account, 20, prefix="other")
    first, twin = found[0], found[300 % 100 + 1]
    Customer.objects.filter(pk=twin.pk).update(last_order_at=first.last_order_at, amount_spent=first.amount_spent)
    return sorted(customer.pk for customer in found)


def page_sql(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    rows = [q["sql"] for q in queries if q["sql"].startswith('SELECT "wagtail_customers_customer"."id"')]
    return response, rows[-1]


def is_walked(sql):
    """Are the search's terms written so that no index serves them (the walk)?"""
    return "|| '')" in sql.partition(" WHERE ")[2].rpartition("ORDER BY")[0]


def assert_search_page(client, query, *, walked, rows):
    """The listing's page for ``query`` (after ``?q=``): walked or not, with ``rows`` rows."""
    response, sql = page_sql(client, f"/admin/customers/?q={query}&per_page={PER_PAGE}")
    assert is_walked(sql) is walked, sql
    assert len(row_ids(response)) == rows


def test_a_term_matching_densely_walks_and_a_rare_one_does_not(admin_client, smiths):
    # 100 of the first 120 rows match: 3 x 100 x 100 x 120 > 10 x 200 x 200.
    assert_search_page(admin_client, "smith", walked=WALKS, rows=PER_PAGE)
    # "smith7" matches 11: 3 x 11 x 11 x 120 < 10 x 200 x 200.
    assert_search_page(admin_client, "smith7", walked=False, rows=PER_PAGE)
    assert_search_page(admin_client, "nobody-here", walked=False, rows=0)


def orderings_walked():
    """The pages of a search through one sort of each kind of key on SQLite, both ways (SQLite plans a search itself:
    no walk; every sort's seek is walked unsearched by tests/test_listing_keyset.py, and every sort here took 45 s of
    the SQLite pass); on PostgreSQL, where the dense search is walked along the sort's index, a text, an amount and
    a date with NULLs, both ways."""
    if connection.vendor != "postgresql":
        return ONE_ORDERING_OF_EACH_KIND
    return ["name", "-name", "amount_spent", "-amount_spent", "last_order_at", "-last_order_at"]


@pytest.mark.version_neutral
def test_every_sort_pages_every_match_once_both_ways_as_the_page_numbers_do(admin_client, smiths):
    for ordering in orderings_walked():
        base = f"/admin/customers/?q=smith&ordering={ordering}&per_page=25"
        by_number = [row_ids(admin_client.get(f"{base}&p={page}")) for page in range(1, 5)]
        assert sorted(sum(by_number, [])) == smiths, ordering
        forwards, backwards = page_through(admin_client, base)
        assert forwards == by_number, ordering
        assert backwards == by_number, ordering


def plans_a_walk(queryset):
    return getattr(queryset.query, "index_plan", None) == WALK_SORT_INDEX


def test_the_rows_are_those_of_the_plain_read_in_the_same_order(superuser, smiths):
    leading = {field.name for field in leading_fields()}
    for ordering in ORDERINGS:
        listing = CustomerListing(superuser, "all", {"ordering": ordering, "q": "smith"})
        plain = list(listing.queryset.values_list("pk", flat=True))
        walked = listing.page_queryset(PER_PAGE)
        sort_field = listing.sort_key()[0]
        # Every sort a leading index serves walks (the country's index starts with the account: none to walk).
        assert plans_a_walk(walked) is (WALKS and sort_field in leading), ordering
        assert list(walked.values_list("pk", flat=True)) == plain, ordering
        assert list(walked.reverse().values_list("pk", flat=True)) == plain[::-1], ordering


def test_a_tab_and_a_filter_keep_their_terms_and_rows(admin_client, superuser, smiths):
    watched = smiths[::10]
    add_to_watchlist(Customer.objects.filter(pk__in=watched), superuser)
    # A tab's walk passes its own customers at most: the Watchlist's 10 all match, few enough for the indexes
    # (3 x 10 x 10 x 10 < 10 x 200 x 200) ...
    base = f"/admin/customers/watchlist/?q=smith&per_page={PER_PAGE}"
    _response, sql = page_sql(admin_client, base)
    assert not is_walked(sql), sql
    forwards, _backwards = page_through(admin_client, base)
    assert sorted(pk for rows in forwards for pk in rows) == watched
    # ... and with every customer watched, 100 of its first 120 match: the walk, along the watched customers' index.
    add_to_watchlist(Customer.objects.all(), superuser)
    _response, sql = page_sql(admin_client, base)
    assert is_walked(sql) is WALKS, sql
    assert '"wagtail_customers_customer"."watched"' in sql.partition(" WHERE ")[2]
    forwards, backwards = page_through(admin_client, base)
    assert sorted(pk for rows in forwards for pk in rows) == smiths
    assert backwards == forwards
    # A filter is written unindexed too, and still applies: 40 Smiths with two orders or more.
    repeat = smiths[:40]
    Customer.objects.filter(pk__in=repeat).update(orders_count=2)
    base = f"/admin/customers/?q=smith&per_page={PER_PAGE}&orders_min=2"
    _response, sql = page_sql(admin_client, base)
    assert is_walked(sql) is WALKS, sql
    forwards, _backwards = page_through(admin_client, base)
    assert sorted(pk for rows in forwards for pk in rows) == repeat
    # 100 rows a page: 3 x 100 x 100 x 120 < 100 x 200 x 200, the indexes find the matches.
    response, sql = page_sql(admin_client, "/admin/customers/?q=smith&per_page=100")
    assert not is_walked(sql), sql
    assert sorted(row_ids(response)) == smiths


def test_a_few_matches_all_near_the_top_are_found_by_their_indexes(superuser, smiths):
    # At 1,000,000 customers one match among the first 200 would make a walk look cheap: the matches are counted
    # too, up to where the walk pays (3 x 1,826 x 1,826 > 10 x 1,000,000), and 11 are far fewer.
    listing = CustomerListing(superuser, "all", {"q": "smith7"})
    planned = walked_for_search(listing.queryset, listing.filtered_queryset, "last_order_at", rows=10, in_view=10**6)
    assert not plans_a_walk(planned)
    # The same matches with the 120 customers there are: 3 x 11 x 11 x 120 < 10 x 200 x 200, no count needed.
    planned = walked_for_search(listing.queryset, listing.filtered_queryset, "last_order_at", rows=10, in_view=120)
    assert not plans_a_walk(planned)


def test_a_deep_page_by_number_weighs_the_pages_before_it(admin_client, smiths):
    # Page 3 by OFFSET reads 30 rows of the order (3 x 100 x 100 x 120 > 30 x 200 x 200: the walk), page 10 reads 100
    # (3 x 100 x 100 x 120 < 100 x 200 x 200: the indexes).
    assert_search_page(admin_client, "smith&p=3", walked=WALKS, rows=PER_PAGE)
    assert_search_page(admin_client, "smith&p=10", walked=False, rows=PER_PAGE)
    _response, sql = page_sql(admin_client, f"/admin/customers/?q=smith&per_page={PER_PAGE}&p=last")
    assert not is_walked(sql), sql
    # Page numbers the paginator cannot read either: the deepest, no walk, and no error.
    for number in ("\u00b2", "9" * 5000, "-1", "0", "2.5"):
        _response, sql = page_sql(admin_client, f"/admin/customers/?q=smith&per_page={PER_PAGE}&p={number}")
        assert not is_walked(sql), number
    # Sought from a position (the Next link), the page reads its own rows: the walk.
    forwards, _backwards = page_through(admin_client, f"/admin/customers/?q=smith&per_page={PER_PAGE}")
    assert sorted(pk for rows in forwards for pk in rows) == smiths


def test_a_search_page_runs_the_same_queries_at_every_size_and_depth(admin_client, smiths):
    admin_client.get("/admin/customers/?q=smith")  # warm caches (permissions, the search index's presence)
    # Pages that exist: a page number past the end is read as page 1, which takes a query more.
    pages = {
        "smith": ((10, 1), (10, 5), (25, 2), (100, 1)),
        "smith7": ((10, 1), (10, 2), (100, 1)),
        "nobody-here": ((10, 1), (100, 1)),
    }
    for term, sizes in pages.items():
        counts = set()
        for per_page, page in sizes:
            with CaptureQueriesContext(connection) as queries:
                admin_client.get(f"/admin/customers/?q={term}&per_page={per_page}&p={page}")
            counts.add(len(queries))
        assert len(counts) == 1, (term, counts)


def walk_counts(client, url):
    """The count of all the matches ``walked_for_search`` makes (with its LIMIT), and how many queries the page ran."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    counts = 'SELECT COUNT(*) FROM (SELECT "wagtail_customers_customer"'
    return [q["sql"] for q in queries if q["sql"].startswith(counts)], len(queries)


def test_a_small_tab_s_matches_are_counted_along_its_own_index(
    admin_client, superuser, account, other_account, smiths, monkeypatch
):
    watched = smiths[:40]
    add_to_watchlist(Customer.objects.filter(pk__in=watched), superuser)
    add_to_watchlist(many_customers(other_account, 5, prefix="elsewhere"), superuser)
    # The Watchlist's customers in the accounts chosen, and in every account (its index holds them all).
    listing = CustomerListing(superuser, "watchlist", {"account": str(account.pk)})
    assert listing.segment_customers(SummarySegment.WATCHED) == (40, 45)
    assert listing.segment_customers() == (120, 125)
    url = f"/admin/customers/watchlist/?q=smith&per_page={PER_PAGE}&account={account.pk}"
    admin_client.get(url)  # warm caches (permissions, the search index's presence)
    # The Watchlist's last-order index holds its customers only, and few: the matches are counted along it (the
    # search's terms unindexed, in the page's order), reading no more customers than it holds ...
    along, queries_along = walk_counts(admin_client, url)
    # ... and through the search's indexes where it holds more.
    monkeypatch.setattr(sqlite_plans, "COUNTED_ALONG_TAB_INDEX_ROWS", 44)
    through_indexes, queries_through = walk_counts(admin_client, url)
    assert queries_along == queries_through
    if WALKS:
        (along,), (through_indexes,) = along, through_indexes
        assert is_walked(along) and "ORDER BY" in along, along
        assert not is_walked(through_indexes) and "ORDER BY" not in through_indexes, through_indexes
    else:
        assert along == through_indexes == []  # SQLite plans a search itself: no probe, no count
    forwards, backwards = page_through(admin_client, url)
    assert sorted(pk for rows in forwards for pk in rows) == watched
    assert backwards == forwards
