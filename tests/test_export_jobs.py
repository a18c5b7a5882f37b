"""Export jobs with Celery running eagerly (the real-worker tests are in test_export_worker.py): the big-export
path, the Exports page, status and download checks, e-mails, notices, expiry, the sweeper, retries, and the
permission re-check when the task runs."""

import re
import uuid
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.export_support import START_URL, exporter, make_customers, read_csv, read_xlsx, response_bytes
from wagtail_customers.exports import jobs
from wagtail_customers.exports.notices import add_finished_job_notices
from wagtail_customers.exports.query import ExportSpec
from wagtail_customers.exports.resources import CustomerResource
from wagtail_customers.exports.tasks import run_export_job
from wagtail_customers.models import ExportJob, JobState
from wagtail_customers.storage import private_storage


def admin_page(client):
    """An admin page with the sidebar and messages (the listing: Wagtail's dashboard needs the page tree, which
    a flushing test before this one may have removed)."""
    response = client.get("/admin/customers/")
    assert response.status_code == 200
    return response.content.decode()


pytestmark = pytest.mark.django_db

INDEX_URL = "/admin/customers/exports/"


@pytest.fixture
def small_sync_limit(settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXPORT_SYNC_MAX_ROWS": 5, "EXPORT_PROGRESS_ROWS": 4}


@pytest.fixture
def shop(account):
    make_customers(account, 12)
    return account


@pytest.fixture
def user(shop):
    return exporter("jobuser", shop, columns=["name", "email", "amount_spent"])


def start(client, django_capture_on_commit_callbacks, headers=None, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            START_URL, {"tab": "highest-value", "scope": "all", "format": "csv", **data}, headers=headers or {}
        )


def queued_job(user, **spec):
    """A job created but not yet run (its queueing callback discarded), as if waiting for a worker."""
    spec = ExportSpec(**{"file_format": "csv", "tab": "highest-value", "columns": ["name"], **spec})
    job, created = jobs.find_or_create_job(
        user, spec, total_rows=12, account_ids=[user.customer_access_grants.get().account_id]
    )
    assert created
    return job


def storage_files():
    try:
        return private_storage.listdir("wagtail_customers/exports")[1]
    except FileNotFoundError:
        return []


# --- the big-export path ---------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_big_export_becomes_a_job_and_ends_done_with_the_file(
    client, user, small_sync_limit, django_capture_on_commit_callbacks, file_format
):
    client.force_login(user)
    response = start(client, django_capture_on_commit_callbacks, format=file_format)
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{INDEX_URL}#job-{job.pk}"
    assert "being prepared" in str(list(response.wsgi_request._messages)[0])
    assert job.state == JobState.DONE
    assert (job.rows_written, job.total_rows, job.attempts) == (12, 12, 1)
    assert re.fullmatch(rf"wagtail_customers/exports/[0-9a-f]{{32}}\.{file_format}", job.file.name)
    assert job.size_bytes == private_storage.size(job.file.name)
    assert job.expires_at > timezone.now() + timedelta(hours=71)
    assert job.account_ids == [user.customer_access_grants.get().account_id]
    content = client.get(f"{INDEX_URL}{job.pk}/download/")
    assert 'filename="customers-highest-value-' in content["Content-Disposition"]
    data = response_bytes(content)
    rows = read_xlsx(data) if file_format == "xlsx" else read_csv(data)
    assert rows[0] == ["Customer", "E-mail", "Amount spent", "Currency", "Orders without exchange rate"]
    assert len(rows) == 13
    amounts = [float(row[2]) for row in rows[1:]]
    assert amounts == sorted(amounts, reverse=True)


@pytest.mark.django_db(transaction=True)
def test_a_job_done_before_the_answer_says_it_is_ready_once(client, user, small_sync_limit):
    """Tasks run eagerly (the example site's default): the job is done in the request itself, committed for real
    as in a site, so the message says the file is ready, with its download link, not "being prepared"."""
    client.force_login(user)
    response = client.post(START_URL, {"tab": "highest-value", "scope": "all", "format": "csv"})
    job = ExportJob.objects.get()
    assert job.state == JobState.DONE
    [message] = [str(message) for message in response.wsgi_request._messages]
    assert message.startswith("Your export of 12 customers is ready.")
    assert f"/admin/customers/exports/{job.pk}/download/" in message
    # Told once: the finished-job notice does not repeat it on the next pages.
    page = client.get(response["Location"]).content.decode()
    assert page.count("Your export of 12 customers is ready.") == 1
    assert "Your export of 12 customers is ready." not in admin_page(client)


