"""The figures a watchlist rule's condition can test, each as a database expression over ``Customer`` rows.

A condition is ``figure operator value``; :func:`condition_filters` turns it into the boolean expressions a
``Customer`` queryset is filtered with, so a rule is one query over its seller account's customers. A figure
with no value for a customer (the return rate without units, the average order value without a converted order,
the days since the last order without an order) matches no condition. Definitions (docs/howto/watchlist-rules.md):

* ``orders``, ``units``, ``amount_spent``, ``returned_units``, ``negative_feedbacks``, ``promo_codes_used``: the
  customer's statistics fields of the same meaning (``Customer``'s docstring).
* ``return_rate``: ``returned_units * 100 / units`` (a percentage), when ``units > 0``.
* ``average_order_value``: ``amount_spent / (orders_count - unconverted_orders)``, when that is above 0 (as
  ``Customer.average_order_value``, unrounded).
* ``recent_negative_feedbacks``: feedback rated at or below ``NEGATIVE_FEEDBACK_MAX_RATING`` left within the last
  ``days`` days (a feedback with no date counts at its order's date).
* ``days_since_last_order``: whole days elapsed since the last order was placed.

Ratios are compared multiplied out (``returned_units * 100 >= value * units``), so decimals stay exact on every
database and nothing divides by zero.
"""

from datetime import timedelta

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual

from ..conf import get_setting
from ..models import Feedback, WatchlistMetric, WatchlistOperator

COMPARISONS = {
    WatchlistOperator.GTE: GreaterThanOrEqual,
    WatchlistOperator.LTE: LessThanOrEqual,
    WatchlistOperator.GT: GreaterThan,
    WatchlistOperator.LT: LessThan,
}

#: Figures that are counts (or whole days): their values are whole numbers.
WHOLE_NUMBER_METRICS = frozenset(
    {
        WatchlistMetric.ORDERS,
        WatchlistMetric.UNITS,
        WatchlistMetric.RETURNED_UNITS,
        WatchlistMetric.NEGATIVE_FEEDBACKS,
        WatchlistMetric.RECENT_NEGATIVE_FEEDBACKS,
        WatchlistMetric.PROMO_CODES_USED,
        WatchlistMetric.DAYS_SINCE_LAST_ORDER,
    }
)

#: The largest "days since the last order" compared (a century): a cut-off further back is before any order, and
#: far enough back it is no date at all (``OverflowError``).
MAX_DAYS_SINCE_LAST_ORDER = 36500

#: Figures that need a number of days.
METRICS_WITH_DAYS = frozenset({WatchlistMetric.RECENT_NEGATIVE_FEEDBACKS})

#: The statistics field of each figure that is one.
STATISTICS_FIELDS = {
    WatchlistMetric.ORDERS: "orders_count",
    WatchlistMetric.UNITS: "units",
    WatchlistMetric.AMOUNT_SPENT: "amount_spent",
    WatchlistMetric.RETURNED_UNITS: "returned_units",
    WatchlistMetric.NEGATIVE_FEEDBACKS: "negative_feedbacks",
    WatchlistMetric.PROMO_CODES_USED: "promo_codes_used",
}


def _compare(operator, lhs, rhs):
    return COMPARISONS[WatchlistOperator(operator)](lhs, rhs)


def recent_negative_feedbacks(days, now):
    """The number of the customer's negative feedbacks left since ``now - days`` (a subquery on ``Customer``)."""
    since = now - timedelta(days=days)
    feedback = (
        Feedback.objects.alias(left=Coalesce("left_at", "order__placed_at"))
        .filter(
            order__customer=OuterRef("pk"),
            rating__lte=get_setting("NEGATIVE_FEEDBACK_MAX_RATING"),
            left__gte=since,
        )
        .values("order__customer")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(feedback, output_field=IntegerField()), 0)


def _days_since_last_order(operator, days, now):
    """Whole days elapsed >= N is a last order at or before ``now - N days``; compared on the date, so indexable."""
    if operator == WatchlistOperator.GTE:
        return Q(last_order_at__lte=now - timedelta(days=days))
    if operator == WatchlistOperator.GT:
        return Q(last_order_at__lte=now - timedelta(days=days + 1))
    if operator == WatchlistOperator.LTE:
        return Q(last_order_at__gt=now - timedelta(days=days + 1))
    return Q(last_order_at__gt=now - timedelta(days=days))


def condition_filters(condition, now):
    """The expressions a ``Customer`` queryset is filtered with (all must hold) for one condition."""
    metric, operator = WatchlistMetric(condition.metric), condition.operator
    value = int(condition.value) if metric in WHOLE_NUMBER_METRICS else condition.value
    if metric in STATISTICS_FIELDS:
        return [_compare(operator, F(STATISTICS_FIELDS[metric]), Value(value))]
    if metric == WatchlistMetric.RETURN_RATE:
        return [Q(units__gt=0), _compare(operator, F("returned_units") * 100, Value(value) * F("units"))]
    if metric == WatchlistMetric.AVERAGE_ORDER_VALUE:
        converted = F("orders_count") - F("unconverted_orders")
        return [GreaterThan(converted, Value(0)), _compare(operator, F("amount_spent"), Value(value) * converted)]
    if metric == WatchlistMetric.RECENT_NEGATIVE_FEEDBACKS:
        return [_compare(operator, recent_negative_feedbacks(condition.days or 1, now), Value(value))]
    if metric == WatchlistMetric.DAYS_SINCE_LAST_ORDER:
        return [_days_since_last_order(operator, min(value, MAX_DAYS_SINCE_LAST_ORDER), now)]
    raise ValueError(metric)
