"""The listing summary (``ListingSummary``): its triggers' SQL, its rebuild and reading it.

The summary holds, per seller account and segment, the sums the listing's statistics band shows. The
database keeps it current: triggers on the customers and the watchlist entries add each written row's
change as a delta, so every write path is covered without Python hooks (ingestion, the set-based
statistics rebuild, deletes, merges, erasure, retention, raw SQL).

One SQL definition serves the triggers, the initial fill and ``rebuild_summary``: ``_delta_insert``
takes rows of ``(account_id, <customer figures>, w, sign)`` (``w`` is 1 for a customer on the watchlist,
``sign`` +1 to add the row, -1 to take it away), spreads each row over the segments it belongs to,
groups by (account, segment) and appends the sums as delta rows (the figures are the sum of an
(account, segment)'s rows; ``compact_summary`` folds them back into one). A watchlist entry added is
the customer counted with ``w = 1`` minus the customer counted with ``w = 0``.

* PostgreSQL: statement-level ``AFTER`` triggers with transition tables, so a statement writing 200k
  customers (the statistics rebuild's ``UPDATE ... FROM``) costs one grouped insert, not 200k calls.
* SQLite: row-level ``AFTER`` triggers (SQLite has no statement-level ones), the same insert for one row.

Migration 0014 creates the triggers with ``create_triggers``. ``ensure_triggers`` runs after every ``migrate``
(``apps.py``) and recreates them, then rebuilds the summary: so a change to this SQL reaches a site with the next
``migrate``, and SQLite, which drops a table's triggers when Django remakes the table (an ``AlterField`` on the
customers), gets them back.
"""

from django.db import connections, router, transaction

from ..models import Customer, ListingSummary, WatchlistEntry
from ..models.summary import SummarySegment
from . import watched_flag
from .planner_settings import postgresql_settings

#: Which customers each segment holds, on a row ``r`` of the delta's source.
_MEMBER = {
    SummarySegment.ALL: "1 = 1",
    SummarySegment.RETURNED: "r.returned_units > 0",
    SummarySegment.PROMO: "r.promo_codes_used > 0",
    SummarySegment.WATCHED: "r.w = 1",
}

#: Each summary figure as the sum over the source rows ``r``.
_SUMS = {
    "customers": "SUM(r.sign)",
    "repeat_customers": "SUM(CASE WHEN r.orders_count >= 2 THEN r.sign ELSE 0 END)",
    "orders": "SUM(r.sign * r.orders_count)",
    "units": "SUM(r.sign * r.units)",
    "returned_units": "SUM(r.sign * r.returned_units)",
    "promo_customers": "SUM(CASE WHEN r.promo_codes_used > 0 THEN r.sign ELSE 0 END)",
    "negative_feedbacks": "SUM(r.sign * r.negative_feedbacks)",
    "watched": "SUM(r.sign * r.w)",
    "amount_spent": "SUM(r.sign * r.amount_spent)",
    "unconverted_orders": "SUM(r.sign * r.unconverted_orders)",
}
assert tuple(_SUMS) == ListingSummary.FIGURES

#: The customer columns the figures read; a trigger on SQLite fires only when one of them changes.
_CUSTOMER_COLUMNS = (
    "account_id",
    "orders_count",
    "units",
    "returned_units",
    "promo_codes_used",
    "negative_feedbacks",
    "amount_spent",
    "unconverted_orders",
)

#: Trigger and function names: (table model, event) -> name.
_EVENTS = ("insert", "update", "delete")


def _tables():
    return Customer._meta.db_table, WatchlistEntry._meta.db_table, ListingSummary._meta.db_table


def _customer_rows(alias, w, sign, from_sql=""):
    """A ``SELECT`` of the delta's source columns from the customer row ``alias``."""
    columns = ", ".join(f"{alias}.{column} AS {column}" for column in _CUSTOMER_COLUMNS)
    return f"SELECT {columns}, {w} AS w, {sign} AS sign {from_sql}"


