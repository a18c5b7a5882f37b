"""Keyset paging of the customers listing (wagtail_customers/keyset.py).

Following "Next" from page 1 to the end, and "Previous" back, shows exactly the rows the page numbers
(OFFSET) show, for every sortable column both ways (one of each kind on PostgreSQL), on data with ties, blank
values and NULL dates;
the sought pages run no OFFSET; an unreadable or foreign position falls back to the page number.
"""

import base64
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse_lazy
from django.utils import timezone

from tests.listing_support import customer, link, many_customers, orderings_to_walk, page_through, row_ids
from wagtail_customers.listing import TABS, CustomerListing
from wagtail_customers.models import Customer, CustomerScore, RfmGroup
from wagtail_customers.services.watchlist import add_to_watchlist

pytestmark = pytest.mark.django_db

PER_PAGE = 10


@pytest.fixture
def rows_with_ties_and_nulls(account):
    # Equal amounts and dates (ties broken by id), and customers with no order yet (NULL last order).
    many_customers(account, 21)
    for index in range(2):
        Customer.objects.create(account=account, identity_key=f"email:empty{index}@example.com")
    # Scores for most of them (ties on every figure, predictions missing for some) and none for the rest.
    now = timezone.now()
    CustomerScore.objects.bulk_create(
        CustomerScore(
            customer=row,
            account=account,
            recency_score=index % 3 + 1,
            frequency_score=index % 2 + 1,
            monetary_score=1,
            rfm_group=RfmGroup.HIBERNATING,
            scored_at=now,
            expected_orders=None if index % 4 == 0 else Decimal(index % 3),
            expected_spend=None if index % 5 == 0 else Decimal(index % 4 * 10),
            probability_active=None if index % 4 == 0 else Decimal("0.5"),
        )
        for index, row in enumerate(Customer.objects.order_by("pk")[:17])
    )
    # Returns on a few, so the return rate has values, ties and NULLs (no units) alike.
    Customer.objects.filter(pk__in=Customer.objects.order_by("pk").values("pk")[:6]).update(returned_units=1)


# At the floors the same seek is driven by the numbered-pages test below and the tests after it (inserted rows,
# hostile cursors); this one walks every sort both ways (about 600 requests).
@pytest.mark.version_neutral
def test_next_and_previous_page_exactly_like_page_numbers(admin_client, rows_with_ties_and_nulls):
    for ordering in orderings_to_walk(connection):
        base = f"/admin/customers/?ordering={ordering}&per_page={PER_PAGE}"
        by_number = [row_ids(admin_client.get(f"{base}&p={number}")) for number in (1, 2, 3)]
        assert sorted(sum(by_number, [])) == sorted(Customer.objects.values_list("pk", flat=True)), ordering

        forwards, backwards = page_through(admin_client, base)
        assert forwards == by_number, ordering
        assert backwards == by_number, ordering


def test_numbered_pages_of_the_later_half_are_read_from_the_end_with_the_same_rows(
    admin_client, superuser, rows_with_ties_and_nulls
):
    for ordering in orderings_to_walk(connection):
        listing = CustomerListing(superuser, "all", {"ordering": ordering})
        ordered = list(listing.queryset.values_list("pk", flat=True))
        pages = [ordered[start : start + PER_PAGE] for start in range(0, len(ordered), PER_PAGE)]
        for number, expected in enumerate(pages, start=1):
            with CaptureQueriesContext(connection) as queries:
                shown = row_ids(
                    admin_client.get(f"/admin/customers/?ordering={ordering}&per_page={PER_PAGE}&p={number}")
                )
            assert shown == expected, (ordering, number)
            offsets = [
                q["sql"] for q in queries if 'FROM "wagtail_customers_customer"' in q["sql"] and "OFFSET" in q["sql"]
            ]
            # Page 3 of 3 starts 20 rows from the top and 0 from the end: it is read from the end.
            if number == len(pages):
                assert not offsets, (ordering, number)


TAB_URLS = {tab.slug: reverse_lazy(f"wagtail_customers:{tab.url_name}") for tab in TABS}


