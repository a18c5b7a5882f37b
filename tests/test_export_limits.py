"""Per-user limits on export jobs, the reuse of a finished identical export (issue 11, item 23), and download
file names that say what was exported (item 8)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.export_support import START_URL, exporter, make_customers
from wagtail_customers.models import Customer, ExportJob, JobState

pytestmark = pytest.mark.django_db

TABS = ("all", "highest-value", "most-orders")


@pytest.fixture
def limits(settings):
    settings.WAGTAIL_CUSTOMERS = {
        **settings.WAGTAIL_CUSTOMERS,
        "EXPORT_SYNC_MAX_ROWS": 5,
        "EXPORT_MAX_ACTIVE_JOBS_PER_USER": 2,
        "EXPORT_MAX_JOBS_PER_USER_PER_DAY": 3,
    }


@pytest.fixture
def user(account, limits):
    make_customers(account, 8)
    return exporter("limited", account)


def post(client, capture, run, **data):
    """Ask for an export; ``run`` decides whether the job is queued (and, eagerly, run) or left waiting."""
    with capture(execute=run):
        return client.post(START_URL, {"tab": "all", "scope": "all", "format": "csv", **data})


def last_message(response):
    return str(list(response.wsgi_request._messages)[-1])


def test_waiting_jobs_are_limited_per_user(client, user, django_capture_on_commit_callbacks):
    client.force_login(user)
    post(client, django_capture_on_commit_callbacks, False, tab="all")
    post(client, django_capture_on_commit_callbacks, False, tab="highest-value")
    assert ExportJob.objects.filter(state=JobState.PENDING).count() == 2
    response = post(client, django_capture_on_commit_callbacks, False, tab="most-orders")
    assert response.status_code == 302 and "/admin/customers/" in response["Location"]
    assert "You already have 2 exports being prepared" in last_message(response)
    assert ExportJob.objects.count() == 2
    # Asking again for a waiting one joins it, past the limit or not.
    response = post(client, django_capture_on_commit_callbacks, False, tab="all")
    assert "a moment ago" in last_message(response) and ExportJob.objects.count() == 2
    # Once one is done, another may start.
    ExportJob.objects.filter(params__tab="all").update(state=JobState.DONE, expires_at=timezone.now())
    post(client, django_capture_on_commit_callbacks, False, tab="most-orders")
    assert ExportJob.objects.count() == 3


def test_jobs_a_day_are_limited_per_user(client, user, django_capture_on_commit_callbacks):
    client.force_login(user)
    for tab in TABS:
        post(client, django_capture_on_commit_callbacks, True, tab=tab)
    assert ExportJob.objects.filter(state=JobState.DONE).count() == 3
    response = post(client, django_capture_on_commit_callbacks, True, format="xlsx")
    message = last_message(response)
    assert response.status_code == 302 and "You started 3 background exports in the last 24 hours" in message
    assert "up to 5 customers still download at once" in message
    assert ExportJob.objects.count() == 3
    # Another user has their own count.
    other = exporter("other", user.customer_access_grants.get().account)
    client.force_login(other)
    post(client, django_capture_on_commit_callbacks, True, format="xlsx")
    assert ExportJob.objects.filter(user=other).count() == 1
    # A day later the first user may start again.
    ExportJob.objects.filter(user=user).update(created_at=timezone.now() - timedelta(hours=25))
    client.force_login(user)
    post(client, django_capture_on_commit_callbacks, True, format="xlsx")
    assert ExportJob.objects.filter(user=user).count() == 4


def test_a_finished_identical_export_is_reused_while_its_file_is_kept(
    client, user, settings, django_capture_on_commit_callbacks
):
    client.force_login(user)
    post(client, django_capture_on_commit_callbacks, True)
    job = ExportJob.objects.get()
    minutes_ago = timezone.now() - timedelta(minutes=2)
    ExportJob.objects.update(created_at=minutes_ago, finished_at=minutes_ago)
    response = post(client, django_capture_on_commit_callbacks, True)
    assert ExportJob.objects.count() == 1
    assert response["Location"].endswith(f"#job-{job.pk}")
    assert "the file is still available" in last_message(response)
    # Reuse does not count against the limits: many asks, still one job.
    for _ in range(5):
        post(client, django_capture_on_commit_callbacks, True)
    assert ExportJob.objects.count() == 1
    # Past the window (5 minutes by default) a new file is made; a site may reuse it while kept instead.
    hours_ago = timezone.now() - timedelta(hours=5)
    ExportJob.objects.update(created_at=hours_ago, finished_at=hours_ago)
    settings.WAGTAIL_CUSTOMERS["EXPORT_DUPLICATE_WINDOW_SECONDS"] = None
    post(client, django_capture_on_commit_callbacks, True)
    assert ExportJob.objects.count() == 1
    settings.WAGTAIL_CUSTOMERS["EXPORT_DUPLICATE_WINDOW_SECONDS"] = 300
    post(client, django_capture_on_commit_callbacks, True)
    assert ExportJob.objects.count() == 2


def test_an_expired_or_deleted_file_is_not_reused(client, user, django_capture_on_commit_callbacks):
    client.force_login(user)
    post(client, django_capture_on_commit_callbacks, True)
    ExportJob.objects.update(state=JobState.EXPIRED, file="")
    post(client, django_capture_on_commit_callbacks, True)
    assert ExportJob.objects.count() == 2
    ExportJob.objects.filter(state=JobState.DONE).update(expires_at=timezone.now() - timedelta(seconds=1))
    post(client, django_capture_on_commit_callbacks, True)
    assert ExportJob.objects.count() == 3


def test_a_file_made_before_an_erasure_in_its_accounts_is_not_reused(
    client, user, account, django_capture_on_commit_callbacks
):
    from wagtail_customers.services.erasure import erase_customers

    client.force_login(user)
    post(client, django_capture_on_commit_callbacks, True)
    minutes_ago = timezone.now() - timedelta(minutes=2)
    ExportJob.objects.update(created_at=minutes_ago, finished_at=minutes_ago)
    erase_customers(Customer.objects.filter(pk=Customer.objects.filter(account=account).first().pk), user)
    post(client, django_capture_on_commit_callbacks, True)
    assert ExportJob.objects.count() == 2


def filename(response):
    return re.search(r'filename="([^"]+)"', response["Content-Disposition"]).group(1)


def test_download_names_say_what_was_exported(client, account, django_capture_on_commit_callbacks):
    make_customers(account, 8)
    user = exporter("names", account)
    client.force_login(user)
    ids = ",".join(str(pk) for pk in Customer.objects.values_list("pk", flat=True)[:5])
    selected = client.post(START_URL, {"tab": "all", "scope": "selected", "format": "csv", "ids": ids})
    assert re.fullmatch(r"customers-selected-\d{8}-\d{4}\.csv", filename(selected))
    page = client.post(START_URL, {"tab": "highest-value", "scope": "page", "format": "xlsx", "query": "p=1"})
    assert re.fullmatch(r"customers-highest-value-page-1-\d{8}-\d{4}\.xlsx", filename(page))
    every = client.post(START_URL, {"tab": "most-orders", "scope": "all", "format": "csv"})
    assert re.fullmatch(r"customers-most-orders-\d{8}-\d{4}\.csv", filename(every))
