import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..storage import get_private_storage, import_upload_to
from .accounts import SellerAccount


class JobState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class ExportJob(models.Model):
    """A customer export too big to download at once, run by a Celery task.

    The id is a random UUID; every view still checks the owner and the owner's current grants.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_export_jobs", verbose_name=_("user")
    )
    state = models.CharField(_("state"), max_length=10, choices=JobState.choices, default=JobState.PENDING)
    file_format = models.CharField(_("format"), max_length=10)
    #: What to export: tab, search, filters, seller accounts, ordering, selected ids, columns.
    params = models.JSONField(_("parameters"), default=dict)
    #: Hash of user + params: the same request within a short window returns the same job.
    fingerprint = models.CharField(max_length=64, db_index=True)
    #: The seller accounts whose customers the file holds; a download needs the EXPORT grant on each.
    account_ids = models.JSONField(_("seller accounts"), default=list, blank=True)
    total_rows = models.PositiveIntegerField(_("rows to export"), default=0)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    #: In the private storage under a random name; served only by the download view.
    file = models.FileField(
        _("file"), upload_to="wagtail_customers/exports/", storage=get_private_storage, blank=True, max_length=500
    )
    size_bytes = models.BigIntegerField(_("size"), default=0)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    task_id = models.CharField(max_length=255, blank=True)
    notified = models.BooleanField(_("notice shown"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="wc_exportjob_user_created"),
            # The admin notice asks on every admin page: "any finished job not shown to this user yet?"
            models.Index(fields=["user"], condition=models.Q(notified=False), name="wc_exportjob_unnotified"),
            models.Index(fields=["state", "heartbeat_at"], name="wc_exportjob_state_beat"),
        ]
        constraints = [
            # One active job per request: a second identical request joins the running one (race-free).
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=models.Q(state__in=["pending", "running"]),
                name="wc_exportjob_one_active_per_request",
            )
        ]

    def __str__(self):
        return f"{self.file_format} export {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self):
        return self.state in (JobState.PENDING, JobState.RUNNING)

    @property
    def progress_percent(self):
        if self.state == JobState.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(self.rows_written * 100 / self.total_rows))


class ImportJob(models.Model):
    """An uploaded order file: previewed (dry run) first, applied on confirmation, atomically."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_import_jobs", verbose_name=_("user")
    )
    account = models.ForeignKey(
        SellerAccount, on_delete=models.CASCADE, related_name="import_jobs", verbose_name=_("seller account")
    )
    format_name = models.CharField(_("format"), max_length=30)
    #: In the private storage under a random name; deleted when the job ends or its preview expires.
    file = models.FileField(_("file"), upload_to=import_upload_to, storage=get_private_storage, max_length=500)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=JobState.choices, default=JobState.PENDING)
    #: The dry run's report (counts, unknown columns, warnings) or its error.
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    #: The applied import's report.
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.format_name} import {self.original_name}"
