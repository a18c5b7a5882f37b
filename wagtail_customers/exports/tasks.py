"""Celery tasks of the exports (imported by ``wagtail_customers.tasks`` for autodiscovery).

Each takes ids, re-reads the job and re-checks the user's grants; see ``jobs.py`` for the states.
A job these tasks fail loses its chunk files at once (``_failed``); see ``chunks.py`` for who else deletes them.
"""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..conf import get_setting
from ..models import ExportJob
from ..task_routing import QueuedTask
from . import chunks, jobs
from .notices import send_job_email

logger = logging.getLogger("wagtail_customers.exports")

#: Errors worth another attempt: the database or the storage was briefly unavailable.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError)


@shared_task(
    base=QueuedTask,
    bind=True,
    name="wagtail_customers.run_export_job",
    acks_late=True,
    # A worker killed mid-task must not requeue a poison message forever: the sweeper retries
    # the job a bounded number of times instead.
    reject_on_worker_lost=False,
    max_retries=10,
    soft_time_limit=3600,
    time_limit=3660,
    ignore_result=True,
)
def run_export_job(self, job_id):
    """Run one export job. Safe to deliver twice: only the delivery that claims the job runs it."""
    job = jobs.claim(job_id)
    if job is None:
        return "skipped"
    try:
        finished = jobs.run_job(job)
        if finished is None:
            # Split into chunks: the chord's join_export_chunks finishes the job (chunks.py).
            return "chunked"
        job = finished
    except jobs.JobSuperseded:
        return "superseded"
    except jobs.ExportFailed as error:
        return _failed(job, str(error))
    except SoftTimeLimitExceeded:
        return _failed(job, _over_time_limit())
    except TRANSIENT_ERRORS as error:
        logger.warning("Export job %s attempt %s: %r", job.pk, job.attempts, error)
        if job.attempts < get_setting("EXPORT_MAX_ATTEMPTS"):
            # The error's class stays in the log (above): the seller reads what failed, not its name.
            reason = _("Attempt %(attempt)s failed: the database or the file storage did not answer; retrying.") % {
                "attempt": job.attempts,
            }
            if not jobs.release_for_retry(job, reason):
                return "superseded"
            # The next attempt writes chunk files of its own (if the export was split before the error).
            chunks.delete_attempt_chunks(job.pk, job.attempts, job.params)
            if self.request.is_eager:
                # No queue to wait in: try again now (bounded by EXPORT_MAX_ATTEMPTS like any retry).
                return run_export_job(job_id)
            raise self.retry(exc=error, countdown=min(30 * job.attempts, 300)) from error
        return _failed(
            job,
            ngettext(
                "The export failed %(attempts)s time: the database or the file storage did not answer. Try again "
                "later.",
                "The export failed %(attempts)s times: the database or the file storage did not answer. Try again "
                "later.",
                job.attempts,
            )
            % {"attempts": job.attempts},
        )
    except Exception:
        logger.exception("Export job %s failed", job.pk)
        return _failed(
            job,
            _(
                "The export failed on an unexpected error; the site's administrators can find the details in the "
                "server log."
            ),
        )
    send_job_email(job)
    return "done"


@shared_task(
    base=QueuedTask,
    bind=True,
    name="wagtail_customers.write_export_chunk",
    # A chunk whose worker is killed is delivered again, alone; it overwrites its own file. Its deliveries are
    # counted (chunks.note_delivery): one that kills its worker every time fails the job after EXPORT_MAX_ATTEMPTS.
    # And once the sweeper reclaims the job, the old attempt's chunks stop at once.
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=3,
    soft_time_limit=3600,
    time_limit=3660,
)
def write_export_chunk(self, job_id, attempt, index, pks):
    """Write one chunk of a chunked export job (``chunks.py``); its result goes to ``join_export_chunks``.

    Any error (reading the job too) is retried when transient, else fails the job: a chunk task that raised
    would leave the chord's join uncalled and the job running until the sweeper gives it up."""
    job = None
    try:
        job = chunks.owned_job(job_id, attempt)
        if job is None:
            return None
        tries = get_setting("EXPORT_MAX_ATTEMPTS")
        if chunks.note_delivery(job, index, self.request.retries) > tries:
            # Its worker stopped every time (its message is back after each): stop here, not for ever.
            logger.error("Export job %s chunk %s: delivered more than %s times; the job fails", job_id, index, tries)
            _failed(job, chunks.stopped_reason(index, pks, tries))
            return None
        return chunks.write_chunk(job, index, pks)
    except jobs.JobSuperseded:
        return None
    except TRANSIENT_ERRORS as error:
        logger.warning("Export job %s chunk %s: %r", job_id, index, error)
        if self.request.retries < self.max_retries:
            if self.request.is_eager:
                # No queue to wait in (and an eager retry raises when eager tasks propagate errors): again now.
                return self.apply((job_id, attempt, index, pks), retries=self.request.retries + 1).get()
            raise self.retry(exc=error, countdown=5) from error
        _failed(
            job or _attempt(job_id, attempt),
            ngettext(
                "The export failed %(attempts)s time: the database or the file storage did not answer. Try again "
                "later.",
                "The export failed %(attempts)s times: the database or the file storage did not answer. Try again "
                "later.",
                self.request.retries + 1,
            )
            % {"attempts": self.request.retries + 1},
        )
    except SoftTimeLimitExceeded:
        _failed(job or _attempt(job_id, attempt), _over_time_limit())
    except Exception:
        logger.exception("Export job %s chunk %s failed", job_id, index)
        _failed(
            job or _attempt(job_id, attempt),
            _(
                "The export failed on an unexpected error; the site's administrators can find the details in the "
                "server log."
            ),
        )
    return None


