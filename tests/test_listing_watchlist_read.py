"""The Watchlist tab's pages, read by the customers' watched flag (``wc_cust_watched``, services/watched_flag.py).

Every sortable column pages through every watched customer exactly once, forwards and back, as the page numbers
show them (with tied keys and a customer without any order), also with a filter; an emptied watchlist reads no
customer at all.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.listing_support import ONE_ORDERING_OF_EACH_KIND, many_customers, page_through, row_ids
from wagtail_customers.models import Customer
from wagtail_customers.services.watchlist import add_to_watchlist, remove_from_watchlist

pytestmark = pytest.mark.django_db

URL = "/admin/customers/watchlist/"
PER_PAGE = 10


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


# One sort of each kind on both databases: the tab adds its WHERE to the seek of the sort, which
# tests/test_listing_keyset.py walks for every sort on the All tab.
@pytest.mark.version_neutral
def test_every_sort_pages_every_watched_customer_once_both_ways_as_the_page_numbers_do(admin_client, few_watched):
    _customers, watched = few_watched
    for ordering in ONE_ORDERING_OF_EACH_KIND:
        base = f"{URL}?ordering={ordering}&per_page={PER_PAGE}"
        response, _sql = page_query(admin_client, base)
        by_number = [row_ids(response), row_ids(admin_client.get(f"{base}&p=2"))]
        assert sorted(sum(by_number, [])) == watched, ordering
        forwards, backwards = page_through(admin_client, base)
        assert forwards == by_number, ordering
        assert backwards == by_number, ordering


def test_a_filter_pages_the_watched_customers_it_keeps(admin_client, few_watched):
    _customers, watched = few_watched
    # A filter narrows the tab: sqlite_plans.planned on SQLite, PostgreSQL's own plan; the same rows.
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


@pytest.mark.parametrize("ordering", ["-last_order_at", "name", "-amount_spent"])
def test_a_search_pages_the_watched_customers_it_matches(admin_client, few_watched, ordering):
    customers, watched = few_watched
    # "bulk1" matches bulk1 and bulk10-19: watched ones among them and others.
    matching = {customer.pk for customer in customers if customer.email.startswith("bulk1")}
    expected = sorted(matching & set(watched))
    assert expected and set(expected) != matching
    base = f"{URL}?q=bulk1&per_page=2&ordering={ordering}"
    forwards, backwards = page_through(admin_client, base)
    assert sorted(pk for rows in forwards for pk in rows) == expected
    assert [pk for rows in backwards for pk in rows] == [pk for rows in forwards for pk in rows]
