"""What an import does with money in other currencies, for the preview (and the applied import's report).

The figures are read from the orders as the import records them (inside its transaction, so the dry run's
rolled-back orders give exactly what the real run will store): per currency of the file, how many orders
keep the account's currency, are converted with the channel's own figures or with the site's exchange-rate
table at their date, and how many have no rate at all (their amounts will not count in their customers'
amount spent, which is then marked incomplete). See docs/concepts/currencies.md.
"""

from django.db.models import Count

from ..models import Order, RateSource

#: Order ids per ``pk IN (...)`` query (below every database's parameter limit).
ID_BATCH = 900
#: How each ``RateSource`` is counted in a currency's summary, in the order the preview lists them.
SOURCE_KEYS = {
    RateSource.SAME: "same",
    RateSource.CHANNEL: "channel",
    RateSource.TABLE: "table",
    RateSource.UNKNOWN: "without_rate",
}


def currency_summary(order_ids):
    """``[{"currency", "orders", "same", "channel", "table", "without_rate"}, ...]`` for the recorded orders,
    the account's own currency first, then the most frequent."""
    by_currency = {}
    for start in range(0, len(order_ids), ID_BATCH):
        counts = (
            Order.objects.filter(pk__in=order_ids[start : start + ID_BATCH])
            .order_by()
            .values_list("currency", "rate_source")
            .annotate(orders=Count("pk"))
        )
        for currency, source, orders in counts:
            entry = by_currency.setdefault(
                currency, {"currency": currency, "orders": 0, **dict.fromkeys(SOURCE_KEYS.values(), 0)}
            )
            entry["orders"] += orders
            entry[SOURCE_KEYS.get(source, "without_rate")] += orders
    return sorted(by_currency.values(), key=lambda entry: (-entry["same"], -entry["orders"], entry["currency"]))
