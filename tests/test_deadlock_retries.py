"""services/deadlocks.py: a transaction PostgreSQL stopped in a deadlock is run again after a short pause, never
after its last attempt, and never inside a caller's transaction.

The stop is an ``OperationalError`` caused by the driver's error with SQLSTATE 40P01, as psycopg raises it (the
real thing is in tests/test_ingestion_parallel.py, on PostgreSQL); ``time.sleep`` records the pauses instead of
waiting them.
"""

import pytest
from django.db import OperationalError, transaction

from wagtail_customers.services import deadlocks
from wagtail_customers.services.deadlocks import PAUSE_BEFORE_RUNNING_AGAIN, atomic_with_retries

pytestmark = pytest.mark.django_db(transaction=True)


class DeadlockDetected(Exception):
    """What psycopg's error carries for a transaction stopped in a deadlock."""

    sqlstate = "40P01"


def stopped_in_a_deadlock():
    error = OperationalError("deadlock detected")
    error.__cause__ = DeadlockDetected()
    return error


@pytest.fixture
def pauses(monkeypatch):
    recorded = []
    monkeypatch.setattr(deadlocks.time, "sleep", recorded.append)
    return recorded


def stopped_times(count):
    """A function stopped in a deadlock its first ``count`` runs, then answering "done"; and its runs."""
    runs = []

    def function():
        runs.append(transaction.get_connection().in_atomic_block)
        if len(runs) <= count:
            raise stopped_in_a_deadlock()
        return "done"

    return function, runs


def test_a_stopped_transaction_pauses_before_running_again_in_a_range_that_grows(pauses):
    function, runs = stopped_times(2)
    assert atomic_with_retries(function) == "done"
    assert runs == [True, True, True]  # each run in a transaction of its own
    low, high = PAUSE_BEFORE_RUNNING_AGAIN
    assert len(pauses) == 2
    assert low <= pauses[0] <= high and 2 * low <= pauses[1] <= 2 * high


def test_no_pause_after_the_last_attempt(pauses):
    function, runs = stopped_times(3)
    with pytest.raises(OperationalError):
        atomic_with_retries(function)
    assert len(runs) == 3 and len(pauses) == 2


def test_other_errors_and_a_callers_transaction_are_not_run_again(pauses):
    runs = []

    def broken():
        runs.append(1)
        raise OperationalError("disk full")

    with pytest.raises(OperationalError):
        atomic_with_retries(broken)
    function, deadlocked_runs = stopped_times(1)
    with pytest.raises(OperationalError), transaction.atomic():
        atomic_with_retries(function)
    assert runs == [1] and len(deadlocked_runs) == 1 and pauses == []
