"""Reading tabular files and parsing their cells, with errors that name the row and the reason."""

import bisect
import re
from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..limits import LARGEST_INTEGER, MONEY_LIMIT, decimal_from_text

MAX_FILE_BYTES = 100 * 1024 * 1024
#: The years a date may have (as the listing's date filters take them): beyond them a date's conversion to UTC
#: can overflow (0001-01-01 with a time zone east of UTC), and no order is that old or that far ahead.
MIN_YEAR, MAX_YEAR = 1900, 2999
#: A date quoted whole in a message up to this length (an ISO date and time with microseconds and its offset).
DATE_QUOTED = 40
#: The preview lists at most this many errors (the count of the rest is still given).
MAX_REPORTED_ERRORS = 500
#: The preview names at most this many unknown columns (and says how many more there are).
MAX_LISTED_UNKNOWN_COLUMNS = 20
#: An unknown column's name is shown up to this many characters.
MAX_COLUMN_NAME_CHARS = 100
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
        text = _("Row %(row)s: %(message)s") % {"row": row, "message": self.message} if row else self.message
        if self.errors_total > 1:
            more = self.errors_total - 1
            text = ngettext("%(error)s (and %(count)s more error)", "%(error)s (and %(count)s more errors)", more) % {
                "error": text,
                "count": more,
            }
        super().__init__(text)


@dataclass
class Table:
    headers: list
    #: (row number as a spreadsheet shows it, ``Cells`` {header: cell}) for each non-blank data row; empty cells are
    #: left out (``header in cells`` is False), and ``cells[header]`` reads them as "" (``Cells``).
    rows: list
    #: What the reader noticed without refusing the file (a workbook declaring fewer rows than it holds).
    warnings: list = field(default_factory=list)
    #: The separator of a text file's columns, as given or guessed (None for a workbook).
    delimiter: str | None = None


class Cells(dict):
    """A row's non-empty cells by header. An empty cell of a column the file has reads as "" (a format written
    ``cells["Buyer User ID"]`` met a ``KeyError`` on the one row without it); a column it lacks is a ``KeyError``."""

    __slots__ = ("columns",)

    def __missing__(self, header):
        if header in getattr(self, "columns", ()):  # a Cells made elsewhere, without its table's columns
            return ""
        raise KeyError(header)


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
    #: The first ``MAX_LISTED_UNKNOWN_COLUMNS`` columns the layout does not use; ``unknown_columns_total`` counts all.
    unknown_columns: list = field(default_factory=list)
    unknown_columns_total: int = 0
    unknown_columns_more: int = 0
    #: Countries no spelling of which is recognised (kept as written): ``{"value": text, "count": orders}``.
    unrecognised_countries: list = field(default_factory=list)
    #: The seller account's currency, and the file's currencies with how their orders are converted into it
    #: (``importers.currencies.currency_summary``); orders whose amounts no rate converts.
    account_currency: str = ""
    currencies: list = field(default_factory=list)
    orders_without_rate: int = 0
    warnings: list = field(default_factory=list)
    dry_run: bool = False
    #: Every row error found while parsing: ``{"row": n, "message": text}``, sorted by row.
    errors: list = field(default_factory=list)
    errors_total: int = 0

    def add_error(self, error):
        """Count the error, and list it if its row is among the ``MAX_REPORTED_ERRORS`` lowest: layouts meet errors
        out of row order (``group_rows`` reports every empty order id before any order is parsed)."""
        self.errors_total += 1
        entry = {"row": error.row, "message": error.message}
        if len(self.errors) < MAX_REPORTED_ERRORS or _error_row(entry) < _error_row(self.errors[-1]):
            # After the errors of the same row already listed: those keep the order they were met in.
            bisect.insort_right(self.errors, entry, key=_error_row)
            del self.errors[MAX_REPORTED_ERRORS:]

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
            self.errors.sort(key=_error_row)
            first = self.errors[0]
            raise ImportFileError(first["message"], first["row"], errors=self.errors, errors_total=self.errors_total)

    def as_dict(self):
        """The report as JSON-ready data (kept on an ``ImportJob``)."""
        return asdict(self)


def _error_row(error):
    """A listed error's place in row order; an error of no row (the whole file's) comes first."""
    return error["row"] or 0


