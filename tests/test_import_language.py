"""An import's messages are written in its user's admin language and time zone, also when a Celery worker (with
no request, so in the server's language) runs its phase or fails it: the exports already switch, and the plugin's
numbers follow the language (``1.000`` in German)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from wagtail.users.models import UserProfile

from tests.test_import_screen import GOOD
from wagtail_customers.importers import jobs
from wagtail_customers.importers.tasks import run_import_job
from wagtail_customers.models import ImportJob, JobState


@pytest.fixture
def german_admin(admin_user):
    profile = UserProfile.get_for_user(admin_user)
    profile.preferred_language = "de"
    profile.save()
    return admin_user


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
