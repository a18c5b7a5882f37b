"""Migrations 0021 (the Promo codes tab's index) and 0022 (the (account, country) index): built CONCURRENTLY on
PostgreSQL so the customers stay writable, plainly on SQLite; and removed again backwards."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.migration_support import back_to_the_latest_schema, migrate  # noqa: F401  (fixture)
from wagtail_customers.models import Customer


def customer_indexes():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Customer._meta.db_table)
    return {name for name, details in constraints.items() if details["index"]}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
@pytest.mark.parametrize(
    "index, before, migration",
    [
        ("wc_cust_promo", "0020_search_index", "0021_promo_codes_tab_indexes"),
        ("wc_cust_acc_country", "0021_promo_codes_tab_indexes", "0022_customer_country_index"),
    ],
)
def test_the_index_is_built_concurrently_on_postgresql_and_removed_backwards(index, before, migration):
    with CaptureQueriesContext(connection) as backwards:
        migrate([("wagtail_customers", before)])
    assert index not in customer_indexes()
    with CaptureQueriesContext(connection) as forwards:
        migrate([("wagtail_customers", migration)])
    assert index in customer_indexes()
    (created,) = [q["sql"] for q in forwards if index in q["sql"] and "CREATE INDEX" in q["sql"]]
    (dropped,) = [q["sql"] for q in backwards if index in q["sql"] and "DROP INDEX" in q["sql"]]
    concurrently = connection.vendor == "postgresql"
    assert ("CONCURRENTLY" in created, "CONCURRENTLY" in dropped) == (concurrently, concurrently)