def read_table(content, filename="", delimiter=None, encoding="utf-8", limits=None, columns=None):
    """Read CSV, TSV or XLSX bytes into a ``Table``, within the ``IMPORT_MAX_*`` limits (see ``reading``).

    ``delimiter`` None guesses a text file's separator from its header row, by ``columns``: the column names
    the layout knows (``reading.guess_delimiter``).
    """
    from .reading import COMPOUND_FILE_SIGNATURE, Limits, read_text, read_xlsx

    if not content:
        raise ImportFileError(_("The file is empty (0 bytes)."))
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(_("The file is larger than 100 MB."))
    limits = limits or Limits.from_settings()
    is_xlsx = (
        content[:4] == b"PK\x03\x04"
        or content.startswith(COMPOUND_FILE_SIGNATURE)  # an .xls: refused as a workbook, not as text
        or filename.lower().endswith(".xlsx")
    )
    raw = read_xlsx(content, limits) if is_xlsx else read_text(content, encoding, delimiter, limits, columns)
    headers = [str(h).strip() if h is not None else "" for h in raw.headers]
    if not any(headers):
        raise ImportFileError(_("The file has no header row."))
    named = [(position, header) for position, header in enumerate(headers) if header]
    columns = frozenset(header for _position, header in named)
    width = len(headers)
    # Each row keeps its non-empty cells only: exports are mostly empty cells (Shopify's continuation rows).
    rows = []
    for index, values in raw.rows:
        if len(values) < width:
            values = [*values, *([""] * (width - len(values)))]
        cells = Cells({header: text for position, header in named if (text := values[position].strip())})
        if cells:
            cells.columns = columns
            rows.append((index, cells))
    return Table(headers=headers, rows=rows, warnings=raw.warnings, delimiter=raw.delimiter)


def check_columns(table, required_groups, known, report=None):
    """Raise for missing required columns and for known columns given twice; return the unknown ones.

    ``required_groups`` is a list of tuples: at least one column of each tuple must be present. With
    ``report``, the unknown columns are also recorded on it, the first ``MAX_LISTED_UNKNOWN_COLUMNS``
    by name and all of them by count.
    """
    present = set(table.headers)
    known = set(known)
    for group in required_groups:
        if not present & set(group):
            raise _missing_column(table, group, known)
    twice = [name for name, count in Counter(table.headers).items() if count > 1 and name in known]
    if twice:
        # Which of two 'Email' columns is the right one cannot be guessed: refuse rather than take either.
        raise ImportFileError(
            _("These columns appear more than once: %(columns)s. Keep one of each and upload the file again.")
            % {"columns": ", ".join(f"'{name}'" for name in twice)},
            1,
        )
    unknown = [h for h in table.headers if h and h not in known]
    if report is not None:
        report.unknown_columns = [name[:MAX_COLUMN_NAME_CHARS] for name in unknown[:MAX_LISTED_UNKNOWN_COLUMNS]]
        report.unknown_columns_total = len(unknown)
        report.unknown_columns_more = len(unknown) - len(report.unknown_columns)
    return unknown


def _one_cell_message(separator):
    """The message for a workbook whose header row has none of the layout's columns and holds ``separator``."""
    # A whole sentence for each separator: its name takes another form in each place of the sentence in many
    # languages.
    messages = {
        ",": _(
            # Translators: a workbook (.xlsx) made from a CSV file opened with the wrong separator. %(columns)s:
            # the missing column names, in quotes.
            "Missing column: %(columns)s. The file's header row has none of this layout's columns and holds "
            "commas: each row seems to be in one cell. Upload the CSV file itself, or open it in your spreadsheet "
            "program with commas as the separator before saving it as a workbook."
        ),
        ";": _(
            # Translators: a workbook (.xlsx) made from a CSV file opened with the wrong separator. %(columns)s:
            # the missing column names, in quotes.
            "Missing column: %(columns)s. The file's header row has none of this layout's columns and holds "
            "semicolons: each row seems to be in one cell. Upload the CSV file itself, or open it in your "
            "spreadsheet program with semicolons as the separator before saving it as a workbook."
        ),
        "\t": _(
            # Translators: a workbook (.xlsx) made from a text file opened with the wrong separator. %(columns)s:
            # the missing column names, in quotes.
            "Missing column: %(columns)s. The file's header row has none of this layout's columns and holds "
            "tabs: each row seems to be in one cell. Upload the text file itself, or open it in your spreadsheet "
            "program with tabs as the separator before saving it as a workbook."
        ),
    }
    return messages[separator]


