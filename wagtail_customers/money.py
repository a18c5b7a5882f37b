"""Money as the admin user reads it: ``1.234,50 €`` for a German admin, ``€1,234.50`` for an English one.

Babel's CLDR currency formats in the active Django language, which Wagtail sets to the user's preferred admin
language (account preferences) in admin views. Exports do not use this: they keep plain numbers.
"""

import copy
import functools
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    is_currency,
)
from django.conf import settings
from django.utils.translation import get_language, ngettext, to_locale

from .counts import grouped

#: What an amount is formatted in when neither the language nor its base language is known to Babel.
FALLBACK_LOCALE = "en_US"


@functools.lru_cache(maxsize=64)
def babel_locale(language_code):
    """The Babel ``Locale`` of a Django language code (``de``, ``en-us``, ``pt-br``, ``sr-latn``).

    A language Babel does not know falls back to its base language (``xx-yy`` to ``xx``), then to English,
    so a site with an unusual LANGUAGES entry still shows its amounts.
    """
    name = to_locale(language_code)
    for candidate in (name, name.split("_")[0]):
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(FALLBACK_LOCALE)


def active_locale():
    """The Babel ``Locale`` of the active Django language (the site's LANGUAGE_CODE outside a request)."""
    return babel_locale(get_language() or settings.LANGUAGE_CODE)


def format_money(amount, currency, locale=None):
    """``amount`` in ``currency`` formatted for ``locale`` (a Django language code; default: the active one).

    Empty for ``None``: callers say "not known" in their own words. A currency Babel does not know keeps its
    code after the locale's number (``1.234,50 XYZ``) rather than Babel's glued-on ``XYZ1,234.50``.
    """
    if amount is None:
        return ""
    babel = babel_locale(locale) if locale else active_locale()
    code = (currency or "").strip().upper()
    # Half up, as the stored averages and the exports' cells are rounded: Babel's own rounding is half to even,
    # which showed a ¥1,000.50 average as ¥1,000 and ¥1,001.50 as ¥1,002.
    amount = (amount if isinstance(amount, Decimal) else Decimal(str(amount))).quantize(
        currency_unit(code), rounding=ROUND_HALF_UP
    )
    if pattern := currency_pattern(babel, code):
        return pattern.apply(amount, babel, currency=code)
    if is_currency(code, babel):
        return format_currency(amount, code, locale=babel)
    number = format_decimal(amount, format="#,##0.00", locale=babel, decimal_quantization=True)
    return f"{number}\N{NO-BREAK SPACE}{code}" if code else number


@functools.lru_cache(maxsize=256)
def currency_unit(code):
    """The smallest amount ``code`` is shown in, as a ``Decimal`` exponent: ``1`` for JPY, ``0.01`` for EUR, ``0.001``
    for KWD; ``0.01`` for a currency Babel does not know (shown with two decimals)."""
    return Decimal(1).scaleb(-get_currency_precision(code) if code else -2)


@functools.lru_cache(maxsize=256)
def currency_pattern(babel, code):
    """The locale's standard currency pattern with ``code``'s symbol written in, or None (an unknown currency,
    or a pattern naming the currency in words, which depends on the amount).

    What ``format_currency`` gives, for a fraction of its cost: it looks up the currency's symbol and its
    name in the locale's data for every amount, even where the pattern has no place for the name (a listing
    page of 100 rows formats about a hundred amounts)."""
    if not is_currency(code, babel):
        return None
    pattern = copy.copy(babel.currency_formats["standard"])
    parts = (*pattern.prefix, *pattern.suffix)
    if any("\N{CURRENCY SIGN}" * 3 in part for part in parts):
        return None
    symbol = get_currency_symbol(code, babel)

    def written(part):
        return part.replace("\N{CURRENCY SIGN}" * 2, code).replace("\N{CURRENCY SIGN}", symbol)

    pattern.prefix = tuple(_spaced(written(part), part.endswith("\N{CURRENCY SIGN}"), -1) for part in pattern.prefix)
    pattern.suffix = tuple(_spaced(written(part), part.startswith("\N{CURRENCY SIGN}"), 0) for part in pattern.suffix)
    return pattern


def _spaced(part, symbol_touches_number, end):
    """``part`` with a no-break space between the symbol and the number where the symbol's letter would touch a
    digit: CLDR's currency spacing (``CHF\u00a01,234.50``, not ``CHF1,234.50``), which Babel does not apply. A
    symbol that is a sign (``$``, ``€``, ``US$``) stays against the number."""
    if not symbol_touches_number or not part:
        return part
    character = part[end]
    if unicodedata.category(character)[0] in "SZ":
        return part
    return f"{part}\N{NO-BREAK SPACE}" if end == -1 else f"\N{NO-BREAK SPACE}{part}"


def format_rate(rate, locale=None):
    """An exchange rate as the user reads numbers: up to six decimals (``0,923456`` in German), or six significant
    digits for a rate under 0.1 (1 VND = ``0.0000366`` EUR, which six decimals wrote ``0.000037``, 1 % off)."""
    babel = babel_locale(locale) if locale else active_locale()
    rate = Decimal(rate)
    places = max(6, 5 - rate.adjusted()) if rate else 6
    return format_decimal(rate, format="#,##0." + "#" * places, locale=babel)


def unconverted_note(count):
    """What an amount that leaves out ``count`` unconverted orders says it is (screen readers, tooltips)."""
    return ngettext(
        "Incomplete: %(count)s order has no exchange rate into this currency.",
        "Incomplete: %(count)s orders have no exchange rate into this currency.",
        count,
    ) % {"count": grouped(count)}
