"""The statistics rebuild and the RFM scores refresh split by customer id range across Celery workers (chords).

``rebuild_statistics`` (services/statistics.py) works through ranges of ids one after the other in one process.
Here the same ranges are cut so each holds ``REBUILD_CHUNK_ROWS`` customers (bounds read once, in one query),
and sent as a Celery group of ``rebuild_statistics_chunk`` tasks, one per range, on any number of workers; then
``finish_statistics_rebuild`` runs once, after every chunk (the chord's callback).

What can be split and what cannot:

* A customer's statistics depend only on their own orders: each range is one ``rebuild_range`` statement
  (``UPDATE ... FROM`` of that range's fresh figures), independent of every other range. A chunk run twice
  writes nothing the second time, so a chunk whose worker is killed (``acks_late``, ``reject_on_worker_lost``)
  is simply delivered again, alone.
* The listing summary is per seller account, over all its customers. The triggers add each chunk's changes to
  it as deltas while the chunks run (concurrent chunks only append rows, never wait for each other); the
  rebuild of the summary from the customers, which the single rebuild ends with, runs once, in the final task.
* The RFM scores (services/scores.py) rank each customer within the whole account, so they are computed only
  once every statistics chunk is done, by a chord of their own (``start_chunked_scores``, scheduled after the
  rebuild): each ``refresh_scores_chunk`` ranks over every customer of the account in its ``SELECT`` but writes
  only its own id range, all with one ``scored_at``; the ranking is repeated per chunk, the writing is split.
  The predicted-value fit (``refit_account``) reads every score of an account: it runs once per account, in
  ``finish_scores_refresh``.

The result is the same as ``rebuild_statistics``: the same statements over other ranges of ids.
"""

import datetime

from celery import chord, group
from django.db import connections, router
from django.utils import timezone

from ..conf import get_setting
from ..models import Customer, CustomerScore, SellerAccount
from ..planner_statistics import refresh_planner_statistics
from .lifetime_value_fit import for_each_account, refit_account
from .listing_summary import rebuild_summary
from .order_figures import fill_order_figures
from .scores import refresh_scores
from .statistics import rebuild_range


def chunk_ranges(account_id=None, rows=None):
    """``[(low, high), ...]``: half-open ranges of customer ids holding ``rows`` customers each (the last one
    fewer), in id order, of one seller account or of every account. One query: the id starting each range."""
    rows = rows or get_setting("REBUILD_CHUNK_ROWS")
    connection = connections[router.db_for_read(Customer)]
    quote = connection.ops.quote_name
    pk = quote(Customer._meta.pk.column)
    where, params = "", []
    if account_id is not None:
        where, params = f"WHERE {quote(Customer._meta.get_field('account').column)} = %s", [account_id]
    sql = (
        f"SELECT id, last FROM (SELECT {pk} AS id, ROW_NUMBER() OVER (ORDER BY {pk}) AS n, "
        f"MAX({pk}) OVER () AS last FROM {quote(Customer._meta.db_table)} {where}) numbered "
        f"WHERE (n - 1) %% %s = 0 ORDER BY id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, rows])
        starts = cursor.fetchall()
    if not starts:
        return []
    lows = [low for low, _ in starts]
    return list(zip(lows, [*lows[1:], starts[0][1] + 1], strict=True))


def rebuild_chunk(low, high, account_id=None):
    """Recompute the statistics of the customers with ids in ``[low, high)``; returns rows corrected."""
    account = None if account_id is None else SellerAccount.objects.get(pk=account_id)
    return rebuild_range(low, high, account=account)


def finish_rebuild(corrected, account_id=None):
    """What runs once after every chunk: the listing summary rebuilt from the customers. Returns rows corrected,
    the sum of the chunks'."""
    rebuild_summary(None if account_id is None else [account_id])
    refresh_planner_statistics()  # as after rebuild_statistics
    return sum(corrected)


def start_chunked_rebuild(account_id=None, rows=None):
    """Send the chord: one ``rebuild_statistics_chunk`` task per range, then ``finish_statistics_rebuild``.
    Returns ``(number of chunks, the final task's AsyncResult)`` (its result: rows corrected)."""
    from ..tasks import finish_statistics_rebuild, rebuild_statistics_chunk

    # As the single rebuild does first: the orders recorded without their figures (one index probe when none).
    fill_order_figures()
    ranges = chunk_ranges(account_id, rows)
    final = finish_statistics_rebuild.signature(kwargs={"account_id": account_id})
    if not ranges:
        return 0, final.apply_async(args=([],))
    header = group(rebuild_statistics_chunk.signature((low, high, account_id)) for low, high in ranges)
    return len(ranges), chord(header)(final)


def refresh_scores_chunk(low, high, account_id=None, scored_at=None):
    """Write the RFM scores of the customers with ids in ``[low, high)``, ranked within their whole account."""
    now = datetime.datetime.fromisoformat(scored_at) if scored_at else None
    refresh_scores(None if account_id is None else [account_id], now=now, id_range=(low, high))


def finish_scores_refresh(account_id=None):
    """What runs once after every scores chunk: each account's predicted-value model refitted on its scores.
    Returns the number of customers scored. An account whose refit fails is logged and the others are still
    refitted; then the task fails with the first error."""
    accounts = SellerAccount.objects.order_by("pk")
    scores = CustomerScore.objects.all()
    if account_id is not None:
        accounts, scores = accounts.filter(pk=account_id), scores.filter(account_id=account_id)
    for_each_account(accounts, refit_account)
    return scores.count()


def start_chunked_scores(account_id=None, rows=None, now=None):
    """Send the chord: one ``refresh_scores_chunk`` task per range, then ``finish_scores_refresh``.
    Returns ``(number of chunks, the final task's AsyncResult)`` (its result: customers scored)."""
    from ..tasks import finish_scores_refresh_task, refresh_scores_chunk_task

    scored_at = (now or timezone.now()).isoformat()
    ranges = chunk_ranges(account_id, rows)
    final = finish_scores_refresh_task.signature(kwargs={"account_id": account_id})
    if not ranges:
        return 0, final.apply_async(args=([],))
    header = group(refresh_scores_chunk_task.signature((low, high, account_id, scored_at)) for low, high in ranges)
    return len(ranges), chord(header)(final)
