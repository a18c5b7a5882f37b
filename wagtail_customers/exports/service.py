"""Starting an export: small ones are written at once, bigger ones become an ``ExportJob``.

The views, the management command and the tests all start exports through ``start_export``.
"""

import os
import tempfile
from dataclasses import dataclass

from django.utils.translation import gettext as _

from ..conf import get_setting
from ..db_router import reading_from_replica
from ..log_actions import log_each
from ..models import ExportJob, SellerAccount
from .jobs import find_or_create_job
from .query import CustomerExport, ExportRequestError
from .writers import iter_csv, write_csv, write_xlsx
from .xlsx_rows import XLSX_MAX_ROWS

LOG_ACTION = "wagtail_customers.export.start"


class NothingToExport(ExportRequestError):
    pass


@dataclass
class StartedExport:
    export: CustomerExport
    total: int
    #: ``None`` for an export written at once.
    job: ExportJob | None = None
    #: ``False`` when an identical request's job was returned instead of a new one.
    created: bool = False
    #: The seller accounts the export reads (its history entries').
    account_ids: tuple = ()

    @property
    def is_immediate(self):
        return self.job is None

    def log(self):
        """The history entries of an export written at once: its caller writes them once the file is made (an
        export that failed is no export in the history)."""
        log_export(self.export.user, self.export.spec, self.account_ids, self.total)


def start_export(user, spec, *, immediate_max_rows=None):
    """Count the rows; up to ``EXPORT_SYNC_MAX_ROWS`` the caller writes them at once (``is_immediate``) and then
    logs them (``StartedExport.log``), more become a job queued for a Celery worker, logged here
    (``wagtail_customers.export.start``)."""
    export = CustomerExport(user, spec)
    account_ids = export.scope_account_ids()
    with reading_from_replica():
        total = export.count() if account_ids else 0
    if not total:
        raise NothingToExport(_("There are no customers to export."))
    if spec.file_format == "xlsx" and total > XLSX_MAX_ROWS:
        raise ExportRequestError(_("Excel files hold at most 1,048,575 rows. Export as CSV instead."))
    limit = get_setting("EXPORT_SYNC_MAX_ROWS") if immediate_max_rows is None else immediate_max_rows
    if total <= limit:
        return StartedExport(export, total, account_ids=tuple(account_ids))
    job, created = find_or_create_job(user, spec, total_rows=total, account_ids=account_ids)
    if created:
        log_export(user, spec, account_ids, total, job=job)
    return StartedExport(export, total, job, created)


def log_export(user, spec, account_ids, rows, job=None):
    """One history entry per seller account the export reads (Wagtail's site history shows them)."""
    data = {
        "format": spec.file_format,
        "scope": spec.scope,
        "tab": spec.tab,
        "rows": rows,
        "job": str(job.pk) if job else None,
    }
    accounts = SellerAccount.objects.filter(pk__in=account_ids)
    log_each(accounts, LOG_ACTION, user=user if getattr(user, "pk", None) else None, data=data)


def csv_chunks(export):
    """The export as UTF-8 CSV chunks for a streaming response, in the requester's language and zone."""
    with export.spec.activate(), reading_from_replica():
        headers = export.headers()
        for chunk in iter_csv(headers, export.rows(csv=True), rendered=True):
            yield chunk.encode("utf-8")


def write_file(export, path):
    """Write the whole export to ``path`` in its format; returns the number of rows."""
    with export.spec.activate(), reading_from_replica():
        if export.spec.file_format == "xlsx":
            return write_xlsx(export.headers(), export.rows(), path, money_columns=export.money_columns())
        return write_csv(export.headers(), export.rows(csv=True), path, rendered=True)


def write_temporary_file(export):
    """Write the export to a new temporary file; returns its path (the caller removes it)."""
    handle, path = tempfile.mkstemp(prefix="wc-export-", suffix=f".{export.spec.format.extension}")
    os.close(handle)
    try:
        write_file(export, path)
    except BaseException:
        os.unlink(path)
        raise
    return path
