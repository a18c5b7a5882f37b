"""A listing page's rows read without PostgreSQL's parallel workers.

Where its estimates say a long walk of the sort index lies ahead, PostgreSQL plans a page's read in parallel: the
Watchlist at 1,000,000 customers with 10,000 watched walks about 21,000 customers for a page of 100, and the plan
starts two workers for it. The walk ends with the page, but the workers take 12-17 ms to start: the read took 22 ms
in parallel and 10 ms without (at XL, medians of 7). A page's read stops after a few hundred rows, or at most some
tens of thousands of index entries, where workers do not pay for their start, so it runs in a transaction that
turns them off for itself (``SET LOCAL``). Other databases: nothing changes.
"""

from contextlib import contextmanager

from django.db import connections, transaction


@contextmanager
def without_parallel_workers(using):
    """Within the block, queries on ``using`` are planned without parallel workers (PostgreSQL), in one
    transaction (a savepoint within one already open; the setting then lasts until that transaction ends)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield
