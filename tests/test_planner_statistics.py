"""SQLite's planner statistics, written again when they no longer describe the plugin's tables
(wagtail_customers/planner_statistics.py): after a migration of the plugin, an import, a channel sync, the
statistics rebuild, and whenever a table has grown past twice the rows they count. On PostgreSQL nothing is analysed."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.connection_fixture_channel import FixtureChannel, connect, fixture_order
from wagtail_customers import planner_statistics
from wagtail_customers.importers import run_import
from wagtail_customers.models import Channel, Customer, SellerAccount
from wagtail_customers.planner_statistics import (
    GROWTH,
    MIN_ROWS,
    refresh_after_migrate,
    refresh_planner_statistics,
)
from wagtail_customers.services import channel_sync
from wagtail_customers.services.statistics import rebuild_statistics

pytestmark = pytest.mark.django_db

#: These read SQLite's ``sqlite_stat1`` and query plans, which PostgreSQL has not; that nothing is analysed there is
#: ``test_postgresql_keeps_its_own_statistics``, run on both. CI runs both passes.
on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="reads sqlite_stat1, which only SQLite has; the plugin analyses nothing on PostgreSQL (checked by "
    "test_postgresql_keeps_its_own_statistics), and make test's SQLite passes run these",
)
CUSTOMERS = Customer._meta.db_table


def add_customers(accounts, count, start=0):
    now = timezone.now()
    Customer.objects.bulk_create(
        Customer(
            account=accounts[index % len(accounts)],
            identity_key=f"email:c{index}@example.com",
            email=f"c{index}@example.com",
            orders_count=index % 5 + 1,
            first_order_at=now - timedelta(days=index % 400),
            last_order_at=now - timedelta(minutes=index),
        )
        for index in range(start, start + count)
    )


def analysed_rows(table):
    """The row count ``sqlite_stat1`` holds for ``table``, or None."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return None
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
        counts = [int(stat.split()[0]) for (stat,) in cursor.fetchall()]
    return max(counts) if counts else None


