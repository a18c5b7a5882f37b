"""A listing page's rows read without PostgreSQL's parallel workers.

Where its estimates say a long walk of the sort index lies ahead, PostgreSQL plans a page's read in parallel. Measured
on the Watchlist at 1,000,000 customers with 10,000 watched, before it had an index of its own
(services/watched_flag.py), when a page of 100 walked about 21,000 customers: the walk ended with the page, but the
two workers took 12-17 ms to start; the read took 22 ms in parallel and 10 ms without (medians of 7), and the page
79.6 ms against 58.5 ms (median, in the benchmark). A page's read walks far still with a filter or a search the sort
index cannot serve, so it runs in a transaction that turns the workers off for itself (``SET LOCAL``).

A trade-off, not a rule: a read that walks far (a page asked for by its number, read with OFFSET up to half the
rows; a sparse search that finds few matches) may have been quicker in parallel. In the benchmark at XL one case
was: the Watchlist's deepest page by Next at 100 rows, 48.6 -> 55.9 ms median; every other case was the same or
quicker (benchmarks/notes.md). Other databases: nothing changes, not even a transaction.
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
