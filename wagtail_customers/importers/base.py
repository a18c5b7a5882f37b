"""Reading tabular files and parsing their cells, with errors that name the row and the reason."""

import csv
import io
import re
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from import_export.formats.base_formats import CSV, TSV, XLSX
from tablib import InvalidDimensions

MAX_FILE_BYTES = 100 * 1024 * 1024
#: Amounts are stored with 14 digits, 2 of them decimals.
MAX_AMOUNT = Decimal("1e12")
#: The preview lists at most this many errors (the count of the rest is still given).
MAX_REPORTED_ERRORS = 500
CENT = Decimal("0.01")


class ImportFileError(ValueError):
    """A file that cannot be imported. ``row`` is the spreadsheet row number (header = 1), if any.

    ``errors`` lists every error found in the file as ``{"row": n, "message": text}`` (the first one
    is this error); ``errors_total`` counts them all when the list was cut at ``MAX_REPORTED_ERRORS``.
    """

    def __init__(self, message, row=None, errors=None, errors_total=None):
        self.row = row
        self.message = str(message)
        self.errors = errors if errors is not None else [{"row": row, "message": self.message}]
        self.errors_total = errors_total if errors_total is not None else len(self.errors)
        text = f"Row {row}: {self.message}" if row else self.message
        if self.errors_total > 1:
            text += f" (and {self.errors_total - 1} more error(s))"
        super().__init__(text)


@dataclass
class Table:
    headers: list
    #: (row number as a spreadsheet shows it, {header: cell}) for each non-blank data row; empty cells are
    #: left out, so read them with ``cells.get(header, "")``.
    rows: list


@dataclass
class ImportReport:
    format_name: str = ""
    rows: int = 0
    orders: int = 0
    orders_created: int = 0
    #: Orders already stored that the file changes; those it holds exactly as stored are unchanged.
    orders_updated: int = 0
    orders_unchanged: int = 0
    customers_created: int = 0
    customers_updated: int = 0
    customers_unchanged: int = 0
    rows_skipped: int = 0
    unknown_columns: list = field(default_factory=list)
    #: Countries no spelling of which is recognised (kept as written): ``{"value": text, "count": orders}``.
    unrecognised_countries: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    dry_run: bool = False
    #: Every row error found while parsing: ``{"row": n, "message": text}``, sorted by row.
    errors: list = field(default_factory=list)
    errors_total: int = 0

    def add_error(self, error):
        self.errors_total += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": error.row, "message": error.message})

    @contextmanager
    def collecting_errors(self):
        """Record an ``ImportFileError`` raised inside the block and carry on with the next order or row."""
        try:
            yield
        except ImportFileError as error:
            self.add_error(error)

    def raise_for_errors(self):
        """Stop the import, naming the first error, when parsing found any."""
        if self.errors_total:
            self.errors.sort(key=lambda error: error["row"] or 0)
            first = self.errors[0]
            raise ImportFileError(first["message"], first["row"], errors=self.errors, errors_total=self.errors_total)

    def as_dict(self):
        """The report as JSON-ready data (kept on an ``ImportJob``)."""
        return asdict(self)


def read_table(content, filename="", delimiter=None, encoding="utf-8"):
    """Read CSV, TSV or XLSX bytes into a ``Table`` using django-import-export's formats."""
    if not content:
        raise ImportFileError(_("The file is empty (0 bytes)."))
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(_("The file is larger than 100 MB."))
    is_xlsx = content[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx")
    try:
        if is_xlsx:
            dataset = XLSX().create_dataset(content)
        else:
            text = _decode(content, encoding)
            if delimiter is None:
                first_line = text.split("\n", 1)[0]
                delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
            dataset = _text_dataset(text, delimiter)
    except ImportFileError:
        raise
    except Exception as error:  # tablib/openpyxl raise many kinds for a malformed file
        raise ImportFileError(_("The file cannot be read: %(error)s") % {"error": error}) from None
    headers = [str(h).strip() if h is not None else "" for h in (dataset.headers or [])]
    if not any(headers):
        raise ImportFileError(_("The file has no header row."))
    named = [(position, header) for position, header in enumerate(headers) if header]
    # Each row keeps its non-empty cells only: exports are mostly empty cells (Shopify's continuation rows).
    rows = []
    if is_xlsx:
        for index, values in enumerate(dataset, start=2):
            cells = {header: text for position, header in named if (text := _cell_text(values[position]))}
            if cells:
                rows.append((index, cells))
    else:
        # Cells of a text file are already strings: no per-cell function call on the bulk path.
        for index, values in enumerate(dataset, start=2):
            cells = {header: text for position, header in named if (text := values[position].strip())}
            if cells:
                rows.append((index, cells))
    return Table(headers=headers, rows=rows)


def _decode(content, encoding):
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # Excel's "Unicode text" is UTF-16 with a byte order mark, whatever encoding was chosen.
        encoding = "utf-16"
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _(
                "The file is not %(encoding)s text (byte 0x%(byte)02x at position %(position)d). "
                "Save it as CSV UTF-8 or choose its encoding."
            )
            % {"encoding": encoding, "byte": content[error.start], "position": error.start}
        ) from None
    except LookupError:
        raise ImportFileError(_("Unknown text encoding '%(encoding)s'.") % {"encoding": encoding}) from None
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise ImportFileError(_("The file contains NUL bytes; it is not a text file."))
    return text


