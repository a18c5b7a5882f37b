"""The Exports page (the user's jobs), each job's progress as JSON, and the download.

Every job is looked up with ``user=request.user``: another user's job id answers 404. A download
also needs the export grant, today, on every seller account the file holds.
"""

from django.http import FileResponse, Http404, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from wagtail.admin.ui.tables import Column, DateColumn, Table
from wagtail.admin.views.generic.base import BaseListingView

from ...conf import get_setting
from ...counts import grouped
from ...exports import jobs
from ...exports.query import ExportRequestError, ExportSpec
from ...listing import get_tab
from ...local_time import local_datetime
from ...models import ExportJob, JobState
from ...permissions import Action, accounts_for, can
from ..listing.access import forbidden

SCOPE_LABELS = {
    "page": gettext_lazy("this page"),
    "all": gettext_lazy("all pages"),
    "selected": gettext_lazy("selected customers"),
}


def job_or_404(request, job_id):
    job = ExportJob.objects.filter(pk=job_id, user=request.user).first()
    if job is None:
        raise Http404
    return expire_if_due(job)


def expire_if_due(job):
    """A finished job seen past its expiry: its file is deleted now, not at the next clean-up."""
    if job.state == JobState.DONE and job.expires_at is not None and job.expires_at <= timezone.now():
        jobs.expire(job)
    return job


def is_expired(job):
    return job.state == JobState.EXPIRED or (
        job.state == JobState.DONE and job.expires_at is not None and job.expires_at <= timezone.now()
    )


def describe(job):
    """ "Highest value, all pages (Excel)"."""
    params = job.params or {}
    tab = get_tab(params.get("tab", "all"))
    return _("%(tab)s, %(scope)s (%(format)s)") % {
        "tab": tab.label if tab else params.get("tab", ""),
        "scope": SCOPE_LABELS.get(params.get("scope"), ""),
        "format": {"csv": "CSV", "xlsx": "Excel"}.get(job.file_format, job.file_format),
    }


def job_status_data(job):
    expired = is_expired(job)
    state = JobState.EXPIRED if expired else JobState(job.state)
    return {
        "id": str(job.pk),
        "state": state.value,
        "state_label": str(state.label),
        "active": job.is_active,
        "rows_written": job.rows_written,
        "total_rows": job.total_rows,
        "percent": job.progress_percent,
        "progress_label": _("%(written)s of %(total)s rows")
        % {"written": grouped(job.rows_written), "total": grouped(job.total_rows)},
        "size": filesizeformat(job.size_bytes) if job.size_bytes else "",
        "download_url": (
            reverse("wagtail_customers_exports:download", args=[job.pk])
            if state == JobState.DONE and job.file
            else None
        ),
        "error": job.error if state in (JobState.FAILED, JobState.EXPIRED) else "",
        "expires": (
            date_format(local_datetime(job.expires_at), "DATETIME_FORMAT")
            if state == JobState.DONE and job.expires_at
            else ""
        ),
    }


class JobCellColumn(Column):
    """A column whose cell template reads the job's status dict (``status``) like the JSON does."""

    def __init__(self, name, template, **kwargs):
        self.cell_template_name = f"wagtail_customers/exports/cells/{template}.html"
        super().__init__(name, **kwargs)

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["job"] = instance
        context["status"] = instance.status
        return context


class ExportJobTable(Table):
    def get_row_attrs(self, instance):
        attrs = super().get_row_attrs(instance)
        attrs["id"] = f"job-{instance.pk}"
        attrs["data-controller"] = "wc-export-progress"
        attrs["data-wc-export-progress-url-value"] = reverse("wagtail_customers_exports:status", args=[instance.pk])
        attrs["data-wc-export-progress-active-value"] = "true" if instance.status["active"] else "false"
        return attrs


class ExportJobIndexView(BaseListingView):
    """The user's own export jobs, newest first; rows still running refresh themselves."""

    template_name = "wagtail_customers/exports/index.html"
    results_template_name = "wagtail_customers/exports/index_results.html"
    page_title = gettext_lazy("Exports")
    header_icon = "download"
    paginate_by = 20
    index_url_name = "wagtail_customers_exports:index"
    table_class = ExportJobTable
    verbose_name_plural = gettext_lazy("exports")

    def dispatch(self, request, *args, **kwargs):
        if not can(request.user, Action.EXPORT):
            return forbidden(request, _("You may not export customers of any seller account."))
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("wagtail_customers:index"), "label": _("Customers")},
            {"url": "", "label": self.page_title},
        ]

    def get_base_queryset(self):
        return ExportJob.objects.filter(user=self.request.user).order_by("-created_at")

    def get_table(self, object_list):
        for job in object_list:
            expire_if_due(job)
            job.status = job_status_data(job)
            job.description = describe(job)
        return super().get_table(object_list)

    @cached_property
    def columns(self):
        return [
            DateColumn("created_at", label=_("Requested")),
            Column("description", label=_("Export")),
            JobCellColumn("state", "state", label=_("State")),
            JobCellColumn("progress", "progress", label=_("Progress")),
            JobCellColumn("size", "size", label=_("Size")),
            JobCellColumn("expires", "expires", label=_("Available until")),
            JobCellColumn("download", "download", label=_("File")),
        ]

    @cached_property
    def no_results_message(self):
        return _(
            "You have no exports yet. Exports of more than %(rows)s customers are prepared in the "
            "background and listed here; start one from the Customers listing."
        ) % {"rows": grouped(get_setting("EXPORT_SYNC_MAX_ROWS"))}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["listing_url"] = reverse("wagtail_customers:index")
        context["expiry_hours"] = get_setting("EXPORT_EXPIRY_HOURS")
        return context


@require_GET
def job_status(request, job_id):
    """The job's progress as JSON (polled by the Exports page)."""
    job = job_or_404(request, job_id)
    response = JsonResponse(job_status_data(job))
    response["Cache-Control"] = "no-store"
    return response


def download_filename(job):
    """A readable name for the stored file (whose own name is random)."""
    try:
        return ExportSpec.from_params(job.params).filename(job.created_at)
    except (ExportRequestError, TypeError):  # a job stored by an older version with other parameters
        return f"customers-export.{job.file_format}"


@require_GET
def download(request, job_id):
    """The job's file, for its owner, while they may still export every seller account in it."""
    job = job_or_404(request, job_id)
    if job.state == JobState.EXPIRED and job.error:
        # Deleted early because the export grant was withdrawn: say that, not "expired".
        return forbidden(request, job.error)
    if is_expired(job):
        return TemplateResponse(
            request,
            "wagtail_customers/exports/expired.html",
            {"page_title": _("This export has expired"), "job": job, "description": describe(job)},
            status=410,
        )
    if job.state != JobState.DONE or not job.file:
        return TemplateResponse(
            request,
            "wagtail_customers/exports/not_ready.html",
            {"page_title": _("This export is not ready"), "job": job, "description": describe(job)},
            status=409,
        )
    allowed = set(accounts_for(request.user, Action.EXPORT).values_list("pk", flat=True))
    if jobs.lost_permission(job, allowed):
        jobs.expire(job, jobs.withdrawn_reason())
        return forbidden(request, jobs.withdrawn_reason())
    try:
        stream = job.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(stream, as_attachment=True, filename=download_filename(job))
    response["Cache-Control"] = "private, no-store"
    return response
