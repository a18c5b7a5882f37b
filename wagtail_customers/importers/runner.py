"""Import a whole file or nothing."""

from django.db import transaction
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..countries import unrecognised_countries
from ..planner_statistics import refresh_planner_statistics
from ..services.ingestion import IngestionError, IngestionResult, record_orders
from ..services.statistics import StatisticsOverflow, refresh_statistics
from .base import ImportFileError, ImportReport, cells_of, read_table, row_of
from .currencies import currency_summary
from .registry import get_format


def run_import(
    account,
    content,
    *,
    format_name="generic",
    filename="",
    dry_run=False,
    encoding="utf-8",
    progress=None,
    before_commit=None,
):
    """Parse ``content`` and record its orders for ``account`` in one transaction.

    Every row is parsed before anything is written; errors raise ``ImportFileError`` (listing every
    error found, each with its row number) and leave the database as it was. With ``dry_run`` the
    orders are recorded and rolled back, so the report gives the exact counts the real run would.

    ``progress(stage, done, total)``, if given, is called with ``"checking"`` (rows) once the rows are
    read, then with ``"writing"`` (orders) before the transaction starts and after each batch in it.

    ``before_commit(report)``, if given (not with ``dry_run``), is called inside the transaction once every
    order is written: what it writes (the job's "done" state and its history entry) commits with the orders or
    not at all, and an exception from it rolls the orders back.
    """
    importer = get_format(format_name)
    table = read_table(
        content,
        filename=filename,
        delimiter=importer.delimiter,
        encoding=encoding,
        columns=getattr(importer, "known", None),
    )
    report = ImportReport(format_name=importer.name, rows=len(table.rows), dry_run=dry_run)
    report.warnings.extend(table.warnings)
    if not table.rows:
        raise ImportFileError(_("The file has a header row but no data rows."))
    if progress:
        progress("checking", 0, len(table.rows))
    with cells_of(table, report):  # a semicolon or tab file's "1.234" is checked in every layout, a site's own too
        # list(): a site's parse() that yields its orders is read to its end while the flag holds.
        orders = list(importer.parse(table, report))
    del table  # the rows are in ``orders`` now: the cells need not stay in memory while writing
    report.raise_for_errors()
    report.unrecognised_countries = unrecognised_countries(order.ship_to.country for order in orders)
    if not orders:
        raise ImportFileError(_("The file has no orders to import (every row was skipped)."))
    report.orders = len(orders)
    if progress:
        progress("writing", 0, len(orders))
    # Oldest first (exports often list the newest first): a customer's name and address then come from
    # their latest order even when their orders fall in different batches.
    orders.sort(key=lambda order: order.placed_at)
    batch_size = get_setting("INGEST_BATCH_SIZE")
    result = IngestionResult()
    with transaction.atomic():
        for start in range(0, len(orders), batch_size):
            try:
                # A customer's orders may span batches: their statistics are brought up to date once, below.
                result.merge(record_orders(account, orders[start : start + batch_size], refresh_stats=False))
            except IngestionError as error:
                # Named by the order's first row, when the layout noted it (``base.note_row``).
                raise ImportFileError(str(error), row_of(orders, error.order_id)) from None
            if progress:
                progress("writing", min(start + batch_size, len(orders)), len(orders))
        customer_ids = sorted(result.customer_ids)
        for start in range(0, len(customer_ids), batch_size):
            try:
                refresh_statistics(
                    customer_ids[start : start + batch_size], orders_written=result.orders_written_customer_ids
                )
            except StatisticsOverflow as overflow:
                # A customer's figures over the file's orders would not fit: named by one of those orders' rows.
                error = result.overflow_error(overflow)
                raise ImportFileError(str(error), row_of(orders, error.order_id)) from None
        # Read before a dry run rolls back: what the orders will be stored with, rates included.
        report.account_currency = account.currency
        report.currencies = currency_summary(result.order_ids)
        report.orders_without_rate = sum(entry["without_rate"] for entry in report.currencies)
        report.orders_created = result.orders_created
        report.orders_updated = result.orders_updated
        report.orders_unchanged = result.orders_unchanged
        report.customers_created = result.customers_created
        report.customers_updated = result.customers_updated
        report.customers_unchanged = result.customers_unchanged
        if dry_run:
            transaction.set_rollback(True)
        else:
            if before_commit is not None:
                before_commit(report)
            # Once the rows are in: a first import of thousands of orders leaves SQLite without statistics.
            # Robust: the orders have committed by then, so its failure (the task's soft time limit raised
            # during ANALYZE, a locked database) is logged and fails nothing.
            transaction.on_commit(refresh_planner_statistics, robust=True)
    return report
