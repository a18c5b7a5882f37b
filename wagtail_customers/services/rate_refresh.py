"""A newer exchange-rate table, and the orders it can now convert.

``refresh_rates`` reads an ECB-format file (a path or a URL), validates it, stores it as the table in use
(``exchange_rates.store_rate_table``), then converts the orders whose rate was unknown and brings their
customers' statistics up to date. The ``customers_refresh_rates`` command and the
``wagtail_customers.refresh_exchange_rates`` beat task both run it.

Orders converted before keep their conversion: a refreshed table fills what was missing, it does not
revise what customers were shown. (Recording an order again converts it again, at the table then in use.)
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ..exchange_rates import StoredTable, read_source, store_rate_table
from ..models import Order, OrderLine, RateSource
from .conversion import CONVERTED_FIELDS, ZERO, convert
from .rows import update_values
from .statistics import StatisticsOverflow, lock_customers, refresh_statistics

logger = logging.getLogger(__name__)
CHUNK = 2000
MONEY = DecimalField(max_digits=16, decimal_places=2)


@dataclass
class RefreshResult:
    table: StoredTable | None
    #: Orders that had no rate and were converted now, those still without one, and the customers updated. Orders of
    #: a customer whose figures they would take past what the columns hold stay unconverted (counted as unknown).
    orders_converted: int = 0
    orders_still_unknown: int = 0
    customers_updated: int = 0


def refresh_rates(location, *, replace=False):
    """Store the rates file at ``location`` (path or URL) as the table, then convert the orders it can."""
    table = store_rate_table(read_source(location), str(location), replace=replace)
    result = convert_unconverted_orders()
    result.table = table
    return result


def _line_discounts():
    per_order = OrderLine.objects.filter(order=OuterRef("pk")).order_by().values("order").annotate(s=Sum("discount"))
    return Coalesce(Subquery(per_order.values("s"), output_field=MONEY), Value(ZERO), output_field=MONEY)


def convert_unconverted_orders(account=None):
    """Convert the orders whose rate is unknown with the table in use; returns a ``RefreshResult``.

    Chunk by chunk, each in one transaction with its customers' statistics (so a customer is never shown
    with an order converted and its amount spent not yet). An order written since its chunk was read (recorded
    again, which converts it then, or converted by another refresh running at the same time) is left as it is, and
    not counted; an order recorded again without a rate, or moved to another customer meanwhile (a merge), waits for
    the next refresh.
    """
    unknown = Order.objects.filter(rate_source=RateSource.UNKNOWN).select_related("account").order_by("pk")
    if account is not None:
        unknown = unknown.filter(account=account)
    result = RefreshResult(table=None)
    rates = {}
    last_pk = 0
    while True:
        chunk = list(
            unknown.filter(pk__gt=last_pk)
            .annotate(line_discounts=_line_discounts())
            .only(
                "pk",
                "customer_id",
                "placed_at",
                "currency",
                "total",
                "refunded",
                "discount",
                "updated_at",
                "account__currency",
            )[:CHUNK]
        )
        if not chunk:
            return result
        last_pk = chunk[-1].pk
        rows, customers_read = [], set()
        for order in chunk:
            converted = convert(
                currency=order.currency,
                account_currency=order.account.currency,
                placed_at=order.placed_at,
                total=order.total,
                refunded=order.refunded,
                discount=order.discount + order.line_discounts,
                rates=rates,
            )
            if converted.rate_source == RateSource.UNKNOWN:
                result.orders_still_unknown += 1
                continue
            rows.append((*converted.as_tuple(), order.pk, order.updated_at, RateSource.UNKNOWN, order.customer_id))
            customers_read.add(order.customer_id)
        converted_count = _write_chunk(rows, customers_read, result)
        result.orders_converted += converted_count


def _write_chunk(rows, customers_read, result):
    """Write a chunk's conversions and its customers' statistics in one transaction; returns the orders converted.

    A customer whose figures would not fit their columns (``StatisticsOverflow``) keeps these orders unconverted: the
    chunk is written again without them (logged), so one customer does not stop every later refresh."""
    while True:
        try:
            with transaction.atomic():
                # The customers first, then their orders, as the ingestion service and merges take them: an order
                # being recorded for one of these customers is waited for, or waits for this chunk, not both at once.
                # An order moved to another customer since the chunk was read (a merge, a new identity) is left for
                # the next refresh by the guard on its customer, so no customer outside those locked here is written.
                lock_customers(customers_read)
                converted_count = update_values(
                    Order, CONVERTED_FIELDS, rows, unchanged=("updated_at", "rate_source", "customer")
                )
                result.customers_updated += refresh_statistics(customers_read)
            return converted_count
        except StatisticsOverflow as error:
            left = [row for row in rows if row[-1] == error.customer_id]
            logger.warning(
                "Exchange-rate refresh: %s order(s) of customer #%s left unconverted: the customer's %s would not "
                "fit its column (%s).",
                len(left),
                error.customer_id,
                error.field,
                error.value,
            )
            result.orders_still_unknown += len(left)
            rows = [row for row in rows if row[-1] != error.customer_id]
            customers_read = customers_read - {error.customer_id}
