"""A transaction run again when PostgreSQL stopped it to break a deadlock.

Writers lock customers before their orders, but a few paths cannot (docs/concepts/statistics.md lists them); when
one meets another writer the other way round, PostgreSQL stops one of the two. The stopped transaction's work was
rolled back whole and the other has gone on, so running it again is safe and usually succeeds at once.

"Usually": PostgreSQL hands a row freed by the stopped transaction to whoever asks first, not to the writer that was
waiting for it, so a run again at once can take the row back before that writer wakes, and meet it again in the same
cycle. A short, random pause before running again lets the other writer finish first.
"""

import random
import time

from django.db import OperationalError, router, transaction

from ..models import Customer

#: PostgreSQL's SQLSTATE for a transaction stopped to break a deadlock.
DEADLOCK_DETECTED = "40P01"

#: Seconds paused before running a stopped transaction again, at random between the two, times the attempt.
PAUSE_BEFORE_RUNNING_AGAIN = (0.05, 0.2)


def is_deadlock(error):
    """Whether ``error`` (a Django ``OperationalError``) is PostgreSQL stopping the transaction in a deadlock."""
    cause = error.__cause__
    return (getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)) == DEADLOCK_DETECTED


def atomic_with_retries(function, *, attempts=3, using=None):
    """``function()`` in a transaction of its own, run again (``attempts`` in all) if it is stopped in a deadlock.

    ``using``: the customers' database for writing by default. Inside a caller's transaction (a savepoint, as with
    ``ATOMIC_REQUESTS``) it is not run again: only its own part was rolled back, and locks the caller took before
    may be part of the cycle, so the error goes to the caller unchanged."""
    using = using or router.db_for_write(Customer)
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=using):
                return function()
        except OperationalError as error:
            if attempt == attempts or not is_deadlock(error) or transaction.get_connection(using).in_atomic_block:
                raise
        time.sleep(random.uniform(*PAUSE_BEFORE_RUNNING_AGAIN) * attempt)  # noqa: S311 (a pause, not a secret)
    raise AssertionError("unreachable")  # pragma: no cover
