"""The Import screen: upload, dry-run preview, apply on confirmation, jobs scoped to their owner and grants."""

import csv
import io
import uuid
from datetime import UTC, timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from wagtail_customers.importers import jobs
from wagtail_customers.importers.generic import COLUMNS
from wagtail_customers.models import AccessGrant, Customer, ImportJob, JobState, Order, OrderLine

pytestmark = pytest.mark.django_db

INDEX = reverse("wagtail_customers_imports:index")
GOOD = (
    b"order_id,placed_at,customer_email,customer_name,sku,quantity,unit_price\n"
    b"1001,2024-03-01,ada@example.com,Ada Lovelace,MUG,2,12.50\n"
    b"1001,2024-03-01,,,TEE,1,20.00\n"
    b"1002,2024-04-02,grace@example.com,Grace Hopper,CAP,3,10.00\n"
)
BAD = (
    b"order_id,placed_at,customer_email,quantity,unit_price\n"
    b"1,2024-01-01,a@example.com,1,1.00\n"
    b"2,yesterday,b@example.com,1,1.00\n"
    b"3,2024-01-01,c@example.com,-4,1.00\n"
    b"4,2024-01-01,d@example.com,1,abc\n"
)


def upload(client, account, content=GOOD, name="orders.csv", fmt="generic", encoding="utf-8"):
    return client.post(
        INDEX,
        {
            "account": account.pk,
            "format": fmt,
            "encoding": encoding,
            "import_file": SimpleUploadedFile(name, content, content_type="text/csv"),
        },
    )


def job_url(job, name="job"):
    return reverse(f"wagtail_customers_imports:{name}", args=[job.pk])


def staff(username, *accounts):
    """An admin user with the IMPORT grant on ``accounts`` only."""
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    for account in accounts:
        AccessGrant.objects.create(user=user, account=account, can_view=True, can_import=True)
    return user


ORDER_COLUMNS = [field.attname for field in Order._meta.concrete_fields if field.name != "updated_at"]


def snapshot():
    return (
        list(Customer.objects.order_by("pk").values()),
        # Everything but the row's own "last written" time.
        list(Order.objects.order_by("pk").values(*ORDER_COLUMNS)),
        list(OrderLine.objects.order_by("pk").values("order__external_id", "sku", "quantity", "unit_price")),
    )


def test_upload_shows_a_dry_run_preview_and_writes_nothing(admin_client, account):
    response = upload(admin_client, account)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(job)
    assert (jobs.phase(job), job.state) == (jobs.APPLY, JobState.PENDING)
    assert job.preview["report"]["orders_created"] == 2
    assert job.preview["report"]["customers_created"] == 2
    assert not Order.objects.exists() and not Customer.objects.exists()

    page = admin_client.get(job_url(job))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Preview: what the import will change" in html
    assert 'data-wc-figure="orders_created">2<' in html
    assert 'data-wc-figure="customers_created">2<' in html
    assert "Import 2 orders" in html


def test_apply_on_confirmation_imports_atomically_and_logs_it(admin_client, account, superuser):
    upload(admin_client, account)
    job = ImportJob.objects.get()
    response = admin_client.post(job_url(job, "apply"))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.result["orders_created"] == 2
    assert Order.objects.count() == 2
    assert Customer.objects.get(email="ada@example.com").units == 3
    assert not job.file  # the uploaded file is deleted once the job is over
    entry = ModelLogEntry.objects.get(action="wagtail_customers.import.apply")
    assert entry.user == superuser and entry.data["orders_created"] == 2
    page = admin_client.get(job_url(job)).content.decode()
    assert "Imported" in page
    # What was done, not what would be; the preview said "Orders to create".
    assert "Orders created" in page and "Orders to create" not in page
    # The recent imports name the layout as the form does, not by its internal name.
    index = admin_client.get(reverse("wagtail_customers_imports:index")).content.decode()
    assert "<td>Generic template" in index and "<td>generic</td>" not in index
    history = admin_client.get(reverse("wagtailadmin_reports:site_history"))
    assert history.status_code == 200 and "Orders imported" in history.content.decode()
    # A second confirmation of the same job does nothing.
    admin_client.post(job_url(job, "apply"))
    assert ModelLogEntry.objects.filter(action="wagtail_customers.import.apply").count() == 1


