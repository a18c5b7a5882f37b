"""Reads from a PostgreSQL read replica, where a little lag does no harm (docs/howto/deployment.md).

With ``WAGTAIL_CUSTOMERS["READ_REPLICA"]`` naming an alias of ``DATABASES`` and ``ReadReplicaRouter`` in
``DATABASE_ROUTERS``, the heavy reads of the plugin go to the replica: the listing's count and statistics
band, and the rows of exports. Only inside ``reading_from_replica()`` blocks, which those read paths open:
everything else (the listing's rows, the forms, every write, whatever must see its own write) stays on the
primary, as without the router. Inside a block, writes still go to the primary (an export's progress).

Read your own writes: a replica applies the primary's changes a moment later. After a user changes something
the listing shows (a watchlist toggle: ``note_own_write``), their blocks read the primary for
``READ_YOUR_WRITES_SECONDS``, so the watchlist tab they open next counts the customer they just added. The mark
is kept in their session (shared by every application server).
"""

import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS

from .conf import get_setting

#: The replica alias while a ``reading_from_replica`` block runs in this thread (or task), else None.
_reading_from = ContextVar("wagtail_customers_reading_from", default=None)

#: Session key: until when (a Unix time) this user's reads stay on the primary.
SESSION_KEY = "wagtail_customers_primary_until"


def replica_alias():
    """The ``READ_REPLICA`` setting: the replica's alias in ``DATABASES``, or None (no replica, the default)."""
    return get_setting("READ_REPLICA") or None


def reads_own_writes(request):
    """Has this request's user changed something recently enough that the replica may not have it yet?"""
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(SESSION_KEY, 0) > time.time())


def note_own_write(request):
    """Keep this user's replica reads on the primary for ``READ_YOUR_WRITES_SECONDS`` (after a change of theirs)."""
    seconds = get_setting("READ_YOUR_WRITES_SECONDS")
    if replica_alias() and seconds and hasattr(request, "session"):
        request.session[SESSION_KEY] = time.time() + seconds


@contextmanager
def reading_from_replica(request=None):
    """Send the reads of the block to the replica; yields the alias read from ("default" when there is no
    replica, or ``request``'s user made a change within ``READ_YOUR_WRITES_SECONDS``)."""
    alias = replica_alias()
    if alias is None or (request is not None and reads_own_writes(request)):
        yield DEFAULT_DB_ALIAS
        return
    token = _reading_from.set(alias)
    try:
        yield alias
    finally:
        try:
            _reading_from.reset(token)
        except ValueError:  # a streamed export's generator closed from another context
            _reading_from.set(None)


class ReadReplicaRouter:
    """Add ``"wagtail_customers.db_router.ReadReplicaRouter"`` to ``DATABASE_ROUTERS`` (first, or before any
    router that would answer for the plugin's models). Outside ``reading_from_replica`` blocks it answers
    nothing, so the next router or Django's default decides."""

    def db_for_read(self, model, **hints):
        return _reading_from.get()

    def db_for_write(self, model, **hints):
        # An object read from the replica in a block is saved to the primary (Django would pick its own database).
        return DEFAULT_DB_ALIAS if _reading_from.get() else None

    def allow_relation(self, obj1, obj2, **hints):
        alias = replica_alias()
        if alias and {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, alias}:
            return True  # the same data, one copy a moment behind
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica is a copy of the primary: migrations run on the primary only.
        if db == replica_alias():
            return False
        return None
