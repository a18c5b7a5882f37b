"""RFM scores and groups per customer, refreshed for whole seller accounts in the database.

Each customer with an order gets three scores from 1 to 5 within their seller account (docs/concepts/
buyer-insight.md has the exact definitions):

* recency: the customer's last order date, ranked oldest first;
* frequency: their number of orders, ranked fewest first;
* monetary: their amount spent (in the account's currency), ranked least first;

score = 1 + floor(5 x (rank - 1) / n), where n is the account's customers with an order and rank the
customer's place in that order with ties sharing the lowest place (SQL ``RANK()``): a quintile where equal
figures always get the same score (``NTILE`` would split the many one-order buyers over several scores).
The named group comes from the recency and frequency scores (``RFM_GROUPS``).

``refresh_scores`` is one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` per call (window functions over the
customers, PostgreSQL and SQLite alike), plus one ``DELETE`` for customers who no longer have an order.
"""

from django.db import connections, router, transaction
from django.utils import timezone

from ..models import Customer, CustomerScore, RfmGroup

#: (group, condition on the recency score r and the frequency score f), the first that holds wins. The widely
#: used segment map of R and F scores; every (r, f) from 1 to 5 falls in exactly one group.
RFM_GROUPS = (
    (RfmGroup.CHAMPIONS, "r = 5 AND f >= 4"),
    (RfmGroup.LOYAL, "r >= 3 AND f >= 4"),
    (RfmGroup.POTENTIAL_LOYALISTS, "r >= 4 AND f IN (2, 3)"),
    (RfmGroup.NEW, "r = 5 AND f = 1"),
    (RfmGroup.PROMISING, "r = 4 AND f = 1"),
    (RfmGroup.NEED_ATTENTION, "r = 3 AND f = 3"),
    (RfmGroup.ABOUT_TO_SLEEP, "r = 3 AND f <= 2"),
    (RfmGroup.CANNOT_LOSE, "r <= 2 AND f = 5"),
    (RfmGroup.AT_RISK, "r <= 2 AND f >= 3"),
    (RfmGroup.HIBERNATING, "r <= 2 AND f <= 2"),
)

#: Each score's ranking column.
_RANKED_BY = {"recency_score": "last_order_at", "frequency_score": "orders_count", "monetary_score": "amount_spent"}


def _in_accounts(account_ids, column):
    if account_ids is None:
        return "", []
    account_ids = list(account_ids)
    if not account_ids:
        return " AND 1 = 0", []
    return f" AND {column} IN ({', '.join(['%s'] * len(account_ids))})", account_ids


def _scores_sql(quote, account_ids):
    """``SELECT customer_id, account_id, r, f, m`` for the customers with an order; returns (sql, params)."""
    customers = quote(Customer._meta.db_table)
    account_filter, params = _in_accounts(account_ids, "c.account_id")
    window = "PARTITION BY c.account_id ORDER BY c.{}"
    ranks = ", ".join(
        f"RANK() OVER ({window.format(quote(column))}) AS {quote(score)}" for score, column in _RANKED_BY.items()
    )
    ranked = (
        f"SELECT c.id AS customer_id, c.account_id AS account_id, {ranks}, "
        f"COUNT(*) OVER (PARTITION BY c.account_id) AS n "
        f"FROM {customers} c WHERE c.orders_count > 0 AND c.last_order_at IS NOT NULL{account_filter}"
    )
    scores = ", ".join(f"1 + (5 * ({quote(score)} - 1)) / n AS {score[0]}" for score in _RANKED_BY)
    return f"SELECT customer_id, account_id, {scores} FROM ({ranked}) ranked", params


def _group_sql():
    cases = " ".join(f"WHEN {condition} THEN '{group.value}'" for group, condition in RFM_GROUPS)
    return f"CASE {cases} END"


def refresh_scores(account_ids=None, now=None, id_range=None):
    """Recompute the RFM scores of every customer of ``account_ids`` (all accounts when None); returns how
    many customers have scores afterwards. Customers without an order lose theirs.

    ``id_range`` ``(low, high)``: write only the customers with ids in ``[low, high)`` (a chunk of the refresh
    split across workers, services/rebuild_chunks.py); the ranks are still taken over each whole account, so
    the chunks together write what one call writes."""
    connection = connections[router.db_for_write(CustomerScore)]
    quote = connection.ops.quote_name
    table = quote(CustomerScore._meta.db_table)
    customers = quote(Customer._meta.db_table)
    scores_sql, params = _scores_sql(quote, account_ids)
    columns = ("recency_score", "frequency_score", "monetary_score", "rfm_group", "scored_at")
    updates = ", ".join(f"{quote(column)} = excluded.{quote(column)}" for column in ("account_id", *columns))
    new_range = stale_range = ""
    range_params = []
    if id_range is not None:
        new_range = " AND customer_id >= %s AND customer_id < %s"
        stale_range = " AND s.customer_id >= %s AND s.customer_id < %s"
        range_params = list(id_range)
    # "WHERE 1 = 1": SQLite reads an ON CONFLICT after a bare SELECT ... FROM as part of a join otherwise.
    upsert = (
        f"INSERT INTO {table} (customer_id, account_id, {', '.join(quote(column) for column in columns)}) "
        f"SELECT customer_id, account_id, r, f, m, {_group_sql()}, %s FROM ({scores_sql}) scored "
        f"WHERE 1 = 1{new_range} "
        f"ON CONFLICT (customer_id) DO UPDATE SET {updates}"
    )
    account_filter, account_params = _in_accounts(account_ids, "s.account_id")
    stale = (
        f"DELETE FROM {table} WHERE customer_id IN (SELECT s.customer_id FROM {table} s "
        f"JOIN {customers} c ON c.id = s.customer_id "
        f"WHERE (c.orders_count = 0 OR c.last_order_at IS NULL){account_filter}{stale_range})"
    )
    scored_at = now or timezone.now()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(stale, [*account_params, *range_params])
        cursor.execute(upsert, [connection.ops.adapt_datetimefield_value(scored_at), *params, *range_params])
    queryset = CustomerScore.objects.using(connection.alias)
    if account_ids is not None:
        queryset = queryset.filter(account_id__in=list(account_ids))
    return queryset.count()
