"""Upload, preview and apply an order import; the job's progress as JSON; the generic template.

Every job is looked up with ``user=request.user`` and needs the IMPORT grant on its seller account
today: another user's job, or a job of an account the user lost, answers 404. State changes only on
POST (Django's CSRF middleware checks the token).
"""

from importlib.resources import files

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import FormView, TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ...conf import get_setting
from ...counts import grouped
from ...importers import FORMATS, jobs
from ...importers.base import time_zone_note
from ...models import ImportJob, JobState
from ...permissions import Action, accounts_for, can
from ..transactions import outside_request_transaction
from .currencies import currency_section
from .forms import ImportForm

RECENT_JOBS = 10
STAGES = {
    # (phase, state) -> what the job page says the job is doing.
    (jobs.CHECK, JobState.PENDING): gettext_lazy("Waiting to be checked"),
    (jobs.CHECK, JobState.RUNNING): gettext_lazy("Checking the file"),
    (jobs.CHECK, JobState.FAILED): gettext_lazy("Cannot be imported"),
    (jobs.APPLY, JobState.PENDING): gettext_lazy("Ready to import: waiting for your confirmation"),
    (jobs.APPLY, "queued"): gettext_lazy("Confirmed: waiting for a worker to start the import"),
    (jobs.APPLY, JobState.RUNNING): gettext_lazy("Importing"),
    (jobs.APPLY, JobState.DONE): gettext_lazy("Imported"),
    (jobs.APPLY, JobState.FAILED): gettext_lazy("Import failed"),
    (jobs.APPLY, JobState.EXPIRED): gettext_lazy("Cancelled"),
}


def user_jobs(user):
    """The user's import jobs on seller accounts they may still import into."""
    return ImportJob.objects.filter(user=user, account__in=accounts_for(user, Action.IMPORT)).select_related("account")


def job_or_404(request, job_id):
    job = user_jobs(request.user).filter(pk=job_id).first()
    if job is None:
        raise Http404
    return jobs.expire_if_too_old(jobs.fail_if_stale(job))


def stage(job):
    """The job's (phase, state), with "queued" for a confirmed import waiting for its worker."""
    if jobs.phase(job) == jobs.APPLY and job.state == JobState.PENDING and jobs.is_confirmed(job):
        return jobs.APPLY, "queued"
    return jobs.phase(job), job.state


def stage_label(job):
    return STAGES.get(stage(job), job.get_state_display())


def job_status(job):
    """What the job page shows, as data (the JSON status answer and the template share it)."""
    active = job.state in (JobState.PENDING, JobState.RUNNING) and not jobs.awaits_confirmation(job)
    percent = min(99, job.rows_done * 100 // job.rows_total) if job.rows_total else 0
    if job.state == JobState.DONE:
        percent = 100
    return {
        "id": str(job.pk),
        "phase": jobs.phase(job),
        "state": job.state,
        "stage": ":".join(stage(job)),
        "label": str(stage_label(job)),
        "active": active,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "percent": percent,
        "progress_label": _("%(done)s of %(total)s rows")
        % {"done": grouped(job.rows_done), "total": grouped(job.rows_total)},
    }


def layout_label(job):
    """The job's file layout as the Import screen names it ("Generic template (CSV or Excel)", not "generic")."""
    return getattr(FORMATS.get(job.format_name), "label", job.format_name)


class ImportView(WagtailAdminTemplateMixin, FormView):
    """``/admin/customers/import/``: the upload form and the user's recent imports."""

    template_name = "wagtail_customers/imports/index.html"
    form_class = ImportForm
    page_title = gettext_lazy("Import orders")
    header_icon = "upload"
    _show_breadcrumbs = True

    def dispatch(self, request, *args, **kwargs):
        if not can(request.user, Action.IMPORT):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    @classmethod
    def as_view(cls, **initkwargs):
        # The upload runs the check in the request for small files.
        return outside_request_transaction(super().as_view(**initkwargs))

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["jobs"] = [
            (job, stage_label(job), layout_label(job)) for job in user_jobs(self.request.user)[:RECENT_JOBS]
        ]
        context["formats"] = FORMATS
        context["sync_max_rows"] = get_setting("IMPORT_SYNC_MAX_ROWS")
        return context

    def form_valid(self, form):
        job = jobs.create_job(
            self.request.user,
            form.cleaned_data["account"],
            form.cleaned_data["format"],
            form.cleaned_data["import_file"],
            encoding=form.cleaned_data["encoding"],
        )
        jobs.start_phase(job, jobs.CHECK)
        return redirect("wagtail_customers_imports:job", job_id=job.pk)


class ImportJobView(WagtailAdminTemplateMixin, TemplateView):
    """``/admin/customers/import/<id>/``: the preview (or progress, or outcome) of one import."""

    template_name = "wagtail_customers/imports/job.html"
    header_icon = "upload"
    index_url = reverse_lazy("wagtail_customers_imports:index")

    def dispatch(self, request, *args, **kwargs):
        self.job = job_or_404(request, kwargs["job_id"])
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return _("Import of %(file)s") % {"file": self.job.original_name}

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": self.index_url, "label": _("Import orders")},
            {"url": "", "label": self.job.original_name},
        ]

    def get_context_data(self, **kwargs):
        job = self.job
        preview = job.preview or {}
        context = super().get_context_data(**kwargs)
        report = preview.get("report") or {}
        context.update(
            job=job,
            status=job_status(job),
            format_label=layout_label(job),
            time_zone_note=time_zone_note(),
            report=report,
            result=job.result or {},
            currencies=currency_section(job.result or report),
            errors=preview.get("errors") or [],
            errors_total=preview.get("errors_total") or 0,
            awaiting_confirmation=jobs.awaits_confirmation(job),
            status_url=reverse("wagtail_customers_imports:status", args=[job.pk]),
        )
        return context