def _other_separator_message(separator, expected):
    """The message for a text file read with ``expected`` whose header seems separated by ``separator``."""
    # A whole sentence for each pair: a separator's name takes another form in each place of the sentence in many
    # languages.
    messages = {
        (";", ","): _(
            # Translators: %(columns)s: the missing column names, in quotes.
            "Missing column: %(columns)s. The file seems to separate its columns with semicolons, not commas: its "
            "header row has none of this layout's columns. Check that you chose the right file layout, or save "
            "the file with commas between its columns."
        ),
        ("\t", ","): _(
            # Translators: %(columns)s: the missing column names, in quotes.
            "Missing column: %(columns)s. The file seems to separate its columns with tabs, not commas: its "
            "header row has none of this layout's columns. Check that you chose the right file layout, or save "
            "the file with commas between its columns."
        ),
        (",", ";"): _(
            # Translators: %(columns)s: the missing column names, in quotes.
            "Missing column: %(columns)s. The file seems to separate its columns with commas, not semicolons: its "
            "header row has none of this layout's columns. Check that you chose the right file layout, or save "
            "the file with semicolons between its columns."
        ),
        ("\t", ";"): _(
            # Translators: %(columns)s: the missing column names, in quotes.
            "Missing column: %(columns)s. The file seems to separate its columns with tabs, not semicolons: its "
            "header row has none of this layout's columns. Check that you chose the right file layout, or save "
            "the file with semicolons between its columns."
        ),
        (",", "\t"): _(
            # Translators: %(columns)s: the missing column names, in quotes.
            "Missing column: %(columns)s. The file seems to separate its columns with commas, not tabs: its "
            "header row has none of this layout's columns. Check that you chose the right file layout, or save "
            "the file with tabs between its columns."
        ),
        (";", "\t"): _(
            # Translators: %(columns)s: the missing column names, in quotes.
            "Missing column: %(columns)s. The file seems to separate its columns with semicolons, not tabs: its "
            "header row has none of this layout's columns. Check that you chose the right file layout, or save "
            "the file with tabs between its columns."
        ),
    }
    return messages[separator, expected]


#: The separators the missing column's message can name.
_NAMED_SEPARATORS = (",", ";", "\t")


def _missing_column(table, group, known):
    """The error for a missing required column, saying so when the file seems to use another separator.

    A file separated otherwise than it was read (a semicolon CSV for a layout read with tabs, a CSV opened in a
    spreadsheet that put each row in one cell) has none of the layout's columns, its header in one cell or a few
    that hold the other separator. A file read with a separator of a site's own (``"|"``) gets the plain message.
    """
    columns = _(" or ").join(f"'{c}'" for c in group)
    plain = ImportFileError(_("Missing column: %(columns)s.") % {"columns": columns})
    if table.delimiter is not None and table.delimiter not in _NAMED_SEPARATORS:
        return plain
    found = Counter(
        separator
        for header in table.headers
        for separator in _NAMED_SEPARATORS
        if separator != table.delimiter and separator in header
    )
    if not found or any(header in known for header in table.headers):
        return plain
    separator = found.most_common(1)[0][0]
    if table.delimiter is None:
        message = _one_cell_message(separator)
    else:
        message = _other_separator_message(separator, table.delimiter)
    return ImportFileError(message % {"columns": columns})


_NUMBER_NOISE = re.compile(r"[\s$€£¥₹]")
#: Digits with commas or dots between them: how an amount looks with a decimal comma ("12,50") or a thousands
#: separator ("1.234,56", "1,234.56"), once the spaces and currency signs are left out.
_SEPARATED_DIGITS = re.compile(r"[-+]?[\d.,]*\d[\d.,]*")
#: Digits ``int()`` reads from a cell at most (Python refuses over 4,300 by default); far more than any quantity.
MAX_INTEGER_TEXT = 100
#: A number whose every dot has three digits after it, its first group not 0 ("1.234", "1.000", "-12.500.000"): in
#: a semicolon- or tab-separated file (what Excel saves as "CSV" or "Text" where the decimal point is a comma) each
#: dot may be a thousands separator.
_DOTTED_THOUSANDS = re.compile(r"[-+]?[1-9]\d{0,2}(?:\.\d{3})+")
#: A number with one dot that no thousands separator makes ("12.50", "0.500", "1234.5", "2.0"): the file's dot is
#: its decimal point.
_DECIMAL_DOT = re.compile(r"[-+]?\d*\.\d+")
#: The separators of the text files Excel writes with its locale's number format.
_LOCALE_FORMATTED_DELIMITERS = frozenset({";", "\t"})


