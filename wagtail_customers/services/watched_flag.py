"""``Customer.watched``: whether the customer has a ``WatchlistEntry``, kept by the database itself.

The Watchlist tab filters on the flag, so it reads a partial index of the watched customers in its own order
(``wc_cust_watched``) instead of walking every customer's sort index and testing each against the watchlist (at
1,000,000 customers with 10,000 watched, a page of 100 passed about 21,000 customers).

Triggers keep it, so every way an entry is written is covered without Python hooks (the eye, the bulk actions,
the rules, merges, the snippet's delete views, erasure, raw SQL):

* on the watchlist entries: after an insert, a delete or a change of ``customer_id``, the customers named are
  set to whether an entry exists for them;
* on the customers: a row inserted (its entry may come first in the transaction: Django's foreign keys are
  checked at commit), or whose ``watched`` a write changes (a ``save()`` of an instance read before an entry was
  added or deleted writes back the value it read), gets the value from the entries.

PostgreSQL runs statement-level triggers with transition tables on the entries, which lock the customers they set
in id order, as the ingestion service does (within one statement; locks taken earlier in a transaction are its
caller's), and row-level ``BEFORE`` triggers on the customers; the update's ``WHEN`` is tested without calling the
function, so nothing runs for the statistics rebuild's ``UPDATE``, which does not write ``watched``. SQLite has
row-level triggers only, and one writer at a time. Not covered, as for the listing summary: a PostgreSQL
``TRUNCATE`` of the entries and SQLite's ``INSERT OR REPLACE`` of an entry, which fire no delete trigger; the next
``migrate`` sets those flags right.

Migration 0023 adds the column and these triggers. ``ensure_watched_flag`` runs after every ``migrate`` (SQLite
drops a table's triggers when Django remakes it) and sets any customer whose flag is wrong.
"""

from django.db import connections, router, transaction

from ..models import Customer, WatchlistEntry

#: The events the flag's triggers follow. On PostgreSQL each entry trigger runs a function of the same name, and the
#: customers' two share ``wc_watched_customer_row``.
_ENTRY_EVENTS = ("insert", "update", "delete")
_CUSTOMER_EVENTS = ("insert", "update")


def _tables():
    return Customer._meta.db_table, WatchlistEntry._meta.db_table


def _entry_trigger(event):
    return f"wc_watched_entry_{event}"


def _customer_trigger(event):
    return f"wc_watched_customer_{event}"


def _has_entry(customer_id_sql):
    _, entries = _tables()
    return f"EXISTS (SELECT 1 FROM {entries} we WHERE we.customer_id = {customer_id_sql})"


def _set_from_entries(customer_ids_sql):
    """The ``UPDATE`` setting the customers ``customer_ids_sql`` selects to whether they have an entry."""
    customers, _ = _tables()
    return (
        f"UPDATE {customers} SET watched = {_has_entry(f'{customers}.id')} "
        f"WHERE id IN ({customer_ids_sql}) AND watched <> {_has_entry(f'{customers}.id')}"
    )


def _locked_in_id_order(customer_ids_sql):
    customers, _ = _tables()
    return f"PERFORM 1 FROM {customers} WHERE id IN ({customer_ids_sql}) ORDER BY id FOR NO KEY UPDATE"


def _postgresql_sql():
    customers, entries = _tables()
    changed = {
        "insert": ("SELECT customer_id FROM new_rows", "REFERENCING NEW TABLE AS new_rows"),
        "update": (
            "SELECT customer_id FROM old_rows UNION SELECT customer_id FROM new_rows",
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        ),
        "delete": ("SELECT customer_id FROM old_rows", "REFERENCING OLD TABLE AS old_rows"),
    }
    statements = []
    for event, (customer_ids, referencing) in changed.items():
        name = _entry_trigger(event)
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_locked_in_id_order(customer_ids)}; {_set_from_entries(customer_ids)}; RETURN NULL; END $$",
            f"CREATE TRIGGER {name} AFTER {event.upper()} ON {entries} {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    function = _customer_trigger("row")
    statements.append(
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN NEW.watched := {_has_entry('NEW.id')}; RETURN NEW; END $$"
    )
    conditions = {"insert": ("INSERT", ""), "update": ("UPDATE OF watched", "WHEN (NEW.watched <> OLD.watched) ")}
    for event, (event_clause, condition) in conditions.items():
        statements.append(
            f"CREATE TRIGGER {_customer_trigger(event)} BEFORE {event_clause} ON {customers} "
            f"FOR EACH ROW {condition}EXECUTE FUNCTION {function}()"
        )
    return statements


