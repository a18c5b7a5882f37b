"""Migrations 0031 (a customer's orders with every column their statistics sum), 0032 (the index it replaces
dropped) and 0033 (the foreign keys' own indexes dropped): CONCURRENTLY on PostgreSQL, so the orders stay readable
and writable meanwhile, plainly on SQLite; and back again backwards."""

import io

import pytest
from django.core.management import call_command
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from tests.migration_support import back_to_the_latest_schema, migrate  # noqa: F401  (fixture)
from wagtail_customers.migration_operations import _only_the_index_differs
from wagtail_customers.models import Order

NEW, OLD = "wc_order_customer_figures", "wc_order_customer_placed"


def order_indexes():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Order._meta.db_table)
    return {name for name, details in constraints.items() if details["index"]}


def statements(captured, verb, index):
    return [q["sql"] for q in captured if index in q["sql"] and verb in q["sql"]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_the_index_replaces_the_old_one_concurrently_on_postgresql_and_back():
    with CaptureQueriesContext(connection) as backwards:
        migrate([("wagtail_customers", "0030_order_figures_missing_index")])
    assert OLD in order_indexes() and NEW not in order_indexes()
    with CaptureQueriesContext(connection) as forwards:
        migrate([("wagtail_customers", "0032_remove_order_customer_placed_index")])
    assert NEW in order_indexes() and OLD not in order_indexes()

    concurrently = connection.vendor == "postgresql"
    for sql in [
        *statements(forwards, "CREATE INDEX", NEW),
        *statements(forwards, "DROP INDEX", OLD),
        *statements(backwards, "CREATE INDEX", OLD),
        *statements(backwards, "DROP INDEX", NEW),
    ]:
        assert ("CONCURRENTLY" in sql) == concurrently, sql
    assert [len(statements(forwards, "CREATE INDEX", NEW)), len(statements(forwards, "DROP INDEX", OLD))] == [1, 1]


def index_valid(name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name])
        row = cursor.fetchone()
    return None if row is None else row[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a failed CONCURRENTLY build is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
@pytest.mark.parametrize("left_valid", [False, True])
def test_an_index_left_by_an_earlier_run_of_migrate_is_built_again(left_valid):
    """A failed ``CREATE INDEX CONCURRENTLY`` leaves an invalid index behind (made here by marking one invalid, as
    PostgreSQL does); a run stopped after the build and before the migration was recorded leaves a valid one, which
    may not be the index this release builds. Running ``migrate`` again drops either and builds the index anew: it
    never stops on "already exists"."""
    migrate([("wagtail_customers", "0030_order_figures_missing_index")])
    with connection.cursor() as cursor:
        # Named as 0031's, on the customer alone: what is there is not trusted to be the index 0031 builds.
        cursor.execute(f'CREATE INDEX {NEW} ON {Order._meta.db_table} ("customer_id")')
        if not left_valid:
            cursor.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass(%s)", [NEW])
    assert index_valid(NEW) is left_valid
    with CaptureQueriesContext(connection) as forwards:
        migrate([("wagtail_customers", "0031_order_customer_figures_index")])
    assert index_valid(NEW) is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef(to_regclass(%s))", [NEW])
        assert "status" in cursor.fetchone()[0]  # 0031's index, not the one left
    created, dropped = statements(forwards, "CREATE INDEX", NEW), statements(forwards, "DROP INDEX", NEW)
    assert (len(created), len(dropped)) == (1, 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the leftover's check is PostgreSQL's")
@pytest.mark.django_db
def test_sqlmigrate_prints_the_same_sql_whatever_the_database_holds():
    """The leftover's check reads the database; ``sqlmigrate`` (only collecting SQL) does not depend on it."""
    output = io.StringIO()
    call_command("sqlmigrate", "wagtail_customers", "0031", stdout=output)
    assert f'CREATE INDEX CONCURRENTLY "{NEW}"' in output.getvalue()
    assert "DROP INDEX" not in output.getvalue()


def foreign_key_indexes():
    """The orders' indexes on one of their foreign keys alone."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Order._meta.db_table)
    return {
        tuple(details["columns"])
        for details in constraints.values()
        if details["index"] and not details["unique"] and details["columns"] in (["account_id"], ["customer_id"])
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_the_foreign_keys_lose_their_own_indexes_concurrently_on_postgresql_and_back():
    """0033: the indexes leading with each foreign key serve its lookups; its own index is dropped, not the table
    remade (SQLite's way with an AlterField)."""
    assert foreign_key_indexes() == set()
    with CaptureQueriesContext(connection) as backwards:
        migrate([("wagtail_customers", "0032_remove_order_customer_placed_index")])
    assert foreign_key_indexes() == {("account_id",), ("customer_id",)}
    with CaptureQueriesContext(connection) as forwards:
        migrate([("wagtail_customers", "0033_order_foreign_keys_without_indexes")])
    assert foreign_key_indexes() == set()

    table = Order._meta.db_table
    assert not [q["sql"] for q in forwards if "CREATE TABLE" in q["sql"] or "ALTER TABLE" in q["sql"]]
    dropped = [q["sql"] for q in forwards if "DROP INDEX" in q["sql"]]
    created = [q["sql"] for q in backwards if "CREATE INDEX" in q["sql"] and table in q["sql"]]
    assert len(dropped) == len(created) == 2
    concurrently = connection.vendor == "postgresql"
    assert all(("CONCURRENTLY" in sql) == concurrently for sql in dropped + created)


def test_a_drop_merged_with_another_change_of_the_field_is_left_to_djangos_alter_field():
    """Squashed with an earlier ``AlterField`` of the same key, the operation carries that change too: then only
    Django's whole ``AlterField`` makes it, not the drop of the index alone."""
    key = {"to": "wagtail_customers.customer", "on_delete": models.CASCADE, "related_name": "orders"}
    indexed, not_indexed = models.ForeignKey(**key), models.ForeignKey(**key, db_index=False)
    assert _only_the_index_differs(indexed, not_indexed)
    assert not _only_the_index_differs(indexed, models.ForeignKey(**key, db_index=False, null=True))
    assert not _only_the_index_differs(indexed, models.ForeignKey(**{**key, "related_name": "sales"}, db_index=False))
