"""Starting exports: the listing's export controls and bulk action, and one customer's orders.

``start`` (POST, CSRF) reads:

* ``format``: ``csv`` or ``xlsx``;
* ``scope``: ``page`` (the current page), ``all`` (every page of the tab) or ``selected``;
* ``tab``: the listing tab's slug;
* the listing's parameters (search, filters, ``account``, ``ordering``, and ``p`` / ``per_page``
  for ``page``), either as fields of their own or as one ``query`` field holding the query string;
  either way at most ``MAX_QUERY_LENGTH`` characters as a query string (a longer one is refused, never cut);
  without ``account``, the seller accounts the account selector remembers are added after that check;
* ``ids`` (``selected``): the customer ids, comma-separated or as a JSON list, in one field, so
  Django's 1,000-field cap never limits a selection.
"""

import logging
import os
from contextlib import nullcontext
from urllib.parse import urlencode

from django.core.exceptions import TooManyFieldsSent
from django.db import InterfaceError, OperationalError, transaction
from django.http import FileResponse, Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from wagtail.admin import messages
from wagtail.admin.utils import get_valid_next_url_from_request

from ...columns import user_columns
from ...counts import grouped
from ...exports.notices import announce_ready
from ...exports.orders import CustomerOrdersExport
from ...exports.query import (
    IGNORED_PARAMS,
    ExportRequestError,
    ExportSpec,
    check_query_length,
    parse_selected_ids,
    query_too_long,
)
from ...exports.service import csv_chunks, log_export, start_export, write_temporary_file
from ...exports.writers import CSV, FORMATS
from ...listing import get_tab, shown_account_ids
from ...local_time import local_datetime
from ...models import ExportJob, JobState
from ...permissions import Action, can, customers_for
from ...services.personal_data import may_see_personal_data
from ..listing.access import forbidden, is_site_path
from ..transactions import outside_request_transaction
from .download_notice import announce_download

logger = logging.getLogger("wagtail_customers.exports")

#: Fields of the start form that are not listing parameters.
CONTROL_FIELDS = {"format", "scope", "tab", "ids", "query", "csrfmiddlewaretoken", "next", "download_token"}


def spec_from_post(request):
    post = request.POST
    from_field = "query" in post
    if from_field:
        try:
            query = QueryDict(post.get("query", "").lstrip("?"))
        except TooManyFieldsSent:
            raise query_too_long() from None
    else:
        query = post
    params = {key: query.getlist(key) for key in query if key not in CONTROL_FIELDS | IGNORED_PARAMS}
    # What the job keeps, bounded as the query string it makes (not the parameters dropped, such as the keyset
    # position): refused, never cut, as a cut could shorten the last parameter (account=12345 -> account=12).
    check_query_length(urlencode(params, doseq=True))
    if "account" not in params:
        # The seller accounts the page showed, remembered by the account selector (those the user may still view,
        # as the page reads them; none left is every account): written into the request, so that a job reads the
        # selection asked for, not the one in force when it runs, a file made for another selection is not handed
        # back as this one, and accounts the user may view but not export leave no others in their place.
        params["account"] = [str(pk) for pk in shown_account_ids(request.user)]
    scope = post.get("scope", "all")
    ids = parse_selected_ids(post.get("ids", "")) if scope == "selected" else []
    if scope == "selected" and not ids:
        raise ExportRequestError(_("Select at least one customer to export."))
    return ExportSpec(
        file_format=post.get("format", ""),
        scope=scope,
        tab=post.get("tab", "all"),
        query=params,
        ids=ids,
        columns=[column.name for column in user_columns(request.user)],
        language=translation.get_language() or "",
        timezone=timezone.get_current_timezone_name(),
    )


def listing_url(request):
    """Where to send the user back to: a ``next`` path on this site, else the tab they exported from, with its
    parameters. (A bare ``next=foo`` passes Wagtail's check, and ``redirect()`` would take it for a URL name.)"""
    next_url = get_valid_next_url_from_request(request)
    if next_url and is_site_path(next_url):
        return next_url
    tab = get_tab(request.POST.get("tab", "")) or get_tab("all")
    try:
        url = reverse(f"wagtail_customers:{tab.url_name}")
    except NoReverseMatch:
        url = reverse("wagtail_customers:index")
    query = request.POST.get("query", "").lstrip("?")
    try:
        QueryDict(query)
    except TooManyFieldsSent:
        query = ""  # the listing would answer 400 to it: back to the tab as it opens, with the message
    return f"{url}?{query}" if query else url


