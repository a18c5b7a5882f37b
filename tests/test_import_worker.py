"""Imports on a real Celery worker process and a real Redis server (fixtures: tests/celery_fixtures.py).

The worker is a separate process reading the same database, so the tests commit their data
(``transaction=True``) and wait for the worker with a bound, never asserting on durations.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.signals import connection_created
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from tests.celery_fixtures import wait_for
from wagtail_customers.importers import jobs
from wagtail_customers.models import Customer, ImportJob, JobState, Order

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STORE_A = "shopify/storeA_orders_export_1.pseudonymised.csv"


def job_in(job, phase, *states):
    job.refresh_from_db()
    return job if jobs.phase(job) == phase and job.state in states else None


def upload(client, account, name, content, fmt):
    return client.post(
        reverse("wagtail_customers_imports:index"),
        {"account": account.pk, "format": fmt, "encoding": "utf-8", "import_file": SimpleUploadedFile(name, content)},
    )


def test_a_big_import_is_checked_and_applied_by_the_worker(
    admin_client, superuser, account, realdata, settings, celery_worker
):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "IMPORT_SYNC_MAX_ROWS": 100}
    worker = celery_worker()
    upload(admin_client, account, "orders_export.csv", (realdata / STORE_A).read_bytes(), "shopify")
    job = ImportJob.objects.get()
    assert job.rows_total > 100

    wait_for(
        lambda: job_in(job, jobs.APPLY, JobState.PENDING) or job_in(job, jobs.CHECK, JobState.FAILED), 180, "the check"
    )
    assert job.state == JobState.PENDING, job.error or worker.log()
    assert (job.preview["report"]["orders_created"], job.preview["report"]["rows"]) == (409, 811)
    assert not Order.objects.exists()

    admin_client.post(reverse("wagtail_customers_imports:apply", args=[job.pk]))
    wait_for(lambda: job_in(job, jobs.APPLY, JobState.DONE, JobState.FAILED), 180, "the import")
    assert job.state == JobState.DONE, job.error or worker.log()
    assert (job.rows_done, job.rows_total, job.result["orders_created"]) == (811, 811, 409)
    assert Order.objects.count() == 409
    assert Customer.objects.get(email="customer0001@example.com").amount_spent == Decimal("125.40")
    assert ModelLogEntry.objects.get(action="wagtail_customers.import.apply").user == superuser
    assert "wagtail_customers.run_import_job" in worker.log()
    status = admin_client.get(reverse("wagtail_customers_imports:status", args=[job.pk])).json()
    assert (status["stage"], status["percent"]) == ("apply:done", 100)


# version_neutral: as tests/test_export_chunks.py's killed chunk (the broker's redelivery, the same since Celery 4).
@pytest.mark.version_neutral
def test_a_worker_killed_mid_import_writes_nothing_and_the_job_ends_failed(
    admin_client, account, settings, celery_worker
):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "IMPORT_SYNC_MAX_ROWS": 100}
    # One order per batch: the import's single transaction lasts long enough to be interrupted.
    worker = celery_worker({"INGEST_BATCH_SIZE": 1})
    rows = [f"{n},2024-01-01,c{n % 50}@example.com,MUG,1,2.00" for n in range(1500)]
    content = ("order_id,placed_at,customer_email,sku,quantity,unit_price\n" + "\n".join(rows) + "\n").encode()
    upload(admin_client, account, "big.csv", content, "generic")
    job = ImportJob.objects.get()
    wait_for(
        lambda: job_in(job, jobs.APPLY, JobState.PENDING) or job_in(job, jobs.CHECK, JobState.FAILED), 300, "the check"
    )
    assert job.state == JobState.PENDING, job.error or worker.log()

    admin_client.post(reverse("wagtail_customers_imports:apply", args=[job.pk]))

    def midway():
        # PostgreSQL shows the progress made inside the import's transaction (written on a second
        # connection); SQLite, one writer at a time, only shows that the import is running.
        running = job_in(job, jobs.APPLY, JobState.RUNNING, JobState.DONE)
        if running and connection.vendor == "postgresql":
            return running if running.state == JobState.DONE or 0 < running.rows_done < running.rows_total else None
        return running

    wait_for(midway, 120, "the import to be under way")
    assert job.state == JobState.RUNNING, "the import finished before the worker could be killed"
    worker.kill()

    job.refresh_from_db()
    assert job.state == JobState.RUNNING  # the worker died holding it
    assert not Order.objects.exists() and not Customer.objects.exists()  # its transaction was rolled back
    # Past the task's hard time limit, the job page tells the truth: failed, nothing written.
    job.preview["started_at"] = (timezone.now() - timedelta(seconds=jobs.TIME_LIMIT + 61)).isoformat()
    ImportJob.objects.filter(pk=job.pk).update(preview=job.preview)
    html = admin_client.get(reverse("wagtail_customers_imports:job", args=[job.pk])).content.decode()
    assert "stopped before it finished" in html
    job.refresh_from_db()
    assert job.state == JobState.FAILED and not job.file


# --- progress written inside the import's transaction (in this process: no worker needed) ------------------------


def side_connections_opened(run):
    """The database connections ``run()`` opens besides the test's own (Django's ``connection_created``)."""
    opened = []

    def note(sender, connection, **kwargs):
        if connection is not connections[DEFAULT_DB_ALIAS]:
            opened.append(connection)

    connection_created.connect(note)
    try:
        run()
    finally:
        connection_created.disconnect(note)
    return opened


def test_the_progress_of_a_job_is_written_on_one_side_connection_closed_when_the_phase_ends(
    superuser, account, settings
):
    # One order per batch: a progress write after each of the 30 batches, inside the import's transaction.
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "INGEST_BATCH_SIZE": 1}
    rows = [f"{n},2024-01-01,c{n}@example.com,MUG,1,2.00" for n in range(30)]
    content = ("order_id,placed_at,customer_email,sku,quantity,unit_price\n" + "\n".join(rows) + "\n").encode()
    job = jobs.create_job(superuser, account, "generic", SimpleUploadedFile("progress.csv", content))
    opened = side_connections_opened(lambda: jobs.run_phase(job.pk, jobs.CHECK))
    job.refresh_from_db()
    assert (jobs.phase(job), job.state, job.rows_total) == (jobs.APPLY, JobState.PENDING, 30), job.error
    # PostgreSQL: one connection for the whole phase, not one per batch; SQLite (one writer at a time): none.
    assert len(opened) == (1 if connection.vendor == "postgresql" else 0)
    assert all(side.connection is None for side in opened), "closed when the phase ended"


def test_progress_written_inside_the_imports_transaction_is_seen_outside_it(superuser, account):
    job = jobs.create_job(superuser, account, "generic", SimpleUploadedFile("orders.csv", b"a,b\n1,2\n"))
    writer = jobs.ProgressWriter(job)
    reader = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with transaction.atomic():
            writer("checking", 0, 10)
            writer("writing", 4, 10)
            writer("writing", 8, 10)
            if connection.vendor == "postgresql":
                with reader.cursor() as cursor:
                    cursor.execute(
                        f"SELECT rows_done, rows_total FROM {ImportJob._meta.db_table} WHERE id = %s", [job.pk]
                    )
                    assert cursor.fetchone() == (8, 10)
    finally:
        writer.close()
        reader.close()
    writer.close()  # a second close is harmless
    # Outside a transaction the job's own connection writes it.
    writer("writing", 10, 10)
    job.refresh_from_db()
    assert (job.rows_done, job.rows_total) == (10, 10)
