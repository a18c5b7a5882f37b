"""An import job's state says truthfully what was written, whatever stops it, and a task queue that cannot be
reached is reported, never a 500 nor a job waiting for ever.

* The job's running -> done change and its history entry commit with the orders: a failure after the commit
  (the task's soft time limit raised in the planner's ANALYZE) leaves the job done with its history entry; a
  failure before it leaves the job failed with nothing written.
* A broker that is configured but down: a check fails at once with the reason (its file deleted), a confirmation
  stays waiting with the reason and can be confirmed again; "Sync now" and "Connect" on a connection say so.

Committed for real (``transaction=True``): the on-commit steps run as in a request or a worker.
"""

import uuid
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError, connection, connections
from django.urls import resolve, reverse
from wagtail.models import ModelLogEntry

from tests.celery_fixtures import _reset_publisher, use_celery_settings
from tests.test_import_screen import job_url, upload
from wagtail_customers.importers import jobs
from wagtail_customers.importers.tasks import run_import_job
from wagtail_customers.models import ChannelConnection, ConnectionState, Customer, ImportJob, JobState, Order
from wagtail_customers.storage import get_private_storage

pytestmark = pytest.mark.django_db(transaction=True)

UNREACHABLE = {"broker_url": "redis://127.0.0.1:9/0", "task_always_eager": False, "broker_connection_max_retries": 1}


def history_entries():
    return ModelLogEntry.objects.filter(action="wagtail_customers.import.apply").count()


def stored_files():
    root = Path(get_private_storage().location)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def messages_of(response):
    return [str(message) for message in response.wsgi_request._messages]


@pytest.fixture
def previewed(admin_client, account):
    """A file checked in the request (three rows), waiting for confirmation."""
    upload(admin_client, account)
    job = ImportJob.objects.get()
    assert (jobs.phase(job), job.state) == (jobs.APPLY, JobState.PENDING) and job.file
    return job


@pytest.fixture
def background(settings):
    """Files of more than two rows go to the task queue."""
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "IMPORT_SYNC_MAX_ROWS": 2}


@pytest.fixture
def unreachable_broker(settings):
    """A broker configured but down: call ``down()`` to send tasks to it from then on."""
    apps = []

    def down():
        apps.append(use_celery_settings(settings, **UNREACHABLE))

    yield down
    for app in apps:
        _reset_publisher(app)


# --- The job's state commits with the orders -------------------------------------------------------------------


def test_a_time_limit_in_the_planner_refresh_after_commit_leaves_the_job_done(previewed, monkeypatch):
    calls = []

    def analyse_until_stopped(*args, **kwargs):
        calls.append(args)
        raise SoftTimeLimitExceeded()

    # The external step after the commit (ANALYZE on SQLite), where the worker's soft time limit can land.
    monkeypatch.setattr("wagtail_customers.importers.runner.refresh_planner_statistics", analyse_until_stopped)

    assert run_import_job(str(previewed.pk), jobs.APPLY) == JobState.DONE

    job = ImportJob.objects.get()
    assert calls, "the planner refresh did not run after the commit"
    assert job.state == JobState.DONE and job.error == "" and job.result["orders_created"] == 2
    assert history_entries() == 1
    assert Order.objects.count() == 2 and Customer.objects.count() == 2
    assert not job.file and not stored_files()


