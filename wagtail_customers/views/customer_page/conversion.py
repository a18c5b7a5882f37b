"""How an order in another currency was counted in its seller account's currency, for the customer and
order pages: the converted amounts and where the rate came from (docs/concepts/currencies.md)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from ...conf import get_setting
from ...exchange_rates import ECBRateTable
from ...models import RateSource
from ...money import format_money, format_rate
from ...services.conversion import rate_date


def rates_are_the_ecbs():
    """Is the site's rate source the ECB table (the default)? The page then names it."""
    source = import_string(get_setting("EXCHANGE_RATES_SOURCE"))
    return isinstance(source, type) and issubclass(source, ECBRateTable)


@dataclass(frozen=True)
class Conversion:
    """An order's money in its account's currency. Only for an order whose currency differs from it."""

    currency: str
    account_currency: str
    source: str
    rate: Decimal | None
    on: date
    total: Decimal | None
    refunded: Decimal | None

    @property
    def is_known(self):
        return self.source != RateSource.UNKNOWN and self.total is not None

    def formatted_total(self):
        return format_money(self.total, self.account_currency)

    def formatted_refunded(self):
        return format_money(self.refunded, self.account_currency)

    def rate_text(self):
        """``1 USD = 0.923456 EUR``, or empty when the rate is not known."""
        if self.rate is None:
            return ""
        return f"1 {self.currency} = {format_rate(self.rate)} {self.account_currency}"

    def short_note(self):
        """Where the converted figure comes from, in a few words (the Orders tab, the timeline). "In force": on a
        weekend, a holiday or before the day's rate is published, the table gives the last one published before."""
        if self.source == RateSource.CHANNEL:
            return _("the channel's figure")
        if self.source == RateSource.TABLE:
            values = {"date": date_format(self.on, "DATE_FORMAT")}
            if rates_are_the_ecbs():
                return _("the ECB reference rate in force on %(date)s") % values
            return _("the exchange-rate table's rate in force on %(date)s") % values
        return _("no exchange rate for this date")

    def note(self):
        """The sentence of the order page."""
        values = {
            "currency": self.currency,
            "account_currency": self.account_currency,
            "date": date_format(self.on, "DATE_FORMAT"),
            "rate": self.rate_text(),
        }
        if self.source == RateSource.CHANNEL:
            if self.rate is None:
                return _("In %(account_currency)s as the channel converted it.") % values
            return _("In %(account_currency)s as the channel converted it (%(rate)s).") % values
        if self.source == RateSource.TABLE:
            if rates_are_the_ecbs():
                return _("Converted at the ECB reference rate in force on %(date)s: %(rate)s.") % values
            return _("Converted at the exchange-rate table's rate in force on %(date)s: %(rate)s.") % values
        return (
            _(
                "No exchange rate from %(currency)s to %(account_currency)s for %(date)s: this order is left out "
                "of the customer's amount spent in %(account_currency)s, which is marked incomplete."
            )
            % values
        )


def conversion_of(order, account_currency):
    """The order's ``Conversion``, or ``None`` when it is in its account's currency (nothing to convert)."""
    if order.rate_source == RateSource.SAME or order.currency == account_currency:
        return None
    return Conversion(
        currency=order.currency,
        account_currency=account_currency,
        source=order.rate_source,
        rate=order.exchange_rate,
        on=rate_date(order.placed_at),
        total=order.account_total,
        refunded=order.account_refunded,
    )
