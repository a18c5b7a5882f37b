"""Import jobs: an uploaded file is checked (a dry run), shown as a preview, and applied on confirmation.

An ``ImportJob`` goes through two phases, kept in ``preview["phase"]``:

* ``check``: ``pending`` (waiting for a worker) -> ``running`` -> ``pending`` in phase ``apply`` with
  the dry run's report in ``preview["report"]``, or ``failed`` with every error in ``preview["errors"]``;
* ``apply``: ``pending`` (the preview, waiting for confirmation) -> ``running`` -> ``done`` with the
  report in ``result``, or ``failed``.

Both phases run the same ``run_import`` (all or nothing), in the request for small files and as a
Celery task for big ones (``IMPORT_SYNC_MAX_ROWS``). Whoever runs a phase first claims it with a
compare-and-set on the state, so a task delivered twice runs once. The stored file is deleted when
the job ends. A job left ``running`` past the task's hard time limit (its worker was killed) is
failed; since the import is one transaction, nothing of it was written.
"""

import logging
from datetime import timedelta
from pathlib import PurePath

from django.core.files.base import ContentFile
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from ..conf import get_setting
from ..counts import grouped
from ..models import ImportJob, JobState
from ..permissions import Action, can
from ..task_queue import task_queue_configured
from .base import ImportFileError
from .reading import count_rows
from .runner import run_import

logger = logging.getLogger("wagtail_customers.imports")

CHECK, APPLY = "check", "apply"
#: Celery time limits of one phase, in seconds; a job running longer than HARD + a minute is stale.
SOFT_TIME_LIMIT = 1800
TIME_LIMIT = 1860


def create_job(user, account, format_name, uploaded, encoding="utf-8"):
    """Store the uploaded file as a new job in phase ``check``."""
    content = uploaded.read()
    original_name = PurePath(uploaded.name or "import").name[:255]
    job = ImportJob(
        user=user,
        account=account,
        format_name=format_name,
        original_name=original_name,
        preview={"phase": CHECK, "encoding": encoding},
        rows_total=estimate_rows(content, original_name),
    )
    # Saved in the private storage under a random name (``storage.import_upload_to``), never under MEDIA.
    job.file.save(original_name, ContentFile(content))
    return job


def estimate_rows(content, filename=""):
    """Data rows the file holds, counted (not its declared size): decides request or background."""
    return count_rows(content, filename)


def runs_in_background(job):
    return job.rows_total > get_setting("IMPORT_SYNC_MAX_ROWS")


def start_phase(job, phase_name):
    """Run a phase now (small files) or queue it for a Celery worker once the request's data is committed."""
    from .tasks import run_import_job

    if runs_in_background(job) and not task_queue_configured():
        # Refused before anything is queued: without a broker the job would wait (or fail) unseen.
        return fail(
            job,
            _(
                "This file has %(rows)s rows; files of more than %(limit)s rows are imported in the background, "
                "and this site has no task queue for that. Split the file, or ask your administrator to set up "
                "Celery."
            )
            % {"rows": grouped(job.rows_total), "limit": grouped(get_setting("IMPORT_SYNC_MAX_ROWS"))},
        )
    if runs_in_background(job):
        transaction.on_commit(lambda: run_import_job.delay(str(job.pk), phase_name))
    else:
        run_import_job(str(job.pk), phase_name)
    job.refresh_from_db()
    return job


def phase(job):
    return (job.preview or {}).get("phase", CHECK)


