"""Import jobs: an uploaded file is checked (a dry run), shown as a preview, and applied on confirmation.

An ``ImportJob`` goes through two phases, kept in ``preview["phase"]``:

* ``check``: ``pending`` (waiting for a worker) -> ``running`` -> ``pending`` in phase ``apply`` with
  the dry run's report in ``preview["report"]``, or ``failed`` with every error in ``preview["errors"]``;
* ``apply``: ``pending`` (the preview, waiting for confirmation) -> ``running`` -> ``done`` with the
  report in ``result``, or ``failed``. A confirmed big import waits for its worker still ``pending``, marked
  with ``preview["confirmed_at"]``: it is shown as queued and can no longer be confirmed again nor cancelled.

Both phases run the same ``run_import`` (all or nothing), in the request for small files and as a
Celery task for big ones (``IMPORT_SYNC_MAX_ROWS``). Whoever runs a phase first claims it with a
compare-and-set on the state, so a task delivered twice runs once. The stored file is deleted when
the job ends.

Applying, the job's change running -> done and its history entry are written in the transaction that
writes the orders (a compare-and-set on ``running`` just before it commits): the orders and "done" commit
together or not at all. So a job still ``running`` has written nothing, whatever stopped it (the task's
soft time limit, a database error, a killed worker): it is failed with "Nothing was written", by the task
or, once past the task's hard time limit, by ``fail_if_stale`` (when its page is opened, and by the hourly
clean-up, ``fail_stale_jobs``), which deletes its file. A job failed that way before the import
committed makes the compare-and-set find nothing, and the orders are rolled back.

A phase sent to a task queue that cannot be reached is not left waiting: a check fails at once (its file
deleted), an apply stays waiting for confirmation with the reason, so the user can confirm it again.
"""

import logging
from datetime import timedelta
from pathlib import PurePath

from django.core.files.base import ContentFile
from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from ..conf import get_setting
from ..counts import grouped
from ..local_time import users_language_and_zone
from ..models import ImportJob, JobState
from ..permissions import Action, can
from ..task_queue import queued, task_queue_configured
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
        waiting = ImportJob.objects.filter(pk=job.pk, state=JobState.PENDING, preview__phase=phase_name)
        if phase_name == APPLY:
            # Marked before it is sent: until a worker claims it, the job still reads "pending" in phase apply.
            job.preview[CONFIRMED] = timezone.now().isoformat()
            # error="": why an earlier confirmation was not queued, no longer true once this one is sent.
            waiting.update(preview=job.preview, error="")
        elif job.error:
            waiting.update(error="")
        job_id = str(job.pk)
        transaction.on_commit(lambda: enqueue(job_id, phase_name))
    else:
        run_import_job(str(job.pk), phase_name)
    job.refresh_from_db()
    return job


def enqueue(job_id, phase_name):
    """Send a phase to the Celery queue. If the queue cannot be reached, a check fails at once (its file
    deleted) and an apply stays waiting for confirmation with the reason, so it can be confirmed again."""
    from .tasks import run_import_job

    if queued(lambda: run_import_job.delay(job_id, phase_name), f"import job {job_id} ({phase_name})"):
        return True
    waiting = ImportJob.objects.filter(pk=job_id, state=JobState.PENDING, preview__phase=phase_name)
    if phase_name == CHECK:
        message = _(
            "The file could not be checked: the task queue is not reachable. Nothing was written. "
            "Upload the file again later."
        )
        if waiting.update(state=JobState.FAILED, error=message, finished_at=timezone.now()):
            delete_file(ImportJob.objects.only("pk", "file").get(pk=job_id))
    else:
        job = waiting.first()
        if job is not None:
            job.preview.pop(CONFIRMED, None)  # not sent: waiting for confirmation again
            waiting.update(
                preview=job.preview,
                error=_(
                    "The import could not be started: the task queue is not reachable. Nothing was written. "
                    "Try again in a moment."
                ),
            )
    return False


def phase(job):
    return (job.preview or {}).get("phase", CHECK)


#: The ``preview`` key of a big import confirmed and sent to the task queue (the time, ISO 8601).
CONFIRMED = "confirmed_at"


def is_confirmed(job):
    """Confirmed and sent to the task queue: waiting for a worker, or taken by one."""
    return bool((job.preview or {}).get(CONFIRMED))


def awaits_confirmation(job):
    """The preview is ready and nobody confirmed it yet."""
    return phase(job) == APPLY and job.state == JobState.PENDING and not is_confirmed(job)