def test_reimporting_the_same_file_changes_nothing(admin_client, account):
    upload(admin_client, account)
    admin_client.post(job_url(ImportJob.objects.get(), "apply"))
    before = snapshot()
    upload(admin_client, account)
    again = ImportJob.objects.latest("created_at")
    report = again.preview["report"]
    assert (report["orders_created"], report["orders_updated"], report["orders_unchanged"]) == (0, 0, 2)
    assert (report["customers_created"], report["customers_updated"], report["customers_unchanged"]) == (0, 0, 2)
    page = admin_client.get(job_url(again)).content.decode()
    assert '<td data-wc-figure="orders_updated">0</td>' in page
    assert '<td data-wc-figure="orders_unchanged">2</td>' in page
    admin_client.post(job_url(again, "apply"))
    assert snapshot() == before
    again.refresh_from_db()
    assert (again.result["orders_updated"], again.result["orders_unchanged"]) == (0, 2)
    entry = ModelLogEntry.objects.filter(action="wagtail_customers.import.apply").latest("timestamp")
    assert (entry.data["orders_updated"], entry.data["orders_unchanged"]) == (0, 2)


def test_a_bad_file_lists_every_error_with_its_row_and_cannot_be_applied(admin_client, account):
    upload(admin_client, account, BAD)
    job = ImportJob.objects.get()
    assert job.state == JobState.FAILED
    assert [error["row"] for error in job.preview["errors"]] == [3, 4, 5]
    html = admin_client.get(job_url(job)).content.decode()
    assert "it has 3 errors" in html
    assert "&#x27;yesterday&#x27; in placed_at is not a date" in html
    assert "quantity is negative" in html
    assert "&#x27;abc&#x27; in unit_price is not a number" in html
    assert "Import 1 order" not in html
    admin_client.post(job_url(job, "apply"))
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_cancel_drops_the_previewed_job(admin_client, account):
    upload(admin_client, account)
    job = ImportJob.objects.get()
    admin_client.post(job_url(job, "cancel"))
    job.refresh_from_db()
    assert job.state == JobState.EXPIRED and not job.file
    admin_client.post(job_url(job, "apply"))
    assert not Order.objects.exists()


def messages_of(response):
    return [str(message).strip() for message in response.wsgi_request._messages]


def test_a_confirmed_big_import_shows_it_waits_for_a_worker_and_cannot_be_cancelled(
    admin_client, account, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "IMPORT_SYNC_MAX_ROWS": 2}
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, account)  # three rows: checked by the (eager) task
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        admin_client.post(job_url(job, "apply"))  # sent to the queue; no worker has taken it yet
    job.refresh_from_db()
    assert (jobs.phase(job), job.state) == (jobs.APPLY, JobState.PENDING) and queued

    status = admin_client.get(job_url(job, "status")).json()
    assert status["active"] is True and status["stage"] == "apply:queued"
    assert status["label"] == "Confirmed: waiting for a worker to start the import"
    page = admin_client.get(job_url(job)).content.decode()
    assert 'data-controller="wc-import-progress"' in page and "waiting for a worker" in page
    assert job_url(job, "apply") not in page and job_url(job, "cancel") not in page
    assert "waiting for your confirmation" not in page

    # A second confirmation or a cancel would be lost on the queued task: both are refused, saying why.
    response = admin_client.post(job_url(job, "cancel"))
    assert response.status_code == 302 and response["Location"] == job_url(job)
    assert messages_of(response) == ["This import was confirmed and is under way; it cannot be cancelled any more."]
    admin_client.post(job_url(job, "apply"))
    job.refresh_from_db()
    assert job.state == JobState.PENDING and job.file and not Order.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        for callback in queued:
            callback()  # the worker takes it
    job.refresh_from_db()
    assert job.state == JobState.DONE and Order.objects.count() == 2


