"""The import preview's currency section, as data for the template: which currencies the file has, how each
is converted into the seller account's currency, and what to warn about (orders with no exchange rate)."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy

from ...counts import grouped


@dataclass
class CurrencyRow:
    currency: str
    orders: int
    #: How its orders are converted, one phrase per way (the ways taken by at least one order).
    conversions: list = field(default_factory=list)
    without_rate: int = 0


@dataclass
class CurrencySection:
    account_currency: str
    orders: int
    rows: list
    #: Orders in a currency other than the account's, and those of them no rate converts.
    foreign_orders: int
    without_rate: int

    @property
    def foreign_currencies(self):
        return [row.currency for row in self.rows if row.currency != self.account_currency]

    @property
    def foreign_currencies_text(self):
        return ", ".join(self.foreign_currencies)


def currency_section(report):
    """The section for a report (``ImportReport.as_dict()``); ``None`` for a report made before it existed."""
    summary = report.get("currencies")
    if not summary:
        return None
    account_currency = report.get("account_currency", "")
    rows = [_row(entry, account_currency) for entry in summary]
    return CurrencySection(
        account_currency=account_currency,
        orders=sum(row.orders for row in rows),
        rows=rows,
        foreign_orders=sum(entry["orders"] - entry.get("same", 0) for entry in summary),
        without_rate=sum(entry.get("without_rate", 0) for entry in summary),
    )


#: How a currency's orders are converted, one phrase per way (``importers.currencies.SOURCE_KEYS``).
CONVERSIONS = {
    "channel": ngettext_lazy(
        "%(count)s order with the channel's own amounts in %(currency)s",
        "%(count)s orders with the channel's own amounts in %(currency)s",
        "number",
    ),
    "table": ngettext_lazy(
        "%(count)s order at the site's exchange rate of its date",
        "%(count)s orders at the site's exchange rate of each order's date",
        "number",
    ),
    "without_rate": ngettext_lazy(
        "%(count)s order not converted: no exchange rate for its date",
        "%(count)s orders not converted: no exchange rate for their dates",
        "number",
    ),
}


def _row(entry, account_currency):
    conversions = [_("Not converted: the seller account's currency")] if entry.get("same") else []
    for key, phrase in CONVERSIONS.items():
        if count := entry.get(key):
            conversions.append(phrase % {"number": count, "count": grouped(count), "currency": account_currency})
    return CurrencyRow(entry["currency"], entry["orders"], conversions, entry.get("without_rate", 0))
