"""A listing page's rows are read with PostgreSQL's parallel workers turned off for that read only, the total and
the statistics band before it (wagtail_customers/parallel_plans.py); other databases run the same queries as before."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.listing_support import many_customers
from wagtail_customers.models import Customer, ListingSummary
from wagtail_customers.parallel_plans import without_parallel_workers

pytestmark = pytest.mark.django_db

ROWS_TABLE = f'FROM "{Customer._meta.db_table}"'


def workers_setting():
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_workers_are_off_within_the_block_only():
    """Outside a transaction, as a request in autocommit reads: on PostgreSQL the setting ends with the block's
    transaction; on another database the block sends nothing and opens no transaction."""
    if connection.vendor != "postgresql":
        with CaptureQueriesContext(connection) as queries, without_parallel_workers(connection.alias):
            assert not connection.in_atomic_block
        assert not queries.captured_queries
        return
    before = workers_setting()
    assert before != "0"  # the server's default, or the test proves nothing
    with without_parallel_workers(connection.alias):
        assert workers_setting() == "0"
    assert workers_setting() == before


@pytest.mark.parametrize("query", ["", "p=2", "per_page=10&ordering=-amount_spent"])
def test_a_page_reads_its_rows_with_the_workers_off(admin_client, account, query):
    many_customers(account, 12)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(f"/admin/customers/?per_page=10&{query}")
    assert response.status_code == 200
    sqls = [q["sql"] for q in queries]
    settings = [i for i, sql in enumerate(sqls) if "max_parallel_workers_per_gather" in sql]
    rows = [i for i, sql in enumerate(sqls) if sql.startswith("SELECT") and ROWS_TABLE in sql and " LIMIT " in sql]
    summary = [i for i, sql in enumerate(sqls) if f'"{ListingSummary._meta.db_table}"' in sql]
    assert rows and summary
    if connection.vendor != "postgresql":
        assert not settings
        return
    # Within the test's transaction the block is a savepoint: every row read lies between the setting and the
    # savepoint's release, and the total's and the band's reads come before it (they keep their parallel plans).
    assert len(settings) == 1, sqls
    released = next(i for i, sql in enumerate(sqls) if i > settings[0] and sql.startswith("RELEASE SAVEPOINT"))
    assert all(settings[0] < i < released for i in rows), sqls
    assert all(i < settings[0] for i in summary), sqls
