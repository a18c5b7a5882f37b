"""An order's money in its seller account's currency: one definition, for ingestion, the rate refresh and
the data migration's successors (docs/concepts/currencies.md).

Rules:

* same currency: the order's own amounts, rate 1 (``RateSource.SAME``);
* the channel gave converted figures (Shopify's shop money, ...): those, and for a figure it did not give,
  the order's amount at the channel's rate (given, or implied by its converted total)
  (``RateSource.CHANNEL``);
* else the site's rate table at the order's date (``RateSource.TABLE``);
* no rate: every converted amount ``None`` (``RateSource.UNKNOWN``), never 0.

Amounts are rounded half up, from the rate at full precision, to the account currency's smallest unit as the money
columns keep it (``minor_unit``: a yen for JPY, a cent for EUR, and a cent for the 3-decimal dinars too); the
stored ``exchange_rate`` is that rate to 10 places.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel.numbers import get_currency_precision
from django.utils import timezone

from ..exchange_rates import quantized_rate, rate_for
from ..limits import MONEY_LIMIT
from ..models import RateSource

CENT = Decimal("0.01")
ZERO = Decimal("0")


@dataclass(frozen=True)
class Converted:
    """The columns ``exchange_rate``, ``rate_source``, ``account_total``, ``account_refunded``, ``account_discount``."""

    exchange_rate: Decimal | None
    rate_source: str
    total: Decimal | None
    refunded: Decimal | None
    discount: Decimal | None

    def as_tuple(self):
        return (self.exchange_rate, self.rate_source, self.total, self.refunded, self.discount)


#: The order columns ``Converted.as_tuple`` fills, in that order.
CONVERTED_FIELDS = ("exchange_rate", "rate_source", "account_total", "account_refunded", "account_discount")


def rate_date(placed_at):
    """The day whose rate converts an order: its date in the site's time zone (not the admin user's)."""
    if timezone.is_naive(placed_at):
        return placed_at.date()
    return timezone.localtime(placed_at, timezone.get_default_timezone()).date()


@cache
def minor_unit(currency):
    """The smallest amount of ``currency`` the money columns keep: ``Decimal("1")`` for a currency without decimals
    (JPY, KRW: converted amounts in whole yen add up to what the admin shows), ``Decimal("0.01")`` for the others
    (the columns keep 2 decimals, so KWD's third is not kept)."""
    places = get_currency_precision(str(currency).upper())
    return Decimal(1).scaleb(-min(places, 2))


def in_account_currency(amount, rate, account_currency):
    """``amount`` x ``rate``, rounded half up to the account currency's ``minor_unit``."""
    return (Decimal(amount) * rate).quantize(minor_unit(account_currency), rounding=ROUND_HALF_UP)


def convert(
    *,
    currency,
    account_currency,
    placed_at,
    total,
    refunded,
    discount,
    channel_rate=None,
    channel_total=None,
    channel_refunded=None,
    channel_discount=None,
    rates=None,
):
    """Convert an order's total, refunded and discount (order + line discounts) into the account's currency.

    ``rates`` is an optional dict used as a cache of ``rate_for`` answers, keyed by (from, to, date), for
    callers converting many orders at once.
    """
    if currency.upper() == account_currency.upper():
        return Converted(Decimal(1), RateSource.SAME, Decimal(total), Decimal(refunded), Decimal(discount))

    given = {"total": channel_total, "refunded": channel_refunded, "discount": channel_discount}
    rate, source = channel_rate, RateSource.CHANNEL
    if rate is None and channel_total is not None and total > 0 and channel_total > 0:
        rate = Decimal(channel_total) / Decimal(total)
    if rate is None:
        rate = _table_rate(currency, account_currency, placed_at, rates)
        source = RateSource.TABLE if all(value is None for value in given.values()) else RateSource.CHANNEL
    amounts = {"total": total, "refunded": refunded, "discount": discount}
    figures = {}
    for name, amount in amounts.items():
        if given[name] is not None:
            figures[name] = Decimal(given[name]).quantize(minor_unit(account_currency), rounding=ROUND_HALF_UP)
        elif rate is not None:
            figures[name] = in_account_currency(amount, rate, account_currency)
        elif not amount:
            figures[name] = ZERO.quantize(CENT)
        else:
            return Converted(None, RateSource.UNKNOWN, None, None, None)
    if rate is None and source == RateSource.TABLE:
        return Converted(None, RateSource.UNKNOWN, None, None, None)
    if any(abs(value) >= MONEY_LIMIT for value in figures.values()):
        # Too large for the amount columns (14 digits, 2 after the point): PostgreSQL would refuse the batch.
        return Converted(None, RateSource.UNKNOWN, None, None, None)
    return Converted(quantized_rate(rate), source, figures["total"], figures["refunded"], figures["discount"])


def _table_rate(currency, account_currency, placed_at, rates):
    key = (currency.upper(), account_currency.upper(), rate_date(placed_at))
    if rates is None:
        return rate_for(*key)
    if key not in rates:
        rates[key] = rate_for(*key)
    return rates[key]