def claim(job_id, phase_name):
    """Take the job's phase for this run (pending -> running); ``None`` if another run has it or it is over."""
    claimed = ImportJob.objects.filter(pk=job_id, state=JobState.PENDING, preview__phase=phase_name).update(
        state=JobState.RUNNING, rows_done=0, error=""
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("account", "user").get(pk=job_id)
    job.preview["started_at"] = timezone.now().isoformat()
    ImportJob.objects.filter(pk=job.pk).update(preview=job.preview)
    return job


def run_phase(job_id, phase_name):
    """Run one phase of a job (called by the view for small files, by the Celery task for big ones), in its
    user's language and time zone: its messages are stored for them to read."""
    job = claim(job_id, phase_name)
    if job is None:
        return None
    with users_language_and_zone(job.user):
        return _run_claimed(job, phase_name)


def _run_claimed(job, phase_name):
    if not can(job.user, Action.IMPORT, job.account):
        message = _("You no longer have permission to import orders into %(account)s.") % {"account": job.account}
        return fail(job, message)
    try:
        with job.file.open("rb") as stored:
            content = stored.read()
    except OSError:
        return fail(job, _("The uploaded file is no longer stored; upload it again."))
    progress = ProgressWriter(job)
    try:
        report = run_import(
            job.account,
            content,
            format_name=job.format_name,
            filename=job.original_name,
            dry_run=phase_name == CHECK,
            encoding=job.preview.get("encoding", "utf-8"),
            progress=progress,
            before_commit=None if phase_name == CHECK else lambda report: _mark_applied(job, report),
        )
    except ImportFileError as error:
        return fail(job, str(error), errors=error.errors, errors_total=error.errors_total)
    except JobNotRunning:
        # Failed meanwhile (``fail_if_stale``): the orders were rolled back, as its message says.
        job.refresh_from_db()
        return job
    finally:
        progress.close()
    if phase_name == CHECK:
        return _previewed(job, report)
    delete_file(job)
    return job


class JobNotRunning(Exception):
    """The job is no longer ``running`` when its import is about to commit: the import is rolled back."""


def _previewed(job, report):
    job.preview.update(phase=APPLY, report=report.as_dict())
    job.preview.pop("started_at", None)
    # Only if still running: a job failed meanwhile as stale stays failed (its file is gone).
    if not ImportJob.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
        preview=job.preview, state=JobState.PENDING, rows_done=0, rows_total=report.rows
    ):
        job.refresh_from_db()
        return job
    job.state, job.rows_done = JobState.PENDING, 0
    job.rows_total = report.rows
    return job


def _mark_applied(job, report):
    """Called by ``run_import`` inside the orders' transaction: running -> done and the history entry, which
    commit with the orders. Raises ``JobNotRunning`` (rolling the orders back) if the job was failed meanwhile."""
    result, finished_at = report.as_dict(), timezone.now()
    if not ImportJob.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
        result=result, state=JobState.DONE, rows_done=report.rows, rows_total=report.rows, finished_at=finished_at
    ):
        raise JobNotRunning(job.pk)
    job.result, job.finished_at = result, finished_at
    job.state, job.rows_done, job.rows_total = JobState.DONE, report.rows, report.rows
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


def fail(job, message, errors=None, errors_total=0):
    """Fail a job that has not ended (a job done meanwhile stays done) and delete its file."""
    job.preview.pop("started_at", None)
    if errors is not None:
        job.preview.update(errors=errors, errors_total=errors_total)
    finished_at = timezone.now()
    if not ImportJob.objects.filter(pk=job.pk, state__in=(JobState.PENDING, JobState.RUNNING)).update(
        state=JobState.FAILED, error=message, finished_at=finished_at, preview=job.preview
    ):
        job.refresh_from_db()
        return job
    job.state, job.error, job.finished_at = JobState.FAILED, message, finished_at
    delete_file(job)
    return job


def is_stale(job):
    """Still ``running`` past the task's hard time limit (and a minute): its worker (or request) was stopped.

    Counted from its start; a job stopped between its claim and the note of its start (``claim``'s two writes), from
    its confirmation, else its upload: it would else never be seen as stale, and its file kept for good."""
    if job.state != JobState.RUNNING:
        return False
    preview = job.preview or {}
    noted = parse_datetime(preview.get("started_at") or "") or parse_datetime(preview.get(CONFIRMED) or "")
    started = noted or job.created_at
    return started is not None and timezone.now() - started >= timedelta(seconds=TIME_LIMIT + 60)


def fail_if_stale(job):
    """A job still ``running`` past the task's hard time limit lost its worker: fail it (nothing was written)."""
    if not is_stale(job):
        return job
    with users_language_and_zone(job.user):
        message = _("The import stopped before it finished (its worker was stopped). Nothing was written.")
    if ImportJob.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
        state=JobState.FAILED, error=message, finished_at=timezone.now()
    ):
        job.refresh_from_db()
        delete_file(job)
    return job


def cancel(job):
    """Drop a job waiting for confirmation; nothing was written. A confirmed import is not dropped: ``False``."""
    if (
        ImportJob.objects.filter(pk=job.pk, state=JobState.PENDING)
        .exclude(preview__has_key=CONFIRMED)
        .update(state=JobState.EXPIRED)
    ):
        job.state = JobState.EXPIRED
        delete_file(job)
        return True
    return False


def _expiry_cutoff():
    return timezone.now() - timedelta(hours=get_setting("IMPORT_PREVIEW_EXPIRY_HOURS"))


