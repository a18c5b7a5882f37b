"""The ingestion service's checks of an incoming order, before anything is written (``validated``).

Every refusal is an ``IngestionError`` naming the order, and the line or amount, in a whole translatable sentence;
amounts must be finite numbers the money columns hold (``limits.MONEY_LIMIT``), quantities fit an integer column.
"""

import numbers
import re
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ..countries import normalise_country
from ..limits import LARGEST_INTEGER, MONEY_LIMIT, decimal_from_text
from ..local_time import stored_moment
from ..models import Channel
from .input_shapes import check_shapes
from .inputs import ZERO

CURRENCY_CODE = re.compile(r"[A-Z]{3}")
#: The order's moments, each kept as the site's datetime columns take it (``local_time.stored_moment``).
ORDER_MOMENTS = ("placed_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at", "refunded_at", "returned_at")

CENT = Decimal("0.01")
#: Amounts within half a cent are the same stored amount (the database rounds to cents).
HALF_CENT = Decimal("0.005")
#: The money columns hold 14 digits, 2 after the point: an amount must round to cents below ``MONEY_LIMIT``.
TOO_LARGE = MONEY_LIMIT - HALF_CENT
#: An amount written with an exponent at or below this is refused: PostgreSQL's number input takes none below -1000.
SMALLEST_EXPONENT = -100
LARGEST_AMOUNT_TEXT = "999,999,999,999.99"
#: The order's amounts checked by ``_check_amounts``, with how a message names them (``%(amount)s`` in the messages
#: of ``_check_amount``; marked here, translated when a message is built).
ORDER_AMOUNTS = (
    ("subtotal", gettext_noop("the subtotal")),
    ("discount", gettext_noop("the order discount")),
    ("shipping", gettext_noop("the shipping")),
    ("tax", gettext_noop("the tax")),
    ("total", gettext_noop("the total")),
    ("refunded", gettext_noop("the refunded amount")),
    ("channel_fees", gettext_noop("the channel fees")),
    ("fulfilment_cost", gettext_noop("the fulfilment cost")),
    ("account_total", gettext_noop("the total in the account's currency")),
    ("account_refunded", gettext_noop("the refunded amount in the account's currency")),
    ("account_discount", gettext_noop("the discount in the account's currency")),
)
LINE_AMOUNTS = (
    ("unit_price", gettext_noop("the unit price")),
    ("line_total", gettext_noop("the line total")),
    ("discount", gettext_noop("the discount")),
    ("unit_cost", gettext_noop("the unit cost")),
)


class IngestionError(ValueError):
    """An order the service cannot record; the message says which and why. ``order_id``: the order's id, when the
    error is about one order (an import names the order's row with it)."""

    def __init__(self, message, order_id=None):
        super().__init__(message)
        self.order_id = order_id


