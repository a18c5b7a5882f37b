"""The correctness gate: the plugin's kept statistics against naive aggregates, in the same run.

The naive side is written independently of ``wagtail_customers.services.statistics``: for a sample
of customers it walks their orders, lines, promo codes and feedback in Python, and for the totals it
sums every order and line row with ``Decimal`` (exact on SQLite too, where SQL sums of decimals are
floating point). Definitions: the ``Customer`` docstring and docs/concepts/statistics.md.
"""

import random
from collections import defaultdict
from decimal import Decimal

from wagtail_customers.conf import get_setting
from wagtail_customers.models import (
    Customer,
    Feedback,
    Order,
    OrderLine,
    OrderStatus,
    PromoCodeUsage,
    WatchlistEntry,
)

ZERO = Decimal("0.00")
FIELDS = Customer.STATISTICS_FIELDS
#: The figures that add up over customers (all but the first and last order dates).
SUMMED = tuple(name for name in FIELDS if not name.endswith("_at"))


def _naive_figures(customer_ids):
    """``{customer_id: {field: value}}`` computed row by row from the ledger."""
    negative = get_setting("NEGATIVE_FEEDBACK_MAX_RATING")
    figures = {
        pk: {
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
        for pk in customer_ids
    }
    orders = {}
    for order in Order.objects.filter(customer_id__in=customer_ids):
        orders[order.pk] = order
        row = figures[order.customer_id]
        row["orders_count"] += 1
        # Money in the seller account's currency, as each order keeps it (docs/concepts/currencies.md).
        if order.account_total is None:
            row["unconverted_orders"] += 1
        else:
            row["amount_spent"] += order.account_total - order.account_refunded
            row["discount_total"] += order.account_discount
        if row["first_order_at"] is None or order.placed_at < row["first_order_at"]:
            row["first_order_at"] = order.placed_at
        if row["last_order_at"] is None or order.placed_at > row["last_order_at"]:
            row["last_order_at"] = order.placed_at
    for line in OrderLine.objects.filter(order_id__in=list(orders)):
        order = orders[line.order_id]
        row = figures[order.customer_id]
        if order.status != OrderStatus.CANCELLED:
            row["units"] += line.quantity
        row["returned_units"] += line.returned_quantity
    for usage in PromoCodeUsage.objects.filter(order_id__in=list(orders)).only("order_id"):
        figures[orders[usage.order_id].customer_id]["promo_codes_used"] += 1
    for feedback in Feedback.objects.filter(order_id__in=list(orders), rating__lte=negative).only("order_id"):
        figures[orders[feedback.order_id].customer_id]["negative_feedbacks"] += 1
    return figures


def check_sample(sample_size=300, seed=7):
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    sample = sorted(random.Random(seed).sample(ids, min(sample_size, len(ids))))
    mismatches = []
    for start in range(0, len(sample), 500):
        chunk = sample[start : start + 500]
        naive = _naive_figures(chunk)
        for customer in Customer.objects.filter(pk__in=chunk).only("pk", *FIELDS):
            for name in FIELDS:
                kept, expected = getattr(customer, name), naive[customer.pk][name]
                if kept != expected:
                    mismatches.append(
                        {"customer": customer.pk, "field": name, "kept": str(kept), "naive": str(expected)}
                    )
    return {"sample_size": len(sample), "mismatches": mismatches[:20], "mismatch_count": len(mismatches)}


def _naive_totals():
    negative = get_setting("NEGATIVE_FEEDBACK_MAX_RATING")
    totals = defaultdict(int)
    cancelled_orders = set()
    orders = Order.objects.order_by().values_list(
        "pk", "status", "account_total", "account_refunded", "account_discount"
    )
    for pk, status, total, refunded, discount in orders.iterator(chunk_size=20_000):
        if status == OrderStatus.CANCELLED:
            cancelled_orders.add(pk)
        totals["orders_count"] += 1
        if total is None:
            totals["unconverted_orders"] += 1
        else:
            totals["amount_spent"] += total - refunded
            totals["discount_total"] += discount
    lines = OrderLine.objects.order_by().values_list("order_id", "quantity", "returned_quantity")
    for order_id, quantity, returned in lines.iterator(chunk_size=20_000):
        if order_id not in cancelled_orders:
            totals["units"] += quantity
        totals["returned_units"] += returned
    totals["promo_codes_used"] = PromoCodeUsage.objects.count()
    totals["negative_feedbacks"] = Feedback.objects.filter(rating__lte=negative).count()
    totals["customers_with_orders"] = len(
        set(Order.objects.order_by().values_list("customer_id", flat=True).distinct())
    )
    return totals


def _kept_totals():
    totals = defaultdict(int)
    rows = Customer.objects.order_by().values_list(*SUMMED)
    for row in rows.iterator(chunk_size=20_000):
        for name, value in zip(SUMMED, row, strict=True):
            totals[name] += value
        if row[0]:
            totals["customers_with_orders"] += 1
    return totals


def check_totals():
    naive, kept = _naive_totals(), _kept_totals()
    # The watched flag the database keeps (services/watched_flag.py) against the watchlist's own rows: the customers
    # flagged, and those whose flag and entry disagree (a flag on the wrong customer would keep the count).
    naive["watched"] = WatchlistEntry.objects.values("customer_id").distinct().count()
    kept["watched"] = Customer.objects.filter(watched=True).count()
    naive["watched_mismatches"] = 0
    kept["watched_mismatches"] = (
        Customer.objects.filter(watched=True, watchlist_entry__isnull=True).count()
        + Customer.objects.filter(watched=False, watchlist_entry__isnull=False).count()
    )
    names = (*SUMMED, "customers_with_orders", "watched", "watched_mismatches")
    return {
        name: {"kept": str(kept[name]), "naive": str(naive[name]), "ok": kept[name] == naive[name]} for name in names
    }


def run_gate(sample_size=300):
    """Both checks; ``ok`` is False when any figure differs."""
    sample = check_sample(sample_size)
    totals = check_totals()
    ok = sample["mismatch_count"] == 0 and all(entry["ok"] for entry in totals.values())
    return {"ok": ok, "sample": sample, "totals": totals}
