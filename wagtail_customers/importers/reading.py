"""Reading an uploaded file within limits, checked before and while parsing it.

A file's declared sizes are never trusted: a 0.6 MB workbook can inflate to a 600 MB string, and a
single line of commas is millions of cells. So a text file is decoded in chunks and cut into
lines whose length is checked before the CSV parser sees them; a workbook's parts are checked in
the zip's directory and again while they are inflated (a lying header), their tags and text runs
measured and their rows and cells counted, all before openpyxl parses anything. Past a limit the
import stops with a message that names it. The limits are settings (``IMPORT_MAX_*``,
docs/reference/settings.md); what they protect is described in docs/security.md.
"""

import codecs
import csv
import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils.translation import gettext as _

from ..conf import get_setting
from ..counts import grouped
from .base import ImportFileError

#: Bytes decoded (text) or inflated (workbook) at a time.
CHUNK_BYTES = 1 << 20
#: An XML text run or tag may take up to this many bytes per character of a cell (``&quot;`` is 6).
XML_BYTES_PER_CHAR = 8
#: Parts a workbook may hold (a real one has a few dozen).
MAX_XLSX_MEMBERS = 2000

#: The separators a text file's columns may have, in the order a tie between them is settled.
DELIMITERS = (",", ";", "\t")
#: An old Excel workbook (.xls) or a password-protected .xlsx: a Compound File, not a zip.
COMPOUND_FILE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

logger = logging.getLogger("wagtail_customers.imports")

_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_PREFIXED_CELL_TAG = re.compile(rb"<[A-Za-z_][\w.-]*:c[\s/>]")


@dataclass(frozen=True)
class Limits:
    max_rows: int
    max_columns: int
    max_cell_chars: int
    max_row_chars: int
    max_xlsx_bytes: int

    @classmethod
    def from_settings(cls):
        return cls(
            max_rows=get_setting("IMPORT_MAX_ROWS"),
            max_columns=get_setting("IMPORT_MAX_COLUMNS"),
            max_cell_chars=get_setting("IMPORT_MAX_CELL_CHARS"),
            max_row_chars=get_setting("IMPORT_MAX_ROW_CHARS"),
            max_xlsx_bytes=get_setting("IMPORT_MAX_XLSX_BYTES"),
        )


@dataclass
class RawTable:
    """The header cells and ``(row number, cell texts)`` of each row, as read (nothing dropped yet)."""

    headers: list
    rows: object  # an iterator, consumed once
    warnings: list = field(default_factory=list)
    #: The separator of a text file's columns (None for a workbook).
    delimiter: str | None = None


def _n(number):
    return grouped(number)


def too_many_rows(limits):
    return ImportFileError(
        _("The file has more than %(limit)s rows. Split it into smaller files.") % {"limit": _n(limits.max_rows)}
    )


def too_many_columns(count, limits, row=None):
    return ImportFileError(
        _("The row has %(count)s columns; at most %(limit)s are read. Is this the right file?")
        % {"count": _n(count), "limit": _n(limits.max_columns)},
        row,
    )


def too_long_cell(row, limits):
    return ImportFileError(
        _("A cell holds more than %(limit)s characters (the most a spreadsheet cell holds).")
        % {"limit": _n(limits.max_cell_chars)},
        row,
    )


# --- text files ---------------------------------------------------------------------------------------------


def read_text(content, encoding, delimiter, limits, columns=None):
    """CSV or tab-separated ``content`` as a ``RawTable``; never more than a row's worth parsed at once.

    With ``delimiter`` None it is guessed from the header row (``guess_delimiter``), by ``columns``: the
    column names the layout knows.
    """
    lines = _BoundedLines(_decoded_chunks(content, encoding), limits)
    line_iterator = iter(lines)
    first = next(line_iterator, "")
    if delimiter is None:
        delimiter = guess_delimiter(first, columns)
    reader = csv.reader(_chain(first, line_iterator), delimiter=delimiter)
    try:
        headers = next(reader, [])
    except csv.Error as error:
        raise _unreadable_text(error, 1, limits) from None
    if len(headers) > limits.max_columns:
        raise too_many_columns(len(headers), limits, 1)
    lines.row_number = 1
    return RawTable(headers=headers, rows=_text_rows(reader, lines, len(headers), limits), delimiter=delimiter)