@outside_request_transaction
@require_POST
def apply_import(request, job_id):
    """Confirm the preview: import the file for real (all or nothing)."""
    job = job_or_404(request, job_id)
    if not jobs.awaits_confirmation(job):
        messages.warning(request, _("This import is not waiting for confirmation any more."))
        return redirect("wagtail_customers_imports:job", job_id=job.pk)
    job = jobs.start_phase(job, jobs.APPLY)
    if job.state == JobState.DONE:
        message = imported_message(job)  # whole sentences, each translated
        messages.success(request, message)
    return redirect("wagtail_customers_imports:job", job_id=job.pk)


def imported_message(job):
    """What an applied import wrote: the orders it created or updated, and apart those it found stored as they are."""
    created, updated = job.result.get("orders_created", 0), job.result.get("orders_updated", 0)
    unchanged = job.result.get("orders_unchanged", 0)
    names = {"file": job.original_name, "account": job.account}
    if created + updated:
        message = ngettext(
            "Imported %(orders)s order from %(file)s into %(account)s (%(created)s new, %(updated)s updated).",
            "Imported %(orders)s orders from %(file)s into %(account)s (%(created)s new, %(updated)s updated).",
            created + updated,
        ) % {**names, "orders": grouped(created + updated), "created": grouped(created), "updated": grouped(updated)}
    else:
        message = _("%(file)s changed nothing in %(account)s.") % names
    if unchanged:
        message += " " + ngettext(
            "%(orders)s order was already there as it is.",
            "%(orders)s orders were already there as they are.",
            unchanged,
        ) % {"orders": grouped(unchanged)}
    return message


@require_POST
def cancel_import(request, job_id):
    """Drop a previewed import without writing anything."""
    job = job_or_404(request, job_id)
    if jobs.awaits_confirmation(job) and jobs.cancel(job):
        messages.success(
            request, _("The import of %(file)s was cancelled; nothing was written.") % {"file": job.original_name}
        )
        return redirect("wagtail_customers_imports:index")
    job.refresh_from_db()  # confirmed or taken by a worker since it was read
    if job.state == JobState.RUNNING or (job.state == JobState.PENDING and jobs.is_confirmed(job)):
        messages.warning(request, _("This import was confirmed and is under way; it cannot be cancelled any more."))
    else:
        messages.warning(request, _("This import is not waiting for confirmation any more."))
    return redirect("wagtail_customers_imports:job", job_id=job.pk)


@require_GET
def import_status(request, job_id):
    return JsonResponse(job_status(job_or_404(request, job_id)))


@require_GET
def generic_template(request):
    """The generic template: its header row and one example order line (shipped in the package)."""
    if not can(request.user, Action.IMPORT):
        raise Http404
    content = files("wagtail_customers").joinpath("data/generic_template.csv").read_bytes()
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="orders-import-template.csv"'
    return response