def _watched(alias):
    """1 when the customer ``alias`` has a watchlist entry, else 0."""
    _, watchlist, _ = _tables()
    return f"CASE WHEN EXISTS (SELECT 1 FROM {watchlist} we WHERE we.customer_id = {alias}.id) THEN 1 ELSE 0 END"


def _delta_insert(source_sql, *, keep_zero=False):
    """Append the sums of ``source_sql``'s rows per (account, segment) to the summary, as delta rows.

    Groups that sum to nothing are skipped (unless ``keep_zero``), so an update that changes no figure (a
    new name, an erasure) writes nothing. A plain ``INSERT``: no row of the summary is updated, so writers
    never wait for each other here (see models/summary.py).
    """
    _, _, summary = _tables()
    segments = " UNION ALL ".join(f"SELECT '{segment.value}' AS segment" for segment in SummarySegment)
    member = " OR ".join(f"(seg.segment = '{segment.value}' AND {condition})" for segment, condition in _MEMBER.items())
    # SQLite sums decimals as floats: rounded as the column is.
    sums = ", ".join(
        f"ROUND({expression}, 2)" if name == "amount_spent" else expression for name, expression in _SUMS.items()
    )
    having = "" if keep_zero else "HAVING " + " OR ".join(f"{expression} <> 0" for expression in _SUMS.values())
    return (
        f"INSERT INTO {summary} (account_id, segment, {', '.join(_SUMS)}) "
        f"SELECT r.account_id, seg.segment, {sums} FROM ({source_sql}) r "
        f"JOIN ({segments}) seg ON ({member}) GROUP BY r.account_id, seg.segment {having}"
    )


def _watchlist_rows(entries_from, sign):
    """The delta of watchlist entries joined from ``entries_from`` (alias ``e``) being added (+1) or
    removed (-1): their customers counted as watched minus counted as not watched."""
    customers, _, _ = _tables()
    from_sql = f"FROM {entries_from} JOIN {customers} c ON c.id = e.customer_id"
    return f"{_customer_rows('c', 1, sign, from_sql)} UNION ALL {_customer_rows('c', 0, -sign, from_sql)}"


def _postgresql_sources():
    """``{(table, event): (delta source SQL, REFERENCING clause)}`` for the statement-level triggers."""
    customers, watchlist, _ = _tables()
    # A join rather than _watched's EXISTS per row: a statement may carry 200k rows (the rebuild).
    watched = "CASE WHEN we.customer_id IS NULL THEN 0 ELSE 1 END"
    new_customers = _customer_rows(
        "n", watched, 1, f"FROM new_rows n LEFT JOIN {watchlist} we ON we.customer_id = n.id"
    )
    old_customers = _customer_rows(
        "o", watched, -1, f"FROM old_rows o LEFT JOIN {watchlist} we ON we.customer_id = o.id"
    )
    return {
        (customers, "insert"): (new_customers, "REFERENCING NEW TABLE AS new_rows"),
        (customers, "update"): (
            f"{old_customers} UNION ALL {new_customers}",
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        ),
        (customers, "delete"): (old_customers, "REFERENCING OLD TABLE AS old_rows"),
        (watchlist, "insert"): (_watchlist_rows("new_rows e", 1), "REFERENCING NEW TABLE AS new_rows"),
        (watchlist, "update"): (
            f"{_watchlist_rows('old_rows e', -1)} UNION ALL {_watchlist_rows('new_rows e', 1)}",
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        ),
        (watchlist, "delete"): (_watchlist_rows("old_rows e", -1), "REFERENCING OLD TABLE AS old_rows"),
    }


