"""The customers' statistics: one definition, computed set-based.

Money figures are sums of each order's amounts in its seller account's currency (``account_total``,
``account_refunded``, ``account_discount``, filled by the ingestion service); orders with no known rate
are counted in ``unconverted_orders`` instead.

``compute_statistics`` runs four aggregate queries (orders, lines, promo codes, feedback) over the
customers selected by a filter and returns their figures; ``refresh_statistics`` applies them to
given customers (the ingestion service calls it in the order's transaction) and
``rebuild_statistics`` applies them to every customer, range of ids by range of ids, writing only
the rows that differ. The definitions are in ``Customer``'s docstring and docs/concepts/statistics.md.
"""

from decimal import Decimal

from django.db.models import Count, DecimalField, F, Max, Min, Q, Sum
from django.db.models.functions import Coalesce

from ..conf import get_setting
from ..models import Customer, Feedback, Order, OrderLine, OrderStatus, PromoCodeUsage
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


def compute_statistics(customer_filter):
    """Return ``{customer_id: {field: value}}`` for customers matching ``customer_filter``.

    ``customer_filter`` is a dict of lookups on the customer id, e.g. ``{"in": ids}`` or
    ``{"gte": 1, "lt": 5001}``. Customers without orders are absent from the result.
    """
    on_order = {f"customer_id__{lookup}": value for lookup, value in customer_filter.items()}
    on_line = {f"order__customer_id__{lookup}": value for lookup, value in customer_filter.items()}
    stats = {}

    order_rows = (
        Order.objects.filter(**on_order)
        .order_by()
        .values("customer_id")
        .annotate(
            n=Count("id"),
            # Money in the seller account's currency only (services/conversion.py): orders whose amounts
            # could not be converted are counted apart, never summed as 0 or in their own currency.
            spent=_money_sum(F("account_total") - F("account_refunded"), CONVERTED),
            discount=_money_sum("account_discount", CONVERTED),
            unconverted=Count("id", filter=~CONVERTED),
            first=Min("placed_at"),
            last=Max("placed_at"),
        )
    )
    for row in order_rows:
        stats[row["customer_id"]] = dict(
            EMPTY,
            orders_count=row["n"],
            amount_spent=_cents(row["spent"]),
            discount_total=_cents(row["discount"]),
            unconverted_orders=row["unconverted"],
            first_order_at=row["first"],
            last_order_at=row["last"],
        )

    line_rows = (
        OrderLine.objects.filter(**on_line)
        .order_by()
        .values("order__customer_id")
        .annotate(
            units=Coalesce(Sum("quantity", filter=~Q(order__status=OrderStatus.CANCELLED)), 0),
            returned=Coalesce(Sum("returned_quantity"), 0),
        )
    )
    for row in line_rows:
        # setdefault: an order committed between two of these queries must not raise.
        figures = stats.setdefault(row["order__customer_id"], dict(EMPTY))
        figures["units"] = row["units"]
        figures["returned_units"] = row["returned"]

    promo_rows = (
        PromoCodeUsage.objects.filter(**on_line).order_by().values("order__customer_id").annotate(n=Count("id"))
    )
    for row in promo_rows:
        stats.setdefault(row["order__customer_id"], dict(EMPTY))["promo_codes_used"] = row["n"]

    negative = get_setting("NEGATIVE_FEEDBACK_MAX_RATING")
    feedback_rows = (
        Feedback.objects.filter(rating__lte=negative, **on_line)
        .order_by()
        .values("order__customer_id")
        .annotate(n=Count("id"))
    )
    for row in feedback_rows:
        stats.setdefault(row["order__customer_id"], dict(EMPTY))["negative_feedbacks"] = row["n"]
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


def refresh_statistics(customer_ids):
    """Recompute the statistics of the given customers; returns how many rows changed."""
    customer_ids = list(customer_ids)
    if not customer_ids:
        return 0
    # Lock the rows first (PostgreSQL): two orders of one customer recorded at once would otherwise
    # each compute figures without the other's order, and the last writer would win.
    customers = list(
        Customer.objects.select_for_update()
        .filter(pk__in=customer_ids)
        .order_by("pk")
        .only("pk", *Customer.STATISTICS_FIELDS)
    )
    stats = compute_statistics({"in": customer_ids})
    changed = _apply(customers, stats)
    update_rows(Customer, changed, Customer.STATISTICS_FIELDS)
    return len(changed)


def rebuild_statistics(account=None, id_range=50_000):
    """Recompute every customer's statistics (or one seller account's); returns rows corrected.

    Works through ranges of ``id_range`` customer ids so memory stays bounded: per range, the four
    aggregate queries, one read of the kept figures and one bulk update of the rows that differ.
    """
    customers = Customer.objects.all()
    if account is not None:
        customers = customers.filter(account=account)
    bounds = customers.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return 0
    corrected = 0
    low = bounds["low"]
    while low <= bounds["high"]:
        high = low + id_range
        id_filter = {"gte": low, "lt": high}
        stats = compute_statistics(id_filter)
        kept = customers.filter(pk__gte=low, pk__lt=high).only("pk", *Customer.STATISTICS_FIELDS)
        changed = _apply(kept, stats)
        update_rows(Customer, changed, Customer.STATISTICS_FIELDS)
        corrected += len(changed)
        low = high
    return corrected
