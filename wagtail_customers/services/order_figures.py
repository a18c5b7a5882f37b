"""Each order's own figures (``Order.FIGURE_FIELDS``): its units, returned units, promo codes and feedback rating.

The ingestion service writes them with the order's lines, promo codes and feedback (``figures_of``), so the
customers' statistics are one aggregate over the orders alone (services/statistics.py), not four over the orders,
lines, promo codes and feedback joined together: the statistics rebuild after 1 % corruption read the orders four
times over (docs/performance.md).

``fill_order_figures`` computes them from the stored lines, promo codes and feedback, set-based, and writes only the
orders whose figures differ: every order (the migration that added them; ``customers_rebuild_stats
--order-figures`` after lines were written behind the ingestion service's back), or only the orders still without
figures (the statistics rebuild, first: orders an older release recorded during a rolling deploy). The partial
index ``wc_order_figures_missing`` holds those, so finding none costs one index probe.
"""

from django.db import connections, router

from .deadlocks import atomic_with_retries

#: Orders per statement when every order is filled (one range of ids each; a statement is a transaction's locks).
RANGE = 200_000
#: Orders without figures filled per statement.
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

    def fill(condition, params=()):
        return atomic_with_retries(
            lambda: _fill(connection, tables, update_from, condition, list(params)), using=connection.alias
        )

    written = 0
    with connection.cursor() as cursor:
        if only_missing:
            while True:
                # The partial index: no order read when none is missing.
                cursor.execute(f"SELECT id FROM {order} WHERE units IS NULL ORDER BY id LIMIT %s", [batch_size])
                ids = [int(row[0]) for row in cursor.fetchall()]
                if not ids:
                    return written
                # Written out, not bound: SQLite before 3.32 takes 999 parameters a statement.
                written += fill(f"IN ({', '.join(map(str, ids))})")
                if len(ids) < batch_size:
                    return written
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {order}")
        low, high = cursor.fetchone()
    if low is None:
        return written
    while low <= high:
        written += fill(">= %s AND {column} < %s", [low, low + RANGE])
        low += RANGE
    return written


def _fill(connection, tables, update_from, condition, params):
    """One statement, in the caller's transaction: the figures of the orders whose id meets ``condition`` (SQL after
    the column, ``{column}`` standing for it again), written where they differ."""
    quote = connection.ops.quote_name
    order, line, promo, feedback = (quote(tables[name]) for name in ("order", "line", "promo", "feedback"))

    def on(column):
        return f"{column} {condition.format(column=column)}"

    # Each of the three read for the orders concerned only: by their id range, or the missing ones' ids.
    figures = (
        f"SELECT o.id, COALESCE(l.units, 0) AS units, COALESCE(l.returned_units, 0) AS returned_units, "
        f"COALESCE(p.promo_codes_count, 0) AS promo_codes_count, f.rating AS feedback_rating FROM {order} o "
        f"LEFT JOIN (SELECT order_id, SUM(quantity) AS units, SUM(returned_quantity) AS returned_units FROM {line} "
        f"WHERE {on('order_id')} GROUP BY order_id) l ON l.order_id = o.id "
        f"LEFT JOIN (SELECT order_id, COUNT(*) AS promo_codes_count FROM {promo} WHERE {on('order_id')} "
        f"GROUP BY order_id) p ON p.order_id = o.id "
        f"LEFT JOIN {feedback} f ON f.order_id = o.id WHERE {on('o.id')}"
    )
    figures_params = params * 3
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    differs = " OR ".join(f"{order}.{name} {distinct} s.{name}" for name in FIGURES)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The orders locked first, in id order, as the ingestion service locks the stored orders it rewrites: the
            # two wait for each other in turn, never in a cycle, and the figures read next (a new statement, so what
            # has committed by then) are of lines no batch rewrites before this transaction ends.
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT id FROM {order} WHERE {on('id')} ORDER BY id FOR NO KEY UPDATE) locked",
                params,
            )
        if update_from:
            assignments = ", ".join(f"{name} = s.{name}" for name in FIGURES)
            cursor.execute(
                f"UPDATE {order} SET {assignments} FROM ({figures}) s WHERE {order}.id = s.id AND ({differs})",
                figures_params,
            )
            return cursor.rowcount
        # SQLite before 3.33 has no UPDATE ... FROM: the figures go to a temporary table, read by each order's id.
        fresh = quote("wc_fresh_order_figures")
        cursor.execute(f"DROP TABLE IF EXISTS temp.{fresh}")
        cursor.execute(f"CREATE TEMP TABLE {fresh} (id INTEGER PRIMARY KEY, {', '.join(FIGURES)})")
        cursor.execute(f"INSERT INTO temp.{fresh} {figures}", figures_params)
        values = ", ".join(f"s.{name}" for name in FIGURES)
        fresh_row = f"(SELECT {values} FROM temp.{fresh} s WHERE s.id = {order}.id)"
        cursor.execute(
            f"UPDATE {order} SET ({', '.join(FIGURES)}) = {fresh_row} "
            f"WHERE id IN (SELECT s.id FROM temp.{fresh} s JOIN {order} ON {order}.id = s.id WHERE {differs})"
        )
        written = cursor.rowcount
        cursor.execute(f"DROP TABLE temp.{fresh}")
        return written
