"""Reads from a real PostgreSQL streaming replica (wagtail_customers/db_router.py).

``WC_PG_REPLICA=1 scripts/with-postgres.sh`` (``make test``'s PostgreSQL pass) starts a hot standby of the
throwaway cluster (pg_basebackup -R) and exports ``WC_PG_REPLICA_PORT``; without it these tests are skipped.
The test database is made on the primary and streamed to the standby like any other change, so the tests
commit their data (``transaction=True``) and wait until the standby has replayed it. The replica's lag is made
real, not simulated: replay is paused on the standby (``pg_wal_replay_pause``).
"""

import os
import re

import pytest
from django.db import connections
from django.db.utils import load_backend
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.celery_fixtures import wait_for
from tests.factories import order_data
from wagtail_customers.db_router import reading_from_replica
from wagtail_customers.exports.query import ExportSpec
from wagtail_customers.exports.service import start_export, write_temporary_file
from wagtail_customers.models import Customer, JobState
from wagtail_customers.services.ingestion import record_order
from wagtail_customers.services.watchlist import add_to_watchlist

REPLICA_PORT = os.environ.get("WC_PG_REPLICA_PORT")

pytestmark = [
    pytest.mark.skipif(not REPLICA_PORT, reason="needs the replica of WC_PG_REPLICA=1 scripts/with-postgres.sh"),
    pytest.mark.django_db(transaction=True),
]

ROUTER = "wagtail_customers.db_router.ReadReplicaRouter"


def replayed():
    """Has the standby replayed everything the primary has written so far?

    The insert position, not pg_current_wal_lsn(): the throwaway cluster runs with synchronous_commit=off, so a
    commit's record can sit in the WAL buffers past the written position until the WAL writer flushes it."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        written = cursor.fetchone()[0]
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [written])
        return cursor.fetchone()[0]


@pytest.fixture
def replica(settings):
    """The standby as the "replica" alias (the test database's name on the standby's port), the router on.

    A connection made here rather than in DATABASES: pytest-django must not create a test database on the
    read-only standby (the primary's streams to it), and Django's test case lets dynamically made connections
    through."""
    settings_dict = {**connections["default"].settings_dict, "PORT": REPLICA_PORT}
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias="replica")
    connections._connections.replica = wrapper
    settings.DATABASE_ROUTERS = [ROUTER]
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "READ_REPLICA": "replica"}
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            assert cursor.fetchone()[0], "the replica is not a standby"
        yield wrapper
    finally:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
        wrapper.close()
        del connections._connections.replica


def tables(queries):
    return {table for query in queries for table in re.findall(r'FROM "(\w+)"', query["sql"])}


def stat(response, name):
    match = re.search(rf'data-wc-stat="{name}">([\d,]+)<', response.content.decode())
    return int(match.group(1).replace(",", "")) if match else None


@pytest.fixture
def shop(account):
    for index in range(3):
        record_order(account, order_data(f"R-{index}", email=f"buyer{index}@example.com", name=f"Buyer {index}"))
    return account


def test_the_listing_s_count_and_band_read_from_the_replica(admin_client, shop, replica):
    wait_for(replayed, 30, "the standby to replay the test's data")
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(connections["default"]) as on_primary:
        response = admin_client.get("/admin/customers/")
        band = admin_client.get("/admin/customers/statistics/all/?q=buyer", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 200 and band.status_code == 200
    assert stat(response, "customers") == 3 and stat(band, "customers") == 3
    # The unfiltered band and count from the listing summary, the filtered band's aggregate over the customers.
    assert {"wagtail_customers_listingsummary", "wagtail_customers_customer"} <= tables(on_replica.captured_queries)
    assert "wagtail_customers_listingsummary" not in tables(on_primary.captured_queries)
    # The table's rows, the session and everything else stay on the primary.
    assert "django_session" in tables(on_primary.captured_queries)
    assert "django_session" not in tables(on_replica.captured_queries)


def test_the_scope_grants_and_rows_of_a_watchlist_page_stay_on_the_primary(admin_client, shop, replica):
    # A personal sort reads the grants that decide the rows' masking: a lagging replica must not answer them.
    add_to_watchlist(Customer.objects.filter(account=shop), None)
    wait_for(replayed, 30, "the standby to replay the test's data")
    with CaptureQueriesContext(replica) as on_replica:
        response = admin_client.get("/admin/customers/watchlist/?ordering=name&per_page=10")
    assert response.status_code == 200 and stat(response, "customers") == 3
    read = tables(on_replica.captured_queries)
    assert "wagtail_customers_listingsummary" in read
    assert not read & {"wagtail_customers_accessgrant", "wagtail_customers_selleraccount"}, read
    # The page's rows: on the primary (the replica reads only the count of new customers).
    assert not [query for query in on_replica.captured_queries if '"wagtail_customers_customer"."name"' in query["sql"]]


def test_exports_read_their_rows_from_the_replica(admin_user, shop, replica):
    wait_for(replayed, 30, "the standby to replay the test's data")
    spec = ExportSpec(file_format="csv", scope="all", tab="all")
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(connections["default"]) as on_primary:
        started = start_export(admin_user, spec)
        path = write_temporary_file(started.export)
    try:
        with open(path, encoding="utf-8-sig") as written:
            assert sum(1 for _line in written) == 1 + 3
    finally:
        os.unlink(path)
    assert "wagtail_customers_customer" in tables(on_replica.captured_queries)
    assert "wagtail_customers_customer" not in tables(on_primary.captured_queries)

    # A background job (run by the eager Celery of the tests): its rows from the replica, its progress and
    # result written to the primary.
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(connections["default"]) as on_primary:
        job = start_export(admin_user, spec, immediate_max_rows=0).job
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.rows_written == 3
    assert "wagtail_customers_customer" in tables(on_replica.captured_queries)
    assert "wagtail_customers_customer" not in tables(on_primary.captured_queries)
    assert "wagtail_customers_exportjob" not in tables(on_replica.captured_queries)


def test_without_the_setting_everything_reads_the_primary(admin_client, shop, replica, settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "READ_REPLICA": None}
    with CaptureQueriesContext(replica) as on_replica:
        assert stat(admin_client.get("/admin/customers/"), "customers") == 3
        with reading_from_replica() as alias:
            assert alias == "default" and Customer.objects.count() == 3
    assert on_replica.captured_queries == []


def test_a_watchlist_change_is_shown_to_its_author_despite_the_replica_s_lag(
    admin_client, django_user_model, shop, replica
):
    customer = Customer.objects.filter(account=shop).order_by("pk").first()
    other = Client()
    other.force_login(django_user_model.objects.create_superuser("other", "other@example.com", "x"))
    wait_for(replayed, 30, "the standby to replay the test's data")
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")

    assert admin_client.post(f"/admin/customers/{customer.pk}/watchlist/", {"watch": "1"}).status_code == 302
    # The author's watchlist tab counts the customer they just added: read from the primary.
    with CaptureQueriesContext(replica) as on_replica:
        assert stat(admin_client.get("/admin/customers/watchlist/"), "customers") == 1
    assert "wagtail_customers_listingsummary" not in tables(on_replica.captured_queries)
    # Someone else reads the replica, which has not replayed the change yet: the lag is real.
    with CaptureQueriesContext(replica) as on_replica:
        assert stat(other.get("/admin/customers/watchlist/"), "customers") == 0
    assert "wagtail_customers_listingsummary" in tables(on_replica.captured_queries)

    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")
    wait_for(replayed, 30, "the standby to replay the watchlist change")
    assert stat(other.get("/admin/customers/watchlist/"), "customers") == 1
