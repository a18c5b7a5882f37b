"""How the buyer-insight figures read on screen and in exports: one text per figure, shared by the listing's
cells and the customer page. The definitions are in docs/concepts/buyer-insight.md."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _


def score_of(customer):
    """The customer's ``CustomerScore``, or None before the first refresh scores them (no query when the
    listing's ``select_related("score")`` loaded it, missing or not)."""
    return getattr(customer, "score", None)


def decimal_text(value, decimals):
    """``value`` with ``decimals`` places in the active language's number format, rounded half away from zero:
    Django's ``number_format`` cuts the digits beyond them (1.99 read 1.9, and 86.99 % read 86 %)."""
    places = Decimal(1).scaleb(-decimals)
    return number_format(
        Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP), decimal_pos=decimals, use_l10n=True
    )


def percent_text(value, decimals=1):
    """``33.3 %`` in the active language's number format; empty for None."""
    if value is None:
        return ""
    return _("%(rate)s %%") % {"rate": decimal_text(value, decimals)}


def yes_no_text(value):
    return _("Yes") if value else _("No")


def days_since(moment, now):
    """Whole days from ``moment`` to ``now`` (0 on the day itself); None without a moment."""
    return None if moment is None else max((now - moment).days, 0)


def _repeat_buyer():
    return lambda customer: yes_no_text(customer.orders_count >= 2)


def _days_since_last_order():
    # One "now" per page or file, so every row counts from the same moment.
    now = timezone.now()

    def text(customer):
        days = days_since(customer.last_order_at, now)
        return "" if days is None else number_format(days, force_grouping=True)

    return text


def _return_rate():
    return lambda customer: percent_text(customer.return_rate)


def _rfm_score():
    def text(customer):
        score = score_of(customer)
        return score.rfm if score else ""

    return text


def _score_text(name, as_text):
    """A factory of ``customer -> text`` for one of the scores' figures (empty until scored or predicted)."""

    def factory():
        def text(customer):
            value = getattr(score_of(customer), name, None)
            return "" if value is None else as_text(value)

        return text

    return factory


_expected_orders = _score_text("expected_orders", lambda value: decimal_text(value, 1))
_probability_active = _score_text("probability_active", lambda value: percent_text(value * Decimal(100), decimals=0))


#: Column name -> a factory of ``customer -> text`` (a factory, so "now" is read once per page).
INSIGHT_TEXTS = {
    "repeat_buyer": _repeat_buyer,
    "days_since_last_order": _days_since_last_order,
    "return_rate": _return_rate,
    "rfm_score": _rfm_score,
    "expected_orders": _expected_orders,
    "probability_active": _probability_active,
}


def _expected_spend(customer):
    score = score_of(customer)
    return score.expected_spend if score else None


#: The amount columns among the figures: column name -> ``customer -> amount`` (or None).
FIGURE_ACCESSORS = {
    "average_order_value": lambda customer: customer.average_order_value,
    "expected_spend": _expected_spend,
}
