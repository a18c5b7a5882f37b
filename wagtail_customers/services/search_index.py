"""An index for the listing's search box, so that a term matching few customers (or none) is found without
reading every customer's name and e-mail.

The search (``customer_search.search_filter``) matches a term anywhere inside the name, the e-mail, the channel's
buyer id and, for a customer known only by an order, the order key. A ``LIKE '%term%'`` has no B-tree index to
use, so without more a term that matches nobody reads the whole table (issue 14: 1 s at 1M customers).

* PostgreSQL: trigram (``pg_trgm``) GIN indexes on exactly the expressions Django's ``icontains`` compares,
  ``UPPER("col"::text)``: name and e-mail since migration 0004, buyer id and order key (only the customers known
  by an order) since 0020. With all four the planner answers the search's ``OR`` with one bitmap of index matches.
* SQLite: an FTS5 table with the ``trigram`` tokenizer (SQLite 3.34+), ``wc_customer_search``, holding the same
  four texts under the customer's id; triggers on the customers keep it current on every write path. The search
  keeps its own conditions and is narrowed to the ids whose texts contain the term (``candidates``): the trigram
  tokenizer folds case at least as widely as SQLite's ``LIKE``, so no customer the conditions match is left out.

SQLite drops a table's triggers when Django remakes it (an ``AlterField`` on the customers), so
``ensure_search_index`` runs after every ``migrate`` (``apps.py``): it recreates the triggers and refills the
index. Where SQLite lacks FTS5 or its trigram tokenizer, nothing is created and the search reads every row, as
before (system check W090 says so); a later ``migrate`` with a SQLite that has them creates the index. Erasing or
deleting customers compacts the index (``compact``), so their texts leave its pages too.
"""

from django.db import OperationalError, connections, router, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Q
from django.db.models.expressions import RawSQL

from ..conf import get_setting
from ..models.customers import ORDER_KEY_PREFIX, Customer

TABLE = "wc_customer_search"
#: The indexed texts, in the FTS table's column order; ``order_key`` is the identity key of a customer known
#: only by an order (the search's "Buyer of order #..." label reads it), empty for everyone else.
COLUMNS = ("name", "email", "external_id", "order_key")
#: The trigram tokenizer matches only phrases of 3 characters or more; shorter terms match many rows anyway.
MIN_TERM_LENGTH = 3

#: PostgreSQL's trigram indexes added by migration 0020 (``0004`` has name and e-mail).
POSTGRESQL_INDEXES = {
    "wc_cust_extid_trgm": ("external_id", ""),
    "wc_cust_orderkey_trgm": ("identity_key", f"WHERE \"identity_key\"::text LIKE '{ORDER_KEY_PREFIX}%'"),
}

_available = {}


def _customers_table():
    return Customer._meta.db_table


def _values(row):
    """The FTS row's values for a customers' row alias (``new`` or ``old`` in a trigger, a table alias in a SELECT)."""
    prefix = ORDER_KEY_PREFIX.replace("'", "''")
    order_key = (
        f"CASE WHEN substr({row}.identity_key, 1, {len(ORDER_KEY_PREFIX)}) = '{prefix}' "
        f"THEN {row}.identity_key ELSE '' END"
    )
    return f"{row}.id, {row}.name, {row}.email, {row}.external_id, {order_key}"


def _fill_sql():
    return f"INSERT INTO {TABLE} (rowid, {', '.join(COLUMNS)}) SELECT {_values('c')} FROM {_customers_table()} c"


def _trigger_sql():
    table, columns = _customers_table(), ", ".join(COLUMNS)
    insert = f"INSERT INTO {TABLE} (rowid, {columns}) VALUES ({_values('new')})"
    # A contentless index deletes a row by being given the texts it indexed.
    delete = f"INSERT INTO {TABLE} ({TABLE}, rowid, {columns}) VALUES ('delete', {_values('old')})"
    searched = ("name", "email", "external_id", "identity_key")
    changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in searched)
    return [
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON {table} FOR EACH ROW BEGIN {insert}; END",
        f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON {table} FOR EACH ROW BEGIN {delete}; END",
        # Only when a searched text changes: the statistics rebuild rewrites every row and none of these.
        f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF name, email, external_id, identity_key ON {table} "
        f"FOR EACH ROW WHEN {changed} BEGIN {delete}; {insert}; END",
    ]


def _drop_trigger_sql():
    return [f"DROP TRIGGER IF EXISTS {TABLE}_{event}" for event in ("insert", "delete", "update")]


def create_sqlite_index(cursor):
    """Create the FTS table (contentless: the customers' table holds the texts), its triggers, and fill it.
    Returns ``False``, creating nothing, where this SQLite has no FTS5 trigram tokenizer."""
    try:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5({', '.join(COLUMNS)}, "
            "content='', tokenize='trigram')"
        )
    except OperationalError:
        return False
    refill_sqlite_index(cursor)
    return True


