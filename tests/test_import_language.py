"""An import's messages are written in its user's admin language and time zone, also when a Celery worker (with
no request, so in the server's language) runs its phase or fails it: the exports already switch, and the plugin's
numbers follow the language (``1.000`` in German)."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from wagtail.users.models import UserProfile

from tests.test_import_screen import GOOD, job_url, messages_of
from wagtail_customers.importers import jobs
from wagtail_customers.importers.tasks import run_import_job
from wagtail_customers.models import ImportJob, JobState


@pytest.fixture
def german_admin(admin_user):
    profile = UserProfile.get_for_user(admin_user)
    profile.preferred_language = "de"
    profile.save()
    return admin_user


def upload(content):
    return SimpleUploadedFile("orders.csv", content, content_type="text/csv")


def new_job(user, account, content):
    return jobs.create_job(user, account, "generic", SimpleUploadedFile("orders.csv", content))


def test_a_worker_writes_the_checks_messages_in_the_users_language(german_admin, account, settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "IMPORT_MAX_ROW_CHARS": 1500}
    job = new_job(german_admin, account, GOOD + b"1003,2024-05-01,x@example.com," + b"x" * 2000 + b",MUG,1,1\n")
    with translation.override("en"):  # a worker's language: the server's
        run_import_job(job.pk, jobs.CHECK)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "1.500" in job.error, job.error


def test_the_clean_up_writes_its_messages_in_the_users_language(german_admin, account, settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "IMPORT_PREVIEW_EXPIRY_HOURS": 1000}
    job = new_job(german_admin, account, GOOD)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1001))
    with translation.override("en"):
        assert jobs.expire_stale_previews() == 1
    job.refresh_from_db()
    assert (job.state, "1.000" in job.error) == (JobState.EXPIRED, True), job.error


def thousand_orders():
    rows = b"".join(b"%d,2024-05-01,ada@example.com,MUG,1,1.00\n" % number for number in range(1, 1001))
    return b"order_id,placed_at,customer_email,sku,quantity,unit_price\n" + rows


def test_the_preview_and_the_success_message_group_their_counts_in_the_users_language(client, german_admin, account):
    """ "Rows read 1000", "Import 1000 orders" and "Imported 1000 orders (1000 new, 0 updated)" beside the
    listing's "1.000" for a German admin."""
    client.force_login(german_admin)
    client.post(
        reverse("wagtail_customers_imports:index"),
        {"account": account.pk, "format": "generic", "encoding": "utf-8", "import_file": upload(thousand_orders())},
    )
    job = ImportJob.objects.get()
    page = " ".join(client.get(job_url(job)).content.decode().split())
    assert re.search(r"Rows read</th>\s*<td>1\.000</td>", page), page
    assert 'data-wc-figure="orders_created">1.000<' in page
    assert "Import 1.000 orders" in page

    response = client.post(job_url(job, "apply"))
    assert messages_of(response) == [f"Imported 1.000 orders from orders.csv into {account} (1.000 new, 0 updated)."]
    assert 'data-wc-figure="orders_created">1.000<' in client.get(response["Location"]).content.decode()

    client.post(
        reverse("wagtail_customers_imports:index"),
        {"account": account.pk, "format": "generic", "encoding": "utf-8", "import_file": upload(thousand_orders())},
    )
    response = client.post(job_url(ImportJob.objects.latest("created_at"), "apply"))
    assert messages_of(response) == [
        f"orders.csv changed nothing in {account}. 1.000 orders were already there as they are."
    ]


def test_a_file_with_a_thousand_errors_counts_them_in_the_users_language(client, german_admin, account):
    client.force_login(german_admin)
    bad = b"order_id,placed_at,customer_email,sku,quantity,unit_price\n" + b"".join(
        b"%d,yesterday,ada@example.com,MUG,1,1.00\n" % number for number in range(1, 1001)
    )
    client.post(
        reverse("wagtail_customers_imports:index"),
        {"account": account.pk, "format": "generic", "encoding": "utf-8", "import_file": upload(bad)},
    )
    page = " ".join(client.get(job_url(ImportJob.objects.get())).content.decode().split())
    assert "it has 1.000 errors" in page
    assert "The first 500 of 1.000 errors are listed." in page