def test_cancel_of_a_running_import_is_refused_with_a_message(admin_client, account):
    upload(admin_client, account)
    job = jobs.claim(ImportJob.objects.get().pk, jobs.APPLY)  # what a worker does when it starts

    response = admin_client.post(job_url(job, "cancel"))

    assert response.status_code == 302 and response["Location"] == job_url(job)
    assert messages_of(response) == ["This import was confirmed and is under way; it cannot be cancelled any more."]
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and job.file


def test_the_form_offers_only_accounts_the_user_may_import_into(client, account, other_account):
    user = staff("clerk", account)
    client.force_login(user)
    html = client.get(INDEX).content.decode()
    assert account.name in html and other_account.name not in html
    response = upload(client, other_account)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_users_without_the_import_grant_get_404_and_no_menu_entry(client, account):
    viewer = get_user_model().objects.create_user("viewer", "viewer@example.com", "pw")
    viewer.user_permissions.add(Permission.objects.get(codename="access_admin"))
    AccessGrant.objects.create(user=viewer, account=account, can_view=True)
    client.force_login(viewer)
    assert client.get(INDEX).status_code == 404
    assert client.get(reverse("wagtail_customers_imports:template")).status_code == 404
    assert upload(client, account).status_code == 404
    assert "Import orders" not in client.get(reverse("wagtailadmin_home")).content.decode()


def test_another_users_job_answers_404_everywhere(client, admin_client, account):
    upload(admin_client, account)
    job = ImportJob.objects.get()
    client.force_login(staff("intruder", account))
    for name in ("job", "status"):
        assert client.get(job_url(job, name)).status_code == 404
    for name in ("apply", "cancel"):
        assert client.post(job_url(job, name)).status_code == 404
    assert client.get(reverse("wagtail_customers_imports:job", args=[uuid.uuid4()])).status_code == 404
    assert client.get("/admin/customers/import/not-a-uuid/").status_code == 404
    job.refresh_from_db()
    assert job.state == JobState.PENDING and not Order.objects.exists()


def test_a_job_on_an_account_whose_grant_was_withdrawn_answers_404(client, account):
    user = staff("clerk", account)
    client.force_login(user)
    upload(client, account)
    job = ImportJob.objects.get()
    AccessGrant.objects.filter(user=user).update(can_import=False)
    assert client.get(job_url(job)).status_code == 404
    assert client.post(job_url(job, "apply")).status_code == 404
    assert not Order.objects.exists()


def test_the_run_rechecks_the_grant(account):
    user = staff("clerk", account)
    job = jobs.create_job(user, account, "generic", SimpleUploadedFile("o.csv", GOOD))
    AccessGrant.objects.filter(user=user).delete()
    job = jobs.run_phase(job.pk, jobs.CHECK)
    assert job.state == JobState.FAILED and "no longer have permission" in job.error
    assert not Order.objects.exists()


def test_state_changes_need_post(admin_client, account):
    upload(admin_client, account)
    job = ImportJob.objects.get()
    assert admin_client.get(job_url(job, "apply")).status_code == 405
    assert admin_client.get(job_url(job, "cancel")).status_code == 405
    assert not Order.objects.exists()


def test_status_json(admin_client, account):
    upload(admin_client, account)
    data = admin_client.get(job_url(ImportJob.objects.get(), "status")).json()
    assert data["stage"] == "apply:pending" and data["active"] is False
    assert data["label"] == "Ready to import: waiting for your confirmation"


def test_a_job_left_running_past_the_time_limit_is_failed_with_nothing_written(admin_client, account):
    upload(admin_client, account)
    job = ImportJob.objects.get()
    started = timezone.now() - timedelta(seconds=jobs.TIME_LIMIT + 120)
    job.state = JobState.RUNNING
    job.preview["started_at"] = started.isoformat()
    job.save()
    html = admin_client.get(job_url(job)).content.decode()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "stopped before it finished" in html


