"""Import uploads and export files live in a private storage, never under MEDIA (no URL reaches them), under
random names; they are deleted as soon as they may no longer be used (issue 11, item 16)."""

import importlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.checks import run_checks
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import clear_url_caches, reverse
from django.utils import timezone

from tests.export_support import START_URL, exporter, make_customers
from tests.test_import_screen import GOOD, upload
from wagtail_customers.exports.tasks import delete_expired_exports
from wagtail_customers.importers import jobs as import_jobs
from wagtail_customers.importers.tasks import expire_import_previews
from wagtail_customers.models import AccessGrant, ExportJob, ImportJob, JobState, SellerAccount
from wagtail_customers.storage import PrivateFileSystemStorage, private_storage

pytestmark = pytest.mark.django_db

EXPORTS = "/admin/customers/exports/"
RANDOM_NAME = r"wagtail_customers/(imports|exports)/[0-9a-f]{32}\.(csv|xlsx)"


@pytest.fixture
def example_urls_serving_media(settings):
    """The example site's URLconf as it is in DEBUG (``make demo``): it serves MEDIA_ROOT at /media/."""
    import example_project.urls

    settings.DEBUG = True
    importlib.reload(example_project.urls)
    settings.ROOT_URLCONF = "example_project.urls"
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(example_project.urls)
    clear_url_caches()


@pytest.fixture
def small_sync_limit(settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXPORT_SYNC_MAX_ROWS": 5}


@pytest.fixture
def user(account, small_sync_limit):
    make_customers(account, 8)
    return exporter("filesuser", account)


def files_under(root):
    root = Path(root)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def stored_path(field_file):
    return Path(private_storage.path(field_file.name))


def finished_export(client, user, django_capture_on_commit_callbacks, **data):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(START_URL, {"tab": "all", "scope": "all", "format": "csv", **data})
    job = ExportJob.objects.get(user=user, state=JobState.DONE)
    assert job.file
    return job


def test_an_uploaded_import_file_is_private_and_has_a_random_name(
    admin_client, account, settings, example_urls_serving_media
):
    upload(admin_client, account, name="import.csv")
    job = ImportJob.objects.get()
    assert (import_jobs.phase(job), job.state) == (import_jobs.APPLY, JobState.PENDING)  # kept for confirmation
    assert re.fullmatch(RANDOM_NAME, job.file.name), job.file.name
    path = stored_path(job.file)
    assert path.read_bytes() == GOOD
    media_root = Path(settings.MEDIA_ROOT).resolve()
    assert media_root not in path.resolve().parents
    assert files_under(media_root) == []
    # Nobody reaches it by URL: not at its name, nor at the fixed name uploads used to get.
    assert admin_client.get(f"/media/{job.file.name}").status_code == 404
    assert admin_client.get("/media/wagtail_customers/imports/import.csv").status_code == 404
    # The example URLconf does serve MEDIA (so the 404s above are about where the file is).
    default_storage.save("probe.txt", ContentFile(b"public"))
    assert admin_client.get("/media/probe.txt").status_code == 200


def test_an_export_file_is_private_has_a_random_name_and_downloads_by_its_view(
    client, user, settings, django_capture_on_commit_callbacks, example_urls_serving_media
):
    job = finished_export(client, user, django_capture_on_commit_callbacks)
    assert re.fullmatch(RANDOM_NAME, job.file.name) and str(job.pk) not in job.file.name
    media_root = Path(settings.MEDIA_ROOT).resolve()
    assert media_root not in stored_path(job.file).resolve().parents
    assert files_under(media_root) == []
    assert client.get(f"/media/{job.file.name}").status_code == 404
    client.logout()
    assert client.get(f"/media/{job.file.name}").status_code == 404
    client.force_login(user)
    response = client.get(f"{EXPORTS}{job.pk}/download/")
    assert response.status_code == 200
    assert re.search(r'filename="customers-all-\d{8}-\d{4}\.csv"', response["Content-Disposition"])


def test_the_private_storage_has_no_url():
    assert isinstance(private_storage, PrivateFileSystemStorage) and private_storage.base_url is None
    with pytest.raises(ValueError):
        private_storage.url("wagtail_customers/exports/x.csv")


def test_the_clean_up_deletes_previews_nobody_applied(admin_client, account):
    upload(admin_client, account, name="old.csv")
    upload(admin_client, account, name="new.csv")
    old, new = ImportJob.objects.get(original_name="old.csv"), ImportJob.objects.get(original_name="new.csv")
    old_path, new_path = stored_path(old.file), stored_path(new.file)
    ImportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert expire_import_previews.apply().get() == 1
    old.refresh_from_db()
    assert old.state == JobState.EXPIRED and not old.file and not old_path.exists()
    assert "Nothing was written" in old.error
    new.refresh_from_db()
    assert new.state == JobState.PENDING and new_path.exists()
    page = admin_client.get(reverse("wagtail_customers_imports:job", args=[old.pk])).content.decode()
    assert "Nobody confirmed this import within 24 hours" in page
    # A stale preview can no longer be applied.
    response = admin_client.post(reverse("wagtail_customers_imports:apply", args=[old.pk]))
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.state == JobState.EXPIRED


def test_the_clean_up_fails_imports_left_running_by_a_stopped_worker_and_deletes_their_files(admin_client, account):
    upload(admin_client, account, name="killed.csv")
    upload(admin_client, account, name="busy.csv")
    killed, busy = ImportJob.objects.get(original_name="killed.csv"), ImportJob.objects.get(original_name="busy.csv")
    killed_path, busy_path = stored_path(killed.file), stored_path(busy.file)
    # Both confirmed and taken by a worker; the first worker was killed past the task's hard time limit.
    killed, busy = import_jobs.claim(killed.pk, import_jobs.APPLY), import_jobs.claim(busy.pk, import_jobs.APPLY)
    killed.preview["started_at"] = (timezone.now() - timedelta(seconds=import_jobs.TIME_LIMIT + 61)).isoformat()
    ImportJob.objects.filter(pk=killed.pk).update(preview=killed.preview)

    assert expire_import_previews.apply().get() == 1
    killed.refresh_from_db()
    assert killed.state == JobState.FAILED and not killed.file and not killed_path.exists()
    assert "stopped before it finished" in killed.error and "Nothing was written" in killed.error
    busy.refresh_from_db()
    assert busy.state == JobState.RUNNING and busy_path.exists()


def test_the_clean_up_fails_an_import_stopped_before_its_start_was_noted(admin_client, account):
    # claim() takes the job, then notes its start in a second write: a worker killed between the two left a running
    # job without a start, never seen as stale, its file kept for good.
    upload(admin_client, account, name="killed.csv")
    job = ImportJob.objects.get(original_name="killed.csv")
    path = stored_path(job.file)
    long_ago = timezone.now() - timedelta(seconds=import_jobs.TIME_LIMIT + 61)
    ImportJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, created_at=long_ago)
    assert expire_import_previews.apply().get() == 1
    job.refresh_from_db()
    assert job.state == JobState.FAILED and not job.file and not path.exists()


