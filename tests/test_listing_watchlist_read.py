"""The Watchlist tab's page read from the watchlist's rows when they are few against a walk of the sort index
(``CustomerListing.page_queryset``, ``sqlite_plans.led_by_base_filter``), on PostgreSQL; SQLite plans it itself.

The rows and their order are those of the plain read: every sortable column pages through every watched customer
exactly once, forwards and back, as the page numbers show them (with tied keys and a customer without any order);
only the ORDER BY's form tells the reads apart.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.listing_support import many_customers, page_through, row_ids
from wagtail_customers.columns import COLUMNS, COLUMNS_BY_NAME
from wagtail_customers.listing import CustomerListing
from wagtail_customers.models import Customer
from wagtail_customers.services.watchlist import add_to_watchlist, remove_from_watchlist
from wagtail_customers.sqlite_plans import indexed_fields

pytestmark = pytest.mark.django_db

URL = "/admin/customers/watchlist/"
PER_PAGE = 10
ORDERINGS = [prefix + column.name for column in COLUMNS if column.sort_field for prefix in ("", "-")]
#: Where the read from the watchlist applies.
LEADS = connection.vendor == "postgresql"
#: The no-ops the read from the watchlist writes in its ORDER BY, by the column's type.
NO_OPS = (" + 0)", " || '')", " + interval '0 seconds')")


def is_led(sql):
    """Is the page's ORDER BY written so that no index serves it (the read from the watchlist)?"""
    return any(no_op in sql.rpartition("ORDER BY")[2] for no_op in NO_OPS)


def sorts_by_an_indexed_column(ordering):
    sort_field = COLUMNS_BY_NAME[ordering.lstrip("-")].sort_field
    return sort_field in {field.name for field in indexed_fields()}


@pytest.fixture
def few_watched(account, superuser):
    """60 customers, 13 watched: two with the same amounts and last order, one without any order."""
    customers = many_customers(account, 59)
    customers.append(Customer.objects.create(account=account, identity_key="email:no-order@example.com"))
    twin, original = customers[5], customers[0]
    Customer.objects.filter(pk=twin.pk).update(
        last_order_at=original.last_order_at, amount_spent=original.amount_spent, units=original.units
    )
    watched = [*customers[::5], customers[-1]]
    add_to_watchlist(watched, superuser)
    return customers, sorted(customer.pk for customer in watched)


def page_query(client, url):
    """The response and the SQL of its page of customers (None when the page read none)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    rows = [q["sql"] for q in queries if q["sql"].startswith('SELECT "wagtail_customers_customer"."id"')]
    return response, rows[-1] if rows else None


def test_few_watched_customers_lead_the_read_and_many_do_not(admin_client, superuser, few_watched):
    customers, _watched = few_watched
    # 3 x 13 x 13 = 507 <= 10 x 60: from the watchlist.
    _response, sql = page_query(admin_client, f"{URL}?per_page={PER_PAGE}")
    assert is_led(sql) is LEADS, sql
    # 29 watched: 3 x 29 x 29 = 2,523 > 10 x 60, the walk.
    add_to_watchlist(customers[1:50:3], superuser)
    _response, sql = page_query(admin_client, f"{URL}?per_page={PER_PAGE}")
    assert not is_led(sql), sql


def test_other_tabs_and_sorts_by_other_tables_are_not_read_from_the_watchlist(admin_client, few_watched):
    _response, sql = page_query(admin_client, f"/admin/customers/?per_page={PER_PAGE}")
    assert not is_led(sql), sql
    _response, sql = page_query(admin_client, f"{URL}?per_page={PER_PAGE}&ordering=expected_spend")
    assert not is_led(sql), sql


@pytest.mark.version_neutral
def test_every_sort_pages_every_watched_customer_once_both_ways_as_the_page_numbers_do(admin_client, few_watched):
    _customers, watched = few_watched
    for ordering in ORDERINGS:
        base = f"{URL}?ordering={ordering}&per_page={PER_PAGE}"
        response, sql = page_query(admin_client, base)
        assert is_led(sql) is (LEADS and sorts_by_an_indexed_column(ordering)), ordering
        by_number = [row_ids(response), row_ids(admin_client.get(f"{base}&p=2"))]
        assert sorted(sum(by_number, [])) == watched, ordering
        forwards, backwards = page_through(admin_client, base)
        assert forwards == by_number, ordering
        assert backwards == by_number, ordering


def test_the_rows_are_those_of_the_plain_read_in_the_same_order(superuser, few_watched):
    for ordering in ORDERINGS:
        listing = CustomerListing(superuser, "watchlist", {"ordering": ordering})
        plain = list(listing.queryset.values_list("pk", flat=True))
        led = listing.page_queryset(PER_PAGE)
        assert list(led.values_list("pk", flat=True)) == plain, ordering
        assert list(led.reverse().values_list("pk", flat=True)) == plain[::-1], ordering


def test_a_filter_leaves_the_read_to_the_listing_s_other_plans(admin_client, few_watched):
    _customers, watched = few_watched
    # A filter narrows the tab: sqlite_plans.planned on SQLite, PostgreSQL's own plan; the same rows.
    response, sql = page_query(admin_client, f"{URL}?per_page={PER_PAGE}&orders_min=1")
    assert not is_led(sql), sql
    forwards, _backwards = page_through(admin_client, f"{URL}?per_page={PER_PAGE}&orders_min=1&ordering=name")
    with_orders = set(Customer.objects.filter(pk__in=watched, orders_count__gte=1).values_list("pk", flat=True))
    assert sorted(pk for rows in forwards for pk in rows) == sorted(with_orders)
    assert len(with_orders) == len(watched) - 1


def test_an_emptied_watchlist_reads_no_customer(admin_client, superuser, few_watched):
    remove_from_watchlist(Customer.objects.all(), superuser)
    response, sql = page_query(admin_client, f"{URL}?per_page={PER_PAGE}")
    # The summary counts none: the page needs no read of the customers at all.
    assert sql is None
    assert row_ids(response) == []
    assert b"The watchlist is empty" in response.content