def refill_sqlite_index(cursor):
    for statement in _drop_trigger_sql():
        cursor.execute(statement)
    cursor.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('delete-all')")
    cursor.execute(_fill_sql())
    for statement in _trigger_sql():
        cursor.execute(statement)


def drop_sqlite_index(cursor):
    for statement in _drop_trigger_sql():
        cursor.execute(statement)
    cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def _connection(using=None):
    return connections[using or router.db_for_write(Customer)]


def _sqlite_index_exists(connection):
    return TABLE in connection.introspection.table_names(include_views=False)


def ensure_search_index(using=None):
    """After ``migrate``/``flush`` on SQLite: recreate the triggers and refill the index; create it when migration
    0020 ran on a SQLite without the trigram tokenizer and this one has it (an upgraded Python)."""
    connection = _connection(using)
    _available.clear()
    if connection.vendor != "sqlite":
        return
    if not _sqlite_index_exists(connection):
        applied = MigrationRecorder(connection).applied_migrations()
        if ("wagtail_customers", "0020_search_index") in applied:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                create_sqlite_index(cursor)
        return
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        refill_sqlite_index(cursor)


def compact(using=None):
    """After customers' personal data is erased or deleted (SQLite): a contentless FTS5 index only marks a row's
    texts deleted, and they stay in its pages until the segments are merged. ``optimize`` merges them all now, so
    an erased name or e-mail address leaves the index too (1.3 s at 200,000 customers)."""
    connection = _connection(using)
    if connection.vendor == "sqlite" and sqlite_index_available(connection):
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('optimize')")


def sqlite_index_available(connection):
    """Whether ``connection`` (SQLite) has the FTS table; asked once per database file and process."""
    key = (connection.alias, connection.settings_dict["NAME"])
    if key not in _available:
        _available[key] = _sqlite_index_exists(connection)
    return _available[key]


def fts_phrase(term):
    """``term`` as an FTS5 phrase: in double quotes, its own double quotes doubled (nothing in it is syntax)."""
    return '"' + term.replace('"', '""') + '"'


def candidates(term, using=None):
    """A ``Q`` narrowing customers to those whose indexed texts contain ``term`` (case-folded), or ``None``
    where no index can say so or should (PostgreSQL's planner uses its trigram indexes by itself; a short term;
    SQLite without the FTS table; a term the index finds ``SEARCH_INDEX_MAX_CANDIDATES`` customers for or more,
    counted by one query up to that number: the search then fills a page within about (customers / that number) x
    rows, in the listing's order). Only AND it to a condition that cannot match a customer without ``term``
    inside one of ``COLUMNS``."""
    # FTS5 reads its query text up to a NUL ("unterminated string"): such a term is searched without the index.
    if len(term) < MIN_TERM_LENGTH or "\x00" in term:
        return None
    connection = connections[using or router.db_for_read(Customer)]
    if connection.vendor != "sqlite" or not sqlite_index_available(connection):
        return None
    phrase, most = fts_phrase(term), get_setting("SEARCH_INDEX_MAX_CANDIDATES")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {TABLE} WHERE {TABLE} MATCH %s LIMIT %s)",
            [phrase, most],
        )
        (found,) = cursor.fetchone()
    if found >= most:
        # A common term: SQLite would read every match by id and sort them all (326 ms for "example" at 200,000
        # customers); walking the listing's order fills a page after a few hundred rows instead.
        return None
    return Q(pk__in=RawSQL(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s", [phrase]))


def create_index(apps, schema_editor):
    """Migration 0020, forwards. The migration is not atomic, so that PostgreSQL builds its indexes concurrently:
    the customers stay writable while it reads them all."""
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            create_sqlite_index(cursor)
    elif connection.vendor == "postgresql":
        table = schema_editor.quote_name(_customers_table())
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for index, (column, where) in POSTGRESQL_INDEXES.items():
            if _is_invalid_postgresql_index(connection, index):
                # What a concurrent build that failed leaves behind (IF NOT EXISTS would keep it): built anew.
                schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {index}")
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index} ON {table} "
                f"USING gin ((UPPER({schema_editor.quote_name(column)}::text)) gin_trgm_ops) {where}",
                params=None,
            )
    _available.clear()


def drop_index(apps, schema_editor):
    """Migration 0020, backwards."""
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            drop_sqlite_index(cursor)
    elif connection.vendor == "postgresql":
        for index in POSTGRESQL_INDEXES:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {index}")
    _available.clear()


def _is_invalid_postgresql_index(connection, name):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND pg_table_is_visible(c.oid) AND NOT i.indisvalid",
            [name],
        )
        return cursor.fetchone() is not None
