"""Each order's own figures (``Order.FIGURE_FIELDS``): its units, returned units, promo codes and feedback rating.

The ingestion service writes them with the order's lines, promo codes and feedback (``figures_of``), so the
customers' statistics are one aggregate over the orders alone (services/statistics.py), not four over the orders,
lines, promo codes and feedback joined together: the statistics rebuild after 1 % corruption read the orders four
times over (docs/performance.md).

``fill_order_figures`` computes them from the stored lines, promo codes and feedback, set-based, and writes only the
orders whose figures differ: of every order (migration 0029, which fills the orders stored before them;
``customers_rebuild_stats --order-figures`` after lines were written behind the ingestion service's back), range by
range of ids, or of the orders still without figures (the statistics rebuild, first: orders an older release
recorded during a rolling deploy). The partial index ``wc_order_figures_missing`` holds those, so finding none costs
one index probe. Migration 0029 runs this module: it must keep working on the schema of migration 0028
(tests/test_migration_order_figures.py runs it there).
"""

from django.db import connections, router

from .deadlocks import atomic_with_retries

#: Order ids a full check reads at a time, and so the most orders one of its transactions locks and writes: a batch
#: of the ingestion service recording one of them waits for that transaction only.
RANGE = 20_000
#: Orders without figures filled per transaction.
MISSING_BATCH = 5_000
FIGURES = ("units", "returned_units", "promo_codes_count", "feedback_rating")


def figures_of(order_data):
    """The order's figures, in ``Order.FIGURE_FIELDS`` order, from the order as given to the ingestion service."""
    return (
        sum(line.quantity for line in order_data.lines),
        sum(line.returned_quantity for line in order_data.lines),
        len(order_data.promo_codes),
        order_data.feedback.rating if order_data.feedback is not None else None,
    )


def update_from_supported(connection):
    """Whether the database runs ``UPDATE ... FROM``: PostgreSQL always, SQLite from 3.33 (Django supports SQLite
    from 3.31)."""
    return connection.vendor != "sqlite" or connection.Database.sqlite_version_info >= (3, 33)


def fill_order_figures(*, only_missing=True, using=None, tables=None, update_from=None, batch_size=MISSING_BATCH):
    """Write the figures of the orders whose stored ones differ from their lines, promo codes and feedback (or, with
    ``only_missing``, of the orders without any, ``batch_size`` a statement); returns how many orders were written.

    ``tables``: ``{"order", "line", "promo", "feedback"}`` table names (a migration passes its historical models'),
    else the models'. ``using``: the database alias, else the orders' database. ``update_from=False`` takes the path of
    SQLite before 3.33, which has no ``UPDATE ... FROM`` (``None`` chooses by the database)."""
    if tables is None:
        from ..models import Feedback, Order, OrderLine, PromoCodeUsage

        tables = {
            "order": Order._meta.db_table,
            "line": OrderLine._meta.db_table,
            "promo": PromoCodeUsage._meta.db_table,
            "feedback": Feedback._meta.db_table,
        }
        using = using or router.db_for_write(Order)
    connection = connections[using or "default"]
    if update_from is None:
        update_from = update_from_supported(connection)
    order = connection.ops.quote_name(tables["order"])

    def write(ids):
        # Written out, not bound: SQLite before 3.32 takes 999 parameters a statement. The bounds let each table be
        # read along its order id index for the range the ids span only.
        condition = f">= {ids[0]} AND {{column}} <= {ids[-1]} AND {{column}} IN ({', '.join(map(str, ids))})"
        return atomic_with_retries(lambda: _write(connection, tables, update_from, condition), using=connection.alias)

    written = 0
    with connection.cursor() as cursor:
        if only_missing:
            while True:
                # The partial index: no order read when none is missing.
                cursor.execute(f"SELECT id FROM {order} WHERE units IS NULL ORDER BY id LIMIT %s", [batch_size])
                ids = [int(row[0]) for row in cursor.fetchall()]
                if ids:
                    written += write(ids)
                if len(ids) < batch_size:
                    return written
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {order}")
        low, high = cursor.fetchone()
        while low is not None and low <= high:
            # Read without a lock: a check that finds nothing to correct (the usual case) locks and writes nothing.
            sql = _figures_sql(connection, tables, ">= %s AND {column} < %s")
            cursor.execute(
                f"SELECT s.id FROM ({sql}) s JOIN {order} ON {order}.id = s.id WHERE {_differs(connection, order)} "
                f"ORDER BY s.id",
                [low, low + RANGE] * 3,
            )
            ids = [int(row[0]) for row in cursor.fetchall()]
            if ids:
                written += write(ids)
            low += RANGE
    return written