def guess_delimiter(header_line, columns=None):
    """The separator among comma, semicolon and tab that splits ``header_line`` into most of ``columns``.

    Excel writes "CSV" with semicolons where the decimal point is a comma (much of Europe), and "Text" with
    tabs. The header is split as the CSV parser splits it (a quoted name may hold any of them), and each
    separator is scored on the known column names it gives, then on the number of cells; the separator of the
    rule below wins a tie on names, else the earlier of comma, semicolon, tab.

    When ``columns`` is empty, or no separator gives any of them (a site's layout without ``known``, a header of
    another layout), the rule of the releases before semicolons were read decides, exactly: tab when the line
    holds more tabs than commas, else comma. A semicolon is chosen only when the layout's column names say so.
    """
    fallback = "\t" if header_line.count("\t") > header_line.count(",") else ","
    known = {str(name).strip() for name in columns or ()}
    if not known:
        return fallback
    scores = {}
    for delimiter in DELIMITERS:
        try:
            cells = next(csv.reader([header_line], delimiter=delimiter), [])
        except csv.Error:
            continue
        scores[delimiter] = (sum(cell.strip() in known for cell in cells), len(cells))
    names = max((score[0] for score in scores.values()), default=0)
    if not names or scores.get(fallback, (0,))[0] == names:
        return fallback
    # max() keeps the first of equal scores: the earlier of comma, semicolon, tab.
    return max((delimiter for delimiter in scores if scores[delimiter][0] == names), key=scores.get)


def _unreadable_text(error, row, limits):
    """The seller's message for the CSV parser's ``error`` at ``row``; the parser's own words go to the log."""
    logger.info("Import file: the CSV parser stopped at row %s: %s", row, error)
    if "field limit" in str(error):
        # The parser's own bound on a cell (csv.field_size_limit()), above any cell a spreadsheet writes.
        return ImportFileError(
            _("A cell holds more than %(limit)s characters (the most a spreadsheet cell holds).")
            % {"limit": _n(min(limits.max_cell_chars, csv.field_size_limit()))},
            row,
        )
    return ImportFileError(
        _(
            "The file cannot be read as CSV from this row on: a quote or a line break is out of place. "
            "Save the file again as CSV from your spreadsheet program."
        ),
        row,
    )


def _chain(first, lines):
    if first:
        yield first
    yield from lines


def _text_rows(reader, lines, width, limits):
    row_number = 1
    while True:
        lines.record_chars = 0
        try:
            record = next(reader, None)
        except csv.Error as error:
            raise _unreadable_text(error, row_number + 1, limits) from None
        if record is None:
            return
        row_number += 1
        lines.row_number = row_number
        if row_number - 1 > limits.max_rows:
            raise too_many_rows(limits)
        if len(record) > width:
            raise ImportFileError(
                _("The row has %(cells)d cells but the header row has %(width)d columns.")
                % {"cells": len(record), "width": width},
                row_number,
            )
        # The record's length bounds every cell's: look at the cells only when it could matter.
        if lines.record_chars > limits.max_cell_chars and any(len(cell) > limits.max_cell_chars for cell in record):
            raise too_long_cell(row_number, limits)
        yield row_number, record


