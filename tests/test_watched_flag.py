"""``Customer.watched`` kept by the database (services/watched_flag.py): it follows every way a watchlist entry is
written, including those no Python hook sees, and a ``save()`` of a customer read before the change cannot write
back what it read. The listing's own paths (the eye, the bulk actions, merges, erasure, deletes, the rebuild, random
sequences) are checked in tests/test_listing_summary.py, whose freshness check covers the flag too."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.listing_support import customer as make_customer
from tests.listing_support import many_customers
from tests.migration_support import back_to_the_latest_schema, migrate  # noqa: F401  (fixture)
from wagtail_customers.listing import CustomerListing
from wagtail_customers.models import Customer, WatchlistEntry
from wagtail_customers.services import watched_flag
from wagtail_customers.services.watchlist import add_to_watchlist, toggle_watchlist

pytestmark = pytest.mark.django_db

CUSTOMERS = Customer._meta.db_table
ENTRIES = WatchlistEntry._meta.db_table


def flags():
    """``{customer id: watched}`` as stored."""
    return dict(Customer.objects.values_list("pk", "watched"))


def entries():
    """``{customer id: has an entry}``."""
    watched = set(WatchlistEntry.objects.values_list("customer_id", flat=True))
    return {pk: pk in watched for pk in Customer.objects.values_list("pk", flat=True)}


def assert_flags_follow_the_entries():
    assert flags() == entries()


@pytest.fixture
def trio(account):
    return [make_customer(account, f"c{n}", email=f"c{n}@example.com") for n in range(3)]


def test_entries_written_through_the_orm_set_the_flag(trio, superuser):
    ada, bob, cy = trio
    toggle_watchlist(ada, superuser)
    WatchlistEntry.objects.bulk_create([WatchlistEntry(customer=bob), WatchlistEntry(customer=cy)])
    assert flags() == {ada.pk: True, bob.pk: True, cy.pk: True}
    WatchlistEntry.objects.filter(customer__in=[ada, bob]).delete()
    assert flags() == {ada.pk: False, bob.pk: False, cy.pk: True}
    # An entry moved to another customer (what a merge may do): both customers follow.
    WatchlistEntry.objects.filter(customer=cy).update(customer=ada)
    assert flags() == {ada.pk: True, bob.pk: False, cy.pk: False}


def test_entries_written_in_raw_sql_set_the_flag(trio):
    ada, bob, _cy = trio
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ENTRIES} (customer_id, note, created_at) VALUES (%s, '', CURRENT_TIMESTAMP), "
            "(%s, '', CURRENT_TIMESTAMP)",
            [ada.pk, bob.pk],
        )
        assert_flags_follow_the_entries()
        cursor.execute(f"DELETE FROM {ENTRIES} WHERE customer_id = %s", [ada.pk])
    assert_flags_follow_the_entries()
    assert flags()[bob.pk] is True


@pytest.mark.parametrize("watched_meanwhile", [True, False])
def test_saving_a_customer_read_before_the_change_keeps_the_flag(trio, superuser, watched_meanwhile):
    ada = trio[0]
    if not watched_meanwhile:
        add_to_watchlist([ada], superuser)
    stale = Customer.objects.get(pk=ada.pk)
    toggle_watchlist(ada, superuser, watched_meanwhile)
    stale.name = "Ada"
    stale.save()
    assert Customer.objects.get(pk=ada.pk).name == "Ada"
    assert_flags_follow_the_entries()
    assert flags()[ada.pk] is watched_meanwhile


def test_an_entry_written_before_its_customer_sets_the_flag(account, trio):
    # Django's foreign keys are checked at commit: a transaction may write the entry first.
    late = max(customer.pk for customer in trio) + 1000
    with transaction.atomic():
        WatchlistEntry.objects.create(customer_id=late)
        Customer.objects.create(pk=late, account=account, identity_key="email:late@example.com")
    assert flags()[late] is True
    assert_flags_follow_the_entries()


def test_a_customer_cannot_be_written_watched_without_an_entry(account, trio):
    created = Customer.objects.create(account=account, identity_key="email:new@example.com", watched=True)
    Customer.objects.filter(pk=trio[1].pk).update(watched=True)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {CUSTOMERS} SET watched = TRUE WHERE id = %s", [trio[2].pk])
    assert flags()[created.pk] is False
    assert_flags_follow_the_entries()


def test_the_snippet_delete_views_clear_the_flag(admin_client, trio, superuser):
    add_to_watchlist(trio, superuser)
    first, second, third = (WatchlistEntry.objects.get(customer=customer) for customer in trio)
    url = reverse("wagtailsnippets_wagtail_customers_watchlistentry:delete", args=(first.pk,))
    assert admin_client.post(url).status_code == 302
    bulk_url = f"/admin/bulk/wagtail_customers/watchlistentry/delete/?id={second.pk}&id={third.pk}"
    assert admin_client.post(bulk_url).status_code == 302
    assert not WatchlistEntry.objects.exists()
    assert set(flags().values()) == {False}


def test_deleting_a_watched_customer_deletes_its_entry_first(trio, superuser):
    add_to_watchlist(trio[:2], superuser)
    trio[0].delete()
    assert_flags_follow_the_entries()
    assert WatchlistEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_ensure_makes_the_triggers_again_and_sets_wrong_flags(account, superuser):
    ada, bob, cy = (make_customer(account, f"e{n}", email=f"e{n}@example.com") for n in range(3))
    add_to_watchlist([ada, bob], superuser)
    with connection.cursor() as cursor:
        for statement in watched_flag.drop_triggers_sql(connection.vendor):
            cursor.execute(statement)
    # Without the triggers (SQLite drops them when a migration remakes a table) the flags go wrong ...
    WatchlistEntry.objects.filter(customer=ada).delete()
    WatchlistEntry.objects.create(customer=cy)
    assert flags() == {ada.pk: True, bob.pk: True, cy.pk: False}
    # ... until ``migrate`` ends (post_migrate): the triggers again, and every flag from the entries.
    watched_flag.ensure_watched_flag()
    assert_flags_follow_the_entries()
    WatchlistEntry.objects.filter(customer=bob).delete()
    assert_flags_follow_the_entries()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_the_migration_sets_the_flags_of_customers_already_watched(account, superuser):
    ada, bob = (make_customer(account, f"m{n}", email=f"m{n}@example.com") for n in range(2))
    add_to_watchlist([bob], superuser)
    migrate([("wagtail_customers", "0022_customer_country_index")])
    with connection.cursor() as cursor:
        columns = [column.name for column in connection.introspection.get_table_description(cursor, CUSTOMERS)]
    assert "watched" not in columns
    # Back before 0023 the entries are written without a flag to follow (``ensure`` leaves that schema alone).
    watched_flag.ensure_watched_flag()
    WatchlistEntry.objects.create(customer=ada)
    with CaptureQueriesContext(connection) as forwards:
        migrate([("wagtail_customers", "0024_watched_customers_index")])
    assert flags() == {ada.pk: True, bob.pk: True}
    for index in ("wc_cust_watched", "wc_cust_acc_watched"):
        (created,) = [q["sql"] for q in forwards if f'"{index}"' in q["sql"] and "CREATE INDEX" in q["sql"]]
        assert ("CONCURRENTLY" in created) is (connection.vendor == "postgresql"), created
    WatchlistEntry.objects.filter(customer=ada).delete()
    assert flags() == {ada.pk: False, bob.pk: True}


def test_the_watchlist_tab_reads_its_partial_index(account, superuser):
    customers = many_customers(account, 300)
    add_to_watchlist(customers[::100], superuser)
    queryset = CustomerListing(superuser, "watchlist", {}).page_queryset(10)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # 300 rows fit in a few pages, read whole otherwise; the index is what a large table is read by.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute("ANALYZE")  # as planner_statistics does for a large table
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " / ".join(str(row[-1]) for row in cursor.fetchall())
    # One of the watched customers' partial indexes (on few rows PostgreSQL may take the per-account one).
    assert "wc_cust_watched" in plan or "wc_cust_acc_watched" in plan, plan


def test_the_watchlist_tab_reads_the_flag_not_the_entries(trio, superuser):
    add_to_watchlist(trio[1:], superuser)
    listing = CustomerListing(superuser, "watchlist", {})
    with CaptureQueriesContext(connection) as queries:
        rows = list(listing.page_queryset(10))
    (sql,) = [q["sql"] for q in queries if q["sql"].startswith(f'SELECT "{CUSTOMERS}"."id"')]
    assert f'"{CUSTOMERS}"."watched"' in sql
    assert ENTRIES not in sql.partition(" WHERE ")[2]
    assert sorted(customer.pk for customer in rows) == sorted(customer.pk for customer in trio[1:])
