"""Writing many rows quickly.

Django's ``bulk_update`` builds one ``CASE WHEN`` per field over every row, which costs more
Python time than the database spends (about 5 s for 2,000 customers x 9 fields); a prepared
``UPDATE ... WHERE pk = %s`` run with ``executemany`` does the same work in a fraction of it on
SQLite and PostgreSQL alike.
"""

from django.db import connections, router, transaction


def update_rows(model, objects, field_names):
    """Write ``field_names`` of each of ``objects`` (saved instances of ``model``) to the database."""
    objects = list(objects)
    if not objects:
        return 0
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    params = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields] + [obj.pk]
        for obj in objects
    ]
    # One transaction for all rows: in autocommit mode SQLite would sync the file after each one.
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(objects)
