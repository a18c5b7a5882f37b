"""The Watchlist tab's page read from the watchlist's rows when they are few against a walk of the sort index
(``CustomerListing.page_queryset``, ``sqlite_plans.led_by_base_filter``), on SQLite and PostgreSQL.

The rows and their order are those of the plain read: every sortable column pages through every watched customer
exactly once, forwards and back, as the page numbers show them; only the ORDER BY's form tells the reads apart.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.listing_support import many_customers, page_through, row_ids
from wagtail_customers.columns import COLUMNS
from wagtail_customers.listing import CustomerListing
from wagtail_customers.models import Customer
from wagtail_customers.services.watchlist import add_to_watchlist, remove_from_watchlist

pytestmark = pytest.mark.django_db

URL = "/admin/customers/watchlist/"
PER_PAGE = 10
ORDERINGS = [prefix + column.name for column in COLUMNS if column.sort_field for prefix in ("", "-")]
#: The no-ops the read from the watchlist writes in its ORDER BY (SQLite's unary ``+``; PostgreSQL's by type).
NO_OPS = ('+"', " + 0)", " || '')", " + interval '0 seconds')")


def is_led(sql):
    """Is the page's ORDER BY written so that no index serves it (the read from the watchlist)?"""
    return any(no_op in sql.rpartition("ORDER BY")[2] for no_op in NO_OPS)


@pytest.fixture
def few_watched(account, superuser):
    """60 customers, 12 watched (ties on the amounts and dates among them, one without any order)."""
    customers = many_customers(account, 59)
    customers.append(Customer.objects.create(account=account, identity_key="email:no-order@example.com"))
    add_to_watchlist(customers[::5], superuser)
    return customers


def page_query(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    rows = [q["sql"] for q in queries if q["sql"].startswith('SELECT "wagtail_customers_customer"."id"')]
    return response, rows[-1] if rows else None


def test_few_watched_customers_lead_the_read_and_many_do_not(admin_client, superuser, few_watched):
    # 3 x 12 x 12 = 432 <= 10 x 60: from the watchlist.
    _response, sql = page_query(admin_client, f"{URL}?per_page={PER_PAGE}")
    assert is_led(sql), sql
    # 3 x 30 x 30 = 2,700 > 10 x 60, or 100 x 60 at a page of 100 in the listing's terms: the walk.
    add_to_watchlist(few_watched[1:90:3], superuser)
    _response, sql = page_query(admin_client, f"{URL}?per_page={PER_PAGE}")
    assert not is_led(sql), sql


def test_a_filtered_watchlist_shows_the_same_rows_either_way(admin_client, few_watched):
    # A filter leaves the choice to the listing's other plans (sqlite_plans.planned on SQLite, PostgreSQL's own).
    watched = [customer.pk for customer in few_watched[::5] if customer.orders_count]
    forwards, _backwards = page_through(admin_client, f"{URL}?per_page={PER_PAGE}&orders_min=1&ordering=name")
    assert sorted(pk for rows in forwards for pk in rows) == sorted(watched)


def test_other_tabs_are_not_read_from_another_table(admin_client, few_watched):
    _response, sql = page_query(admin_client, f"/admin/customers/?per_page={PER_PAGE}")
    assert not is_led(sql), sql


@pytest.mark.version_neutral
def test_every_sort_pages_every_watched_customer_once_both_ways_as_the_page_numbers_do(admin_client, few_watched):
    watched = sorted(customer.pk for customer in few_watched[::5])
    for ordering in ORDERINGS:
        base = f"{URL}?ordering={ordering}&per_page={PER_PAGE}"
        response, sql = page_query(admin_client, base)
        assert is_led(sql) or "__" in ordering or ordering.lstrip("-") not in _indexed(), ordering
        by_number = [row_ids(response), row_ids(admin_client.get(f"{base}&p=2"))]
        assert sorted(sum(by_number, [])) == watched, ordering
        forwards, backwards = page_through(admin_client, base)
        assert forwards == by_number, ordering
        assert backwards == by_number, ordering


def test_the_rows_are_those_of_the_plain_read_in_the_same_order(superuser, few_watched):
    for ordering in ORDERINGS:
        listing = CustomerListing(superuser, "watchlist", {"ordering": ordering})
        plain = list(listing.queryset.values_list("pk", flat=True))
        led = list(listing.page_queryset(PER_PAGE).values_list("pk", flat=True))
        assert led == plain, ordering
        assert list(listing.page_queryset(PER_PAGE).reverse().values_list("pk", flat=True)) == plain[::-1], ordering


def test_an_empty_watchlist_and_one_emptied_read_nothing(admin_client, superuser, few_watched):
    remove_from_watchlist(Customer.objects.all(), superuser)
    response, _sql = page_query(admin_client, f"{URL}?per_page={PER_PAGE}")
    # The summary counts none: the page needs no read of the customers at all.
    assert row_ids(response) == []
    assert b"The watchlist is empty" in response.content


def _indexed():
    from wagtail_customers.sqlite_plans import indexed_fields

    by_field = {column.sort_field: column.name for column in COLUMNS if column.sort_field}
    return {by_field[field.name] for field in indexed_fields() if field.name in by_field}
