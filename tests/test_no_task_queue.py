"""A site without Celery settings (the README's "Install into your site" alone): big exports and imports are
refused up front with the reason, and ``manage.py check`` warns (issue 11, item 3)."""

import pytest
from celery import current_app
from django.core.checks import run_checks
from django.db import connection, connections
from django.urls import resolve, reverse

from tests.celery_fixtures import broker_down
from tests.export_support import START_URL, exporter, make_customers
from tests.test_import_screen import GOOD, upload
from tests.test_watchlist_rules import high_returns, order
from wagtail_customers.models import Customer, ExportJob, ImportJob, JobState, WatchlistEntry
from wagtail_customers.services.ingestion import record_orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_task_queue(settings, monkeypatch):
    """No CELERY_BROKER_URL anywhere and tasks not eager: what a site without Celery settings has.
    (Celery reads its CELERY_ settings live: without them it has its defaults, no broker and not eager.)"""
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    del settings.CELERY_BROKER_URL
    del settings.CELERY_TASK_ALWAYS_EAGER
    assert current_app.conf.broker_url is None and not current_app.conf.task_always_eager


@pytest.fixture
def limits(settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXPORT_SYNC_MAX_ROWS": 5, "IMPORT_SYNC_MAX_ROWS": 2}


@pytest.fixture
def user(account, limits):
    make_customers(account, 8)
    return exporter("noqueue", account)


def messages_of(response):
    return [str(message) for message in response.wsgi_request._messages]


def test_check_warns_when_no_broker_is_configured(no_task_queue):
    warnings = [message for message in run_checks() if message.id == "wagtail_customers.W011"]
    assert len(warnings) == 1 and "CELERY_BROKER_URL" in warnings[0].msg


def test_no_warning_with_a_broker_or_eager_tasks(settings):
    assert "wagtail_customers.W011" not in {message.id for message in run_checks()}


def test_a_big_export_is_refused_before_any_job_with_the_reason(client, user, no_task_queue):
    client.force_login(user)
    response = client.post(START_URL, {"tab": "all", "scope": "all", "format": "csv"})
    assert response.status_code == 302 and response["Location"].startswith("/admin/customers/")
    assert not ExportJob.objects.exists()
    [message] = messages_of(response)
    assert "no task queue" in message and "8 customers" in message and "more than 5" in message
    assert "being prepared" not in message
    page = client.get(response["Location"]).content.decode()
    assert "being prepared" not in page


def test_a_small_export_still_downloads_at_once(client, user, no_task_queue):
    client.force_login(user)
    ids = ",".join(str(pk) for pk in Customer.objects.values_list("pk", flat=True)[:3])
    response = client.post(START_URL, {"tab": "all", "scope": "selected", "format": "csv", "ids": ids})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")


def test_a_big_import_is_refused_with_the_reason_and_its_file_deleted(admin_client, account, limits, no_task_queue):
    response = upload(admin_client, account)  # three rows, above the limit of 2
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.state == JobState.FAILED and "no task queue" in job.error and not job.file
    page = admin_client.get(response["Location"])
    assert page.status_code == 200 and "no task queue" in page.content.decode()


def test_a_small_import_still_runs_in_the_request(admin_client, account, no_task_queue):
    upload(admin_client, account, content=GOOD)
    job = ImportJob.objects.get()
    assert job.state == JobState.PENDING and job.preview["report"]["orders_created"] == 2


def start_with_the_broker_down(client, user, settings):
    """A big export started while the configured broker is down: the job fails when queued, and the answer says so
    (not both messages); returns the answer."""
    client.force_login(user)
    with broker_down(settings):
        response = client.post(START_URL, {"tab": "all", "scope": "all", "format": "csv"})
    job = ExportJob.objects.get()
    assert job.state == JobState.FAILED and "not reachable" in job.error
    [message] = messages_of(response)
    assert "not reachable" in message and "being prepared" not in message
    return response


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_shows_the_failure_not_being_prepared(client, user, settings):
    """A broker is configured but down: the job fails when queued, and the page says so (not both messages).
    (Committed for real, as in a request, so the job is queued before the view answers.)"""
    start_with_the_broker_down(client, user, settings)


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_under_atomic_requests_shows_the_failure(client, user, settings, monkeypatch):
    """With ATOMIC_REQUESTS the job was queued when the request's transaction committed, after the view had said
    "being prepared": the start view is outside that transaction on every database, so it queues first."""
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    assert set(connections) <= resolve(START_URL).func._non_atomic_requests
    response = start_with_the_broker_down(client, user, settings)
    page = client.get(response["Location"]).content.decode()
    assert "Your export failed" not in page  # told once: the finished-job notice does not repeat it


def test_run_now_of_a_watchlist_rule_still_runs_in_the_request(admin_client, account, no_task_queue):
    """No task queue to send it to: "Run now" applies the rule in the request, as before it was queued."""
    record_orders(account, [order(f"N{i}", "new@example.com", returned=1) for i in range(3)])
    rule = high_returns(account)
    response = admin_client.post(reverse("wagtail_customers_watchlist_rules:run", args=(rule.pk,)))
    assert response.status_code == 302
    [message] = messages_of(response)
    assert "ran: 1 customer added" in message
    assert WatchlistEntry.objects.get().customer.email == "new@example.com"