def test_big_files_run_as_a_celery_task_with_progress(
    admin_client, account, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_CUSTOMERS = {"IMPORT_SYNC_MAX_ROWS": 2, "INGEST_BATCH_SIZE": 1}
    with django_capture_on_commit_callbacks(execute=False) as queued:
        upload(admin_client, account)
    job = ImportJob.objects.get()
    assert job.rows_total == 3 and (jobs.phase(job), job.state) == (jobs.CHECK, JobState.PENDING)
    assert admin_client.get(job_url(job, "status")).json()["active"] is True
    assert "Waiting to be checked" in admin_client.get(job_url(job)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        for callback in queued:
            callback()  # the Celery task (eager in the tests' settings)
    job.refresh_from_db()
    assert (jobs.phase(job), job.state, job.preview["report"]["orders"]) == (jobs.APPLY, JobState.PENDING, 2)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(job_url(job, "apply"))
    job.refresh_from_db()
    assert job.state == JobState.DONE and (job.rows_done, job.rows_total) == (3, 3)
    assert admin_client.get(job_url(job, "status")).json()["percent"] == 100
    assert Order.objects.count() == 2


def test_the_generic_template_download_has_every_column_and_imports(admin_client, account):
    response = admin_client.get(reverse("wagtail_customers_imports:template"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    content = b"".join(response) if response.streaming else response.content
    header, example = list(csv.reader(io.StringIO(content.decode())))
    assert set(header) == set(COLUMNS) and len(header) == len(COLUMNS)
    upload(admin_client, account, content, name="template.csv")
    job = ImportJob.objects.get()
    assert job.preview["report"]["unknown_columns"] == [] and job.preview["report"]["orders"] == 1


def test_the_page_links_the_template_and_the_menu_has_the_entry(admin_client):
    html = admin_client.get(INDEX).content.decode()
    assert reverse("wagtail_customers_imports:template") in html
    assert "Upload and preview" in html
    assert INDEX in admin_client.get(reverse("wagtailadmin_home")).content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"account": "abc", "format": "generic", "encoding": "utf-8"},
        {"account": "999999", "format": "generic", "encoding": "utf-8"},
        {"format": "../../etc/passwd", "encoding": "utf-8"},
        {"format": "generic", "encoding": "klingon"},
        {"format": "generic", "encoding": "utf-8", "import_file": None},
    ],
)
def test_hostile_form_values_are_form_errors_not_500s(admin_client, account, data):
    data = {"account": account.pk, **data}
    if "import_file" in data:
        data.pop("import_file")
    else:
        data["import_file"] = SimpleUploadedFile("orders.csv", GOOD)
    response = admin_client.post(INDEX, data)
    assert response.status_code == 200 and response.context["form"].errors
    assert not ImportJob.objects.exists()
    assert admin_client.get(INDEX, {"page": "-1", "account": "<x>", "format": "'"}).status_code == 200


def test_the_import_screen_writes_its_row_limit_as_the_exports_page_does(admin_client, account):
    """ "Files of more than 5000 rows" beside the exports page's "more than 5,000 customers"."""
    html = admin_client.get(INDEX).content.decode()
    assert "Files of more than 5,000 rows" in " ".join(html.split())


def test_the_clean_up_counts_a_confirmed_import_from_its_confirmation(admin_client, account):
    upload(admin_client, account)
    job = ImportJob.objects.get()
    # Uploaded 30 hours ago, confirmed an hour ago: its worker is late, nobody forgot to confirm it.
    job.preview[jobs.CONFIRMED] = (timezone.now() - timedelta(hours=1)).isoformat()
    ImportJob.objects.filter(pk=job.pk).update(preview=job.preview, created_at=timezone.now() - timedelta(hours=30))
    assert jobs.expire_stale_previews() == 0

    job.preview[jobs.CONFIRMED] = (timezone.now() - timedelta(hours=25)).isoformat()
    ImportJob.objects.filter(pk=job.pk).update(preview=job.preview)
    assert jobs.expire_stale_previews() == 1
    job.refresh_from_db()
    assert job.state == JobState.EXPIRED and not job.file
    assert job.error.startswith("No worker started this import within 24 hours of its confirmation")


def test_a_file_no_worker_checked_expires_saying_so_not_that_nobody_confirmed_it(
    admin_client, account, settings, django_capture_on_commit_callbacks
):
    """A big file waits for a worker to check it; none came. There was no preview to confirm: the message says
    no worker checked it, and what to do."""
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "IMPORT_SYNC_MAX_ROWS": 2}
    with django_capture_on_commit_callbacks(execute=False) as queued:
        upload(admin_client, account)  # three rows: sent to the queue; no worker takes it
    job = ImportJob.objects.get()
    assert queued and (jobs.phase(job), job.state) == (jobs.CHECK, JobState.PENDING)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=25))

    assert jobs.expire_stale_previews() == 1
    job.refresh_from_db()
    assert job.state == JobState.EXPIRED and not job.file and not Order.objects.exists()
    assert job.error == (
        "No worker checked this file within 24 hours; the file was deleted. Nothing was written. Ask the site's "
        "administrators to check the Celery workers."
    )
    page = admin_client.get(job_url(job)).content.decode()
    assert "No worker checked this file within 24 hours" in page and "Nobody confirmed" not in page


