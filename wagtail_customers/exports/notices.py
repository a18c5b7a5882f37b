"""Telling the user an export job finished: an e-mail with the download link, and an admin notice.

Links are built from ``WAGTAIL_CUSTOMERS["BASE_URL"]`` (or Wagtail's ``WAGTAILADMIN_BASE_URL``),
never from a request's Host header. The notice is a Django message added while the admin's main
menu is built (``construct_main_menu``), so it appears on the user's next admin page: one indexed
query per page, plus one update when there is something to say.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.admin import messages as wagtail_messages

from ..conf import get_setting
from ..counts import grouped
from ..models import ExportJob, JobState
from .query import ExportSpec

logger = logging.getLogger("wagtail_customers.exports")

#: At most this many notices at once; the Exports page lists the rest.
MAX_NOTICES = 5


def base_url():
    url = get_setting("BASE_URL") or getattr(settings, "WAGTAILADMIN_BASE_URL", None)
    return url.rstrip("/") if url else None


def absolute_url(path):
    root = base_url()
    return f"{root}{path}" if root else None


def download_path(job_id):
    return reverse("wagtail_customers_exports:download", args=[job_id])


def send_job_email(job):
    """E-mail the job's owner that it is done (with the link) or failed (with the reason).
    A mail error is logged, never raised: the job's outcome does not depend on it."""
    user = job.user
    if not user.email:
        return False
    spec = ExportSpec.from_params(job.params)
    context = {
        "job": job,
        "user": user,
        "download_url": absolute_url(download_path(job.pk)),
        "exports_url": absolute_url(reverse("wagtail_customers_exports:index")),
        "expiry_hours": get_setting("EXPORT_EXPIRY_HOURS"),
    }
    kind = "done" if job.state == JobState.DONE else "failed"
    with spec.activate():
        subject = render_to_string(f"wagtail_customers/exports/email/{kind}_subject.txt", context).strip()
        body = render_to_string(f"wagtail_customers/exports/email/{kind}_body.txt", context)
    try:
        send_mail(
            subject,
            body,
            get_setting("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
    except Exception:  # noqa: BLE001 - the export itself succeeded or failed already
        logger.exception("Could not e-mail export job %s to its owner", job.pk)
        return False
    return True


def announce_ready(request, job_id, rows):
    """The message that a job's file is ready, with its download button."""
    wagtail_messages.success(
        request,
        ngettext(
            "Your export of %(rows)s customer is ready.",
            "Your export of %(rows)s customers is ready.",
            rows,
        )
        % {"rows": grouped(rows)},
        buttons=[wagtail_messages.button(download_path(job_id), _("Download"))],
    )


def add_finished_job_notices(request, menu_items=None):
    """``construct_main_menu`` hook: a message for each of the user's finished jobs not shown yet."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    finished = list(
        ExportJob.objects.filter(user=user, notified=False, state__in=(JobState.DONE, JobState.FAILED)).values(
            "pk", "state", "rows_written", "error"
        )[:MAX_NOTICES]
    )
    if not finished:
        return
    ExportJob.objects.filter(pk__in=[job["pk"] for job in finished]).update(notified=True)
    index_url = reverse("wagtail_customers_exports:index")
    for job in finished:
        if job["state"] == JobState.DONE:
            announce_ready(request, job["pk"], job["rows_written"])
        else:
            wagtail_messages.error(
                request,
                _("Your export failed: %(reason)s") % {"reason": job["error"]},
                buttons=[wagtail_messages.button(index_url, _("See your exports"))],
            )