def test_expiry_seen_on_the_exports_page_deletes_the_file_at_once(client, user, django_capture_on_commit_callbacks):
    job = finished_export(client, user, django_capture_on_commit_callbacks)
    path = stored_path(job.file)
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(EXPORTS).status_code == 200
    job.refresh_from_db()
    assert job.state == JobState.EXPIRED and not job.file and not path.exists()
    assert client.get(f"{EXPORTS}{job.pk}/download/").status_code == 410


def test_expiry_seen_by_the_download_deletes_the_file_at_once(client, user, django_capture_on_commit_callbacks):
    job = finished_export(client, user, django_capture_on_commit_callbacks)
    path = stored_path(job.file)
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(f"{EXPORTS}{job.pk}/download/").status_code == 410
    assert not path.exists()


def test_revoking_the_grant_deletes_the_file_at_once(
    client, superuser, user, account, wagtail_page_tree, django_capture_on_commit_callbacks
):
    job = finished_export(client, user, django_capture_on_commit_callbacks)
    path = stored_path(job.file)
    grant = AccessGrant.objects.get(user=user, account=account)
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("wagtail_customers_sharing:revoke", args=[grant.pk]))
    assert response.status_code == 302 and not AccessGrant.objects.filter(pk=grant.pk).exists()
    job.refresh_from_db()
    assert job.state == JobState.EXPIRED and not job.file and not path.exists()
    assert "withdrawn" in job.error


