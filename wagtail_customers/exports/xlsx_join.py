"""A chunked XLSX export's workbook, joined from the rows written by the chunks (``chunks.py``).

An ``.xlsx`` sheet is one XML part of a zip. So each chunk writes its rows' XML (``xlsx_rows``), on its worker, at
the rows they have in the final sheet, into a zip of its own (``write_part``); the join copies those ``<row>``
elements, in order, into the sheet of the workbook ``writers.write_workbook`` writes around them (``join``). The
sheet is the bytes a single ``write_xlsx`` would write: the same code writes the rows and the workbook.

A chunk counts on the chunks before it being full. When one is not (customers deleted while the export ran), the
rows after it are numbered again on the way (slower, and rare).
"""

import re
import zipfile

from .writers import SHEET, SHEET_DATA_CLOSE, SHEET_DATA_EMPTY, SHEET_DATA_OPEN, write_workbook
from .xlsx_rows import write_rows

_OPEN, _EMPTY, _CLOSE = SHEET_DATA_OPEN, SHEET_DATA_EMPTY, SHEET_DATA_CLOSE
_ROW_NUMBERS = re.compile(rb'(<row r="|<c r="[A-Z]+)(\d+)"')
_BLOCK = 1 << 20


def write_part(rows, path, first_row, money_columns=()):
    """A chunk's file: a zip whose sheet part holds its ``rows``' elements from sheet row ``first_row`` on,
    between ``<sheetData>`` tags (what ``_copy_rows`` reads; a whole workbook written by an earlier release
    reads the same way). ``money_columns``: as ``write_rows`` takes them (the amounts' formats are the same in
    every workbook, so the joined one has them). Returns how many rows."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as part, part.open(SHEET, "w", force_zip64=True) as sheet:
        sheet.write(_OPEN)
        count, _width = write_rows(rows, sheet, first_row, money_columns)
        sheet.write(_CLOSE)
    return count


def join(headers, parts, path):
    """Write the workbook at ``path``: ``headers``, then the rows of ``parts`` (``[(opened file, first row it
    was written at, rows)]``, in order). Returns the number of data rows."""
    total = sum(rows for _part, _first, rows in parts)

    def copy_rows(stream):
        row = 1
        for part, first_row, rows in parts:
            _copy_rows(part, stream, shift=row - first_row)
            row += rows

    write_workbook(headers, total, path, copy_rows, width=len(headers))
    return total


def _copy_rows(part, out, shift):
    """Copy the ``<row>`` elements of a chunk's workbook (an open file) into ``out``, each row number plus
    ``shift`` (negative when chunks before it wrote fewer rows than they were given)."""
    with zipfile.ZipFile(part) as workbook, workbook.open(SHEET) as sheet:
        if shift:
            # Rare: read whole, every row and cell reference renumbered.
            data = sheet.read()
            if _EMPTY not in data:
                rows = data[data.index(_OPEN) + len(_OPEN) : data.rindex(_CLOSE)]
                out.write(_ROW_NUMBERS.sub(lambda found: found[1] + b"%d" % (int(found[2]) + shift) + b'"', rows))
            return
        pending = b""
        while _OPEN not in pending:
            block = sheet.read(_BLOCK)
            if not block or _EMPTY in pending + block:
                return
            pending += block
        pending = pending[pending.index(_OPEN) + len(_OPEN) :]
        # Written as read, but for a tail long enough to hold the closing tag split across two blocks.
        keep = len(_CLOSE) - 1
        while (end := pending.find(_CLOSE)) < 0:
            if len(pending) > keep:
                out.write(pending[:-keep])
                pending = pending[-keep:]
            block = sheet.read(_BLOCK)
            if not block:
                raise ValueError("a chunk's sheet has no end")
            pending += block
        out.write(pending[:end])
