"""Reading tabular files and parsing their cells, with errors that name the row and the reason."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from import_export.formats.base_formats import CSV, TSV, XLSX

MAX_FILE_BYTES = 100 * 1024 * 1024
#: Amounts are stored with 14 digits, 2 of them decimals.
MAX_AMOUNT = Decimal("1e12")


class ImportFileError(ValueError):
    """A file that cannot be imported. ``row`` is the spreadsheet row number (header = 1), if any."""

    def __init__(self, message, row=None):
        self.row = row
        self.message = message
        super().__init__(f"Row {row}: {message}" if row else message)


@dataclass
class Table:
    headers: list
    #: (row number as a spreadsheet shows it, {header: cell}) for each non-blank data row.
    rows: list


@dataclass
class ImportReport:
    format_name: str = ""
    rows: int = 0
    orders: int = 0
    orders_created: int = 0
    orders_updated: int = 0
    customers_created: int = 0
    customers_updated: int = 0
    rows_skipped: int = 0
    unknown_columns: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    dry_run: bool = False


def read_table(content, filename="", delimiter=None, encoding="utf-8"):
    """Read CSV, TSV or XLSX bytes into a ``Table`` using django-import-export's formats."""
    if not content:
        raise ImportFileError(_("The file is empty (0 bytes)."))
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(_("The file is larger than 100 MB."))
    is_xlsx = content[:2] == b"PK" or filename.lower().endswith(".xlsx")
    try:
        if is_xlsx:
            dataset = XLSX().create_dataset(content)
        else:
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
            text = text.lstrip("\ufeff")
            if "\x00" in text:
                raise ImportFileError(_("The file contains NUL bytes; it is not a text file."))
            if delimiter is None:
                first_line = text.split("\n", 1)[0]
                delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
            dataset = (TSV() if delimiter == "\t" else CSV()).create_dataset(text)
    except ImportFileError:
        raise
    except Exception as error:  # tablib/openpyxl raise many kinds for a malformed file
        raise ImportFileError(_("The file cannot be read: %(error)s") % {"error": error}) from None
    headers = [str(h).strip() if h is not None else "" for h in (dataset.headers or [])]
    if not any(headers):
        raise ImportFileError(_("The file has no header row."))
    rows = []
    for index, values in enumerate(dataset, start=2):
        cells = {header: _cell_text(value) for header, value in zip(headers, values, strict=False) if header}
        if any(cells.values()):
            rows.append((index, cells))
    return Table(headers=headers, rows=rows)


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
    if text == "" or text is None:
        return default
    cleaned = _NUMBER_NOISE.sub("", text)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ImportFileError(_("'%(value)s' in %(column)s is not a number.") % {"value": text, "column": column}, row)
    if abs(value) >= MAX_AMOUNT:
        raise ImportFileError(
            _("'%(value)s' in %(column)s is too large for an amount.") % {"value": text, "column": column}, row
        )
    return value.quantize(Decimal("0.01"))


def parse_int(text, row, column, default=0, allow_negative=False):
    if text == "" or text is None:
        return default
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
    return timezone.make_aware(value) if timezone.is_naive(value) else value