def validated(account, order_data):
    """``order_data`` checked and completed for recording (stripped id, aware date, computed line totals, subtotal
    and total, the account's channel and currency where none is given, the country's ISO code); raises
    ``IngestionError`` naming the order and what is wrong."""
    check_shapes(order_data, IngestionError)
    if not str(order_data.external_id or "").strip():
        raise IngestionError(_("An order has no order id."))
    order_data.external_id = str(order_data.external_id).strip()
    if order_data.placed_at is None:
        raise IngestionError(
            _("Order %(order)s: no order date.") % {"order": order_data.external_id}, order_id=order_data.external_id
        )
    if len(order_data.external_id) > 100:
        raise IngestionError(
            _("Order %(order)s…: the order id is longer than 100 characters.") % {"order": order_data.external_id[:40]},
            order_id=order_data.external_id,
        )
    if len(order_data.customer.external_id.strip()) > 255:
        raise IngestionError(
            _("Order %(order)s: the buyer id is longer than 255 characters.") % {"order": order_data.external_id},
            order_id=order_data.external_id,
        )
    if len(order_data.customer.email.strip()) > 254:
        raise IngestionError(
            _("Order %(order)s: the e-mail is longer than 254 characters.") % {"order": order_data.external_id},
            order_id=order_data.external_id,
        )
    # The site's TIME_ZONE for a naive date, not the admin user's: the same file must give the same dates.
    for name in ORDER_MOMENTS:
        setattr(order_data, name, stored_moment(getattr(order_data, name)))
    if order_data.feedback is not None:
        order_data.feedback.left_at = stored_moment(order_data.feedback.left_at)
    _as_decimals(order_data)
    for number, line in enumerate(order_data.lines, start=1):
        if line.quantity is None or line.quantity < 0:
            raise IngestionError(
                _("Order %(order)s: quantity %(quantity)s is negative.")
                % {"order": order_data.external_id, "quantity": line.quantity},
                order_id=order_data.external_id,
            )
        if line.quantity > LARGEST_INTEGER:
            raise IngestionError(
                _("Order %(order)s: quantity %(quantity)s is too large (at most %(largest)s).")
                % {"order": order_data.external_id, "quantity": line.quantity, "largest": LARGEST_INTEGER},
                order_id=order_data.external_id,
            )
        if line.returned_quantity < 0 or line.returned_quantity > line.quantity:
            raise IngestionError(
                _("Order %(order)s: returned quantity %(returned)s is not between 0 and the quantity %(quantity)s.")
                % {"order": order_data.external_id, "returned": line.returned_quantity, "quantity": line.quantity},
                order_id=order_data.external_id,
            )
        for name, label in LINE_AMOUNTS:
            _check_amount(order_data, getattr(line, name), label, number, line)
        if line.line_total is None:
            line.line_total = line.unit_price * line.quantity
            _check_amount(order_data, line.line_total, gettext_noop("the line total"), number, line)
    if order_data.feedback is not None and not 1 <= order_data.feedback.rating <= 5:
        raise IngestionError(
            _("Order %(order)s: feedback rating %(rating)s is not from 1 to 5.")
            % {"order": order_data.external_id, "rating": order_data.feedback.rating},
            order_id=order_data.external_id,
        )
    _check_amounts(order_data)
    _each_code_once(order_data)
    order_data.channel = (order_data.channel or account.channel).strip().lower()
    if order_data.channel not in Channel.values:
        raise IngestionError(
            _("Order %(order)s: channel %(channel)s is not one of %(channels)s.")
            % {
                "order": order_data.external_id,
                "channel": repr(order_data.channel),
                "channels": ", ".join(Channel.values),
            },
            order_id=order_data.external_id,
        )
    order_data.currency = (order_data.currency or account.currency).strip().upper()
    if not CURRENCY_CODE.fullmatch(order_data.currency):
        raise IngestionError(
            _("Order %(order)s: currency %(currency)s is not a 3-letter ISO 4217 code.")
            % {"order": order_data.external_id, "currency": repr(order_data.currency)},
            order_id=order_data.external_id,
        )
    # An ISO 3166-1 code when the country is recognised, else kept as written (countries.py).
    order_data.ship_to.country = normalise_country(order_data.ship_to.country)
    _round_to_cents(order_data)
    return order_data


def _each_code_once(order_data):
    """One usage per promo code (compared as written, as the customer page groups them): a code given twice on one
    order (a file's "SAVE10,SAVE10", a shop's code on the order and on a line) was used once, with both discounts."""
    by_code = {}
    for promo in order_data.promo_codes:
        if promo.code in by_code:
            combined = by_code[promo.code]
            by_code[promo.code] = replace(combined, discount=combined.discount + promo.discount)
        else:
            by_code[promo.code] = promo
    if len(by_code) == len(order_data.promo_codes):
        return
    order_data.promo_codes = list(by_code.values())
    for promo in order_data.promo_codes:
        _check_amount(
            order_data, promo.discount, gettext_noop("the discount of promo code %(code)s"), code=str(promo.code)[:40]
        )


