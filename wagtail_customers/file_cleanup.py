"""Stored files are deleted as soon as they may no longer be used: an export file when its owner loses the
export grant on a seller account in it (or, for a file showing personal data, the personal-data grant), any job's
file when the job is deleted.

Connected in ``WagtailCustomersConfig.ready``: a grant changed or removed, a user deactivated or a seller
account disabled re-checks the finished jobs concerned once the change is committed. Permission changes
that send no such signal (a Wagtail group losing the permission) are caught by the download itself,
which deletes the file it refuses, and by the clean-up task.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from .models import AccessGrant, ExportJob, ImportJob, JobState, SellerAccount


def _recheck(user_ids):
    from .exports.jobs import delete_withdrawn_files

    user_ids = set(user_ids)
    if user_ids:
        transaction.on_commit(lambda: delete_withdrawn_files(user_ids))


def grant_changed(sender, instance, **kwargs):
    _recheck([instance.user_id])


def user_changed(sender, instance, created=False, **kwargs):
    if not created and not instance.is_active:
        _recheck([instance.pk])


def account_changed(sender, instance, created=False, **kwargs):
    if created or instance.is_enabled:
        return
    # (JSON "contains" is not available on SQLite: re-check every owner of a kept file; there are few.)
    owners = ExportJob.objects.filter(state=JobState.DONE).exclude(file="")
    _recheck(owners.values_list("user_id", flat=True).distinct())


def job_deleted(sender, instance, **kwargs):
    """A job deleted (its user was, say) takes its stored file with it."""
    name = instance.file.name
    if name:
        storage = instance.file.storage
        transaction.on_commit(lambda: storage.delete(name))


def connect():
    post_save.connect(grant_changed, sender=AccessGrant, dispatch_uid="wc_export_files_grant_saved")
    post_delete.connect(grant_changed, sender=AccessGrant, dispatch_uid="wc_export_files_grant_deleted")
    post_save.connect(user_changed, sender=get_user_model(), dispatch_uid="wc_export_files_user_saved")
    post_save.connect(account_changed, sender=SellerAccount, dispatch_uid="wc_export_files_account_saved")
    post_delete.connect(job_deleted, sender=ExportJob, dispatch_uid="wc_export_file_job_deleted")
    post_delete.connect(job_deleted, sender=ImportJob, dispatch_uid="wc_import_file_job_deleted")