def test_taking_export_off_a_grant_or_disabling_the_account_deletes_the_file(
    client, user, account, django_capture_on_commit_callbacks
):
    job = finished_export(client, user, django_capture_on_commit_callbacks)
    path = stored_path(job.file)
    grant = AccessGrant.objects.get(user=user, account=account)
    grant.can_view = True
    with django_capture_on_commit_callbacks(execute=True):
        grant.save()  # still allowed to export: the file stays
    assert path.exists()
    grant.can_export = False
    with django_capture_on_commit_callbacks(execute=True):
        grant.save()
    assert not path.exists()

    other = exporter("other", account)
    ExportJob.objects.all().delete()
    job = finished_export(client, other, django_capture_on_commit_callbacks)
    path = stored_path(job.file)
    seller = SellerAccount.objects.get(pk=account.pk)
    seller.is_enabled = False
    with django_capture_on_commit_callbacks(execute=True):
        seller.save()
    assert not path.exists()


def test_a_download_refused_for_a_lost_grant_deletes_the_file(client, user, django_capture_on_commit_callbacks):
    job = finished_export(client, user, django_capture_on_commit_callbacks)
    path = stored_path(job.file)
    # A change that sends no signal (a bulk update, a group losing the permission).
    user.customer_access_grants.update(can_export=False)
    assert path.exists()
    response = client.get(f"{EXPORTS}{job.pk}/download/")
    assert response.status_code == 403 and "withdrawn" in response.content.decode()
    assert not path.exists()
    user.customer_access_grants.update(can_export=True)
    response = client.get(f"{EXPORTS}{job.pk}/download/")
    assert response.status_code == 403 and "the file was deleted" in response.content.decode()


def test_the_clean_up_task_deletes_files_whose_grant_went_without_a_signal(
    client, user, django_capture_on_commit_callbacks
):
    job = finished_export(client, user, django_capture_on_commit_callbacks)
    path = stored_path(job.file)
    user.customer_access_grants.update(can_export=False)
    assert delete_expired_exports.apply().get() == 1
    assert not path.exists()


def test_deleting_a_job_deletes_its_file(client, user, django_capture_on_commit_callbacks):
    job = finished_export(client, user, django_capture_on_commit_callbacks)
    path = stored_path(job.file)
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()  # the job goes with its user
    assert not path.exists()


def ids(messages):
    return {message.id for message in messages if message.id.startswith("wagtail_customers.")}


def test_check_warns_when_the_private_storage_is_inside_media_or_has_a_url(settings, tmp_path):
    assert ids(run_checks()) == set()
    settings.STORAGES = {
        **settings.STORAGES,
        "wagtail_customers": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(Path(settings.MEDIA_ROOT) / "private")},
        },
    }
    [warning] = [message for message in run_checks() if message.id == "wagtail_customers.W010"]
    assert "inside MEDIA_ROOT" in warning.msg and "public base URL" in warning.msg
    elsewhere = {"location": str(tmp_path / "elsewhere")}
    settings.STORAGES = {
        **settings.STORAGES,
        "wagtail_customers": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": elsewhere},
    }
    # Outside MEDIA_ROOT but still with a URL (FileSystemStorage falls back to MEDIA_URL).
    assert "wagtail_customers.W010" in ids(run_checks())
    settings.STORAGES = {
        **settings.STORAGES,
        "wagtail_customers": {"BACKEND": "wagtail_customers.storage.PrivateFileSystemStorage", "OPTIONS": elsewhere},
    }
    assert ids(run_checks()) == set()
    assert private_storage.location == str(tmp_path / "elsewhere")
    # No such alias: the plugin's own folder, here put inside MEDIA_ROOT by hand.
    settings.WAGTAIL_CUSTOMERS = {
        **settings.WAGTAIL_CUSTOMERS,
        "PRIVATE_STORAGE": "other",
        "PRIVATE_STORAGE_ROOT": str(Path(settings.MEDIA_ROOT) / "x"),
    }
    assert "wagtail_customers.W010" in ids(run_checks())


