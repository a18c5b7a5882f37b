"""The customers' statistics: one definition, computed set-based.

Money figures are sums of each order's amounts in its seller account's currency (``account_total``,
``account_refunded``, ``account_discount``, filled by the ingestion service); orders with no known rate
are counted in ``unconverted_orders`` instead.

``_aggregates`` defines four aggregate queries (orders, lines, promo codes, feedback) over the customers
selected by a filter. ``compute_statistics`` runs them and returns the figures; ``refresh_statistics``
applies those to given customers (the ingestion service calls it in the order's transaction).
``rebuild_statistics`` works on every customer without bringing figures back to Python: per range of
ids, one ``UPDATE ... FROM`` with the same queries as its source writes only the rows that differ.
The definitions are in ``Customer``'s docstring and docs/concepts/statistics.md.
"""

from contextlib import contextmanager
from decimal import Decimal

from django.db import connections, router, transaction
from django.db.models import Count, DecimalField, F, Max, Min, Q, Sum
from django.db.models.functions import Coalesce

from ..conf import get_setting
from ..models import Customer, Feedback, Order, OrderLine, OrderStatus, PromoCodeUsage
from ..planner_statistics import refresh_planner_statistics
from .listing_summary import rebuild_summary
from .rows import update_rows

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
EMPTY = {
    "orders_count": 0,
    "units": 0,
    "amount_spent": ZERO,
    "discount_total": ZERO,
    "unconverted_orders": 0,
    "promo_codes_used": 0,
    "negative_feedbacks": 0,
    "returned_units": 0,
    "first_order_at": None,
    "last_order_at": None,
}
MONEY = DecimalField(max_digits=16, decimal_places=2)
#: Orders whose money is known in the seller account's currency.
CONVERTED = Q(account_total__isnull=False)


def _money_sum(expression, condition):
    return Coalesce(Sum(expression, filter=condition, output_field=MONEY), ZERO, output_field=MONEY)


def _cents(value):
    # SQLite sums decimals as floats and Django does not round an aggregate's result there.
    return Decimal(value).quantize(CENT)


def _aggregates(customer_filter):
    """The four aggregate querysets behind the statistics, each grouped by customer id (``cid``).

    One definition for both paths: ``compute_statistics`` reads their rows, ``rebuild_statistics``
    embeds their SQL in one ``UPDATE``. Each row's other keys are the statistics fields they give.
    """
    on_order = {f"customer_id__{lookup}": value for lookup, value in customer_filter.items()}
    on_line = {f"order__customer_id__{lookup}": value for lookup, value in customer_filter.items()}
    orders = (
        Order.objects.filter(**on_order)
        .order_by()
        .values(cid=F("customer_id"))
        .annotate(
            orders_count=Count("id"),
            # Money in the seller account's currency only (services/conversion.py): orders whose amounts
            # could not be converted are counted apart, never summed as 0 or in their own currency.
            amount_spent=_money_sum(F("account_total") - F("account_refunded"), CONVERTED),
            discount_total=_money_sum("account_discount", CONVERTED),
            unconverted_orders=Count("id", filter=~CONVERTED),
            first_order_at=Min("placed_at"),
            last_order_at=Max("placed_at"),
        )
    )
    lines = (
        OrderLine.objects.filter(**on_line)
        .order_by()
        .values(cid=F("order__customer_id"))
        .annotate(
            units=Coalesce(Sum("quantity", filter=~Q(order__status=OrderStatus.CANCELLED)), 0),
            returned_units=Coalesce(Sum("returned_quantity"), 0),
        )
    )
    promo_codes = (
        PromoCodeUsage.objects.filter(**on_line)
        .order_by()
        .values(cid=F("order__customer_id"))
        .annotate(promo_codes_used=Count("id"))
    )
    negative = get_setting("NEGATIVE_FEEDBACK_MAX_RATING")
    feedback = (
        Feedback.objects.filter(rating__lte=negative, **on_line)
        .order_by()
        .values(cid=F("order__customer_id"))
        .annotate(negative_feedbacks=Count("id"))
    )
    return {"orders": orders, "lines": lines, "promo_codes": promo_codes, "feedback": feedback}


def compute_statistics(customer_filter):
    """Return ``{customer_id: {field: value}}`` for customers matching ``customer_filter``.

    ``customer_filter`` is a dict of lookups on the customer id, e.g. ``{"in": ids}`` or
    ``{"gte": 1, "lt": 5001}``. Customers without orders are absent from the result.
    """
    stats = {}
    for queryset in _aggregates(customer_filter).values():
        for row in queryset:
            # setdefault: an order committed between two of these queries must not raise.
            figures = stats.setdefault(row.pop("cid"), dict(EMPTY))
            figures.update(row)
    for figures in stats.values():
        figures["amount_spent"] = _cents(figures["amount_spent"])
        figures["discount_total"] = _cents(figures["discount_total"])
    return stats


def _apply(customers, stats):
    """Set the figures on the customers that differ; returns the changed ones."""
    changed = []
    for customer in customers:
        figures = stats.get(customer.pk, EMPTY)
        if any(getattr(customer, name) != value for name, value in figures.items()):
            for name, value in figures.items():
                setattr(customer, name, value)
            changed.append(customer)
    return changed


