"""Export jobs: create (or join) one, run it, sweep stale ones, delete expired files.

The life of a job, every change a compare-and-set on ``state`` (and on ``attempts`` for the attempt
that owns it), so two workers, a redelivered message and the sweeper can never both act on it::

    pending --(a worker claims it)--> running --(file complete and saved)--> done --(expiry)--> expired
                                         |  \\--(error, attempts left)--> pending (Celery retry)
                                         |--(no heartbeat: worker lost)--> pending (sweeper) or failed
                                         \\--(permission gone, time limit, attempts used up)--> failed

The file is written to a local temporary file and saved to the private storage (``storage.py``) under
a random name only when complete: a partial file is never offered. It is deleted as soon as the job
expires, or its owner loses the export grant on a seller account in it or the personal-data grant on an
account whose personal data it shows unmasked (state ``expired``, with the reason in ``error``).
"""

import logging
import os
import tempfile
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..counts import grouped
from ..db_router import reading_from_replica
from ..local_time import local_datetime
from ..models import Customer, ExportJob, JobState
from ..permissions import Action, accounts_for
from ..services.personal_data import personal_account_ids
from ..storage import private_storage, random_name
from ..task_queue import queued, task_queue_configured
from .query import CustomerExport, ExportRequestError, ExportSpec
from .writers import write_csv, write_xlsx
from .xlsx_rows import XLSX_MAX_ROWS, TooManyRowsForExcel

logger = logging.getLogger("wagtail_customers.exports")

ACTIVE_STATES = (JobState.PENDING, JobState.RUNNING)
HEARTBEAT_MIN_SECONDS = 1.0


class JobSuperseded(Exception):
    """The attempt no longer owns the job (the sweeper reclaimed it): stop without touching it."""


class ExportFailed(Exception):
    """A reason the export cannot succeed, shown to the user as is."""


# --- Creating -------------------------------------------------------------------------------


class ExportRefused(ExportRequestError):
    """No job was created: the reason (a limit reached, no task queue) is shown to the user as is."""


#: Key in ``ExportJob.params`` (beside the spec's own, which ``ExportSpec.from_params`` reads) naming the
#: seller accounts whose customers' personal data the file shows unmasked.
PERSONAL_ACCOUNTS = "personal_accounts"


def find_or_create_job(user, spec, *, total_rows, account_ids):
    """The job for this request: an active identical one, or a finished one whose file is still kept
    (``EXPORT_DUPLICATE_WINDOW_SECONDS``), else a new one.

    Returns ``(job, created)``. A new job is queued when the surrounding transaction commits. Raises
    ``ExportRefused`` when no task queue is configured or the user reached a job limit.
    """
    existing = reusable_job(user, spec.fingerprint(user))
    if existing:
        return existing, False
    if not task_queue_configured():
        raise ExportRefused(
            _(
                "This export has %(count)s customers; exports of more than %(limit)s are prepared in the "
                "background, and this site has no task queue for that. Export fewer customers (a search, "
                "a filter or a selection), or ask your administrator to set up Celery."
            )
            % {"count": grouped(total_rows), "limit": grouped(get_setting("EXPORT_SYNC_MAX_ROWS"))}
        )
    fingerprint = spec.fingerprint(user)
    try:
        with transaction.atomic():
            # Counted and created under a lock on the user's row (PostgreSQL), so parallel requests cannot
            # all pass the limits; SQLite writes one at a time anyway.
            get_user_model()._default_manager.select_for_update().filter(pk=user.pk).first()
            check_job_limits(user)
            job = ExportJob.objects.create(
                user=user,
                file_format=spec.file_format,
                # With the accounts whose personal data the file shows in full: lost_permission().
                params={
                    **spec.to_params(),
                    PERSONAL_ACCOUNTS: sorted(set(personal_account_ids(user)) & set(account_ids)),
                },
                fingerprint=fingerprint,
                total_rows=total_rows,
                account_ids=list(account_ids),
                heartbeat_at=timezone.now(),
            )
    except IntegrityError:
        # The same request raced us; the partial unique constraint let exactly one job in.
        return ExportJob.objects.get(fingerprint=fingerprint, state__in=ACTIVE_STATES), False
    transaction.on_commit(lambda: enqueue(job.pk))
    return job, True


def reusable_job(user, fingerprint):
    """The user's identical job still waiting or running, or finished with its file still kept."""
    now = timezone.now()
    done = Q(state=JobState.DONE, expires_at__gt=now) & ~Q(file="")
    window = get_setting("EXPORT_DUPLICATE_WINDOW_SECONDS")
    if window is not None:
        done &= Q(finished_at__gte=now - timedelta(seconds=window))
    job = (
        ExportJob.objects.filter(user=user, fingerprint=fingerprint)
        .filter(Q(state__in=ACTIVE_STATES) | done)
        .order_by("-created_at")
        .first()
    )
    if job is not None and job.state == JobState.DONE and erased_since(job):
        return None  # its file holds personal data erased since: a new file, never that one
    return job