#: Amounts that are 0 when not given (``None`` from a site's own code means that too); the others may be ``None``.
ZERO_WHEN_NOT_GIVEN = {"discount", "shipping", "tax", "refunded", "unit_price"}


def _as_decimals(order_data):
    """Floats as the Decimals they are written as (``0.1``, not the binary 0.1000000000000000055...), integers and
    strings of a number ("12.50") as Decimals, and ``None`` for an amount that defaults to 0 as 0: the checks and sums
    below take Decimals (a float, a string or ``None`` there was a ``TypeError`` instead of a message). Anything
    else is left as it is, for ``_check_amount`` to refuse as no number."""

    def decimal(value, name):
        if value is None:
            return ZERO if name in ZERO_WHEN_NOT_GIVEN else None
        if isinstance(value, float):
            return Decimal(repr(float(value)))  # float(): numpy's repr is np.float64(0.1)
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return Decimal(int(value))
        if isinstance(value, str):
            # Not "12,50", nor "1_234": left as text, refused below as no number.
            number = decimal_from_text(value.strip())
            return value if number is None else number
        return value

    for name, _label in ORDER_AMOUNTS:
        setattr(order_data, name, decimal(getattr(order_data, name), name))
    for line in order_data.lines:
        for name, _label in LINE_AMOUNTS:
            setattr(line, name, decimal(getattr(line, name), name))
    for promo in order_data.promo_codes:
        promo.discount = decimal(promo.discount, "discount")
    order_data.exchange_rate = decimal(order_data.exchange_rate, "exchange_rate")


def _round_to_cents(order_data):
    """Every amount as the money columns keep it: to cents, half up (after the totals computed from the lines, so
    a line total is the channel's quantity x price). SQLite stores what it is given and rounds only when read, half
    to even: four orders of 1.005 read 1.00 each while their customer's sum read 4.02."""
    for name, _label in ORDER_AMOUNTS:
        setattr(order_data, name, in_cents(getattr(order_data, name)))
    for line in order_data.lines:
        for name, _label in LINE_AMOUNTS:
            setattr(line, name, in_cents(getattr(line, name)))
    for promo in order_data.promo_codes:
        promo.discount = in_cents(promo.discount)


def in_cents(value):
    """``value`` (a checked amount, or None) rounded to cents half up; a float by its shortest text (1.005, not the
    binary 1.00499...)."""
    if value is None:
        return None
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def _check_amount(order_data, value, label, line_number=None, line=None, **label_values):
    """Refuse, naming the order (and the line, if given), an amount that is not a finite number or does not fit the
    money columns; ``None``, an amount not given, passes. ``label`` names the amount untranslated (marked with
    ``gettext_noop``), ``label_values`` fill its placeholders, if any."""
    if value is None or _fits(value):
        return  # the usual case, without building a message (comparisons, unlike abs(), never overflow)
    sku = ""
    if line is not None and isinstance(line.sku, str):
        sku = line.sku.strip()[:40]
    number = _finite(value)
    values = {
        "order": order_data.external_id,
        "amount": _(label) % label_values if label_values else _(label),
        "line": line_number,
        "sku": sku,
        "value": short_number(value if number is None else number),
        "limit": LARGEST_AMOUNT_TEXT,
    }
    # Each message in three forms: an amount of the order, of a line with a SKU, of a line without one. %(amount)s
    # names the amount as "the subtotal", "the unit price" or "the discount of promo code %(code)s" do.
    if number is None:
        if line is None:
            message = _("Order %(order)s: %(amount)s is not a number (%(value)s).")
        elif sku:
            message = _("Order %(order)s: %(amount)s of line %(line)s (%(sku)s) is not a number (%(value)s).")
        else:
            message = _("Order %(order)s: %(amount)s of line %(line)s is not a number (%(value)s).")
    elif number.copy_abs() >= TOO_LARGE:
        if line is None:
            message = _("Order %(order)s: %(amount)s (%(value)s) is too large for an amount (at most %(limit)s).")
        elif sku:
            message = _(
                "Order %(order)s: %(amount)s of line %(line)s (%(sku)s) (%(value)s) is too large for an amount (at "
                "most %(limit)s)."
            )
        else:
            message = _(
                "Order %(order)s: %(amount)s of line %(line)s (%(value)s) is too large for an amount (at most "
                "%(limit)s)."
            )
    elif number.adjusted() <= SMALLEST_EXPONENT:
        if line is None:
            message = _("Order %(order)s: %(amount)s (%(value)s) is not an amount (too many decimal places).")
        elif sku:
            message = _(
                "Order %(order)s: %(amount)s of line %(line)s (%(sku)s) (%(value)s) is not an amount (too many "
                "decimal places)."
            )
        else:
            message = _(
                "Order %(order)s: %(amount)s of line %(line)s (%(value)s) is not an amount (too many decimal places)."
            )
    else:
        return
    raise IngestionError(message % values, order_id=order_data.external_id)