@dataclass
class _FileNumbers:
    """What the numbers of one text file read so far say about its dots (``cells_of``)."""

    delimiter: str | None
    #: A number was written with a dot no thousands separator makes: every dot of the file is a decimal point.
    dot_is_decimal: bool = False
    #: The cells that could be either (the first ``MAX_REPORTED_ERRORS``), each ``(the error saying so, the error
    #: of the cell read with a decimal point or None where it reads so)``: which one is reported waits for the file.
    undecided: list = field(default_factory=list)
    undecided_total: int = 0
    #: How many of them fail read with a decimal point ("1.234" as a quantity).
    failing_total: int = 0

    def could_be_thousands(self, text):
        """Whether ``text`` could be a number with a dot between thousands, as far as the file has shown."""
        return (
            not self.dot_is_decimal
            and self.delimiter in _LOCALE_FORMATTED_DELIMITERS
            and _DOTTED_THOUSANDS.fullmatch(_NUMBER_NOISE.sub("", text)) is not None
        )

    def note(self, text, row, column):
        """A cell read as a number with its dots as decimal points."""
        if self.dot_is_decimal or self.delimiter not in _LOCALE_FORMATTED_DELIMITERS:
            return
        written = _NUMBER_NOISE.sub("", text)
        if _DOTTED_THOUSANDS.fullmatch(written):
            self._wait(_ambiguous_number_error(text, written, row, column), None)
        elif _DECIMAL_DOT.fullmatch(written):
            self.dot_is_decimal = True

    def wait_for_dots(self, text, row, column, error):
        """Whether the cell, which ``error`` refuses read with a decimal point ("1.234" as a quantity), could be a
        number with a dot between thousands; if so, its error waits for the file to settle its dots."""
        if not self.could_be_thousands(text):
            return False
        self._wait(_ambiguous_number_error(text, _NUMBER_NOISE.sub("", text), row, column), error)
        return True

    def _wait(self, ambiguous, failure):
        self.undecided_total += 1
        self.failing_total += failure is not None
        if len(self.undecided) < MAX_REPORTED_ERRORS:
            self.undecided.append((ambiguous, failure))

    def report_errors(self, report):
        """Add the undecided cells' errors to ``report``'s, in row order: each cell's ambiguity while the file has
        not settled its dots, else the errors of those that fail read with a decimal point."""
        if self.dot_is_decimal:
            errors = [failure for _ambiguous, failure in self.undecided if failure is not None]
            report.errors_total += self.failing_total
        else:
            errors = [ambiguous for ambiguous, _failure in self.undecided]
            report.errors_total += self.undecided_total
        merged = report.errors + [{"row": error.row, "message": error.message} for error in errors]
        merged.sort(key=lambda error: error["row"] or 0)
        report.errors[:] = merged[:MAX_REPORTED_ERRORS]


#: What the text file whose cells ``parse_int``, ``parse_decimal`` and ``parse_exact_decimal`` read says about its
#: numbers (None: a workbook, or no file), set by ``cells_of(table, report)`` around a layout's ``parse``.
_file_numbers = ContextVar("wagtail_customers_import_file_numbers", default=None)


@contextmanager
def cells_of(table, report):
    """Parse the numbers of ``table``'s cells inside the block as its file writes them.

    ``run_import`` wraps the layout's ``parse`` in it, so every layout (a site's own too) gets this check: in a
    semicolon- or tab-separated file, a number such as "1.234" could be 1234 written with a thousands separator.
    It is read as 1.234 when another number of the file, in any row, has a dot no thousands separator makes
    ("12.50", "0.500": the file's dot is its decimal point, as in a KWD seller's "1.250"); otherwise each such cell
    is added to ``report``'s errors when the block ends, so the import is refused naming them. A site's layout that
    calls ``parse`` itself inside this block then calls ``report.raise_for_errors()``.
    """
    numbers = _FileNumbers(table.delimiter)
    token = _file_numbers.set(numbers)
    try:
        yield
    finally:
        _file_numbers.reset(token)
    numbers.report_errors(report)


