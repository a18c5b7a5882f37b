"""SQLite's planner statistics for the plugin's tables, written again when they no longer describe the data.

SQLite chooses between indexes from the row counts ``ANALYZE`` stores in ``sqlite_stat1``, and nothing runs it
by itself. Without them, page 1 of the listing over three seller accounts took an account's index and sorted
every customer (439 ms in its query at 200,000 customers, against 40 ms for the whole page with them); with
statistics older than an index, SQLite took the new index for every page (190 ms). PostgreSQL's autovacuum
keeps its own statistics, so this does nothing there.

``refresh_planner_statistics`` analyses the tables of ``PLANNED_MODELS`` whose statistics are missing or count less
than half the rows now there (and small tables whose statistics count many more, which the analysis then
forgets). It runs after the work that adds rows in bulk or changes the schema: ``migrate`` (every such table,
when one of the plugin's migrations ran), an import, a channel sync and the statistics rebuild (the nightly one
included, which covers a site fed by webhooks). A check reads each table's largest id, and counts its rows only
when that id has passed twice the rows analysed; analysing took 2.6 s for the customers and 2.2 s for the orders
at 200,000 customers and 1,000,000 orders.
"""

import logging
import sys

from django.apps import apps
from django.db import DatabaseError, connections, router

logger = logging.getLogger(__name__)

#: Below this many rows a table's plan costs little whichever index it takes: never analysed for its own sake.
MIN_ROWS = 1000
#: Analysed again once it holds this many times the rows its statistics counted.
GROWTH = 2


#: The tables the listing, the customer page and the statistics read by more than one index. Not the logs and
#: queues (sync runs, webhook deliveries, the summary's delta rows): pruned as they grow, their largest id runs far
#: ahead of their rows, and each of their reads has one index to take.
PLANNED_MODELS = ("Customer", "Order", "OrderLine", "PromoCodeUsage", "Feedback", "WatchlistEntry", "CustomerScore")

#: ``{(database, table): (largest rowid, rows)}`` of the last count that found a table had not grown, so a table
#: whose rows were deleted is not counted again at every check until its largest rowid moves.
_counted = {}


def plugin_tables():
    """The tables of ``PLANNED_MODELS``."""
    config = apps.get_app_config("wagtail_customers")
    return [config.get_model(name)._meta.db_table for name in PLANNED_MODELS]


def _database():
    return router.db_for_write(apps.get_model("wagtail_customers", "Customer"))


def _analysed_rows(cursor):
    """``{table: rows when last analysed}``: the largest row count of its ``sqlite_stat1`` lines (a partial
    index's line counts only the rows in it)."""
    cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
    if cursor.fetchone() is None:
        return {}
    cursor.execute("SELECT tbl, stat FROM sqlite_stat1")
    analysed = {}
    for table, stat in cursor.fetchall():
        rows = int((stat or "0").split(" ", 1)[0])
        analysed[table] = max(rows, analysed.get(table, 0))
    return analysed


def _rows(cursor, quoted_table, estimate):
    """The table's rows: its largest rowid as an estimate (one index read; deleted rows make it larger), else
    counted."""
    cursor.execute(f"SELECT {'MAX(rowid)' if estimate else 'COUNT(*)'} FROM {quoted_table}")
    return cursor.fetchone()[0] or 0


def _is_stale(cursor, table, before, every_table):
    quoted_table = cursor.db.ops.quote_name(table)
    estimate = _rows(cursor, quoted_table, estimate=True)
    if estimate < MIN_ROWS:
        # Small now, but analysed when it held many more rows (before a flush or a mass erasure): analysed
        # again, which is instant at this size and forgets statistics that would mislead the planner.
        return before is not None and before > GROWTH * max(estimate, MIN_ROWS)
    if every_table or before is None:
        return True
    if estimate <= GROWTH * before:
        return False
    # The estimate only ever overstates the rows (deleted ones): a count confirms it, once per estimate.
    key = (cursor.db.alias, table)
    counted_at, rows = _counted.get(key, (None, None))
    if counted_at != estimate:
        rows = _rows(cursor, quoted_table, estimate=False)
        _counted[key] = (estimate, rows)
    return rows > GROWTH * before


def stale_tables(using=None, *, every_table=False):
    """The plugin's tables whose statistics no longer describe them: tables of at least ``MIN_ROWS`` rows with no
    statistics or statistics counting less than 1/``GROWTH`` of their rows (every such table with
    ``every_table``: after a migration, which may have added an index the statistics do not describe), and small
    tables whose statistics count many more rows than they now hold. Empty on any other database than SQLite."""
    connection = connections[using or _database()]
    if connection.vendor != "sqlite":
        return []
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        analysed = _analysed_rows(cursor)
        return [
            table
            for table in plugin_tables()
            if table in existing and _is_stale(cursor, table, analysed.get(table), every_table)
        ]


def refresh_planner_statistics(using=None, *, every_table=False):
    """``ANALYZE`` the plugin's stale tables (``stale_tables``) on SQLite; returns their names.

    Best effort: a failure (the database locked by a long writer, say) is logged and the planner keeps the
    statistics it had, so the import, sync or rebuild that called it is not failed after its work committed. Call
    it outside a transaction (or from ``on_commit``): inside one, the analysis would hold the write lock until the
    commit and be undone by a rollback."""
    using = using or _database()
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    try:
        tables = stale_tables(using, every_table=every_table)
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    except DatabaseError:
        logger.exception("SQLite's planner statistics could not be refreshed; it keeps the ones it had.")
        return []
    if tables:
        logger.info("Analysed %s for SQLite's query planner.", ", ".join(tables))
    return tables


def refresh_after_migrate(sender, using=None, plan=None, verbosity=1, stdout=None, **kwargs):
    """``post_migrate`` receiver (also sent after ``flush``, without a plan): every large table is analysed when one
    of the plugin's migrations ran forwards, since it may have added an index; otherwise the stale ones."""
    ran = any(migration.app_label == sender.label and not backwards for migration, backwards in plan or ())
    tables = refresh_planner_statistics(using, every_table=ran)
    if tables and verbosity >= 1:
        (stdout or sys.stdout).write(f"  Analysed {len(tables)} of the customers' tables for SQLite's query planner.\n")