def lock_customers(customer_ids, *, fields=()):
    """The customers ``customer_ids`` with ``fields``, locked until the transaction ends (PostgreSQL), in pk order.

    Writers lock the customers they write before those customers' orders (the ingestion service, merges, erasure,
    deletion, the rate refresh), so two writers meeting on one customer wait in turn rather than on each other (the
    exceptions are listed in docs/concepts/statistics.md)."""
    return list(
        Customer.objects.select_for_update().filter(pk__in=list(customer_ids)).order_by("pk").only("pk", *fields)
    )


def refresh_statistics(customer_ids, *, orders_written=None):
    """Recompute the statistics of the given customers; returns how many rows changed.

    ``orders_written``: the customers whose orders the caller's transaction wrote (all of ``customer_ids`` when
    None). Those, and any whose figures change, get the next ``statistics_version``: a rebuild that read the
    orders before this transaction commits then leaves their rows alone (``rebuild_range``), even where the
    figures come out the same (an order deleted behind the service's back and recorded again)."""
    customer_ids = list(customer_ids)
    if not customer_ids:
        return 0
    # Lock the rows first (PostgreSQL): two orders of one customer recorded at once would otherwise
    # each compute figures without the other's order, and the last writer would win.
    customers = lock_customers(customer_ids, fields=("statistics_version", *Customer.STATISTICS_FIELDS))
    stats = compute_statistics({"in": customer_ids})
    changed = _apply(customers, stats)
    changed_ids = {customer.pk for customer in changed}
    written = [c for c in customers if c.pk not in changed_ids and (orders_written is None or c.pk in orders_written)]
    for customer in (*changed, *written):
        customer.statistics_version = (customer.statistics_version or 0) + 1
    update_rows(Customer, changed, (*Customer.STATISTICS_FIELDS, "statistics_version"))
    # Orders written with the same figures: the version alone (a new order changes the figures, so usually none).
    update_rows(Customer, written, ("statistics_version",))
    return len(changed)


def rebuild_statistics(account=None, id_range=200_000):
    """Recompute every customer's statistics (or one seller account's); returns rows corrected.

    Works through ranges of ``id_range`` customer ids, one set-based statement per range
    (``rebuild_range``): nothing comes back to Python, and only the rows that differ are written.
    Ranges are large because each one reads the order lines, promo codes and feedback joined to the
    orders (on PostgreSQL at 1M orders: 50,000 ids per range took 9.9 s after 1 % corruption,
    200,000 ids 7.2 s); a range is one statement, so it is also one transaction's worth of row locks.
    """
    customers = Customer.objects.all()
    if account is not None:
        customers = customers.filter(account=account)
    bounds = customers.aggregate(low=Min("pk"), high=Max("pk"))
    corrected = 0
    if bounds["low"] is not None:
        low = bounds["low"]
        while low <= bounds["high"]:
            corrected += rebuild_range(low, low + id_range, account=account)
            low += id_range
    # The triggers keep the listing summary current through the UPDATEs above; rebuilt anyway, from the
    # figures just checked, so a rebuild also repairs the summary (services/listing_summary.py).
    rebuild_summary(None if account is None else [account.pk])
    # Nightly, so also what keeps SQLite's statistics current on a site whose orders come one by one.
    refresh_planner_statistics()
    return corrected


# Which aggregate gives each statistics field, and what a customer without any such row has.
_SOURCES = {
    "orders_count": ("orders", "0"),
    "units": ("lines", "0"),
    "amount_spent": ("orders", "0"),
    "discount_total": ("orders", "0"),
    "unconverted_orders": ("orders", "0"),
    "promo_codes_used": ("promo_codes", "0"),
    "negative_feedbacks": ("feedback", "0"),
    "returned_units": ("lines", "0"),
    "first_order_at": ("orders", None),
    "last_order_at": ("orders", None),
}
# Summed money, rounded in SQL as compute_statistics rounds it in Python (SQLite sums decimals as floats).
_ROUNDED = ("amount_spent", "discount_total")


def _figures_sql(connection, low, high, account):
    """``SELECT id, <statistics fields>, seen_version`` of the customers in ``[low, high)``: their fresh figures
    (the empty ones for customers without orders) and the statistics version read with them. Returns
    ``(sql, params)``."""
    quote = connection.ops.quote_name
    meta = Customer._meta
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    joins, params = [], []
    for name, queryset in _aggregates({"gte": low, "lt": high}).items():
        sql, query_params = queryset.query.get_compiler(connection=connection).as_sql()
        joins.append(f"LEFT JOIN ({sql}) {quote(name)} ON {quote(name)}.cid = c.{pk}")
        params.extend(query_params)
    columns = []
    for field, (source, empty) in _SOURCES.items():
        value = f"{quote(source)}.{quote(field)}"
        if empty is not None:
            value = f"COALESCE({value}, {empty})"
        if field in _ROUNDED:
            value = f"ROUND({value}, 2)"
        columns.append(f"{value} AS {quote(field)}")
    columns.append(f"c.{quote('statistics_version')} AS {quote('seen_version')}")
    where = f"c.{pk} >= %s AND c.{pk} < %s"
    params += [low, high]
    if account is not None:
        where += f" AND c.{quote(meta.get_field('account').column)} = %s"
        params.append(account.pk)
    sql = f"SELECT c.{pk} AS id, {', '.join(columns)} FROM {table} c {' '.join(joins)} WHERE {where}"
    return sql, params


