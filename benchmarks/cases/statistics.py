"""Statistics rebuild: after corrupting 1 % of the customers' figures (what a ``QuerySet.update()``
or raw SQL behind the ingestion service's back leaves), and from zero (every figure wiped).

Both must put every row back: the number of rows the rebuild corrects is checked against the
number corrupted, and the correctness gate runs again afterwards.
"""

from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from wagtail_customers.models import Customer
from wagtail_customers.services.statistics import rebuild_statistics

from ..measure import summarise, timed

WIPED = {
    "orders_count": 0,
    "units": 0,
    "amount_spent": Decimal("0"),
    "discount_total": Decimal("0"),
    "promo_codes_used": 0,
    "negative_feedbacks": 0,
    "returned_units": 0,
    "unconverted_orders": 0,
    "first_order_at": None,
    "last_order_at": None,
}


def _corrupt_some(seed_offset):
    """Corrupt every hundredth customer (shifted per run); returns how many rows were corrupted."""
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[seed_offset % 100 :: 100])
    for start in range(0, len(ids), 5000):
        Customer.objects.filter(pk__in=ids[start : start + 5000]).update(
            orders_count=F("orders_count") + 1, amount_spent=F("amount_spent") + Decimal("9.99")
        )
    return len(ids)


def _wipe_all():
    Customer.objects.update(**WIPED)
    return Customer.objects.filter(orders__isnull=False).distinct().count()


def _snapshot():
    rows = Customer.objects.order_by().values_list("pk", *Customer.STATISTICS_FIELDS)
    return {row[0]: row[1:] for row in rows.iterator(chunk_size=20_000)}


def _differences(before, after):
    """Customers whose figures after the rebuild are not the ones they had before the corruption."""
    differing = []
    for pk, figures in after.items():
        if before.get(pk) != figures:
            changed = {
                name: [str(old), str(new)]
                for name, old, new in zip(Customer.STATISTICS_FIELDS, before.get(pk, ()), figures, strict=False)
                if old != new
            }
            differing.append({"customer": pk, "fields": changed})
    return differing


def _measure(prepare, repeat):
    seconds, corrected, expected, queries, differing = [], [], [], None, []
    for index in range(repeat):
        before = _snapshot()
        expected.append(prepare(index))
        with CaptureQueriesContext(connection) as captured:
            elapsed, rows = timed(rebuild_statistics)
        seconds.append(elapsed)
        corrected.append(rows)
        queries = len(captured)
        differing += _differences(before, _snapshot())
    figures = summarise(seconds)
    figures.update(
        queries=queries,
        rows_corrected=corrected,
        rows_expected=expected,
        all_corrected=corrected == expected,
        # Every row back exactly as it was before the corruption.
        restored_exactly=not differing,
        not_restored=differing[:10],
    )
    return figures


def run(repeat, log=print):
    results = {}
    results["after_corrupting_1pct"] = _measure(_corrupt_some, repeat)
    log(_line("after corrupting 1 %", results["after_corrupting_1pct"]))
    results["from_zero"] = _measure(lambda _index: _wipe_all(), repeat)
    log(_line("from zero", results["from_zero"]))
    results["customers"] = Customer.objects.count()
    return results


def _line(label, figures):
    return (
        f"    rebuild {label:<22} p50 {figures['median_ms'] / 1000:>7.2f} s  max {figures['max_ms'] / 1000:>7.2f} s"
        f"  q={figures['queries']}  corrected {figures['rows_corrected']} of {figures['rows_expected']}"
        + ("" if figures["restored_exactly"] else f"  NOT RESTORED: {figures['not_restored'][:3]}")
    )