@shared_task(
    base=QueuedTask,
    name="wagtail_customers.join_export_chunks",
    acks_late=True,
    soft_time_limit=3600,
    time_limit=3660,
    ignore_result=True,
)
def join_export_chunks(results, job_id, attempt):
    """Join a chunked export job's chunk files in order into its file, and finish the job.

    The chunk files are deleted whatever happens. A database or storage error that may pass leaves the job running
    for the sweeper to start again (``jobs.sweep_stale_jobs``, while attempts are left); any other error fails it."""
    job = None
    try:
        job = chunks.owned_job(job_id, attempt)
        if job is None or any(result is None for result in results):
            # Superseded, or a chunk failed the job (it said why): only the chunk files are left to delete.
            return "superseded"
        job = chunks.join_chunks(job, results)
    except jobs.JobSuperseded:
        return "superseded"
    except jobs.ExportFailed as error:
        return _failed(job, str(error))
    except (*TRANSIENT_ERRORS, chunks.ChunkFormatMismatch) as error:
        # A chunk of another release (a rolling deploy) is as passing as a database error: the next attempt's
        # chunks are this release's.
        logger.warning("Export job %s: joining its chunks failed (%r); the sweeper starts it again", job_id, error)
        return "stale"
    except SoftTimeLimitExceeded:
        return _failed(job or _attempt(job_id, attempt), _over_time_limit())
    except Exception:
        logger.exception("Export job %s: joining its chunks failed", job_id)
        return _failed(
            job or _attempt(job_id, attempt),
            _(
                "The export failed on an unexpected error; the site's administrators can find the details in the "
                "server log."
            ),
        )
    finally:
        chunks.delete_chunk_files(results)
    send_job_email(job)
    return "done"


def _over_time_limit():
    """Why a job stopped at the task's soft time limit (run, chunk or join)."""
    return _("The export took longer than the time limit (%(seconds)s seconds). Try a smaller export.") % {
        "seconds": get_setting("EXPORT_SOFT_TIME_LIMIT")
    }


def _attempt(job_id, attempt):
    """A stand-in for a job that could not be read: enough to fail that attempt of it (``jobs.fail``)."""
    return ExportJob(pk=job_id, attempts=attempt)


def _failed(job, reason):
    """Fail this attempt of the job (nothing, if it lost the job), delete its chunk files and tell its owner."""
    if not jobs.fail(job, reason):
        return "superseded"
    chunks.delete_attempt_chunks(job.pk, job.attempts)
    if job.user_id is None:  # a stand-in (_attempt): read the job now, for the e-mail
        job = ExportJob.objects.select_related("user").filter(pk=job.pk).first()
        if job is None:  # deleted meanwhile (its user with it): nobody to tell
            return "failed"
    else:
        job.state, job.error = jobs.JobState.FAILED, reason
    send_job_email(job)
    return "failed"


@shared_task(base=QueuedTask, name="wagtail_customers.sweep_export_jobs", ignore_result=True)
def sweep_export_jobs():
    """Periodic: retry or fail export jobs whose worker stopped (no heartbeat), fail jobs never picked up;
    delete the chunk files no running attempt owns."""
    swept = jobs.sweep_stale_jobs()
    chunks.delete_stray_chunk_files()
    return swept


@shared_task(base=QueuedTask, name="wagtail_customers.delete_expired_exports", ignore_result=True)
def delete_expired_exports():
    """Periodic: delete export files past their expiry, and those whose owner lost the export grant."""
    return jobs.delete_expired_files()