def _differs(connection, left, right):
    """SQL true when any statistics field of ``left`` and ``right`` (table aliases) differs, NULLs included."""
    quote = connection.ops.quote_name
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    return " OR ".join(f"{left}.{quote(field)} {distinct} {right}.{quote(field)}" for field in _SOURCES)


def _update_from_supported(connection):
    # UPDATE ... FROM: PostgreSQL always, SQLite from 3.33 (Django supports SQLite from 3.31).
    return connection.vendor != "sqlite" or connection.Database.sqlite_version_info >= (3, 33)


@contextmanager
def _hash_joins_only(connection, cursor):
    """The statements run within the block are planned without nested loops (PostgreSQL; in a transaction).

    The rebuild's statement always wants its joins done by hashing, each side read once, but PostgreSQL's estimates
    can say a side holds 1 row: the version's guard while the versions are NULL, or tables whose statistics no
    longer describe them. It then chose nested loops that read a side again for every row of the other: a rebuild
    from zero ran for over 14 minutes at 200,000 customers, and in the CI's PostgreSQL pass, after hundreds of
    tests, the rebuild of a demo of 150 customers ran for over 13. The setting is put back afterwards, so a
    caller's transaction goes on with its own."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute("SELECT current_setting('enable_nestloop')")
    (setting,) = cursor.fetchone()
    cursor.execute("SET LOCAL enable_nestloop = off")
    yield
    cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [setting])


def rebuild_range(low, high, account=None, *, update_from=None):
    """Recompute the statistics of the customers with ids in ``[low, high)`` (of ``account`` if given)
    in the database; returns how many rows changed.

    One ``UPDATE customer SET ... FROM (fresh figures) WHERE (any figure differs)``, for the rows still at the
    ``statistics_version`` read with the figures (a row the ingestion service refreshed meanwhile has figures at
    least as fresh, and PostgreSQL would otherwise write the ones read before it over them). On SQLite older
    than 3.33, which has no ``UPDATE ... FROM``, the fresh figures go to a temporary table first and a
    row-value ``UPDATE`` reads them from there (``update_from=False`` forces that path; ``None``
    chooses by the database).
    """
    connection = connections[router.db_for_write(Customer)]
    if update_from is None:
        update_from = _update_from_supported(connection)
    quote = connection.ops.quote_name
    table, pk = quote(Customer._meta.db_table), quote(Customer._meta.pk.column)
    figures_sql, params = _figures_sql(connection, low, high, account)
    fields = [quote(field) for field in _SOURCES]
    version, seen = quote("statistics_version"), quote("seen_version")
    same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if update_from:
            assignments = ", ".join(f"{field} = s.{field}" for field in fields)
            # Only rows still at the version read with the figures. PostgreSQL reads the orders as they were when
            # the statement started; a row the ingestion service refreshed since (an order recorded, or recorded
            # again) is re-checked as it now is, and without this the figures read before that order were written.
            # OFFSET 0, PostgreSQL's customary fence, keeps the figures' query from being merged into the UPDATE's
            # joins, so its aggregates are planned on their own; the range is repeated on the customers updated, since
            # it does not cross the fence; and no nested loops (_hash_joins_only).
            fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
            with _hash_joins_only(connection, cursor):
                cursor.execute(
                    f"UPDATE {table} SET {assignments} FROM ({figures_sql}{fence}) s "
                    f"WHERE {table}.{pk} = s.id AND {table}.{pk} >= %s AND {table}.{pk} < %s "
                    f"AND {table}.{version} {same} s.{seen} AND ({_differs(connection, table, 's')})",
                    [*params, low, high],
                )
                changed = cursor.rowcount
            return changed
        fresh = quote("wc_fresh_statistics")
        cursor.execute(f"DROP TABLE IF EXISTS temp.{fresh}")
        cursor.execute(f"CREATE TEMP TABLE {fresh} (id INTEGER PRIMARY KEY, {', '.join(fields)}, {seen})")
        cursor.execute(f"INSERT INTO temp.{fresh} {figures_sql}", params)
        cursor.execute(
            f"UPDATE {table} SET ({', '.join(fields)}) = "
            f"(SELECT {', '.join('s.' + field for field in fields)} FROM temp.{fresh} s WHERE s.id = {table}.{pk}) "
            f"WHERE {pk} IN (SELECT s.id FROM temp.{fresh} s JOIN {table} c ON c.{pk} = s.id "
            f"WHERE c.{version} {same} s.{seen} AND ({_differs(connection, 'c', 's')}))"
        )
        changed = cursor.rowcount
        cursor.execute(f"DROP TABLE temp.{fresh}")
        return changed
