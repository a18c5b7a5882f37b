"""Migrations 0031 (a customer's orders with every column their statistics sum), 0032 (the index it replaces
dropped) and 0033 (the foreign keys' own indexes dropped): CONCURRENTLY on PostgreSQL, so the orders stay readable
and writable meanwhile, plainly on SQLite; and back again backwards."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.migration_support import back_to_the_latest_schema, migrate  # noqa: F401  (fixture)
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
def test_an_index_left_by_an_earlier_run_of_migrate_is_built_again_or_kept(left_valid):
    """A failed ``CREATE INDEX CONCURRENTLY`` leaves an invalid index behind (made here by marking one invalid, as
    PostgreSQL does); a run stopped after the build and before the migration was recorded leaves a valid one. Running
    ``migrate`` again drops the first and builds it anew, and keeps the second: it never stops on "already exists"."""
    migrate([("wagtail_customers", "0030_order_figures_missing_index")])
    # The index as 0031 builds it, so the schema the later tests see is the same either way.
    [index] = [index for index in Order._meta.indexes if index.name == NEW]
    with connection.schema_editor() as editor:
        editor.add_index(Order, index)
    with connection.cursor() as cursor:
        if not left_valid:
            cursor.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass(%s)", [NEW])
    assert index_valid(NEW) is left_valid
    with CaptureQueriesContext(connection) as forwards:
        migrate([("wagtail_customers", "0031_order_customer_figures_index")])
    assert index_valid(NEW) is True
    created, dropped = statements(forwards, "CREATE INDEX", NEW), statements(forwards, "DROP INDEX", NEW)
    assert (len(created), len(dropped)) == ((0, 0) if left_valid else (1, 1))


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
