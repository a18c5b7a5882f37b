"""Row functions compiled once per export from a resource's fields: the resource stays the one
definition of the columns, without django-import-export's per-cell widget call.

django-import-export renders a cell with ``field.widget.render(value, force_native_type=True)``; at
200,000 rows x 14 columns those are millions of calls that mostly hand the value back. Here each
column's conversion is chosen once, from its widget's class: for the widgets the plugin's resources use
(text, numbers, date-times, as django-import-export ships them) the same conversion is written out; a
widget that overrides ``render`` (a site's own) is still called. For CSV the conversion goes on to the
cell's text (what ``writers.csv_cell`` makes of the native value: formula neutraliser, dates without
their zone), so the writer gets text.

The row function itself is generated code (``[c0(row["name"]), c1(row), ...]``: at most one call per
cell, no loop over columns), built from the column keys, which are written into it with ``repr``. The text and
number cells' common case (text that starts no formula, an integer or a decimal) is written into it in place of
the call.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.encoding import force_str
from import_export import widgets

from .neutralise import FORMULA_TRIGGERS, neutralise
from .writers import csv_cell, csv_datetime


def _renders_like(widget, widget_class):
    """True if ``widget`` renders exactly as ``widget_class`` does (its own ``render`` not overridden)."""
    return isinstance(widget, widget_class) and type(widget).render is widget_class.render


#: Zone names whose local time is UTC's (``TIME_ZONE = "UTC"``, what ``startproject`` writes).
_UTC_NAMES = frozenset(("UTC", "Etc/UTC"))


def _local_tzinfo(zone):
    """The ``tzinfo`` of values already in local time: the zone's own, or the databases' ``datetime.UTC`` (what both
    drivers give) on a site in UTC. Such a value needs no conversion, only its zone dropped."""
    return datetime.UTC if zone is datetime.UTC or getattr(zone, "key", None) in _UTC_NAMES else zone


def _local_naive(widget):
    """DateTimeWidget's ``render(value, force_native_type=True)``, with the time zone looked up once."""
    zone = timezone.get_current_timezone() if settings.USE_TZ else None
    local_tzinfo = _local_tzinfo(zone)

    def convert(value):
        if not value or not isinstance(value, datetime.datetime):
            return ""
        if zone is not None and value.tzinfo is not local_tzinfo:
            value = timezone.localtime(value, zone)
        return value.replace(tzinfo=None)

    return convert


def _csv_local_moment(widget):
    """DateTimeWidget's native value as csv_cell writes it (``YYYY-MM-DD HH:MM:SS``, local time, no zone)."""
    zone = timezone.get_current_timezone() if settings.USE_TZ else None
    local_tzinfo = _local_tzinfo(zone)
    native = _local_naive(widget)

    def convert(value):
        if zone is not None and value.__class__ is datetime.datetime:
            # Formatted without the zone: an aware value's isoformat() would write its offset too, and formatting
            # then cutting it off cost half as much again (one such cell a row of a whole-tab export).
            if value.tzinfo is local_tzinfo:
                return csv_datetime(value)
            if value.utcoffset() is not None:
                return csv_datetime(value.astimezone(zone))
        value = native(value)
        return csv_datetime(value) if value else ""

    return convert


def _text(value):
    return "" if value is None else force_str(value)


def _same(value):
    return value


def native_converter(widget):
    """``value -> widget.render(value, force_native_type=True)``, chosen once for the widget."""
    if _renders_like(widget, widgets.CharWidget):
        return _text if widget.coerce_to_string else _same
    if _renders_like(widget, widgets.NumberWidget):
        return _same
    if _renders_like(widget, widgets.DateTimeWidget):
        return _local_naive(widget)
    render = widget.render
    return lambda value: render(value, force_native_type=True)


def _csv_text(value):
    """A text column's cell: ``neutralise(force_str(value))``, "" for None; a ``str`` neutralised here, without
    the call, since this runs for every text cell of every row (its common case is also in ``_INLINE``)."""
    if value.__class__ is str:
        return "'" + value if value and value[0] in FORMULA_TRIGGERS else value
    if value is None:
        return ""
    return neutralise(force_str(value))


def _csv_number(value):
    # What csv_cell does for the types a number column holds, without its lookup; the rest through it (its common
    # case is also in _INLINE).
    if value.__class__ is int or value.__class__ is Decimal:
        return str(value)
    return csv_cell(value)


def csv_converter(widget):
    """``value -> csv_cell(widget.render(value, force_native_type=True))``, chosen once for the widget."""
    if _renders_like(widget, widgets.CharWidget) and widget.coerce_to_string:
        return _csv_text
    if _renders_like(widget, widgets.NumberWidget):
        return _csv_number
    if _renders_like(widget, widgets.DateTimeWidget):
        return _csv_local_moment(widget)
    native = native_converter(widget)
    return lambda value: csv_cell(native(value))


#: Converters whose common case ``compile_row`` writes into the row function itself, saving a call a cell (a
#: whole-tab export makes millions): ``{v}`` is the cell's value, ``{c}`` the converter, still called for the rest.
_INLINE = {
    _csv_text: "{v} if {v}.__class__ is str and not ({v} and {v}[0] in TRIGGERS) else {c}({v})",
    _csv_number: "str({v}) if {v}.__class__ is int or {v}.__class__ is Decimal else {c}({v})",
}


def compile_row(columns):
    """A function ``row -> [cell, ...]`` from ``columns``: ``(key, convert)`` pairs, where the cell is
    ``convert(row[key])``, or ``convert(row)`` when ``key`` is None."""
    namespace = {"TRIGGERS": FORMULA_TRIGGERS, "Decimal": Decimal}
    reads, cells = [], []
    for index, (key, convert) in enumerate(columns):
        namespace[f"c{index}"] = convert
        # By identity: a converter need not be hashable.
        inline = next((template for known, template in _INLINE.items() if known is convert), None)
        if key is None:
            cells.append(f"c{index}(row)")
        elif inline is None:
            cells.append(f"c{index}(row[{key!r}])")
        else:
            reads.append(f"    v{index} = row[{key!r}]\n")
            cells.append("(" + inline.format(v=f"v{index}", c=f"c{index}") + ")")
    source = f"def export_row(row):\n{''.join(reads)}    return [{', '.join(cells)}]\n"
    exec(compile(source, "<export row>", "exec"), namespace)  # noqa: S102 - code built above from repr()'d keys
    return namespace["export_row"]