def claim(job_id, phase_name):
    """Take the job's phase for this run (pending -> running); ``None`` if another run has it or it is over."""
    claimed = ImportJob.objects.filter(pk=job_id, state=JobState.PENDING, preview__phase=phase_name).update(
        state=JobState.RUNNING, rows_done=0
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("account", "user").get(pk=job_id)
    job.preview["started_at"] = timezone.now().isoformat()
    ImportJob.objects.filter(pk=job.pk).update(preview=job.preview)
    return job


def run_phase(job_id, phase_name):
    """Run one phase of a job (called by the view for small files, by the Celery task for big ones)."""
    job = claim(job_id, phase_name)
    if job is None:
        return None
    if not can(job.user, Action.IMPORT, job.account):
        message = _("You no longer have permission to import orders into %(account)s.") % {"account": job.account}
        return fail(job, message)
    try:
        with job.file.open("rb") as stored:
            content = stored.read()
    except OSError:
        return fail(job, _("The uploaded file is no longer stored; upload it again."))
    try:
        report = run_import(
            job.account,
            content,
            format_name=job.format_name,
            filename=job.original_name,
            dry_run=phase_name == CHECK,
            encoding=job.preview.get("encoding", "utf-8"),
            progress=ProgressWriter(job),
        )
    except ImportFileError as error:
        return fail(job, str(error), errors=error.errors, errors_total=error.errors_total)
    if phase_name == CHECK:
        return _previewed(job, report)
    return _applied(job, report)


def _previewed(job, report):
    job.preview.update(phase=APPLY, report=report.as_dict())
    job.preview.pop("started_at", None)
    job.state, job.rows_done = JobState.PENDING, 0
    job.rows_total = report.rows
    job.save(update_fields=["preview", "state", "rows_done", "rows_total"])
    return job


def _applied(job, report):
    job.result = report.as_dict()
    job.state, job.rows_done, job.rows_total = JobState.DONE, report.rows, report.rows
    job.finished_at = timezone.now()
    # The history entry and the "done" state are seen together, or not at all.
    with transaction.atomic():
        job.save(update_fields=["result", "state", "rows_done", "rows_total", "finished_at"])
        log(
            job,
            "wagtail_customers.import.apply",
            user=job.user,
            title=_("%(file)s into %(account)s") % {"file": job.original_name, "account": job.account},
            data={
                "account_id": job.account_id,
                "format": job.format_name,
                "file": job.original_name,
                "orders_created": report.orders_created,
                "orders_updated": report.orders_updated,
                "orders_unchanged": report.orders_unchanged,
                "customers_created": report.customers_created,
            },
        )
    _delete_file(job)
    return job


def fail(job, message, errors=None, errors_total=0):
    job.state, job.error = JobState.FAILED, message
    job.finished_at = timezone.now()
    job.preview.pop("started_at", None)
    if errors is not None:
        job.preview.update(errors=errors, errors_total=errors_total)
    job.save(update_fields=["state", "error", "finished_at", "preview"])
    _delete_file(job)
    return job


def fail_if_stale(job):
    """A job still ``running`` past the task's hard time limit lost its worker: fail it (nothing was written)."""
    started = parse_datetime((job.preview or {}).get("started_at") or "")
    if job.state != JobState.RUNNING or started is None:
        return job
    if timezone.now() - started < timedelta(seconds=TIME_LIMIT + 60):
        return job
    message = _("The import stopped before it finished (its worker was stopped). Nothing was written.")
    if ImportJob.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
        state=JobState.FAILED, error=message, finished_at=timezone.now()
    ):
        job.refresh_from_db()
        _delete_file(job)
    return job


def cancel(job):
    """Drop a job waiting for confirmation; nothing was written."""
    if ImportJob.objects.filter(pk=job.pk, state=JobState.PENDING).update(state=JobState.EXPIRED):
        job.state = JobState.EXPIRED
        _delete_file(job)
    return job


def expire_stale_previews():
    """Clean-up: drop uploads nobody applied or cancelled within ``IMPORT_PREVIEW_EXPIRY_HOURS`` (waiting
    for confirmation, or never checked), deleting their files. Returns the number of jobs dropped."""
    before = timezone.now() - timedelta(hours=get_setting("IMPORT_PREVIEW_EXPIRY_HOURS"))
    dropped = 0
    for job in ImportJob.objects.filter(state=JobState.PENDING, created_at__lt=before).only("pk", "file", "preview"):
        if ImportJob.objects.filter(pk=job.pk, state=JobState.PENDING).update(
            state=JobState.EXPIRED,
            error=_("Nobody confirmed this import within %(hours)s hours; the file was deleted. Nothing was written.")
            % {"hours": get_setting("IMPORT_PREVIEW_EXPIRY_HOURS")},
            finished_at=timezone.now(),
        ):
            _delete_file(job)
            dropped += 1
    return dropped


def _delete_file(job):
    if job.file:
        try:
            job.file.delete(save=False)
        except OSError:  # already gone: the file's only use is over anyway
            logger.warning("Import job %s: stored file could not be deleted", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(file="")


class ProgressWriter:
    """``run_import``'s progress callback: rows done so far, where others can see them.

    The orders are written (and, for the preview, rolled back) in one transaction, so progress made
    inside it is written on a second connection on PostgreSQL; SQLite allows one writer at a time,
    so there the figure moves at the end of each phase only.
    """

    def __init__(self, job):
        self.job = job

    def __call__(self, stage, done, total):
        rows = self.job.rows_total if stage == "writing" and total else total
        rows_done = rows * done // total if stage == "writing" and total else 0
        if stage != "writing":
            self.job.rows_total = total
        self._save(rows_done, rows)

    def _save(self, rows_done, rows_total):
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job.pk).update(rows_done=rows_done, rows_total=rows_total)
            return
        if connection.vendor != "postgresql":
            return
        side = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with side.cursor() as cursor:
                table = side.ops.quote_name(ImportJob._meta.db_table)
                cursor.execute(
                    f"UPDATE {table} SET rows_done = %s, rows_total = %s WHERE id = %s",
                    [rows_done, rows_total, self.job.pk],
                )
        finally:
            side.close()