def _text_dataset(text, delimiter):
    try:
        return (TSV() if delimiter == "\t" else CSV()).create_dataset(text)
    except InvalidDimensions:
        # tablib pads short rows but refuses long ones without saying which: find it.
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        width = len(next(reader))
        for row_number, record in enumerate(reader, start=2):
            if len(record) > width:
                raise ImportFileError(
                    _("The row has %(cells)d cells but the header row has %(width)d columns.")
                    % {"cells": len(record), "width": width},
                    row_number,
                ) from None
        raise


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def check_columns(table, required_groups, known):
    """Raise for missing required columns; return the unknown ones (reported and ignored).

    ``required_groups`` is a list of tuples: at least one column of each tuple must be present.
    """
    present = set(table.headers)
    for group in required_groups:
        if not present & set(group):
            raise ImportFileError(
                _("Missing column: %(columns)s.") % {"columns": _(" or ").join(f"'{c}'" for c in group)}
            )
    return [h for h in table.headers if h and h not in known]


_NUMBER_NOISE = re.compile(r"[\s$€£¥₹]")


def parse_decimal(text, row, column, default=Decimal("0")):
    """An amount, rounded to cents."""
    if text == "" or text is None:
        return default
    value = parse_exact_decimal(text, row, column)
    if abs(value) >= MAX_AMOUNT:
        raise ImportFileError(
            _("'%(value)s' in %(column)s is too large for an amount.") % {"value": text, "column": column}, row
        )
    return value.quantize(CENT)


def parse_exact_decimal(text, row, column, default=Decimal("0")):
    """A number with every decimal place kept (unit prices such as 0.425); currency signs and spaces allowed."""
    if text == "" or text is None:
        return default
    try:
        value = Decimal(text)
    except InvalidOperation:
        try:
            value = Decimal(_NUMBER_NOISE.sub("", text))
        except InvalidOperation:
            value = None
    if value is None or not value.is_finite():
        raise ImportFileError(_("'%(value)s' in %(column)s is not a number.") % {"value": text, "column": column}, row)
    if abs(value) >= MAX_AMOUNT:
        raise ImportFileError(
            _("'%(value)s' in %(column)s is too large for an amount.") % {"value": text, "column": column}, row
        )
    return value


def money(value):
    """Round an exact amount to cents."""
    return value.quantize(CENT)


def parse_int(text, row, column, default=0, allow_negative=False):
    if text == "" or text is None:
        return default
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        number = Decimal(text.replace(" ", ""))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value():
        raise ImportFileError(
            _("'%(value)s' in %(column)s is not a whole number.") % {"value": text, "column": column}, row
        )
    if number < 0 and not allow_negative:
        raise ImportFileError(_("%(column)s is negative (%(value)s).") % {"column": column, "value": text}, row)
    return int(number)


def parse_moment(text, row, column, formats=()):
    """ISO date or datetime (or one of ``formats``) -> aware datetime in the current time zone."""
    if not text:
        raise ImportFileError(_("%(column)s is empty.") % {"column": column}, row)
    value = None
    try:
        value = parse_datetime(text) or parse_datetime(text.replace(" ", "T", 1))
        if value is None:
            day = parse_date(text)
            value = datetime.combine(day, time()) if day else None
    except ValueError:
        value = None
    for fmt in formats:
        if value is not None:
            break
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
    if value is None:
        raise ImportFileError(
            _("'%(value)s' in %(column)s is not a date (use YYYY-MM-DD or YYYY-MM-DD HH:MM).")
            % {"value": text, "column": column},
            row,
        )
    # The site's TIME_ZONE, not the admin user's: the same file must give the same dates.
    return timezone.make_aware(value, timezone.get_default_timezone()) if timezone.is_naive(value) else value


def group_rows(table, column, report):
    """``{key: [(row number, cells), ...]}`` in file order, grouping rows on ``column`` (the order id).

    A row whose key is empty is reported as an error and left out.
    """
    groups = {}
    for row_number, cells in table.rows:
        key = cells.get(column, "")
        if not key:
            report.add_error(ImportFileError(_("%(column)s is empty.") % {"column": column}, row_number))
            continue
        group = groups.get(key)
        if group is None:
            groups[key] = [(row_number, cells)]
        else:
            group.append((row_number, cells))
    return groups


def merged_cells(rows):
    """One order's cells: each column's first non-empty value over its rows (continuation rows fill gaps)."""
    merged = dict(rows[0][1])
    for _row_number, cells in rows[1:]:
        for column, value in cells.items():
            if value and not merged.get(column):
                merged[column] = value
    return merged


def strip_float_suffix(text):
    """``'17850.0'`` -> ``'17850'``: ids and ZIP codes that went through a float column."""
    if text.endswith(".0") and text[:-2].isdigit():
        return text[:-2]
    return text


class LinePerRowFormat:
    """A layout with one row per order line, the rows of an order sharing ``order_id_column``.

    Subclasses set ``required`` and ``known`` (for ``check_columns``) and ``order_id_column``, and
    turn one order's rows into ``OrderData`` in ``_order(order_id, rows, report)``.
    """

    order_id_column = None
    required = ()
    known = ()

    def parse(self, table, report):
        report.unknown_columns = check_columns(table, self.required, self.known)
        orders = []
        for order_id, rows in group_rows(table, self.order_id_column, report).items():
            with report.collecting_errors():
                orders.append(self._order(order_id, rows, report))
        return orders
