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