def _note_number(text, row, column):
    """Note what a cell's number says about the file's dots (``_FileNumbers.note``)."""
    numbers = _file_numbers.get()
    if numbers is not None:
        numbers.note(text, row, column)


def _refused_unless_thousands(text, row, column, error):
    """``error`` (the cell refused read with a decimal point) to raise now; or, when the file may write the cell with
    a dot between thousands ("1.234" as a quantity), None: the error waits for the file (``_FileNumbers``), and the
    caller goes on with the cell read as thousands (the import is refused either way)."""
    numbers = _file_numbers.get()
    if numbers is not None and numbers.wait_for_dots(text, row, column, error):
        return None
    return error


def _read_as_thousands(text):
    """A cell such as "1.234.567" read with its dots between thousands (1234567)."""
    return Decimal(_NUMBER_NOISE.sub("", text).replace(".", ""))


def _ambiguous_number_error(text, written, row, column):
    """Excel writes a thousand as "1.000" in a file read with semicolons or tabs where the decimal point is a
    comma, and 1.234 is read as a number other than the seller's 1234 (or the other way round) if either is
    guessed."""
    return ImportFileError(
        _(
            # Translators: %(value)s is a cell as written (1.234), %(decimal)s the number it holds if its dot is
            # the decimal point (1.234), %(whole)s the number it holds if its dot separates thousands (1234).
            "“%(value)s” in %(column)s could be %(decimal)s or %(whole)s: write numbers with a dot for decimals "
            "and no thousands separator."
        )
        % {
            "value": _cell(text),
            "column": column,
            "decimal": _cell(written),
            "whole": _cell(written.replace(".", "")),
        },
        row,
    )


def _cell(text, longest=24):
    """A cell's text for a message: as written when short, else its start (a cell of a million digits)."""
    text = str(text)
    return text if len(text) <= longest else f"{text[: longest - 4]}…"


def parse_decimal(text, row, column, default=Decimal("0")):
    """An amount, rounded to cents half up (as the ingestion service rounds what it is given)."""
    if text == "" or text is None:
        return default
    value = money(parse_exact_decimal(text, row, column))
    if value.copy_abs() >= MONEY_LIMIT:  # 999999999999.999 passes as written but rounds to 13 digits before the point
        raise ImportFileError(
            _("'%(value)s' in %(column)s is too large for an amount.") % {"value": _cell(text), "column": column}, row
        )
    return value


def parse_exact_decimal(text, row, column, default=Decimal("0")):
    """A number with every decimal place kept (unit prices such as 0.425); currency signs and spaces allowed.

    In a semicolon- or tab-separated file, a number such as "1.234" may be refused (``cells_of``).
    """
    if text == "" or text is None:
        return default
    value = decimal_from_text(text)
    if value is None:
        value = decimal_from_text(_NUMBER_NOISE.sub("", text))
    if value is None or not value.is_finite():
        written = _NUMBER_NOISE.sub("", text)
        if "," in written and _SEPARATED_DIGITS.fullmatch(written):
            # "12,50" is how much of Europe writes 12.50; never read as 1250, nor guessed.
            raise ImportFileError(
                _(
                    "'%(value)s' in %(column)s is not a number: amounts are written with a dot as the decimal "
                    "point and no thousands separator (%(example)s)."
                )
                % {"value": _cell(text), "column": column, "example": "1234.56"},
                row,
            )
        error = ImportFileError(
            _("'%(value)s' in %(column)s is not a number.") % {"value": _cell(text), "column": column}, row
        )
        if _refused_unless_thousands(text, row, column, error):  # "1.234.567": a million, or no number
            raise error
        return _read_as_thousands(text)
    # copy_abs(), not abs(): abs() rounds to the context and overflows on 1E+1000000.
    if value.copy_abs() >= MONEY_LIMIT:
        raise ImportFileError(
            _("'%(value)s' in %(column)s is too large for an amount.") % {"value": _cell(text), "column": column}, row
        )
    _note_number(text, row, column)
    return value