def _figures_sql(connection, tables, condition):
    """``SELECT id, <figures>`` of the orders whose id meets ``condition`` (SQL after the column, ``{column}`` standing
    for it again; its parameters are needed three times), from their lines, promo codes and feedback."""
    quote = connection.ops.quote_name
    order, line, promo, feedback = (quote(tables[name]) for name in ("order", "line", "promo", "feedback"))

    def on(column):
        return f"{column} {condition.format(column=column)}"

    # Each of the three read for the orders concerned only.
    return (
        f"SELECT o.id, COALESCE(l.units, 0) AS units, COALESCE(l.returned_units, 0) AS returned_units, "
        f"COALESCE(p.promo_codes_count, 0) AS promo_codes_count, f.rating AS feedback_rating FROM {order} o "
        f"LEFT JOIN (SELECT order_id, SUM(quantity) AS units, SUM(returned_quantity) AS returned_units FROM {line} "
        f"WHERE {on('order_id')} GROUP BY order_id) l ON l.order_id = o.id "
        f"LEFT JOIN (SELECT order_id, COUNT(*) AS promo_codes_count FROM {promo} WHERE {on('order_id')} "
        f"GROUP BY order_id) p ON p.order_id = o.id "
        f"LEFT JOIN {feedback} f ON f.order_id = o.id WHERE {on('o.id')}"
    )


def _differs(connection, order):
    """SQL true when a figure of the ``order`` table's row differs from the fresh ones (alias ``s``), NULLs included."""
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    return "(" + " OR ".join(f"{order}.{name} {distinct} s.{name}" for name in FIGURES) + ")"


def _write(connection, tables, update_from, condition):
    """In the caller's transaction: the figures of the orders whose id meets ``condition`` (the ids, written out, as
    ``_figures_sql`` takes it), written where they differ; returns how many were written."""
    quote = connection.ops.quote_name
    order = quote(tables["order"])
    figures, differs = _figures_sql(connection, tables, condition), _differs(connection, order)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The orders locked first, in id order, as the ingestion service locks the stored orders it rewrites: the
            # two wait for each other in turn, and the figures read next (a new statement: what has committed by
            # then) are of lines no batch rewrites before this transaction ends. SQLite has one writer at a time.
            locking = f"SELECT id FROM {order} WHERE id {condition.format(column='id')} ORDER BY id FOR NO KEY UPDATE"
            cursor.execute(f"SELECT COUNT(*) FROM ({locking}) locked")
        if update_from:
            assignments = ", ".join(f"{name} = s.{name}" for name in FIGURES)
            cursor.execute(f"UPDATE {order} SET {assignments} FROM ({figures}) s WHERE {order}.id = s.id AND {differs}")
            return cursor.rowcount
        # SQLite before 3.33 has no UPDATE ... FROM: the figures go to a temporary table, read by each order's id.
        fresh = quote("wc_fresh_order_figures")
        cursor.execute(f"DROP TABLE IF EXISTS temp.{fresh}")
        cursor.execute(f"CREATE TEMP TABLE {fresh} (id INTEGER PRIMARY KEY, {', '.join(FIGURES)})")
        cursor.execute(f"INSERT INTO temp.{fresh} {figures}")
        values = ", ".join(f"s.{name}" for name in FIGURES)
        fresh_row = f"(SELECT {values} FROM temp.{fresh} s WHERE s.id = {order}.id)"
        cursor.execute(
            f"UPDATE {order} SET ({', '.join(FIGURES)}) = {fresh_row} "
            f"WHERE id IN (SELECT s.id FROM temp.{fresh} s JOIN {order} ON {order}.id = s.id WHERE {differs})"
        )
        written = cursor.rowcount
        cursor.execute(f"DROP TABLE temp.{fresh}")
        return written
