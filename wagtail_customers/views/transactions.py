"""Views whose work must commit before they answer, outside ``ATOMIC_REQUESTS``' transaction."""

from django.db import connections, transaction


def outside_request_transaction(view):
    """Mark ``view`` as never wrapped in ``ATOMIC_REQUESTS``' transaction, on every database.

    An import phase run in the request claims its job's row, which inside that transaction stays locked until the
    request ends, while its progress is written on a second connection on PostgreSQL (``jobs.ProgressWriter``),
    which waits for the lock for ever. A started export is queued when its job commits, and the view reads the
    job's state after the queueing. Django reads the mark off the view function the URL calls
    (``BaseHandler.make_view_atomic``)."""
    for alias in connections:
        view = transaction.non_atomic_requests(using=alias)(view)
    return view