def money(value):
    """Round an exact amount to cents, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def product_amount(price, quantity, row, columns):
    """``price`` x ``quantity`` rounded to cents (a line total the file does not give), or an error naming the
    row when the product is too large for an amount. ``columns``: the two columns' names, for the message."""
    value = money(price * quantity)
    if value.copy_abs() >= MONEY_LIMIT:
        raise ImportFileError(
            _("%(columns)s (%(value)s) is too large for an amount.")
            % {"columns": " × ".join(columns), "value": f"{value.normalize():f}"},
            row,
        )
    return value


def parse_int(text, row, column, default=0, allow_negative=False):
    """A whole number: "2.5" is refused, "2.0" read as 2; in a semicolon- or tab-separated file "1.000" may be
    refused (``cells_of``)."""
    if text == "" or text is None:
        return default
    if len(text) > MAX_INTEGER_TEXT:
        raise ImportFileError(
            _("'%(value)s' in %(column)s is too large (at most %(limit)s).")
            % {"value": _cell(text), "column": column, "limit": LARGEST_INTEGER},
            row,
        )
    if text.isascii() and text.isdigit():
        number = int(text)
    else:
        try:
            number = Decimal(text.replace(" ", ""))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number != number.to_integral_value():
            error = ImportFileError(
                _("'%(value)s' in %(column)s is not a whole number.") % {"value": _cell(text), "column": column}, row
            )
            if _refused_unless_thousands(text, row, column, error):  # "1.234": 1234, or not whole
                raise error
            return min(int(_read_as_thousands(text)), LARGEST_INTEGER)
    if number < 0 and not allow_negative:
        raise ImportFileError(_("%(column)s is negative (%(value)s).") % {"column": column, "value": _cell(text)}, row)
    if number > LARGEST_INTEGER or number < -LARGEST_INTEGER:  # not abs(): it overflows on a Decimal such as 1E+1000000
        raise ImportFileError(
            _("'%(value)s' in %(column)s is too large (at most %(limit)s).")
            % {"value": _cell(text), "column": column, "limit": LARGEST_INTEGER},
            row,
        )
    _note_number(text, row, column)  # once read: "1.000" may be a thousand, "2.0" shows a decimal point
    return int(number)


def time_zone_note():
    """How the file's times are read (``parse_moment``), for the import form and the preview: the site's time zone
    is not the seller's, and an import from Berlin on a UTC site would otherwise read an hour or two off."""
    return _("Times without a UTC offset, and plain dates, are read in the site's time zone, %(zone)s.") % {
        "zone": timezone.get_default_timezone_name()
    }


def parse_moment(text, row, column, formats=()):
    """ISO date or datetime (or one of ``formats``) -> aware datetime; one without an offset is read in the site's
    TIME_ZONE (``time_zone_note`` tells the seller)."""
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
            % {"value": _cell(text, DATE_QUOTED), "column": column},
            row,
        )
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ImportFileError(
            _("'%(value)s' in %(column)s is not a date between the years %(first)s and %(last)s.")
            % {"value": _cell(text, DATE_QUOTED), "column": column, "first": MIN_YEAR, "last": MAX_YEAR},
            row,
        )
    # The site's TIME_ZONE, not the admin user's: the same file must give the same dates.
    return timezone.make_aware(value, timezone.get_default_timezone()) if timezone.is_naive(value) else value


def note_row(order_data, row):
    """Note on an order the file's row it starts on: an error the ingestion service finds in it names that row."""
    order_data.source_row = row
    return order_data


def row_of(orders, order_id):
    """The row ``note_row`` noted for the order ``order_id`` among ``orders``, else None."""
    if order_id is None:
        return None
    for order_data in orders:
        if order_data.external_id == order_id:
            return getattr(order_data, "source_row", None)
    return None


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
    first = rows[0][1]
    merged = Cells(first)
    merged.columns = getattr(first, "columns", frozenset())  # an empty cell of a known column reads "" here too
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
        check_columns(table, self.required, self.known, report)
        orders = []
        for order_id, rows in group_rows(table, self.order_id_column, report).items():
            with report.collecting_errors():
                orders.append(note_row(self._order(order_id, rows, report), rows[0][0]))
        return orders
