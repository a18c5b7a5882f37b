"""Exports on a real Celery worker process and a real Redis server (fixtures: tests/celery_fixtures.py).

The worker is a separate process reading the same database (a file copy of SQLite's test database, or
PostgreSQL's test database), so the tests commit their data (``transaction=True``).
"""

import pytest
from django.utils import timezone

from tests.celery_fixtures import mail_bodies, wait_for
from tests.export_support import (
    ALL_COLUMNS,
    START_URL,
    as_xlsx_value,
    decode_xlsx_escapes,
    expected_cells,
    expected_from_start_or_end,
    exported_columns,
    exporter,
    make_customers,
    read_csv,
    read_xlsx,
    response_bytes,
)
from wagtail_customers.exports.tasks import sweep_export_jobs
from wagtail_customers.listing import customer_listing_queryset
from wagtail_customers.models import ExportJob, JobState
from wagtail_customers.permissions import Action


def admin_page(client):
    """An admin page with the sidebar and messages (the listing: Wagtail's dashboard needs the page tree, which
    a flushing test before this one may have removed)."""
    response = client.get("/admin/customers/")
    assert response.status_code == 200
    return response.content.decode()


pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SLOW = "tests.worker_resources.SlowCustomerResource"


def job_state(job, *states):
    job.refresh_from_db()
    return job if job.state in states else None


def test_an_export_runs_end_to_end_on_the_worker(client, account, other_account, settings, celery_worker):
    make_customers(account, 40)
    make_customers(other_account, 5, prefix="x")
    user = exporter("workeruser", account, columns=ALL_COLUMNS)
    settings.WAGTAIL_CUSTOMERS = {
        **settings.WAGTAIL_CUSTOMERS,
        "EXPORT_SYNC_MAX_ROWS": 10,
        "BASE_URL": "https://a.example",
    }
    worker = celery_worker()
    client.force_login(user)
    started = timezone.now()
    response = client.post(START_URL, {"format": "xlsx", "scope": "all", "tab": "highest-value"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and job.state in (JobState.PENDING, JobState.RUNNING, JobState.DONE)

    wait_for(lambda: job_state(job, JobState.DONE, JobState.FAILED), 120, "the worker to finish the export")
    assert job.state == JobState.DONE, job.error or worker.log()
    assert (job.rows_written, job.attempts) == (40, 1)
    assert "wagtail_customers.run_export_job" in worker.log()

    rows = read_xlsx(response_bytes(client.get(f"/admin/customers/exports/{job.pk}/download/")))
    queryset = customer_listing_queryset(user, "highest-value", {}, action=Action.EXPORT).select_related("account")

    def expected_at(now):
        return [
            [as_xlsx_value(value) for value in expected_cells(customer, exported_columns(ALL_COLUMNS), now)]
            for customer in queryset
        ]

    with timezone.override(timezone.get_current_timezone()):
        assert [[decode_xlsx_escapes(value) for value in row] for row in rows[1:]] in expected_from_start_or_end(
            started, expected_at
        )

    # The job is marked done before its e-mail is written: wait for the file rather than race the worker.
    mails = wait_for(lambda: list(celery_worker.email_dir.iterdir()), 30, "the worker to write the e-mail")
    assert len(mails) == 1
    [body] = mail_bodies(mails[0].read_text())
    assert f"https://a.example/admin/customers/exports/{job.pk}/download/" in body
    assert "Your export of 40 customers is ready." in admin_page(client)


# version_neutral: as tests/test_export_chunks.py's killed chunk (the broker's redelivery, the same since Celery 4).
@pytest.mark.version_neutral
def test_a_worker_killed_mid_export_leaves_a_job_that_is_retried_not_stuck(client, account, settings, celery_worker):
    make_customers(account, 300)
    user = exporter("killuser", account, columns=["name", "address", "email"])
    plugin_settings = {"EXPORT_RESOURCE": SLOW, "EXPORT_PROGRESS_ROWS": 10, "EXPORT_STALE_SECONDS": 1}
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXPORT_SYNC_MAX_ROWS": 10}
    first = celery_worker(plugin_settings)
    client.force_login(user)
    client.post(START_URL, {"format": "csv", "scope": "all", "tab": "all"})
    job = ExportJob.objects.get()

    def midway():
        job.refresh_from_db()
        return job.state == JobState.RUNNING and 20 <= job.rows_written < 300

    wait_for(midway, 120, "the export to be under way")
    first.kill()
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and job.attempts == 1  # what a dead worker leaves behind

    second = celery_worker(plugin_settings)
    # The sweeper, as the beat schedule would send it: the job has had no heartbeat for over a second.
    wait_for(lambda: (timezone.now() - job.heartbeat_at).total_seconds() > 1, 30, "the heartbeat to go stale")
    sweep_export_jobs.delay()
    wait_for(lambda: job_state(job, JobState.DONE, JobState.FAILED), 180, "the retried export to finish")
    assert job.state == JobState.DONE, job.error or second.log()
    assert (job.attempts, job.rows_written) == (2, 300)
    rows = read_csv(response_bytes(client.get(f"/admin/customers/exports/{job.pk}/download/")))
    assert len(rows) == 301 and rows[0] == ["Customer", "Address", "E-mail"]
    assert not ExportJob.objects.filter(state=JobState.RUNNING).exists()