def _expirable(job, before):
    """Pending since before ``before``; a confirmed import counts from its confirmation (its worker may be busy)."""
    if job.state != JobState.PENDING or job.created_at >= before:
        return False
    confirmed = parse_datetime((job.preview or {}).get(CONFIRMED) or "")
    return confirmed is None or confirmed < before


def _expire(job):
    """Drop a job pending too long (compare-and-set on pending) and delete its file; whether it was dropped."""
    hours = get_setting("IMPORT_PREVIEW_EXPIRY_HOURS")
    with users_language_and_zone(job.user):
        if is_confirmed(job):
            message = _(
                "No worker started this import within %(hours)s hours of its confirmation; the file was deleted. "
                "Nothing was written."
            ) % {"hours": grouped(hours)}
        elif phase(job) == CHECK:
            # Never checked: there was no preview to confirm.
            message = _(
                "No worker checked this file within %(hours)s hours; the file was deleted. Nothing was written. "
                "Ask the site's administrators to check the Celery workers."
            ) % {"hours": grouped(hours)}
        else:
            message = _(
                "Nobody confirmed this import within %(hours)s hours; the file was deleted. Nothing was written."
            ) % {"hours": grouped(hours)}
    still_pending = ImportJob.objects.filter(pk=job.pk, state=JobState.PENDING)
    # Compare-and-set on the confirmation too: a preview confirmed meanwhile now counts from its confirmation.
    if is_confirmed(job):
        still_pending = still_pending.filter(preview__has_key=CONFIRMED)
    else:
        # And on the phase: a check finished meanwhile is a preview now (its message is another one).
        still_pending = still_pending.exclude(preview__has_key=CONFIRMED).filter(preview__phase=phase(job))
    if not still_pending.update(state=JobState.EXPIRED, error=message, finished_at=timezone.now()):
        return False
    delete_file(job)
    return True


def expire_if_too_old(job):
    """A job whose page, status or confirmation is asked for past ``IMPORT_PREVIEW_EXPIRY_HOURS`` is expired then,
    as the hourly clean-up would (sites without Celery beat never run it)."""
    if _expirable(job, _expiry_cutoff()) and _expire(job):
        job.refresh_from_db()
    return job


def expire_stale_previews():
    """Clean-up: drop uploads nobody applied or cancelled within ``IMPORT_PREVIEW_EXPIRY_HOURS`` (waiting
    for confirmation, or never checked), deleting their files. Returns the number of jobs dropped."""
    before = _expiry_cutoff()
    dropped = 0
    for job in (
        ImportJob.objects.filter(state=JobState.PENDING, created_at__lt=before)
        .select_related("user")
        .only("pk", "state", "created_at", "file", "preview", "user")
    ):
        if _expirable(job, before) and _expire(job):
            dropped += 1
    return dropped


def fail_stale_jobs():
    """Clean-up: fail the jobs left ``running`` by a stopped worker and delete their files; without it, a job only
    its owner would open again kept its file for ever. Returns the number of jobs failed."""
    failed = 0
    for job in (
        ImportJob.objects.filter(state=JobState.RUNNING)
        .select_related("user")
        .only("pk", "state", "file", "preview", "created_at", "user")
    ):
        if is_stale(job) and fail_if_stale(job).state == JobState.FAILED:
            failed += 1
    return failed


def delete_file(job):
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
    so there the figure moves at the end of each phase only. The second connection is opened on the first
    write that needs it, to the database ``ImportJob`` is written to, and kept for the job's later writes
    (one per batch) until ``close()``, which the caller calls when the phase ends, however it ends.
    """

    def __init__(self, job):
        self.job = job
        self.alias = router.db_for_write(ImportJob)
        self._side = None

    def __call__(self, stage, done, total):
        rows = self.job.rows_total if stage == "writing" and total else total
        rows_done = rows * done // total if stage == "writing" and total else 0
        if stage != "writing":
            self.job.rows_total = total
        self._save(rows_done, rows)

    def _save(self, rows_done, rows_total):
        own = connections[self.alias]
        if not own.in_atomic_block:
            ImportJob.objects.using(self.alias).filter(pk=self.job.pk).update(
                rows_done=rows_done, rows_total=rows_total
            )
            return
        if own.vendor != "postgresql":
            return
        if self._side is None:
            # In autocommit: each UPDATE commits at once, visible while the import's transaction is open, and
            # holds no lock on the job's row that the import's own "done" (``_mark_applied``) would wait for.
            self._side = connections.create_connection(self.alias)
        with self._side.cursor() as cursor:
            table = self._side.ops.quote_name(ImportJob._meta.db_table)
            cursor.execute(
                f"UPDATE {table} SET rows_done = %s, rows_total = %s WHERE id = %s",
                [rows_done, rows_total, self.job.pk],
            )

    def close(self):
        """Close the second connection, if one was opened (safe to call more than once)."""
        side, self._side = self._side, None
        if side is not None:
            side.close()
