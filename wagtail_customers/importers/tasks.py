"""The Celery task of the imports (imported by ``wagtail_customers.tasks`` for autodiscovery).

It takes the job's id and phase, re-reads the job and re-checks the user's IMPORT grant; see
``jobs.py`` for the phases and states.
"""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.utils.translation import gettext_lazy as _

from ..local_time import users_language_and_zone
from ..models import ImportJob, JobState
from ..task_routing import QueuedTask
from . import jobs

logger = logging.getLogger("wagtail_customers.imports")


@shared_task(
    base=QueuedTask,
    name="wagtail_customers.run_import_job",
    acks_late=True,
    # A worker killed mid-import must not requeue the message forever; the job is failed as stale.
    reject_on_worker_lost=False,
    soft_time_limit=jobs.SOFT_TIME_LIMIT,
    time_limit=jobs.TIME_LIMIT,
    ignore_result=True,
)
def run_import_job(job_id, phase):
    """Check (dry run) or apply one import job. Delivered twice, it runs once: the first claims it."""
    try:
        job = jobs.run_phase(job_id, phase)
    except SoftTimeLimitExceeded:
        return _fail(
            job_id,
            _("The import took longer than %(seconds)s seconds and was stopped. Nothing was written."),
            seconds=jobs.SOFT_TIME_LIMIT,
        )
    except Exception:
        logger.exception("Import job %s (%s) failed", job_id, phase)
        return _fail(
            job_id,
            _(
                "The import failed on an unexpected error. Nothing was written; the site's administrators can find "
                "the details in the server log."
            ),
        )
    return "skipped" if job is None else job.state


def _fail(job_id, message, **values):
    """Fail the job if it is still running: then its import did not commit (the job's "done" state commits with
    the orders, ``jobs.py``), so "Nothing was written" is true. A job that ended stays as it is. ``message`` (lazy)
    is written in the job's user's language, with ``values`` put in."""
    job = ImportJob.objects.filter(pk=job_id).select_related("user").first()
    if job is None:
        return "skipped"
    if job.state == JobState.RUNNING:
        with users_language_and_zone(job.user):
            job = jobs.fail(job, str(message) % values if values else str(message))
    elif job.state in (JobState.DONE, JobState.FAILED, JobState.EXPIRED) and job.file:
        # Stopped after the import committed (deleting its file, say): the file's use is over all the same.
        jobs.delete_file(job)
    return job.state


@shared_task(base=QueuedTask, name="wagtail_customers.expire_import_previews", ignore_result=True)
def expire_import_previews():
    """Periodic: delete uploaded files whose preview nobody applied or cancelled (``IMPORT_PREVIEW_EXPIRY_HOURS``),
    and fail the jobs left running by a stopped worker, deleting their files. Returns the number of jobs ended."""
    return jobs.expire_stale_previews() + jobs.fail_stale_jobs()