def _fits(value):
    """Whether ``value`` is a Decimal the money columns take as it is: finite, below ``TOO_LARGE``, and not written
    with an exponent so small that PostgreSQL's number input refuses it (``1E-1001``; it rounds anything else)."""
    return (
        isinstance(value, Decimal)
        and value.is_finite()
        and -TOO_LARGE < value < TOO_LARGE
        and value.adjusted() > SMALLEST_EXPONENT
    )


def short_number(value):
    """``value`` for a message: as written when short, else in scientific notation (``1E+1000000`` must not print a
    million digits)."""
    if isinstance(value, Decimal) and value.is_finite():
        return f"{value:f}" if value.adjusted() < 20 else f"{value:.6E}"
    text = str(value)
    return text if len(text) <= 24 else f"{text[:20]}…"


def _finite(value):
    """``value`` as a finite Decimal, or None (NaN, Infinity, not a number)."""
    if isinstance(value, bool):
        return None  # Decimal reads True as 1; no amount is written so
    if isinstance(value, str):
        number = decimal_from_text(value)
    else:
        try:
            number = value if isinstance(value, Decimal) else Decimal(value)
        except (TypeError, ValueError, InvalidOperation):
            return None
    return number if number is not None and number.is_finite() else None


def _check_amounts(order_data):
    """Check the order's own amounts and promo codes, then those the service computes from them: the subtotal and
    total when not given, and the discounts the customer's "discount received" counts (order and lines)."""
    for name, label in ORDER_AMOUNTS:
        _check_amount(order_data, getattr(order_data, name), label)
    for promo in order_data.promo_codes:
        if not _fits(promo.discount):
            _check_amount(
                order_data,
                promo.discount,
                gettext_noop("the discount of promo code %(code)s"),
                code=str(promo.code)[:40],
            )
    rate = order_data.exchange_rate
    if rate is not None and _finite(rate) is None:
        raise IngestionError(
            _("Order %(order)s: the exchange rate is not a number (%(rate)s).")
            % {"order": order_data.external_id, "rate": rate},
            order_id=order_data.external_id,
        )
    if rate is not None and rate <= 0:
        # A rate of 0 would store the order as converted to 0.00: counted as nothing spent, not as unconverted.
        raise IngestionError(
            _("Order %(order)s: the exchange rate must be above 0, not %(rate)s.")
            % {"order": order_data.external_id, "rate": rate},
            order_id=order_data.external_id,
        )
    if order_data.subtotal is None:
        order_data.subtotal = sum((line.line_total for line in order_data.lines), ZERO)
        _check_amount(order_data, order_data.subtotal, gettext_noop("the subtotal"))
    if order_data.total is None:
        order_data.total = order_data.subtotal - order_data.discount + order_data.shipping + order_data.tax
        _check_amount(order_data, order_data.total, gettext_noop("the total"))
    discounts = order_data.discount + sum((line.discount for line in order_data.lines), ZERO)
    _check_amount(order_data, discounts, gettext_noop("the sum of the order and line discounts"))