class _BoundedLines:
    """The lines of the decoded text, refusing any row (lines of one record) longer than the limit.

    ``record_chars`` counts the characters handed to the CSV parser since its last record: a quoted
    cell may span lines, so the bound is on the record, which the parser never sees whole past it.
    """

    def __init__(self, chunks, limits):
        self.chunks = chunks
        self.limit = limits.max_row_chars
        self.record_chars = 0
        #: The last row the CSV parser returned (0 before the header).
        self.row_number = 0

    def _count(self, chars):
        self.record_chars += chars
        if self.record_chars > self.limit:
            raise ImportFileError(
                _("The row is longer than %(limit)s characters. Is this the right file?") % {"limit": _n(self.limit)},
                self.row_number + 1,
            )

    def __iter__(self):
        pending = ""
        for chunk in self.chunks:
            parts = (pending + chunk).split("\n")
            pending = parts.pop()
            for part in parts:
                self._count(len(part) + 1)
                yield part + "\n"
            if self.record_chars + len(pending) > self.limit:
                self._count(len(pending))
        if pending:
            self._count(len(pending))
            yield pending


def _decoded_chunks(content, encoding):
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # Excel's "Unicode text" is UTF-16 with a byte order mark, whatever encoding was chosen.
        encoding = "utf-16"
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        codec = None
    if codec is None or not getattr(codec, "_is_text_encoding", True):  # 'rot13', 'base64': not text encodings
        raise ImportFileError(_("Unknown text encoding '%(encoding)s'.") % {"encoding": encoding})
    decoder = codec.incrementaldecoder()
    first = True
    for offset in range(0, len(content), CHUNK_BYTES):
        piece = content[offset : offset + CHUNK_BYTES]
        buffered = len(decoder.getstate()[0])
        try:
            text = decoder.decode(piece, final=offset + CHUNK_BYTES >= len(content))
        except UnicodeDecodeError as error:
            position = min(max(offset - buffered + error.start, 0), len(content) - 1)
            raise ImportFileError(
                _(
                    "The file is not %(encoding)s text (byte 0x%(byte)02x at position %(position)d). "
                    "Save it as CSV UTF-8 or choose its encoding."
                )
                % {"encoding": encoding, "byte": content[position], "position": position}
            ) from None
        except UnicodeError as error:  # a codec's own refusal (Python 3.11's idna: "IDNA does not round-trip")
            logger.info("Import file: not %s text: %s", encoding, error)
            raise ImportFileError(
                _("The file is not %(encoding)s text. Save it as CSV UTF-8 or choose its encoding.")
                % {"encoding": encoding}
            ) from None
        if first:
            text = text.lstrip("\ufeff")
            first = False
        if "\x00" in text:
            raise ImportFileError(_("The file contains NUL bytes; it is not a text file."))
        yield text


def count_rows(content, filename="", limits=None):
    """Data rows the file holds, counted cheaply and within the limits (0 for a file the check will refuse).

    A text file's line breaks (a quoted line break counts too: more rows, never fewer); a workbook's
    ``<row>`` elements in its active worksheet (the one imported), whatever its ``<dimension>`` declares; 0 for a
    Compound File (an .xls
    or a password-protected workbook), which the check refuses at once with the sentence that names it.
    """
    if content.startswith(COMPOUND_FILE_SIGNATURE):
        # An .xls or a password-protected workbook: refused when read, whatever its size. Its bytes are no lines
        # (a 1.3 MB one holds thousands of b"\n"), and counted as rows they sent it to the background.
        return 0
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        try:
            scan = scan_xlsx(content, limits or Limits.from_settings())
        except ImportFileError:  # refused by the check itself, quickly and with the reason
            return 0
        return max(scan.rows - 1, 0)
    return max(content.count(b"\n") - (1 if content.endswith(b"\n") else 0), 0)


# --- workbooks ----------------------------------------------------------------------------------------------


@dataclass
class WorkbookScan:
    #: ``<row>`` elements (the header row included) of the active worksheet, the one imported, and of the one
    #: being scanned.
    rows: int = 0
    sheet_rows: int = 0
    inflated_bytes: int = 0
    #: Each worksheet's ``<row>`` elements, and its first row with more cells than allowed: ``(cells, row)``.
    sheets: dict = field(default_factory=dict)
    too_wide: dict = field(default_factory=dict)