def test_the_owner_gets_an_email_with_a_link_from_the_base_url(
    client, user, small_sync_limit, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "BASE_URL": "https://shop.example.com/"}
    client.force_login(user)
    start(client, django_capture_on_commit_callbacks, headers={"host": "localhost"})
    job = ExportJob.objects.get()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "12 customers is ready" in message.subject
    assert f"https://shop.example.com/admin/customers/exports/{job.pk}/download/" in message.body
    assert "localhost" not in message.body


def test_the_notice_shows_once_on_the_next_admin_page(
    client, user, small_sync_limit, django_capture_on_commit_callbacks
):
    client.force_login(user)
    start(client, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    page = admin_page(client)
    assert "Your export of 12 customers is ready." in page
    assert f"/admin/customers/exports/{job.pk}/download/" in page
    assert ExportJob.objects.get().notified
    assert "Your export of 12 customers is ready." not in admin_page(client)


def test_the_notice_costs_one_query_when_there_is_nothing_to_say(rf, user, django_assert_num_queries):
    request = rf.get("/admin/")
    request.user = user
    with django_assert_num_queries(1):
        add_finished_job_notices(request, [])


def test_the_same_request_twice_returns_the_same_job(
    client, user, settings, small_sync_limit, django_capture_on_commit_callbacks
):
    client.force_login(user)
    start(client, django_capture_on_commit_callbacks)
    response = start(client, django_capture_on_commit_callbacks)
    assert ExportJob.objects.count() == 1
    assert "the file is still available" in str(list(response.wsgi_request._messages)[-1])
    # Another format, tab or page is another request.
    start(client, django_capture_on_commit_callbacks, format="xlsx")
    assert ExportJob.objects.count() == 2
    # A finished file is reused within EXPORT_DUPLICATE_WINDOW_SECONDS (5 minutes by default)...
    a_minute_ago = timezone.now() - timedelta(minutes=1)
    ExportJob.objects.update(created_at=a_minute_ago, finished_at=a_minute_ago)
    start(client, django_capture_on_commit_callbacks)
    assert ExportJob.objects.count() == 2
    # ...not later (the customers may have changed since), even though its file is still kept...
    an_hour_ago = timezone.now() - timedelta(hours=1)
    ExportJob.objects.update(created_at=an_hour_ago, finished_at=an_hour_ago)
    start(client, django_capture_on_commit_callbacks)
    assert ExportJob.objects.count() == 3
    # ...and with no window (None), for as long as the file is kept, until it expired.
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXPORT_DUPLICATE_WINDOW_SECONDS": None}
    start(client, django_capture_on_commit_callbacks)
    assert ExportJob.objects.count() == 3
    ExportJob.objects.filter(file_format="csv").update(expires_at=timezone.now() - timedelta(minutes=1))
    start(client, django_capture_on_commit_callbacks)
    assert ExportJob.objects.count() == 4


def test_a_waiting_identical_job_is_joined_and_the_database_refuses_a_second_one(user):
    job = queued_job(user)
    spec = ExportSpec.from_params(job.params)
    again, created = jobs.find_or_create_job(user, spec, total_rows=12, account_ids=job.account_ids)
    assert (again.pk, created) == (job.pk, False)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ExportJob.objects.create(user=user, file_format="csv", fingerprint=job.fingerprint, state=JobState.RUNNING)


# --- the Exports page, status and download ------------------------------------------------------------


def test_exports_page_lists_only_the_users_jobs(
    client, user, shop, small_sync_limit, django_capture_on_commit_callbacks
):
    client.force_login(user)
    start(client, django_capture_on_commit_callbacks)
    mine = ExportJob.objects.get()
    other = exporter("someoneelse", shop)
    theirs = ExportJob.objects.create(user=other, file_format="xlsx", fingerprint="x", params={"tab": "watchlist"})
    page = client.get(INDEX_URL).content.decode()
    assert f"job-{mine.pk}" in page and f"job-{theirs.pk}" not in page
    assert "Highest value, all pages (CSV)" in page
    assert f"/admin/customers/exports/{mine.pk}/download/" in page
    assert 'data-controller="wc-export-progress"' in page
    assert "export-progress-controller.js" in page


def test_exports_page_empty_state_and_menu_entry(client, user, shop):
    client.force_login(user)
    page = client.get(INDEX_URL).content.decode()
    assert "You have no exports yet." in page
    menu_entry = '"url": "/admin/customers/exports/"'
    assert menu_entry in admin_page(client)
    viewer = exporter("viewer", shop)
    viewer.customer_access_grants.update(can_export=False)
    client.force_login(viewer)
    assert client.get(INDEX_URL).status_code == 403
    assert menu_entry not in admin_page(client)


@pytest.mark.parametrize(("hours", "says"), [(1, "for 1 hour."), (48, "for 48 hours.")])
def test_exports_page_says_how_long_files_last_with_a_plural(client, user, settings, hours, says):
    """ "Files can be downloaded for 1 hours": the text had no singular."""
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXPORT_EXPIRY_HOURS": hours}
    client.force_login(user)
    page = client.get(INDEX_URL).content.decode()
    assert f"Files can be downloaded {says}" in " ".join(page.split())


def test_status_json_follows_the_job(client, user):
    job = queued_job(user)
    client.force_login(user)
    status = client.get(f"{INDEX_URL}{job.pk}/status/").json()
    assert status["state"] == "pending" and status["active"] and status["download_url"] is None
    run_export_job.apply(args=[str(job.pk)])
    status = client.get(f"{INDEX_URL}{job.pk}/status/").json()
    assert status["state"] == "done" and not status["active"]
    assert (status["rows_written"], status["percent"]) == (12, 100)
    assert status["download_url"] == f"/admin/customers/exports/{job.pk}/download/"


def test_the_exports_page_of_a_site_without_time_zones_shows_a_finished_job(client, user, settings):
    # USE_TZ = False stores naive datetimes, which timezone.localtime() refuses: the page and the status JSON of a
    # finished job answered 500.
    job = queued_job(user)
    run_export_job.apply(args=[str(job.pk)])
    settings.USE_TZ = False
    ExportJob.objects.filter(pk=job.pk).update(
        expires_at=timezone.now().replace(tzinfo=None) + timedelta(hours=24),
        finished_at=timezone.now().replace(tzinfo=None),
    )
    client.force_login(user)
    assert client.get(INDEX_URL).status_code == 200
    assert client.get(f"{INDEX_URL}{job.pk}/status/").json()["expires"]


def test_another_users_job_answers_404_everywhere(client, user, shop):
    job = queued_job(user)
    run_export_job.apply(args=[str(job.pk)])
    intruder = exporter("intruder", shop)
    client.force_login(intruder)
    for suffix in ("status/", "download/"):
        assert client.get(f"{INDEX_URL}{job.pk}/{suffix}").status_code == 404
        assert client.get(f"{INDEX_URL}{uuid.uuid4()}/{suffix}").status_code == 404
    assert client.get(f"{INDEX_URL}not-a-uuid/download/").status_code == 404


def test_download_needs_a_login(client, user):
    job = queued_job(user)
    run_export_job.apply(args=[str(job.pk)])
    response = client.get(f"{INDEX_URL}{job.pk}/download/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_download_needs_the_export_grant_today(client, user):
    job = queued_job(user)
    run_export_job.apply(args=[str(job.pk)])
    client.force_login(user)
    assert client.get(f"{INDEX_URL}{job.pk}/download/").status_code == 200
    user.customer_access_grants.update(can_export=False, can_view=True)
    response = client.get(f"{INDEX_URL}{job.pk}/download/")
    assert response.status_code == 403
    # A disabled seller account drops out too.
    user.customer_access_grants.update(can_export=True)
    user.customer_access_grants.get().account.__class__.objects.update(is_enabled=False)
    assert client.get(f"{INDEX_URL}{job.pk}/download/").status_code == 403


def test_a_file_not_ready_is_not_offered(client, user):
    job = queued_job(user)
    client.force_login(user)
    response = client.get(f"{INDEX_URL}{job.pk}/download/")
    assert response.status_code == 409
    assert "still being prepared" in response.content.decode()


def test_expired_links_say_so_and_the_cleanup_deletes_the_file(client, user):
    job = queued_job(user)
    run_export_job.apply(args=[str(job.pk)])
    job.refresh_from_db()
    name = job.file.name
    assert private_storage.exists(name)
    client.force_login(user)
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    # The clean-up task deletes files past their expiry...
    assert jobs.delete_expired_files() == 1
    job.refresh_from_db()
    assert job.state == JobState.EXPIRED and not job.file and not private_storage.exists(name)
    response = client.get(f"{INDEX_URL}{job.pk}/download/")
    assert response.status_code == 410 and "was deleted when its download period ended" in response.content.decode()
    assert "This export has expired" in response.content.decode()
    assert jobs.delete_expired_files() == 0


def finished_jobs(owners, count):
    """``count`` finished jobs, spread over ``owners``, each with a kept file showing its account's personal data."""
    made = []
    for index in range(count):
        owner = owners[index % len(owners)]
        account_id = owner.customer_access_grants.get().account_id
        made.append(
            ExportJob.objects.create(
                user=owner,
                file_format="csv",
                fingerprint=f"kept-{index}",
                state=JobState.DONE,
                file=f"wagtail_customers/exports/kept-{index}.csv",
                account_ids=[account_id],
                params={jobs.PERSONAL_ACCOUNTS: [account_id]},
            )
        )
    return made


def test_the_withdrawn_files_check_reads_the_grants_once_per_owner(user, shop):
    """Its queries grow with the owners, not with their jobs: each job's ``params`` (the personal data its file
    shows) comes with it, and each owner's export and personal-data grants are read once."""
    owners = [user, exporter("secondowner", shop)]
    finished_jobs(owners, 3)
    with CaptureQueriesContext(connection) as few:
        assert jobs.delete_withdrawn_files() == 0
    ExportJob.objects.all().delete()
    finished_jobs(owners, 10)
    with CaptureQueriesContext(connection) as many:
        assert jobs.delete_withdrawn_files() == 0
    assert len(many) == len(few)
    # Still deleted when the personal-data grant goes (as a Wagtail group losing it would: no signal).
    user.customer_access_grants.update(can_see_personal_data=False)
    assert jobs.delete_withdrawn_files() == 5
    assert set(ExportJob.objects.filter(state=JobState.EXPIRED).values_list("user_id", flat=True)) == {user.pk}


# --- the task ---------------------------------------------------------------------------------------------


def test_running_a_job_twice_is_harmless(user):
    job = queued_job(user)
    assert run_export_job.apply(args=[str(job.pk)]).get() == "done"
    assert run_export_job.apply(args=[str(job.pk)]).get() == "skipped"
    assert run_export_job.apply(args=[str(uuid.uuid4())]).get() == "skipped"
    job.refresh_from_db()
    assert job.attempts == 1 and len(storage_files()) == 1


def test_the_task_rechecks_the_export_grant(user):
    job = queued_job(user)
    user.customer_access_grants.update(can_export=False)
    assert run_export_job.apply(args=[str(job.pk)]).get() == "failed"
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "permission to export" in job.error
    assert not job.file and storage_files() == []
    assert "failed" in mail.outbox[0].subject


def test_the_task_refuses_a_deactivated_user(user):
    job = queued_job(user)
    user.is_active = False
    user.save()
    assert run_export_job.apply(args=[str(job.pk)]).get() == "failed"


class FlakyResource(CustomerResource):
    """Fails the first attempt with a database error, as a database restart would."""

    calls = 0

    def dehydrate_address(self, row):
        FlakyResource.calls += 1
        if FlakyResource.calls == 3:
            raise OperationalError("server closed the connection unexpectedly")
        return super().dehydrate_address(row)


class BrokenResource(CustomerResource):
    def dehydrate_address(self, row):
        raise ZeroDivisionError("a bug")


class SlowResource(CustomerResource):
    def dehydrate_address(self, row):
        raise SoftTimeLimitExceeded()


class SupersededResource(CustomerResource):
    """Halfway through, the sweeper hands the job to another attempt (as if this worker had stalled)."""

    def dehydrate_address(self, row):
        ExportJob.objects.update(state=JobState.PENDING, attempts=5)
        return ""


def use_resource(settings, resource):
    settings.WAGTAIL_CUSTOMERS = {
        **settings.WAGTAIL_CUSTOMERS,
        "EXPORT_RESOURCE": f"{__name__}.{resource.__name__}",
        "EXPORT_PROGRESS_ROWS": 2,
    }


def test_a_transient_error_is_retried_and_the_job_finishes(user, settings):
    FlakyResource.calls = 0
    use_resource(settings, FlakyResource)
    job = queued_job(user, columns=["name", "address"])
    run_export_job.apply(args=[str(job.pk)])
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.attempts == 2 and job.rows_written == 12
    assert len(storage_files()) == 1  # the first attempt's partial file was never saved


def test_retries_are_bounded(user, settings):
    use_resource(settings, FlakyResource)
    settings.WAGTAIL_CUSTOMERS["EXPORT_MAX_ATTEMPTS"] = 1
    FlakyResource.calls = 0
    job = queued_job(user, columns=["name", "address"])
    assert run_export_job.apply(args=[str(job.pk)]).get() == "failed"
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error == (
        "The export failed 1 time: the database or the file storage did not answer. Try again later."
    )


def test_an_unexpected_error_fails_the_job_with_a_reason(user, settings):
    use_resource(settings, BrokenResource)
    job = queued_job(user, columns=["address"])
    assert run_export_job.apply(args=[str(job.pk)]).get() == "failed"
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "unexpected error;" in job.error
    # The seller reads no exception's name; the log has it.
    assert "ZeroDivisionError" not in job.error
    assert storage_files() == []


def test_the_soft_time_limit_fails_the_job(user, settings):
    use_resource(settings, SlowResource)
    job = queued_job(user, columns=["address"])
    assert run_export_job.apply(args=[str(job.pk)]).get() == "failed"
    job.refresh_from_db()
    assert "time limit" in job.error


def test_an_attempt_that_lost_its_job_stops_without_saving(user, settings):
    use_resource(settings, SupersededResource)
    job = queued_job(user, columns=["address"])
    assert run_export_job.apply(args=[str(job.pk)]).get() == "superseded"
    job.refresh_from_db()
    assert (job.state, job.attempts, job.file.name) == (JobState.PENDING, 5, "")
    assert storage_files() == []


# --- the sweeper --------------------------------------------------------------------------------------


def stale(job, attempts):
    ExportJob.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, attempts=attempts, heartbeat_at=timezone.now() - timedelta(hours=1)
    )


def test_the_sweeper_requeues_a_job_whose_worker_was_lost(user, django_capture_on_commit_callbacks):
    job = queued_job(user)
    stale(job, attempts=1)
    assert jobs.sweep_stale_jobs() == (1, 0)
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.attempts == 2 and job.rows_written == 12


def test_the_sweeper_fails_a_job_out_of_attempts_with_the_reason(user):
    job = queued_job(user)
    stale(job, attempts=3)
    assert jobs.sweep_stale_jobs() == (0, 1)
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "stopped without finishing 3 times" in job.error
    assert not job.notified


def test_the_sweeper_leaves_live_jobs_and_fails_jobs_nobody_picked_up(user, settings):
    job = queued_job(user)
    ExportJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, attempts=1, heartbeat_at=timezone.now())
    assert jobs.sweep_stale_jobs() == (0, 0)
    waiting = queued_job(user, tab="all")
    ExportJob.objects.filter(pk=waiting.pk).update(heartbeat_at=timezone.now() - timedelta(days=1))
    assert jobs.sweep_stale_jobs() == (0, 1)
    waiting.refresh_from_db()
    assert waiting.state == JobState.FAILED and "No export worker picked this export up" in waiting.error
    job.refresh_from_db()
    assert job.state == JobState.RUNNING


def test_the_beat_schedule_names_registered_tasks():
    from celery import current_app

    import wagtail_customers.tasks  # noqa: F401  (what Celery's autodiscovery imports)
    from wagtail_customers.beat import BEAT_SCHEDULE

    assert {entry["task"] for entry in BEAT_SCHEDULE.values()} == {
        "wagtail_customers.sweep_export_jobs",
        "wagtail_customers.delete_expired_exports",
        "wagtail_customers.expire_import_previews",
        "wagtail_customers.rebuild_statistics",
        "wagtail_customers.refresh_exchange_rates",
        "wagtail_customers.apply_retention_rules",
        "wagtail_customers.sync_due_connections",
        "wagtail_customers.refresh_buyer_insight",
        "wagtail_customers.send_alert_digests",
        "wagtail_customers.apply_watchlist_rules",
    }
    for entry in BEAT_SCHEDULE.values():
        assert entry["task"] in current_app.tasks