def test_a_time_limit_inside_the_orders_transaction_fails_the_job_with_nothing_written(previewed, monkeypatch):
    def stopped(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    # Called inside the transaction, after the orders' rows are written (the customers' statistics).
    monkeypatch.setattr("wagtail_customers.importers.runner.refresh_statistics", stopped)

    assert run_import_job(str(previewed.pk), jobs.APPLY) == JobState.FAILED

    job = ImportJob.objects.get()
    assert job.state == JobState.FAILED and "was stopped. Nothing was written." in job.error
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert history_entries() == 0 and not job.file and not stored_files()


def test_a_database_error_writing_the_history_entry_rolls_the_orders_back(previewed, monkeypatch):
    def blip(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("wagtail_customers.importers.jobs.log", blip)

    assert run_import_job(str(previewed.pk), jobs.APPLY) == JobState.FAILED

    job = ImportJob.objects.get()
    assert job.state == JobState.FAILED and "Nothing was written;" in job.error
    # A sentence for the seller, without the exception's name (the log has it).
    assert "OperationalError" not in job.error and "server log" in job.error
    assert not Order.objects.exists() and not Customer.objects.exists() and history_entries() == 0


def test_an_import_whose_job_is_no_longer_running_does_not_commit(previewed, monkeypatch):
    """The compare-and-set on ``running`` finds the job failed (as ``fail_if_stale`` does from another process;
    simulated here on the import's own connection, since SQLite has one writer): the orders are rolled back, so
    a job that says "Nothing was written" never has orders in."""
    from wagtail_customers.importers import runner

    def failed_meanwhile(account, content, **kwargs):
        before_commit = kwargs["before_commit"]

        def then_mark(report):
            ImportJob.objects.filter(pk=previewed.pk).update(state=JobState.FAILED, error="stale")
            before_commit(report)

        return real_run_import(account, content, **{**kwargs, "before_commit": then_mark})

    real_run_import = runner.run_import
    monkeypatch.setattr("wagtail_customers.importers.jobs.run_import", failed_meanwhile)

    run_import_job(str(previewed.pk), jobs.APPLY)

    # The whole transaction is rolled back (the simulated update with it): nothing written, not done.
    assert not Order.objects.exists() and history_entries() == 0
    assert ImportJob.objects.get().state != JobState.DONE


# --- A task queue that cannot be reached -----------------------------------------------------------------------


def test_an_unreachable_broker_fails_the_check_at_once_with_the_reason(
    admin_client, account, background, unreachable_broker
):
    unreachable_broker()
    response = upload(admin_client, account)  # three rows: sent to the queue

    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert response["Location"] == job_url(job)
    assert job.state == JobState.FAILED and "not reachable" in job.error and "Nothing was written" in job.error
    assert not job.file and not stored_files()
    page = admin_client.get(response["Location"])
    assert page.status_code == 200 and "not reachable" in page.content.decode()


def test_an_unreachable_broker_leaves_the_confirmation_waiting_to_be_sent_again(
    admin_client, account, background, unreachable_broker, settings
):
    upload(admin_client, account)  # checked by the (eager) task queue
    job = ImportJob.objects.get()
    assert (jobs.phase(job), job.state) == (jobs.APPLY, JobState.PENDING)

    unreachable_broker()
    response = admin_client.post(job_url(job, "apply"))

    assert response.status_code == 302 and response["Location"] == job_url(job)
    job.refresh_from_db()
    assert (jobs.phase(job), job.state) == (jobs.APPLY, JobState.PENDING)
    assert "not reachable" in job.error and "Try again" in job.error
    assert job.file and stored_files() and not Order.objects.exists()
    page = admin_client.get(job_url(job)).content.decode()
    assert "not reachable" in page and reverse("wagtail_customers_imports:apply", args=[job.pk]) in page

    # The queue answers again: the same confirmation goes through, and the reason is gone.
    use_celery_settings(settings, broker_url="memory://", task_always_eager=True)
    admin_client.post(job_url(job, "apply"))
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.error == "" and Order.objects.count() == 2


# --- The connection page --------------------------------------------------------------------------------------


@pytest.fixture
def live_connection(account):
    connection = ChannelConnection(account=account, state=ConnectionState.LIVE)
    connection.set_credentials({"api_key": "key"})
    connection.save()
    return connection


def test_sync_now_with_the_broker_down_says_so_instead_of_500(
    admin_client, account, live_connection, unreachable_broker
):
    unreachable_broker()
    response = admin_client.post(reverse("wagtail_customers_connections:sync", args=[account.pk]))

    assert response.status_code == 302
    [message] = messages_of(response)
    assert "not reachable" in message and "A sync was queued." not in message


def test_connect_with_the_broker_down_keeps_the_backfill_and_says_so(
    admin_client, account, live_connection, unreachable_broker
):
    unreachable_broker()
    response = admin_client.post(
        reverse("wagtail_customers_connections:connect", args=[account.pk]), {"backfill_from": ""}
    )

    assert response.status_code == 302
    [message] = messages_of(response)
    assert "not reachable" in message and "in the background" not in message
    # Saved all the same: the scheduler picks the connection up once the queue answers.
    assert ChannelConnection.objects.get(pk=live_connection.pk).state == ConnectionState.BACKFILLING


# --- ATOMIC_REQUESTS ---------------------------------------------------------------------------------------------


def test_the_views_that_run_an_import_phase_are_outside_atomic_requests_on_every_database():
    for url in (
        reverse("wagtail_customers_imports:index"),
        reverse("wagtail_customers_imports:apply", args=[uuid.uuid4()]),
    ):
        view = resolve(url).func
        assert set(connections) <= getattr(view, "_non_atomic_requests", set()), url


def test_a_small_import_applies_under_atomic_requests_on_postgresql(admin_client, account, monkeypatch):
    """The request's transaction held the job's row that the progress, written on a second connection, waited for:
    the apply hung. (SQLite writes no progress inside a transaction, so only PostgreSQL shows it.)"""
    if connection.vendor != "postgresql":
        pytest.skip("the progress is written on a second connection on PostgreSQL only")
    upload(admin_client, account)
    job = ImportJob.objects.get()
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    # A wait for a lock fails after a few seconds instead of hanging the test (the second connection is new).
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "options", "-c lock_timeout=5s")

    admin_client.post(job_url(job, "apply"))

    job.refresh_from_db()
    assert job.state == JobState.DONE, job.error
    assert Order.objects.count() == 2