def test_check_warns_when_the_private_storage_is_the_sites_media_storage(settings):
    # A cloud media bucket (S3) has no folder and no base_url to tell: the alias alone says it is public.
    media = {"BACKEND": "wagtail_customers.storage.PrivateFileSystemStorage", "OPTIONS": {"location": "/srv/m"}}
    settings.STORAGES = {**settings.STORAGES, "default": media}
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "PRIVATE_STORAGE": "default"}
    [warning] = [message for message in run_checks() if message.id == "wagtail_customers.W010"]
    assert "the site's media storage" in warning.msg
    settings.STORAGES = {**settings.STORAGES, "uploads": dict(media)}
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "PRIVATE_STORAGE": "uploads"}
    assert "wagtail_customers.W010" in ids(run_checks())


def test_the_migration_moves_files_out_of_media(user, settings):
    migration = importlib.import_module("wagtail_customers.migrations.0005_private_files")
    old_name = default_storage.save("wagtail_customers/imports/import.csv", ContentFile(GOOD))
    job = ImportJob.objects.create(user=user, account=SellerAccount.objects.get(), format_name="generic")
    ImportJob.objects.filter(pk=job.pk).update(file=old_name)
    gone = ImportJob.objects.create(user=user, account=SellerAccount.objects.get(), format_name="generic")
    ImportJob.objects.filter(pk=gone.pk).update(file="wagtail_customers/imports/missing.csv")
    migration.move_files_to_private_storage(apps, None)
    job.refresh_from_db()
    assert not default_storage.exists(old_name)
    assert re.fullmatch(RANDOM_NAME, job.file.name) and stored_path(job.file).read_bytes() == GOOD
    gone.refresh_from_db()
    assert gone.file.name == ""
    assert files_under(settings.MEDIA_ROOT) == []


def test_losing_see_personal_data_deletes_a_file_showing_it(client, user, account, django_capture_on_commit_callbacks):
    job = finished_export(client, user, django_capture_on_commit_callbacks)
    assert job.params["personal_accounts"] == [account.pk]
    path = stored_path(job.file)
    # A change that sends no signal (a bulk update, a group losing the permission): the download checks.
    user.customer_access_grants.update(can_see_personal_data=False)
    response = client.get(f"{EXPORTS}{job.pk}/download/")
    assert response.status_code == 403 and "withdrawn" in response.content.decode()
    assert not path.exists()


def test_a_file_made_masked_stays_when_see_personal_data_is_withdrawn_elsewhere(
    client, account, other_account, small_sync_limit, django_capture_on_commit_callbacks
):
    make_customers(account, 8)
    masked = exporter("masked", account, can_see_personal_data=False)
    AccessGrant.objects.create(user=masked, account=other_account, can_view=True, can_see_personal_data=True)
    job = finished_export(client, masked, django_capture_on_commit_callbacks)
    assert job.params["personal_accounts"] == []
    with django_capture_on_commit_callbacks(execute=True):
        AccessGrant.objects.filter(user=masked, account=other_account).update(can_see_personal_data=False)
    assert client.get(f"{EXPORTS}{job.pk}/download/").status_code == 200


def test_a_right_to_personal_data_granted_while_a_job_waits_is_not_written_into_its_file(
    client, account, small_sync_limit, django_capture_on_commit_callbacks
):
    # The job records the accounts whose personal data it shows in full when it is asked for (none here). Granted
    # before a worker ran it, the rows were written in full; withdrawn after, the download did not see the file
    # as showing personal data, and handed it out.
    make_customers(account, 8)
    masked = exporter("masked", account, can_see_personal_data=False)
    client.force_login(masked)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(START_URL, {"tab": "all", "scope": "all", "format": "csv"})
    AccessGrant.objects.filter(user=masked, account=account).update(can_see_personal_data=True)
    for callback in queued:
        callback()
    job = ExportJob.objects.get(user=masked, state=JobState.DONE)
    assert job.params["personal_accounts"] == []
    assert "c0@example.com" not in stored_path(job.file).read_text(encoding="utf-8-sig")


def test_withdrawing_see_personal_data_on_the_share_deletes_the_file(
    client, user, account, django_capture_on_commit_callbacks
):
    job = finished_export(client, user, django_capture_on_commit_callbacks)
    path = stored_path(job.file)
    grant = AccessGrant.objects.get(user=user, account=account)
    grant.can_see_personal_data = False
    with django_capture_on_commit_callbacks(execute=True):
        grant.save()
    assert not path.exists()
