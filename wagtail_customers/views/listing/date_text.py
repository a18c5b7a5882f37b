"""Datetimes as Django's ``date`` filter writes them, without its per-call cost, for the listing's date cells.

The filter parses the format, builds a ``DateFormat`` and looks each piece's translation up again for every
value (a month's abbreviation, "p.m."): about a tenth of a 100-row page's time. Here the format is split once,
and each format character's text is kept per language and per the fields of the datetime it is made from
(``N`` from the month, ``P`` from the hour and minute), so a page's dates share their months, days and times
of day. Each text is still Django's own (``DateFormat``'s method, called the first time); a format with a
character that reads the time zone or the exact instant (``c``, ``e``, ``I``, ``O``, ``r``, ``T``, ``u``,
``U``, ``Z``) goes through the filter. tests/test_listing_date_text.py compares both for every character.
"""

import functools
from datetime import datetime

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.defaultfilters import date as date_filter
from django.utils.dateformat import DateFormat, re_escaped, re_formatchars
from django.utils.formats import get_format
from django.utils.translation import get_language


def _hour(value):
    return value.hour


def _hour_and_minute(value):
    return value.hour, value.minute


def _month(value):
    return value.month


def _day(value):
    return value.day


def _year(value):
    return value.year


def _date(value):
    return value.year, value.month, value.day


#: Each format character kept, with the fields of the datetime its text depends on (``dateformat``'s methods).
FIELDS_OF = {
    "a": lambda value: value.hour > 11,
    "A": lambda value: value.hour > 11,
    "f": _hour_and_minute,
    "P": _hour_and_minute,
    "g": _hour,
    "G": _hour,
    "h": _hour,
    "H": _hour,
    "i": lambda value: value.minute,
    "s": lambda value: value.second,
    "b": _month,
    "E": _month,
    "F": _month,
    "M": _month,
    "m": _month,
    "n": _month,
    "N": _month,
    "d": _day,
    "j": _day,
    "S": _day,
    "y": _year,
    "Y": _year,
    "L": _year,
    "t": lambda value: (value.year, value.month),
    "D": _date,
    "l": _date,
    "w": _date,
    "o": _date,
    "W": _date,
    "z": _date,
}

#: Texts kept: (language, character, fields) -> text. A day's minutes in a few languages fit; emptied when full.
_TEXTS = {}
_MAX_TEXTS = 8192


@functools.lru_cache(maxsize=64)
def _pieces(format_string, language):
    """The format as ``DateFormat.format`` splits it: (character, fields) for a format character, the text
    itself between them; None when a character is not one kept here."""
    pieces = []
    # As the filter does: a format may be a setting's name ("DATETIME_FORMAT"), resolved for the language, and
    # no format is the language's DATE_FORMAT.
    resolved = get_format(format_string or "DATE_FORMAT", lang=language)
    for index, piece in enumerate(re_formatchars.split(str(resolved))):
        if index % 2:
            if piece not in FIELDS_OF:
                return None
            pieces.append((piece, FIELDS_OF[piece]))
        elif piece:
            pieces.append(re_escaped.sub(r"\1", piece))
    return tuple(pieces)


@receiver(setting_changed, dispatch_uid="wagtail_customers.date_text.forget")
def forget_kept_texts(**kwargs):
    """A changed setting (a format, the format modules, the locale paths; tests change them) may change a text."""
    _pieces.cache_clear()
    _TEXTS.clear()


def format_datetime(value, format_string):
    """``{{ value|date:format_string }}`` for ``value`` already in local time (``template_localtime``)."""
    language = get_language()
    pieces = _pieces(format_string, language) if isinstance(value, datetime) else None
    if pieces is None:
        return date_filter(value, format_string)
    texts = []
    formatter = None
    for piece in pieces:
        if type(piece) is str:
            texts.append(piece)
            continue
        character, fields_of = piece
        key = (language, character, fields_of(value))
        text = _TEXTS.get(key)
        if text is None:
            if formatter is None:
                formatter = DateFormat(value)
            text = str(getattr(formatter, character)())
            if len(_TEXTS) >= _MAX_TEXTS:
                _TEXTS.clear()
            _TEXTS[key] = text
        texts.append(text)
    return "".join(texts)