def _sqlite_sql():
    customers, entries = _tables()
    changed = {
        "insert": ("INSERT", "NEW.customer_id"),
        "update": ("UPDATE OF customer_id", "OLD.customer_id, NEW.customer_id"),
        "delete": ("DELETE", "OLD.customer_id"),
    }
    statements = [
        f"CREATE TRIGGER {_entry_trigger(event)} AFTER {event_clause} ON {entries} "
        f"FOR EACH ROW BEGIN {_set_from_entries(customer_ids)}; END"
        for event, (event_clause, customer_ids) in changed.items()
    ]
    # SQLite cannot change NEW: the row is set again after the write (no loop: the WHEN is false then).
    conditions = {"insert": ("INSERT", ""), "update": ("UPDATE OF watched", "NEW.watched <> OLD.watched AND ")}
    for event, (event_clause, condition) in conditions.items():
        statements.append(
            f"CREATE TRIGGER {_customer_trigger(event)} AFTER {event_clause} ON {customers} "
            f"FOR EACH ROW WHEN {condition}NEW.watched <> {_has_entry('NEW.id')} "
            f"BEGIN {_set_from_entries('NEW.id')}; END"
        )
    return statements


def create_triggers_sql(vendor):
    """The statements creating the flag's triggers on ``vendor`` ("postgresql" or "sqlite")."""
    if vendor == "postgresql":
        return _postgresql_sql()
    if vendor == "sqlite":
        return _sqlite_sql()
    raise NotImplementedError(f"The watched flag has no triggers for {vendor}.")


def drop_triggers_sql(vendor):
    customers, entries = _tables()
    on_tables = [(_entry_trigger(event), entries) for event in _ENTRY_EVENTS]
    on_tables += [(_customer_trigger(event), customers) for event in _CUSTOMER_EVENTS]
    if vendor == "postgresql":
        functions = [_entry_trigger(event) for event in _ENTRY_EVENTS] + [_customer_trigger("row")]
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in on_tables] + [
            f"DROP FUNCTION IF EXISTS {name}()" for name in functions
        ]
    return [f"DROP TRIGGER IF EXISTS {name}" for name, _table in on_tables]


def resync_sql():
    """Two statements setting every customer whose flag is wrong: those with an entry (read from the entries),
    then those flagged without one (read from the partial index of the watched)."""
    customers, entries = _tables()
    return [
        f"UPDATE {customers} SET watched = TRUE WHERE NOT watched AND id IN (SELECT customer_id FROM {entries})",
        f"UPDATE {customers} SET watched = FALSE WHERE watched AND NOT {_has_entry(f'{customers}.id')}",
    ]


def install(apps, schema_editor):
    """Migration 0023, forwards: the triggers, then every customer's flag."""
    vendor = schema_editor.connection.vendor
    for statement in drop_triggers_sql(vendor) + create_triggers_sql(vendor) + resync_sql():
        schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    """Migration 0023, backwards."""
    for statement in drop_triggers_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def has_column(connection):
    """Does the customers' table have the flag (migration 0023 applied)?"""
    customers, _ = _tables()
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, customers)
    return any(column.name == "watched" for column in columns)


def ensure_watched_flag(using=None):
    """After ``migrate``/``flush``: (re)create the triggers and set any flag that is wrong, where the column
    exists (not after migrating back before 0023)."""
    connection = connections[using] if using else connections[router.db_for_write(Customer)]
    customers, _ = _tables()
    if customers not in connection.introspection.table_names() or not has_column(connection):
        return
    vendor = connection.vendor
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in drop_triggers_sql(vendor) + create_triggers_sql(vendor) + resync_sql():
            cursor.execute(statement)