@pytest.fixture
def every_tab_filled(account, superuser, rows_with_ties_and_nulls):
    """Rows on every tab: returns, promo codes and the watchlist on 12 customers each (ties among them)."""
    customers = list(Customer.objects.order_by("pk"))
    Customer.objects.filter(pk__in=[c.pk for c in customers[:12]]).update(returned_units=1)
    Customer.objects.filter(pk__in=[c.pk for c in customers[-12:]]).update(promo_codes_used=1)
    add_to_watchlist(customers[5:17], superuser)


def orderings_walked(tab):
    """The tab's own sort, whose index its rows are read along (on SQLite, sqlite_plans chooses by the tab's filter
    and the sort), and a text, an amount, a count and a date with NULLs on SQLite (an amount and a date on
    PostgreSQL). The seek's SQL (NULLs, ties, both ways) comes from the sort, and the test above walks every sort
    on the All tab; every tab with every sort took 39 s of the SQLite pass."""
    others = ["name", "-amount_spent", "orders_count", "-last_order_at"]
    if connection.vendor == "postgresql":
        others = ["-amount_spent", "last_order_at"]
    return [tab.default_ordering, *(ordering for ordering in others if ordering != tab.default_ordering)]


# Every tab with its own sort and four others (about 200 requests): at the floors, the same view and seek are driven
# by the numbered-pages test above and the ones below.
@pytest.mark.version_neutral
def test_every_tab_and_sort_pages_every_customer_exactly_once_both_ways(admin_client, superuser, every_tab_filled):
    for tab in TABS:
        members = sorted(CustomerListing(superuser, tab.slug, {}).queryset.values_list("pk", flat=True))
        assert len(members) > PER_PAGE, tab.slug
        for ordering in orderings_walked(tab):
            forwards, backwards = page_through(
                admin_client, f"{TAB_URLS[tab.slug]}?ordering={ordering}&per_page={PER_PAGE}"
            )
            seen = [pk for rows in forwards for pk in rows]
            assert sorted(seen) == members, (tab.slug, ordering)
            assert backwards == forwards, (tab.slug, ordering)


def test_rows_inserted_between_pages_neither_repeat_nor_hide_the_rows_already_there(
    admin_client, account, rows_with_ties_and_nulls
):
    before = set(Customer.objects.values_list("pk", flat=True))
    url, seen, day = f"/admin/customers/?per_page={PER_PAGE}", [], 0
    while url:
        response = admin_client.get(url)
        seen += row_ids(response)
        url = link(response, "next")
        # A new buyer orders between two requests: the newest, so first in the All tab's order (already behind).
        day += 1
        customer(account, f"new-{day}", email=f"new{day}@example.com", day=400 + day)
    assert len(seen) == len(set(seen))
    assert before <= set(seen)


def test_a_sought_page_runs_no_offset_and_its_url_is_stable(admin_client, rows_with_ties_and_nulls):
    second = link(admin_client.get(f"/admin/customers/?per_page={PER_PAGE}"), "next")
    assert "after=" in second
    with CaptureQueriesContext(connection) as queries:
        rows = row_ids(admin_client.get(second))
    customer_selects = [q["sql"] for q in queries if 'FROM "wagtail_customers_customer"' in q["sql"]]
    assert customer_selects and not any("OFFSET" in sql for sql in customer_selects)
    assert row_ids(admin_client.get(second)) == rows


def token(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "position",
    [
        "garbage",
        "%%%",
        "x" * 5000,
        token({"o": "someone else's listing", "v": None, "id": 1}),
        token({"v": None, "id": 1}),
        token(["not", "an", "object"]),
    ],
)
@pytest.mark.parametrize("name", ["after", "before"])
def test_an_unreadable_or_foreign_position_falls_back_to_the_page_number(
    admin_client, rows_with_ties_and_nulls, name, position
):
    expected = row_ids(admin_client.get(f"/admin/customers/?per_page={PER_PAGE}&p=2"))
    response = admin_client.get(f"/admin/customers/?per_page={PER_PAGE}&p=2&{name}={position}")
    assert response.status_code == 200
    assert row_ids(response) == expected