def erased_since(job):
    """Whether a customer of the job's seller accounts had their personal data erased since the job started."""
    return Customer.objects.filter(account_id__in=job.account_ids or [], erased_at__gte=job.created_at).exists()


def check_job_limits(user):
    """Raise ``ExportRefused`` if the user may not start another export job now."""
    jobs = ExportJob.objects.filter(user=user)
    active_limit = get_setting("EXPORT_MAX_ACTIVE_JOBS_PER_USER")
    if jobs.filter(state__in=ACTIVE_STATES).count() >= active_limit:
        raise ExportRefused(
            _(
                "You already have %(count)s exports being prepared, the most at once. Wait until one of them "
                "is ready (see your exports), then start this one."
            )
            % {"count": active_limit}
        )
    daily_limit = get_setting("EXPORT_MAX_JOBS_PER_USER_PER_DAY")
    since = timezone.now() - timedelta(hours=24)
    recent = jobs.filter(created_at__gte=since)
    if recent.count() >= daily_limit:
        oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
        raise ExportRefused(
            _(
                "You started %(count)s background exports in the last 24 hours, the most allowed. You can start "
                "another one after %(time)s; exports of up to %(rows)s customers still download at once."
            )
            % {
                "count": daily_limit,
                "time": date_format(local_datetime(oldest + timedelta(hours=24)), "DATETIME_FORMAT"),
                "rows": grouped(get_setting("EXPORT_SYNC_MAX_ROWS")),
            }
        )


def enqueue(job_id):
    """Send the job to the Celery queue. If the queue cannot be reached, the job fails with the reason."""
    from .tasks import run_export_job

    sent = queued(
        lambda: run_export_job.apply_async(
            args=[str(job_id)],
            soft_time_limit=get_setting("EXPORT_SOFT_TIME_LIMIT"),
            time_limit=get_setting("EXPORT_TIME_LIMIT"),
        ),
        f"export job {job_id}",
    )
    if not sent:
        _finish(
            job_id,
            JobState.PENDING,
            JobState.FAILED,
            error=_("The export could not be queued: the task queue is not reachable. Try again later."),
        )


# --- Running --------------------------------------------------------------------------------


def claim(job_id):
    """Compare-and-set pending -> running. Returns the job with the new attempt number, or ``None``
    when the job is not waiting (already taken, finished, or gone): running twice is harmless."""
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, state=JobState.PENDING).update(
        state=JobState.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        rows_written=0,
        error="",
    )
    if not claimed:
        return None
    return ExportJob.objects.select_related("user").get(pk=job_id)


def job_export(job, spec):
    """The ``CustomerExport`` of a background job: the owner's rows, with personal data in full only for the
    accounts recorded when the job was asked for (``params[PERSONAL_ACCOUNTS]``) that they may still see."""
    return CustomerExport(job.user, spec, personal_ids=(job.params or {}).get(PERSONAL_ACCOUNTS))


def run_job(job):
    """Write the export of a claimed (running) job and save it. Raises ``ExportFailed`` with a reason
    for the user, ``JobSuperseded`` when the attempt lost the job, or the underlying error."""
    spec = ExportSpec.from_params(job.params)
    check_still_allowed(job)
    # The rows from the read replica, when the site has one; the job's progress and result go to the primary.
    with spec.activate(), reading_from_replica():
        export = job_export(job, spec)
        total = export.count()
        if spec.file_format == "xlsx" and total > XLSX_MAX_ROWS:
            raise ExportFailed(_("Excel files hold at most 1,048,575 rows. Export as CSV instead."))
        _owned(job).update(total_rows=total, heartbeat_at=timezone.now())
        from .chunks import chunking_applies, start_chunks

        if chunking_applies(total):
            # Split across the workers (chunks.py); the chord's joining task finishes the job.
            start_chunks(job, export)
            return None
        as_csv = spec.file_format != "xlsx"
        rows = _with_heartbeat(export.rows(csv=as_csv), job)
        handle, temp_path = tempfile.mkstemp(prefix="wc-export-", suffix=f".{spec.format.extension}.part")
        os.close(handle)
        try:
            try:
                if as_csv:
                    written = write_csv(export.headers(), rows, temp_path, rendered=True)
                else:
                    written = write_xlsx(export.headers(), rows, temp_path, money_columns=export.money_columns())
            except TooManyRowsForExcel:
                raise ExportFailed(_("Excel files hold at most 1,048,575 rows. Export as CSV instead.")) from None
            _heartbeat(job, written)
        except BaseException:
            os.unlink(temp_path)
            raise
    try:
        return complete(job, temp_path, spec, written, export.account_ids)
    finally:
        os.unlink(temp_path)