def _sqlite_sources():
    """``{(table, event): (delta source SQL, event clause)}`` for the row-level triggers."""
    customers, watchlist, _ = _tables()
    new_customer = _customer_rows("NEW", _watched("NEW"), 1)
    old_customer = _customer_rows("OLD", _watched("OLD"), -1)
    one_entry = "(SELECT {row}.customer_id AS customer_id) e"
    return {
        (customers, "insert"): (new_customer, "INSERT"),
        (customers, "update"): (
            f"{old_customer} UNION ALL {new_customer}",
            f"UPDATE OF {', '.join(_CUSTOMER_COLUMNS)}",
        ),
        (customers, "delete"): (old_customer, "DELETE"),
        (watchlist, "insert"): (_watchlist_rows(one_entry.format(row="NEW"), 1), "INSERT"),
        (watchlist, "update"): (
            f"{_watchlist_rows(one_entry.format(row='OLD'), -1)} UNION ALL "
            f"{_watchlist_rows(one_entry.format(row='NEW'), 1)}",
            "UPDATE OF customer_id",
        ),
        (watchlist, "delete"): (_watchlist_rows(one_entry.format(row="OLD"), -1), "DELETE"),
    }


def _name(table, event):
    return f"wc_summary_{'customer' if table == Customer._meta.db_table else 'watchlist'}_{event}"


def create_triggers_sql(vendor):
    """The statements creating the summary's triggers on ``vendor`` ("postgresql" or "sqlite")."""
    statements = []
    if vendor == "postgresql":
        for (table, event), (source, referencing) in _postgresql_sources().items():
            name = _name(table, event)
            statements.append(
                # Nested loops allowed whatever the statement firing it set: the statistics rebuild's UPDATE runs
                # without them (statistics._hash_joins_only), and a SET LOCAL holds in its triggers too, where the
                # changed rows' join with the watchlist then hashed the whole watchlist twice (316 ms of a 2 s
                # rebuild after 1 % at 200,000 customers; 12-15 ms along the watchlist's customer index).
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET enable_nestloop = on AS $$ "
                f"BEGIN {_delta_insert(source)}; RETURN NULL; END $$"
            )
            statements.append(
                f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
    elif vendor == "sqlite":
        for (table, event), (source, event_clause) in _sqlite_sources().items():
            statements.append(
                f"CREATE TRIGGER {_name(table, event)} AFTER {event_clause} ON {table} "
                f"FOR EACH ROW BEGIN {_delta_insert(source)}; END"
            )
    else:
        raise NotImplementedError(f"The listing summary has no triggers for {vendor}.")
    return statements


def drop_triggers_sql(vendor):
    statements = []
    customers, watchlist, _ = _tables()
    for table in (customers, watchlist):
        for event in _EVENTS:
            name = _name(table, event)
            if vendor == "postgresql":
                statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                statements.append(f"DROP FUNCTION IF EXISTS {name}()")
            else:
                statements.append(f"DROP TRIGGER IF EXISTS {name}")
    return statements


def _connection():
    return connections[router.db_for_write(ListingSummary)]


def _in_accounts(account_ids, column="account_id"):
    """``(SQL condition, params)`` limiting rows to ``account_ids`` (every account when ``None``)."""
    if account_ids is None:
        return "1 = 1", []
    return f"{column} IN ({', '.join(['%s'] * len(account_ids))})", list(account_ids)


#: The PostgreSQL advisory lock (a transaction's) that ``rebuild_summary`` holds and ``compact_summary`` tries for: a
#: compaction committed while a rebuild runs would leave its folded row beside the rebuild's fresh sums.
SUMMARY_LOCK_KEY = 0x5743_5355_4D4D_4152  # "WCSUMMAR"


def rebuild_summary(account_ids=None, using=None):
    """Recompute the summary of ``account_ids`` (every account when ``None``) from the customers,
    set-based in the database: one row per (account, segment). The triggers keep the summary current;
    this is the belt-and-braces the statistics rebuild ends with (and what fills it after a migration).

    On PostgreSQL one statement deletes the rows and sums the customers, so both are read at the same moment: a
    write committed meanwhile is not in the sums and keeps its delta row, counted once. Rebuilds wait for each
    other, and a compaction is left for later while one runs (``SUMMARY_LOCK_KEY``). SQLite runs one writing
    transaction at a time.
    """
    if account_ids is not None and not (account_ids := list(account_ids)):
        return
    connection = connections[using] if using else _connection()
    customers, _, summary = _tables()
    condition, params = _in_accounts(account_ids)
    on_customers, _ = _in_accounts(account_ids, "c.account_id")
    source = _customer_rows("c", _watched("c"), 1, f"FROM {customers} c WHERE {on_customers}")
    delete, insert = f"DELETE FROM {summary} WHERE {condition}", _delta_insert(source, keep_zero=True)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SUMMARY_LOCK_KEY])
            # Not compiled: the spread over the segments makes its estimated cost look like millions of rows, and
            # compiling it took longer than running it (at 200,000 customers 0.50 s with JIT, 0.31 s without).
            with postgresql_settings(connection, cursor, jit="off"):
                cursor.execute(f"WITH gone AS ({delete}) {insert}", [*params, *params])
            return
        cursor.execute(delete, params)
        cursor.execute(insert, params)