def page_one_plan(client):
    """SQLite's plan for the page query of page 1 of All, over every seller account."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/customers/?per_page=10")
    assert response.status_code == 200
    sql = [q["sql"] for q in queries if "ORDER BY" in q["sql"] and f'FROM "{CUSTOMERS}"' in q["sql"]][-1]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return " / ".join(row[-1] for row in cursor.fetchall())


@pytest.fixture(autouse=True)
def _forget_counts():
    # The checks remember a count per largest id; a rolled-back test's ids come round again in the next one.
    yield
    planner_statistics._counted.clear()


@pytest.fixture
def accounts(db):
    return [
        SellerAccount.objects.create(name=f"Shop {index}", channel=Channel.SHOPIFY, currency="USD")
        for index in range(3)
    ]


@on_sqlite
def test_page_one_over_every_account_walks_the_sort_index_once_the_customers_are_analysed(admin_client, accounts):
    add_customers(accounts, 3 * MIN_ROWS)
    # Without statistics SQLite takes an account's index and sorts every customer of the three.
    assert "USE TEMP B-TREE FOR ORDER BY" in page_one_plan(admin_client)
    assert CUSTOMERS in refresh_planner_statistics()
    assert analysed_rows(CUSTOMERS) == 3 * MIN_ROWS
    plan = page_one_plan(admin_client)
    assert plan.startswith(f"SCAN {CUSTOMERS} USING INDEX wc_cust_last")
    assert "TEMP B-TREE" not in plan


@on_sqlite
def test_a_table_is_analysed_again_once_it_holds_more_than_twice_the_rows_counted(accounts):
    add_customers(accounts, MIN_ROWS)
    assert CUSTOMERS in refresh_planner_statistics()
    assert CUSTOMERS not in refresh_planner_statistics()
    add_customers(accounts, (GROWTH - 1) * MIN_ROWS, start=MIN_ROWS)
    assert CUSTOMERS not in refresh_planner_statistics()
    add_customers(accounts, 1, start=GROWTH * MIN_ROWS)
    assert CUSTOMERS in refresh_planner_statistics()
    assert analysed_rows(CUSTOMERS) == GROWTH * MIN_ROWS + 1


@on_sqlite
def test_small_tables_are_left_unanalysed(accounts):
    add_customers(accounts, MIN_ROWS - 1)
    assert refresh_planner_statistics() == []
    assert analysed_rows(CUSTOMERS) is None


@on_sqlite
def test_deleted_rows_do_not_make_a_table_look_grown(accounts):
    add_customers(accounts, 3 * MIN_ROWS)
    last_ids = Customer.objects.order_by("-pk").values_list("pk", flat=True)[:MIN_ROWS]
    Customer.objects.exclude(pk__in=list(last_ids)).delete()
    assert CUSTOMERS in refresh_planner_statistics()
    assert analysed_rows(CUSTOMERS) == MIN_ROWS
    # Its largest id is three times the rows counted, the rows themselves are not: nothing to analyse, and the
    # rows are counted once for that largest id, not at every check.
    for counts in (1, 0):
        with CaptureQueriesContext(connection) as queries:
            assert CUSTOMERS not in refresh_planner_statistics()
        assert len([q for q in queries if f'COUNT(*) FROM "{CUSTOMERS}"' in q["sql"]]) == counts


@on_sqlite
def test_statistics_of_a_table_emptied_since_are_forgotten(accounts):
    add_customers(accounts, 3 * MIN_ROWS)
    refresh_planner_statistics()
    Customer.objects.all().delete()
    assert CUSTOMERS in refresh_planner_statistics()
    assert analysed_rows(CUSTOMERS) is None


@on_sqlite
def test_every_large_table_is_analysed_after_one_of_the_plugins_migrations_ran_forwards(accounts):
    add_customers(accounts, MIN_ROWS)
    refresh_planner_statistics()
    config = apps.get_app_config("wagtail_customers")
    loader = MigrationLoader(connection)
    ours = loader.get_migration(*loader.graph.leaf_nodes(config.label)[0])
    theirs = loader.get_migration(*loader.graph.leaf_nodes("auth")[0])
    # Fresh statistics, but the migration may have added an index they do not describe.
    assert CUSTOMERS in stale_after(config, [(ours, False)])
    assert CUSTOMERS not in stale_after(config, [(theirs, False)])
    assert CUSTOMERS not in stale_after(config, [(ours, True)])
    assert CUSTOMERS not in stale_after(config, None)  # a flush sends no plan


def stale_after(config, plan):
    refresh_after_migrate(config, using=connection.alias, plan=plan, verbosity=0)
    with CaptureQueriesContext(connection) as queries:
        refresh_after_migrate(config, using=connection.alias, plan=plan, verbosity=0)
    return [table for table in [CUSTOMERS] if any(f'ANALYZE "{table}"' in q["sql"] for q in queries)]


@on_sqlite
def test_an_import_leaves_the_tables_it_filled_analysed(accounts, django_capture_on_commit_callbacks):
    rows = [
        f"{index},2024-03-01,c{index}@example.com,Buyer {index},London,GB,MUG,1,12.50,," for index in range(MIN_ROWS)
    ]
    content = "\n".join(
        [
            "order_id,placed_at,customer_email,customer_name,city,country,sku,quantity,unit_price,promo_code,order_discount",
            *rows,
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        run_import(accounts[0], content.encode(), filename="orders.csv", dry_run=True)
    assert analysed_rows(CUSTOMERS) is None  # a preview writes nothing, statistics included
    with django_capture_on_commit_callbacks(execute=True):
        run_import(accounts[0], content.encode(), filename="orders.csv")
    assert analysed_rows(CUSTOMERS) == MIN_ROWS
    assert analysed_rows("wagtail_customers_order") == MIN_ROWS


@on_sqlite
def test_the_statistics_rebuild_leaves_the_tables_analysed(accounts):
    add_customers(accounts, MIN_ROWS)
    rebuild_statistics()
    assert analysed_rows(CUSTOMERS) == MIN_ROWS


def test_postgresql_keeps_its_own_statistics(accounts):
    add_customers(accounts, MIN_ROWS)
    analysed = refresh_planner_statistics()
    assert analysed == ([] if connection.vendor == "postgresql" else [CUSTOMERS])


@on_sqlite
def test_a_channel_sync_leaves_the_tables_analysed(accounts, httpserver):
    add_customers(accounts, MIN_ROWS)
    channel = FixtureChannel(httpserver, orders=[fixture_order(index) for index in range(5)])
    connection_id = connect(channel, "Fixture shop").pk
    assert analysed_rows(CUSTOMERS) is None
    assert channel_sync.sync_connection(connection_id).orders_created == 5
    assert analysed_rows(CUSTOMERS) == MIN_ROWS + 5