@pytest.mark.parametrize("seen_by", ["job", "status", "apply"])
def test_a_preview_past_its_expiry_is_expired_when_seen_and_cannot_be_applied(admin_client, account, seen_by):
    """Sites without Celery beat never run the hourly clean-up: the job's page, its status and its confirmation
    expire it as the clean-up would."""
    upload(admin_client, account)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=25))

    if seen_by == "apply":
        admin_client.post(job_url(job, "apply"))
    else:
        admin_client.get(job_url(job, seen_by))

    job.refresh_from_db()
    assert job.state == JobState.EXPIRED and not job.file and not Order.objects.exists()
    assert job.error == "Nobody confirmed this import within 24 hours; the file was deleted. Nothing was written."
    page = admin_client.get(job_url(job)).content.decode()
    assert "Nobody confirmed this import within 24 hours" in page and job_url(job, "apply") not in page


def test_the_success_message_tells_orders_written_from_orders_already_stored(admin_client, account):
    upload(admin_client, account)
    admin_client.get(admin_client.post(job_url(ImportJob.objects.get(), "apply"))["Location"])  # its message shown
    # 1001 changes (two mugs become three), 1002 is stored as it is, 1003 is new.
    newer = GOOD.replace(b"MUG,2,", b"MUG,3,") + b"1003,2024-05-03,ada@example.com,Ada Lovelace,CAP,1,10.00\n"
    upload(admin_client, account, newer)
    response = admin_client.post(job_url(ImportJob.objects.latest("created_at"), "apply"))
    assert messages_of(response) == [
        f"Imported 2 orders from orders.csv into {account} (1 new, 1 updated). 1 order was already there as it is."
    ]
    admin_client.get(response["Location"])

    upload(admin_client, account, newer)
    response = admin_client.post(job_url(ImportJob.objects.latest("created_at"), "apply"))
    assert messages_of(response) == [
        f"orders.csv changed nothing in {account}. 3 orders were already there as they are."
    ]


def test_the_form_and_the_preview_say_times_without_an_offset_are_read_in_the_sites_time_zone(
    admin_client, account, settings
):
    """A seller in Berlin on a UTC site saw imported times an hour or two off, and nothing said why."""
    settings.TIME_ZONE = "Europe/Berlin"
    note = "Times without a UTC offset, and plain dates, are read in the site's time zone, Europe/Berlin."
    assert note in unescape(admin_client.get(INDEX).content.decode())

    upload(admin_client, account, GOOD.replace(b"1002,2024-04-02,", b"1002,2024-04-02 14:30,"))
    job = ImportJob.objects.get()
    assert note in unescape(admin_client.get(job_url(job)).content.decode())
    admin_client.post(job_url(job, "apply"))
    # What the note says: 14:30 in Berlin (summer time), 12:30 UTC.
    placed_at = Order.objects.get(external_id="1002").placed_at
    assert placed_at.astimezone(UTC).strftime("%H:%M") == "12:30"