def test_a_tampered_value_inside_a_real_position_is_refused_not_an_error(admin_client, rows_with_ties_and_nulls):
    second = link(admin_client.get(f"/admin/customers/?per_page={PER_PAGE}"), "next")
    real = json.loads(base64.urlsafe_b64decode(second.split("after=")[1].split("&")[0] + "=="))
    expected = row_ids(admin_client.get(f"/admin/customers/?per_page={PER_PAGE}&p=2"))
    tampered_values = [
        ("not a date", real["id"]),
        ({"x": 1}, real["id"]),
        (real["v"], "1"),
        (real["v"], 2**70),
        # Aware datetimes whose conversion to UTC falls outside the years Python reads.
        ("0001-01-01T00:00:00+01:00", real["id"]),
        ("9999-12-31T23:59:59-05:00", real["id"]),
    ]
    for value, pk in tampered_values:
        tampered = token({**real, "v": value, "id": pk})
        response = admin_client.get(f"/admin/customers/?per_page={PER_PAGE}&p=2&after={tampered}")
        assert response.status_code == 200
        assert row_ids(response) == expected


@pytest.mark.parametrize(
    ("ordering", "value"),
    [
        # Values the column cannot hold: PostgreSQL refused the query (a 500).
        ("country", "DE\u0000"),
        # A lone surrogate, which no database's UTF-8 can carry (a 500 on SQLite and PostgreSQL alike).
        ("country", "\ud800"),
        ("account", "\ud800"),
        ("-amount_spent", "1E+1001"),
        ("-amount_spent", "1" * 40),
        ("-orders_count", 2**63),
    ],
)
def test_a_tampered_value_the_column_cannot_hold_is_refused_not_an_error(
    admin_client, rows_with_ties_and_nulls, ordering, value
):
    base = f"/admin/customers/?ordering={ordering}&per_page={PER_PAGE}"
    second = link(admin_client.get(base), "next")
    real = json.loads(base64.urlsafe_b64decode(second.split("after=")[1].split("&")[0] + "=="))
    expected = row_ids(admin_client.get(f"{base}&p=2"))
    response = admin_client.get(f"{base}&p=2&after={token({**real, 'v': value})}")
    assert response.status_code == 200
    assert row_ids(response) == expected


def test_positions_do_not_follow_the_user_to_another_tab_or_search(admin_client, rows_with_ties_and_nulls):
    response = admin_client.get(f"/admin/customers/?per_page={PER_PAGE}&p=2&after=abc&q=bulk")
    content = response.content.decode()
    tab_links = re.findall(r'href="(/admin/customers/[a-z-]+/[^"]*)"', content)
    assert tab_links and not any("after=" in href or "before=" in href for href in tab_links)


@pytest.mark.parametrize("ordering", ["name", "-email", "city", "-postal_code", "state"])
def test_a_personal_sort_key_never_travels_in_the_url(admin_client, rows_with_ties_and_nulls, ordering):
    response = admin_client.get(f"/admin/customers/?ordering={ordering}&per_page={PER_PAGE}")
    url = link(response, "next")
    position = json.loads(base64.urlsafe_b64decode(url.split("after=")[1].split("&")[0] + "=="))
    assert set(position) == {"o", "id"}
    last = Customer.objects.get(pk=row_ids(response)[-1])
    assert last.name not in url and last.email not in url
    assert row_ids(admin_client.get(url)) == row_ids(admin_client.get(f"{url.split('&after=')[0]}&p=2"))


@pytest.mark.parametrize(
    "descending, nulls_high, reads",
    [(True, False, 3), (False, True, 3), (True, True, 2), (False, False, 2)],
    ids=["desc-sqlite", "asc-postgresql", "desc-postgresql", "asc-sqlite"],
)
def test_nulls_after_the_values_are_a_read_of_their_own(descending, nulls_high, reads):
    """Where NULL sorts after every value, the NULLs are read apart from the values beyond the position: one
    ``key < value OR key IS NULL`` condition is no index range (SQLite walked the whole index for it)."""
    from django.db.models import Q

    from wagtail_customers import keyset

    position = keyset.Position(timezone.now(), 5)
    conditions = keyset.seek("last_order_at", descending, position, nulls_high=nulls_high)
    assert len(conditions) == reads

    def plain(condition):
        # An AND of lookups all the way down: no OR and no NOT anywhere in it.
        children = [child for child in condition.children if isinstance(child, Q)]
        return condition.connector == Q.AND and not condition.negated and all(map(plain, children))

    assert all(map(plain, conditions))
    if reads == 3:
        assert conditions[2] == Q(last_order_at__isnull=True)