def scan_xlsx(content, limits):
    """Check a workbook's parts before openpyxl reads them; returns what was counted, or raises ``ImportFileError``.

    Sizes are checked in the zip's central directory first, then counted while inflating (a header
    may lie). Every XML part is measured for text runs and tags longer than a cell may be, and every
    worksheet's rows and cells per row are counted, all without building any of them. The row and column limits
    apply to the active worksheet only: the one ``read_xlsx`` imports (a lookup sheet beside it is never read).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except Exception as error:  # zipfile raises many kinds for a file that is not a zip
        raise not_a_workbook(error, content) from None
    if len(members) > MAX_XLSX_MEMBERS:
        raise ImportFileError(_("The workbook has too many parts (%(count)s).") % {"count": _n(len(members))})
    declared = sum(member.file_size for member in members)
    if declared > limits.max_xlsx_bytes:
        raise _too_big_workbook(limits)
    scan = WorkbookScan()
    for member in members:
        is_sheet = member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")
        try:
            _scan_member(archive, member, scan, is_sheet, limits)
        except ImportFileError:
            raise
        except Exception as error:  # zipfile raises many kinds for a broken or encrypted member
            raise not_a_workbook(error, content) from None
    active = _active_sheet_part(archive)
    if active is None:  # cannot be told here (openpyxl will say why): the biggest sheet, as the strictest guess
        active = max(scan.sheets, key=scan.sheets.get, default=None)
    if active in scan.too_wide:
        cells, row = scan.too_wide[active]
        raise too_many_columns(cells, limits, row)
    scan.rows = scan.sheets.get(active, 0)
    if scan.rows > limits.max_rows + 1:
        raise too_many_rows(limits)
    return scan


def _active_sheet_part(archive):
    """The part openpyxl opens as the workbook's active sheet (``read_xlsx``), found as openpyxl finds it, with its
    own readers of the workbook's small parts; None if it cannot be told."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.packaging.relationship import get_dependents, get_rels_path
    from openpyxl.packaging.workbook import WorkbookPackage
    from openpyxl.reader.excel import _find_workbook_part
    from openpyxl.xml.constants import ARC_CONTENT_TYPES
    from openpyxl.xml.functions import fromstring

    try:
        manifest = Manifest.from_tree(fromstring(archive.read(ARC_CONTENT_TYPES)))
        part = _find_workbook_part(manifest).PartName[1:]
        package = WorkbookPackage.from_tree(fromstring(archive.read(part)))
        rels = get_dependents(archive, get_rels_path(part)).to_dict()
        present = set(archive.namelist())
        # The sheets openpyxl keeps, in its order (``ExcelReader.read_worksheets``): chartsheets take a place too.
        sheets = [rels[sheet.id].target for sheet in package.sheets if sheet.id and sheet.id in rels]
        return [target for target in sheets if target in present][package.active]
    except Exception:  # a damaged workbook: reading it says so
        return None


def not_a_workbook(error, content=b"", row=None):
    """The seller's message for a file that zipfile or openpyxl cannot read; their own words go to the log."""
    logger.info("Import file: not a readable workbook (row %s): %r", row, error)
    if content.startswith(COMPOUND_FILE_SIGNATURE):
        return ImportFileError(
            _(
                "The file is an old Excel workbook (.xls) or a workbook protected by a password. "
                "Save it again from Excel or your spreadsheet program as an Excel workbook (.xlsx) without a "
                "password, or as CSV."
            )
        )
    return ImportFileError(
        _(
            "The file is not an Excel workbook (.xlsx), or it is damaged. Save it again from Excel or your "
            "spreadsheet program as an Excel workbook, or as CSV."
        ),
        row,
    )


