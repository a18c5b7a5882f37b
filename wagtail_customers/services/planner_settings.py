"""Planner settings for a few statements whose plans PostgreSQL's estimates get wrong."""

from contextlib import contextmanager


@contextmanager
def postgresql_settings(connection, cursor, **settings):
    """The statements run within the block are planned with ``settings`` (PostgreSQL; ``SET LOCAL``, so in a
    transaction). Each is put back afterwards, so a caller's transaction goes on with its own. Elsewhere nothing.

    Not put back when the block raises: the caller's ``transaction.atomic`` around the block then rolls the
    transaction (or savepoint) back, settings and all, so the exception must leave that atomic block too.
    """
    if connection.vendor != "postgresql":
        yield
        return
    before = {}
    for name, value in settings.items():
        cursor.execute("SELECT current_setting(%s)", [name])
        (before[name],) = cursor.fetchone()
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
    yield
    for name, value in before.items():
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
