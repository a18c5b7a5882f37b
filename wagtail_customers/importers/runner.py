"""Import a whole file or nothing."""

from django.db import transaction

from ..services.ingestion import IngestionError, record_orders
from .base import ImportFileError, ImportReport, read_table
from .registry import get_format


def run_import(account, content, *, format_name="generic", filename="", dry_run=False, encoding="utf-8"):
    """Parse ``content`` and record its orders for ``account`` in one transaction.

    Every row is parsed before anything is written; any error raises ``ImportFileError`` and leaves
    the database as it was. With ``dry_run`` the orders are recorded and rolled back, so the report
    gives the exact counts the real run would.
    """
    importer = get_format(format_name)
    table = read_table(content, filename=filename, delimiter=importer.delimiter, encoding=encoding)
    report = ImportReport(format_name=importer.name, rows=len(table.rows), dry_run=dry_run)
    if not table.rows:
        raise ImportFileError("The file has a header row but no data rows.")
    orders = importer.parse(table, report)
    report.orders = len(orders)
    with transaction.atomic():
        try:
            result = record_orders(account, orders)
        except IngestionError as error:
            raise ImportFileError(str(error)) from None
        report.orders_created = result.orders_created
        report.orders_updated = result.orders_updated
        report.customers_created = result.customers_created
        report.customers_updated = len(result.customer_ids) - result.customers_created
        if dry_run:
            transaction.set_rollback(True)
    return report