def check_still_allowed(job):
    """Raise ``ExportFailed`` if the job's owner may no longer export every seller account it was asked for."""
    user = job.user
    allowed = set(accounts_for(user, Action.EXPORT).values_list("pk", flat=True)) if user.is_active else set()
    lost = set(job.account_ids) - allowed
    if not allowed or lost:
        raise ExportFailed(
            _("Your permission to export these customers changed since you asked for this export. Start it again.")
        )


def complete(job, temp_path, spec, written, account_ids):
    """Save the complete file at ``temp_path`` and mark the job done; returns the job, or raises
    ``JobSuperseded`` (the saved file deleted again) when the attempt lost it."""
    size = os.path.getsize(temp_path)
    name = _save_file(job, temp_path, spec)
    now = timezone.now()
    finished = _owned(job).update(
        state=JobState.DONE,
        file=name,
        size_bytes=size,
        rows_written=written,
        total_rows=written,
        account_ids=sorted(account_ids),
        finished_at=now,
        heartbeat_at=now,
        expires_at=now + timedelta(hours=get_setting("EXPORT_EXPIRY_HOURS")),
        notified=False,
    )
    if not finished:
        private_storage.delete(name)
        raise JobSuperseded()
    return ExportJob.objects.select_related("user").get(pk=job.pk)


def release_for_retry(job, error):
    """Running -> pending before a Celery retry of this attempt; ``False`` if the attempt lost the job."""
    return bool(_owned(job).update(state=JobState.PENDING, error=error, heartbeat_at=timezone.now()))


def fail(job, error):
    """Running -> failed for this attempt (no-op when the attempt lost the job)."""
    return bool(_owned(job).update(state=JobState.FAILED, error=error, finished_at=timezone.now(), notified=False))


def _owned(job):
    """The job's row, as long as this attempt still owns it."""
    return ExportJob.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts)


def _heartbeat(job, rows_written):
    if not _owned(job).update(rows_written=rows_written, heartbeat_at=timezone.now()):
        raise JobSuperseded()


def _with_heartbeat(rows, job):
    """Record progress every ``EXPORT_PROGRESS_ROWS`` rows, at most once a second: each record is a
    committed UPDATE (on SQLite a sync to disk), so a fast export would otherwise spend its time on them."""
    every = get_setting("EXPORT_PROGRESS_ROWS")
    count = 0
    last = time.monotonic()
    for row in rows:
        yield row
        count += 1
        if count % every == 0 and time.monotonic() - last >= HEARTBEAT_MIN_SECONDS:
            _heartbeat(job, count)
            last = time.monotonic()


def _save_file(job, temp_path, spec):
    """Save the complete file to the private storage under a random name; returns its storage name.
    (The download gets a readable name from ``ExportSpec.filename``.)"""
    name = random_name(get_setting("EXPORT_STORAGE_PREFIX"), f".{spec.format.extension}")
    with open(temp_path, "rb") as stream:
        return private_storage.save(name, File(stream, name=name.rsplit("/", 1)[-1]))


def _finish(job_id, from_state, to_state, **fields):
    now = timezone.now()
    return ExportJob.objects.filter(pk=job_id, state=from_state).update(
        state=to_state, finished_at=now, notified=False, **fields
    )


# --- Sweeping and cleaning up (periodic tasks) -------------------------------------------------


