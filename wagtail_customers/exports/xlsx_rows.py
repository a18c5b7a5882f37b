"""An XLSX sheet's ``<row>`` elements written as XML text, in a fifth of the time XlsxWriter's calls took for them.

XlsxWriter's ``constant_memory`` mode was the export's ceiling: 200,000 rows of 14 cells took 17 s in its per-cell
calls (11.8k rows/s), before a query or a cell was rendered. Here each row is one string built from the cells'
values, with the markup that mode writes: inline strings (``t="inlineStr"``, ``xml:space="preserve"`` around
leading or trailing whitespace, control characters as ``_xHHHH_``, a literal ``_xHHHH_`` kept as itself),
numbers and dates as ``%.16G`` numbers with the export's style ids, booleans as ``t="b"``. The workbook around
the rows (styles, heading, filter, frozen pane) is still XlsxWriter's (``writers.write_workbook``).
tests/test_xlsx_rows.py compares these rows with XlsxWriter's own for the same values.

Unlike that mode, text is always text: XlsxWriter writes a string that starts with ``<r>`` and ends with
``</r>`` into the sheet as XML (a "rich string"), so a customer named that way could add cells to an export.
"""

import datetime
import math
import re
from decimal import Decimal

from xlsxwriter.utility import xl_col_to_name

from .neutralise import neutralise

#: Excel's last row (1,048,576) minus the heading row.
XLSX_MAX_ROWS = 1_048_575
#: Excel's longest text, in UTF-16 code units.
TEXT_MAX_UNITS = 32_767
#: The style ids ``writers.XlsxFormats`` gives its formats, in its order (0 is the workbook's default).
BOLD_STYLE, MONEY_STYLE, MOMENT_STYLE, DAY_STYLE, WHOLE_MONEY_STYLE, TENTHS_MONEY_STYLE = 1, 2, 3, 4, 5, 6
#: An amount's number format by its currency's decimals (``services.conversion.minor_unit``: 0 for JPY or KRW, 2
#: for USD or EUR, and for KWD too, as the money columns keep 2 decimals at most), and the style id of each.
#: Every workbook has all of them, at these ids, so a chunk's rows fit the workbook they are joined into.
MONEY_FORMATS = {0: "#,##0", 1: "#,##0.0", 2: "#,##0.00"}
MONEY_STYLES = {0: WHOLE_MONEY_STYLE, 1: TENTHS_MONEY_STYLE, 2: MONEY_STYLE}

#: Anything in a text that needs more than the markup around it: XML's specials, control characters, Excel's
#: non-characters, lone surrogates (XML cannot carry them), and a literal ``_xHHHH_`` (Excel would read it as
#: an escape).
_NEEDS_ESCAPING = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]|_x[0-9a-fA-F]{4}_")
_SURROGATES = re.compile("[\ud800-\udfff]")
_LITERAL_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")
#: Excel's day 0 (its dates count from 1900-01-01 as day 1).
_EPOCH = datetime.datetime(1899, 12, 31)
_EPOCH_ORDINAL = _EPOCH.toordinal()
#: Rows joined into one write (a few hundred kB).
_ROWS_PER_WRITE = 500


class TooManyRowsForExcel(ValueError):
    pass


def _control_escape(found):
    return f"_x{ord(found[0]):04X}_"


def _text_cell(ref, text):
    """An inline string cell, or ``""`` for no text; ``text`` is neutralised here (a formula shown as text)."""
    if not text:
        # A value whose text is empty (a site's own widget may give one): an empty cell, as for "".
        return ""
    text = neutralise(text)
    if len(text) > TEXT_MAX_UNITS // 2:
        text = _truncated(_SURROGATES.sub("\ufffd", text))
    if _NEEDS_ESCAPING.search(text) is not None:
        text = _SURROGATES.sub("\ufffd", text)
        text = _LITERAL_ESCAPE.sub(r"_x005F\1", text)
        text = _CONTROL.sub(_control_escape, text).replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
        # Whitespace is read before the XML escapes, which never start or end with it.
        preserve = text[0].isspace() or text[-1].isspace()
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    else:
        preserve = text[0].isspace() or text[-1].isspace()
    if preserve:
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _truncated(text):
    """``text`` cut to Excel's longest, counted in UTF-16 units, without splitting a character beyond U+FFFF."""
    encoded = text.encode("utf-16-le")
    if len(encoded) <= 2 * TEXT_MAX_UNITS:
        return text
    return encoded[: 2 * TEXT_MAX_UNITS].decode("utf-16-le", "ignore")


def _number_cell(ref, number, style=None):
    if style is None:
        return f'<c r="{ref}"><v>{number:.16G}</v></c>'
    return f'<c r="{ref}" s="{style}"><v>{number:.16G}</v></c>'


def _int_cell(ref, value):
    return f'<c r="{ref}"><v>{value:.16G}</v></c>'


def _float_cell(ref, value):
    if not math.isfinite(value):
        # Excel has no such number (XlsxWriter refuses it): the value as text rather than a failed export.
        return _text_cell(ref, str(value))
    return _number_cell(ref, value)


def _decimal_cell(ref, value):
    if not value.is_finite():
        return _text_cell(ref, str(value))
    # Amounts (two decimal places at most) as money; finer numbers (exchange rates) in full. An amount whose
    # currency the row holds gets that currency's decimals instead (``money_row_xml``).
    return _number_cell(ref, value, MONEY_STYLE if value.as_tuple().exponent >= -2 else None)