# Outside ATOMIC_REQUESTS' transaction: a new job is queued when it is committed (jobs.find_or_create_job), which
# must happen before the message is chosen from its state; inside it, the job would be queued after the answer.
@outside_request_transaction
@require_POST
def start_export_view(request):
    if not can(request.user, Action.EXPORT):
        return forbidden(request, _("You may not export customers of any seller account."))
    try:
        spec = spec_from_post(request)
        started = start_export(request.user, spec)
    except ExportRequestError as error:
        messages.error(request, str(error))
        return redirect(listing_url(request))
    if started.is_immediate:
        filename = export_filename(spec)
        response = logged_file_response(request, started.export, filename, started.log)
        if response is None:
            return redirect(listing_url(request))
        return announce_download(request, response, started.total, filename)
    job = started.job
    # Read after the queueing: a new job may have failed already (the broker is down) or even be done (tasks run
    # eagerly, in this request).
    job.refresh_from_db(fields=["state", "error", "finished_at", "rows_written"])
    if started.created and job.state in (JobState.DONE, JobState.FAILED):
        # Told here, so not again by the finished-job notice on the next page.
        ExportJob.objects.filter(pk=job.pk).update(notified=True)
    if job.state == JobState.FAILED:
        # The queue refused the job (the broker is down): say so, not "being prepared".
        messages.error(request, job.error)
    elif started.created and job.state == JobState.DONE:
        announce_ready(request, job.pk, job.rows_written)
    elif started.created:
        messages.success(
            request,
            ngettext(
                "Your export of %(count)s customer is being prepared. You will get a notice and an e-mail "
                "when it is ready.",
                "Your export of %(count)s customers is being prepared. You will get a notice and an e-mail "
                "when it is ready.",
                started.total,
            )
            % {"count": grouped(started.total)},
        )
    elif job.state == JobState.DONE:
        messages.info(
            request,
            _("You exported the same customers on %(time)s and the file is still available: here it is.")
            % {"time": date_format(local_datetime(job.finished_at), "DATETIME_FORMAT")},
        )
    else:
        messages.info(request, _("You asked for this export a moment ago: here it is."))
    return redirect(f"{reverse('wagtail_customers_exports:index')}#job-{job.pk}")


def export_filename(spec):
    return spec.filename(timezone.now())


def logged_file_response(request, export, filename, log):
    """The export as a download now (``file_response``), its history entry written by ``log()`` once the file is
    made (an XLSX file is written whole first; a CSV file streams, read as it is sent, so its entry comes before).
    A file that could not be written is no export: nothing is logged, the error message is queued for the user and
    ``None`` returned, for the caller to send them back to the page they came from."""
    # Under ATOMIC_REQUESTS' transaction (the customer's orders), in a savepoint: a database error while the file is
    # written is rolled back to it, and the request's transaction stays usable for the answer.
    savepoint = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with savepoint:
            response = file_response(export, filename)
    except (OperationalError, InterfaceError, OSError):
        logger.warning("An export to download at once could not be written", exc_info=True)
        messages.error(
            request,
            _(
                "The file could not be written: the database or the server's temporary storage did not answer (the "
                "disk may be full). Nothing was downloaded; try again in a moment, and if it keeps failing, ask the "
                "site's administrators, who find the details in the server log."
            ),
        )
        return None
    except Exception:
        logger.exception("An export to download at once failed")
        messages.error(
            request,
            _(
                "The export failed on an unexpected error; the site's administrators can find the details in the "
                "server log."
            ),
        )
        return None
    try:
        log()
    except BaseException:
        response.close()  # the temporary file of an XLSX export
        raise
    return response


def file_response(export, filename):
    """The export as a download now: CSV streamed row by row, XLSX from a temporary file."""
    if export.spec.file_format == CSV.name:
        response = StreamingHttpResponse(csv_chunks(export), content_type=CSV.content_type)
    else:
        path = write_temporary_file(export)
        stream = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
        os.unlink(path)  # the open handle keeps the data until the response is sent
        response = FileResponse(stream, content_type=export.spec.format.content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def customer_orders(request, pk):
    """One customer's orders as CSV or Excel (``?format=csv|xlsx``; the customer page's export button)."""
    file_format = request.GET.get("format", CSV.name)
    if file_format not in FORMATS:
        raise Http404
    customer = get_object_or_404(customers_for(request.user, Action.EXPORT).select_related("account"), pk=pk)
    spec = ExportSpec(
        file_format=file_format,
        scope="selected",
        ids=[customer.pk],
        language=translation.get_language() or "",
        timezone=timezone.get_current_timezone_name(),
    )
    filename = get_valid_filename(f"orders-{customer.account.name}-{customer.pk}.{spec.format.extension}")
    masked = not may_see_personal_data(request.user, customer.account_id)
    response = logged_file_response(
        request,
        CustomerOrdersExport(customer, spec, masked=masked),
        filename,
        lambda: log_export(request.user, spec, [customer.account_id], customer.orders_count),
    )
    if response is None:
        return redirect(reverse("wagtail_customers_customer:detail", args=[customer.pk]))
    return response