def sweep_stale_jobs():
    """Jobs a worker stopped working on: running with no heartbeat for ``EXPORT_STALE_SECONDS``.

    Each is queued again while it has attempts left, else failed with the reason; either way the chunk
    files of the attempt given up are deleted (``chunks.py``). Waiting jobs no worker picked up within
    ``EXPORT_PENDING_TIMEOUT_SECONDS`` are failed too. Returns ``(requeued, failed)`` counts."""
    from .chunks import delete_attempt_chunks

    now = timezone.now()
    max_attempts = get_setting("EXPORT_MAX_ATTEMPTS")
    stale_before = now - timedelta(seconds=get_setting("EXPORT_STALE_SECONDS"))
    requeued = failed = 0
    stale = ExportJob.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=stale_before).only(
        "pk", "attempts", "heartbeat_at", "params"
    )
    for job in stale:
        same_attempt = ExportJob.objects.filter(
            pk=job.pk, state=JobState.RUNNING, attempts=job.attempts, heartbeat_at=job.heartbeat_at
        )
        if job.attempts < max_attempts:
            reason = _("Attempt %(attempt)s stopped without finishing (the worker was lost); retrying.") % {
                "attempt": job.attempts
            }
            if same_attempt.update(state=JobState.PENDING, error=reason, heartbeat_at=now):
                delete_attempt_chunks(job.pk, job.attempts, job.params)
                requeued += 1
                logger.warning("Export job %s: attempt %s went stale; queued again", job.pk, job.attempts)
                enqueue(job.pk)
        else:
            reason = _(
                "The export stopped without finishing %(attempts)s times (the worker was lost or killed). "
                "It will not be retried; try a smaller export or ask your administrator to check the workers."
            ) % {"attempts": job.attempts}
            if same_attempt.update(state=JobState.FAILED, error=reason, finished_at=now, notified=False):
                delete_attempt_chunks(job.pk, job.attempts, job.params)
                failed += 1
                logger.error("Export job %s failed after %s stale attempts", job.pk, job.attempts)
    pending_before = now - timedelta(seconds=get_setting("EXPORT_PENDING_TIMEOUT_SECONDS"))
    failed += ExportJob.objects.filter(state=JobState.PENDING, heartbeat_at__lt=pending_before).update(
        state=JobState.FAILED,
        error=_("No export worker picked this export up. Ask your administrator to check the Celery workers."),
        finished_at=now,
        notified=False,
    )
    return requeued, failed


def expire(job, reason=""):
    """Done -> expired, deleting the file at once. ``reason`` (kept in ``error``) says why when it is
    not the end of the download period. Returns ``True`` if this call expired the job."""
    if not ExportJob.objects.filter(pk=job.pk, state=JobState.DONE).update(
        state=JobState.EXPIRED, file="", error=reason
    ):
        return False
    if job.file.name:
        private_storage.delete(job.file.name)
    job.state, job.error, job.file.name = JobState.EXPIRED, reason, ""
    return True


def withdrawn_reason():
    return _(
        "Your permission to export some of the seller accounts in this file, or to see their customers' personal "
        "data, was withdrawn, so the file was deleted."
    )


def lost_permission(job, allowed=None, personal=None):
    """Whether the job's owner may no longer export every seller account its file holds, or no longer see the
    personal data it shows in full (``params[PERSONAL_ACCOUNTS]``; jobs made before it was kept have none).

    ``allowed`` / ``personal``: the ids of the accounts the owner may export / whose personal data they may see,
    for a caller that has read them (``delete_withdrawn_files``, once per owner); else read here."""
    if allowed is None:
        allowed = _exportable_ids(job.user)
    if not allowed or not set(job.account_ids) <= allowed:
        return True
    shown = set((job.params or {}).get(PERSONAL_ACCOUNTS) or ())
    if not shown:
        return False
    if personal is None:
        personal = _personal_ids(job.user)
    return not shown <= personal


def _exportable_ids(user):
    """The ids of the accounts ``user`` may export (none for a deactivated user)."""
    return set(accounts_for(user, Action.EXPORT).values_list("pk", flat=True)) if user.is_active else set()


def _personal_ids(user):
    """The ids of the accounts whose personal data ``user`` may see (none for a deactivated user)."""
    return set(personal_account_ids(user)) if user.is_active else set()


def delete_withdrawn_files(user_ids=None):
    """Delete the files of finished jobs whose owner lost the export grant on a seller account in them, or the
    personal-data grant on an account whose personal data they show (all users', or those of ``user_ids``).
    Returns the number of jobs expired. The grants are read once per owner and ``params`` (the personal data
    shown) comes with the jobs: the queries grow with the owners and the files deleted, not with the jobs."""
    done = ExportJob.objects.filter(state=JobState.DONE).exclude(file="").select_related("user")
    if user_ids is not None:
        done = done.filter(user_id__in=user_ids)
    grants_by_user = {}
    withdrawn = 0
    for job in done.only("pk", "file", "account_ids", "params", "user"):
        if job.user_id not in grants_by_user:
            grants_by_user[job.user_id] = (_exportable_ids(job.user), _personal_ids(job.user))
        allowed, personal = grants_by_user[job.user_id]
        if lost_permission(job, allowed, personal) and expire(job, withdrawn_reason()):
            withdrawn += 1
    return withdrawn


def delete_expired_files():
    """Delete the files of jobs past their expiry (their links then say the export expired) and of jobs
    whose owner lost, since, the export grant on a seller account in them or the personal-data grant on an
    account whose personal data they show (``delete_withdrawn_files``). Returns the number of jobs expired."""
    now = timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(state=JobState.DONE, expires_at__lt=now).only("pk", "file"):
        if expire(job):
            expired += 1
    return expired + delete_withdrawn_files()