def money_style(currency):
    """The style id of an amount in ``currency`` (its code, as the currency cell holds it): its currency's decimals;
    two for no currency, or a code no one knows."""
    if not currency:
        return MONEY_STYLE
    # Imported here: writing rows needs Django's models only once an amount has a currency.
    from ..services.conversion import minor_unit

    return MONEY_STYLES.get(-minor_unit(currency).as_tuple().exponent, MONEY_STYLE)


def _bool_cell(ref, value):
    return f'<c r="{ref}" t="b"><v>{1 if value else 0}</v></c>'


def _datetime_cell(ref, value):
    # As XlsxWriter's ``remove_timezone``: the wall-clock time the value holds, its zone dropped.
    delta = value.replace(tzinfo=None) - _EPOCH
    serial = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / 86400
    # (XlsxWriter writes a moment on 1900-01-01 as day 0, taking it for a time of day alone: an export's moments are
    # all dates, and Excel's own number for that day is 1.)
    if delta.days > 59:
        # Excel counts a 29 February 1900 that never was: the days after it, not 28 February's hours (day 59.25).
        serial += 1
    return _number_cell(ref, serial, MOMENT_STYLE)


def _date_cell(ref, value):
    serial = value.toordinal() - _EPOCH_ORDINAL
    return _number_cell(ref, serial + 1 if serial > 59 else serial, DAY_STYLE)


#: How each exact type becomes a cell (a dict lookup per cell: this runs millions of times).
_CELL_BY_TYPE = {
    str: _text_cell,
    int: _int_cell,
    Decimal: _decimal_cell,
    float: _float_cell,
    bool: _bool_cell,
    datetime.datetime: _datetime_cell,
    datetime.date: _date_cell,
}


def cell_xml(ref, value):
    """The ``<c>`` element of ``value`` at cell ``ref`` (``"B7"``), or ``""`` for no value (None or empty text)."""
    if value is None or value == "":
        return ""
    to_cell = _CELL_BY_TYPE.get(type(value))
    if to_cell is not None:
        return to_cell(ref, value)
    # Subclasses (a safe string, an enumeration's member, a datetime before a date); a str subclass by its
    # characters, as XlsxWriter writes it (``format()`` of a ``(str, Enum)`` member gives its name).
    if isinstance(value, str):
        return _text_cell(ref, str.__str__(value))
    for kind in (bool, int, Decimal, float, datetime.datetime, datetime.date):
        if isinstance(value, kind):
            return _CELL_BY_TYPE[kind](ref, value)
    return _text_cell(ref, str(value))


def column_names(count, names=()):
    """``"A"``, ``"B"``, ... ``"AA"``: the letters of the first ``count`` columns, extending ``names``."""
    return [*names, *(xl_col_to_name(col) for col in range(len(names), count))]


def row_xml(row, number, columns):
    """The ``<row>`` element of sheet row ``number`` (1 is the heading) with ``row``'s cells, or ``""`` when
    every cell is empty (as XlsxWriter leaves such a row out). ``columns``: ``column_names`` of the row's width
    at least."""
    cells = "".join([cell_xml(f"{columns[col]}{number}", value) for col, value in enumerate(row)])
    return f'<row r="{number}">{cells}</row>' if cells else ""


def money_row_xml(row, number, columns, money_columns, styles):
    """``row_xml``, each amount of ``money_columns`` (``(amount column, currency column)`` pairs) shown with its
    currency's decimals (``money_style``; ``styles`` caches it by currency). The number itself is written whole,
    as any other: only its format changes. A value there that is no amount (empty, a number of another kind) is
    written as ``cell_xml`` writes it."""
    row = list(row)  # a copy: its amounts are taken out, to be written here rather than by cell_xml
    width = len(row)
    amounts = []
    for amount_col, currency_col in money_columns:
        amount = row[amount_col] if amount_col < width else None
        if isinstance(amount, Decimal) and amount.is_finite():
            currency = row[currency_col] if currency_col < width else None
            style = styles.get(currency)
            if style is None:
                style = styles[currency] = money_style(currency)
            row[amount_col] = None
            amounts.append((amount_col, amount, style))
    cells = [cell_xml(f"{columns[col]}{number}", value) for col, value in enumerate(row)]
    for col, amount, style in amounts:
        cells[col] = _number_cell(f"{columns[col]}{number}", amount, style)
    cells = "".join(cells)
    return f'<row r="{number}">{cells}</row>' if cells else ""


def write_rows(rows, stream, first_row=1, money_columns=()):
    """Write the ``<row>`` elements of ``rows`` (each a sequence of cell values) to the binary ``stream``,
    from the sheet's row ``first_row`` on (0 is the heading's; the XML counts from 1). Returns how many rows
    and the widest row's number of cells; raises ``TooManyRowsForExcel`` past Excel's last row.

    ``money_columns``: ``(amount column, currency column)`` index pairs (a resource's ``money_columns``): each
    row's amounts there are shown with the decimals of the currency in the row's currency column (``#,##0`` for
    JPY, ``#,##0.00`` for USD); other decimals as ``cell_xml`` writes them."""
    columns = []
    pending = []
    row_index = first_row - 1
    money_columns = tuple(money_columns)
    styles = {}
    for row_index, row in enumerate(rows, start=first_row):
        if row_index > XLSX_MAX_ROWS:
            raise TooManyRowsForExcel(row_index)
        if len(row) > len(columns):
            columns = column_names(len(row), columns)
        if money_columns:
            pending.append(money_row_xml(row, row_index + 1, columns, money_columns, styles))
        else:
            pending.append(row_xml(row, row_index + 1, columns))
        if len(pending) >= _ROWS_PER_WRITE:
            stream.write("".join(pending).encode("utf-8"))
            pending.clear()
    if pending:
        stream.write("".join(pending).encode("utf-8"))
    return row_index - first_row + 1, len(columns)
