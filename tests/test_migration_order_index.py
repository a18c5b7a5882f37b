"""Migrations 0031 (a customer's orders with every column their statistics sum) and 0032 (the index it replaces
dropped): CONCURRENTLY on PostgreSQL, so the orders stay readable and writable meanwhile, plainly on SQLite; and
back again backwards."""

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
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE INDEX {NEW} ON {Order._meta.db_table} ("customer_id")')
        if not left_valid:
            cursor.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass(%s)", [NEW])
    assert index_valid(NEW) is left_valid
    with CaptureQueriesContext(connection) as forwards:
        migrate([("wagtail_customers", "0031_order_customer_figures_index")])
    assert index_valid(NEW) is True
    created, dropped = statements(forwards, "CREATE INDEX", NEW), statements(forwards, "DROP INDEX", NEW)
    assert (len(created), len(dropped)) == ((0, 0) if left_valid else (1, 1))