def compact_summary(account_ids=None, using=None):
    """Fold the delta rows of ``account_ids`` (every account when ``None``) into one row per (account,
    segment); the figures stay the same. One statement on PostgreSQL (the rows it deletes are the rows it
    sums, whatever commits meanwhile), left out while a rebuild of the summary runs (a later read folds the rows);
    SQLite has one writer at a time."""
    if account_ids is not None and not (account_ids := list(account_ids)):
        return
    connection = connections[using] if using else _connection()
    _, _, summary = _tables()
    condition, params = _in_accounts(account_ids)
    figures = ", ".join(_SUMS)
    sums = ", ".join(f"SUM({name})" for name in _SUMS)
    grouped = f"SELECT account_id, segment, {sums} FROM {{rows}} GROUP BY account_id, segment"
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SUMMARY_LOCK_KEY])
            if not cursor.fetchone()[0]:
                return
            cursor.execute(
                f"WITH moved AS (DELETE FROM {summary} WHERE {condition} RETURNING *) "
                f"INSERT INTO {summary} (account_id, segment, {figures}) {grouped.format(rows='moved')}",
                params,
            )
            return
        cursor.execute(f"SELECT MAX(id) FROM {summary} WHERE {condition}", params)
        (last,) = cursor.fetchone()
        if last is None:
            return
        cursor.execute(
            f"INSERT INTO {summary} (account_id, segment, {figures}) "
            + grouped.format(rows=f"(SELECT * FROM {summary} WHERE {condition} AND id <= %s) s"),
            [*params, last],
        )
        cursor.execute(f"DELETE FROM {summary} WHERE {condition} AND id <= %s", [*params, last])


def ensure_triggers(using=None):
    """(Re)create the triggers and rebuild the summary, if its table exists (after ``migrate``/``flush``)."""
    connection = connections[using] if using else _connection()
    if ListingSummary._meta.db_table not in connection.introspection.table_names():
        return
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in drop_triggers_sql(connection.vendor) + create_triggers_sql(connection.vendor):
            cursor.execute(statement)
    rebuild_summary(using=connection.alias)


def drop_triggers_on_sqlite(apps, schema_editor):
    """For a migration that remakes a table the triggers name (SQLite's way to alter a column): SQLite refuses the
    rename back while a trigger names the dropped table ("error in trigger ...: no such table"). Run it before the
    remake, and ``create_triggers_on_sqlite`` after it (``RunPython`` pairs around the operations, both ways)."""
    if schema_editor.connection.vendor == "sqlite":
        # The watched flag's name the customers too.
        for statement in drop_triggers_sql("sqlite") + watched_flag.drop_triggers_sql("sqlite"):
            schema_editor.execute(statement, params=None)


def create_triggers_on_sqlite(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        statements = drop_triggers_sql("sqlite") + create_triggers_sql("sqlite")
        if watched_flag.has_column(connection):
            # So that no entry written by a later migration in the same ``migrate`` misses its customer's flag.
            statements += watched_flag.drop_triggers_sql("sqlite") + watched_flag.create_triggers_sql("sqlite")
        for statement in statements:
            schema_editor.execute(statement, params=None)