def _too_big_workbook(limits):
    return ImportFileError(
        _("The workbook unpacks to more than %(size)s MB. Split it, or save it as CSV.")
        % {"size": _n(limits.max_xlsx_bytes // (1 << 20))}
    )


def _scan_member(archive, member, scan, is_sheet, limits):
    is_xml = member.filename.endswith((".xml", ".rels"))
    run_limit = limits.max_cell_chars * XML_BYTES_PER_CHAR
    # A run of text after a tag, or a tag, longer than any cell may be.
    too_long = re.compile(rb"(?:^|(?<=>))[^<]{%d}|<[^>]{%d}" % (run_limit, run_limit))
    carry = b""
    cells_in_row = 0
    scan.sheet_rows = 0
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            scan.inflated_bytes += len(chunk)
            if scan.inflated_bytes > limits.max_xlsx_bytes:
                raise _too_big_workbook(limits)
            if not is_xml:
                continue
            data = carry + chunk
            # Cut after the last '>': no tag name straddles the cut, so the counts below are exact.
            cut = data.rfind(b">") + 1
            data, carry = data[:cut], data[cut:]
            if len(carry) > run_limit or too_long.search(data):
                raise too_long_cell(None, limits)
            if is_sheet:
                cells_in_row = _count_rows_and_cells(data, cells_in_row, scan, limits, member.filename)
    if is_sheet:
        scan.sheets[member.filename] = scan.sheet_rows


def _count_rows_and_cells(data, cells_in_row, scan, limits, sheet):
    segments = _ROW_TAG.split(data)
    # The first segment continues the row open at the end of the previous chunk.
    for index, segment in enumerate(segments):
        if index:
            scan.sheet_rows += 1
            cells_in_row = 0
        cells_in_row += segment.count(b"<c ") + segment.count(b"<c>") + segment.count(b"<c/>")
        if b":c" in segment:
            cells_in_row += len(_PREFIXED_CELL_TAG.findall(segment))
        if cells_in_row > limits.max_columns and sheet not in scan.too_wide:
            # Refused only if this is the sheet imported, known once the workbook's parts are read.
            scan.too_wide[sheet] = (cells_in_row, scan.sheet_rows or None)
    return cells_in_row


def read_xlsx(content, limits):
    """The active sheet of a workbook as a ``RawTable``: every row, whatever the sheet's declared size."""
    scan_xlsx(content, limits)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = workbook.active
        if sheet is None or not hasattr(sheet, "reset_dimensions"):
            raise ImportFileError(_("The workbook has no worksheet to read."))
        declared = sheet.max_row if sheet.max_row and sheet.max_column else None
        # Read-only mode stops at the declared <dimension>; a file may declare fewer rows than it holds.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        headers = [_cell_text(value) for value in next(rows, ())]
    except ImportFileError:
        raise
    except Exception as error:  # openpyxl raises many kinds for a malformed workbook
        raise not_a_workbook(error, content) from None
    table = RawTable(headers=headers, rows=None)
    table.rows = _xlsx_rows(workbook, rows, declared, table.warnings, limits)
    return table


def _xlsx_rows(workbook, rows, declared, warnings, limits):
    row_number = 1
    try:
        for values in rows:
            row_number += 1
            if row_number - 1 > limits.max_rows:
                raise too_many_rows(limits)
            cells = [_cell_text(value) for value in values]
            if sum(map(len, cells)) > limits.max_cell_chars and any(len(c) > limits.max_cell_chars for c in cells):
                raise too_long_cell(row_number, limits)
            yield row_number, cells
    except ImportFileError:
        raise
    except Exception as error:  # openpyxl fails while reading the next row
        raise not_a_workbook(error, row=row_number + 1) from None
    finally:
        workbook.close()
    if declared is not None and declared != row_number:
        warnings.append(
            _(
                "The file declares %(declared)s rows but holds %(actual)s; every row was read. "
                "Check that the file is complete."
            )
            % {"declared": _n(max(declared - 1, 0)), "actual": _n(row_number - 1)}
        )


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()
