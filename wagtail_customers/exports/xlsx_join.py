"""A chunked XLSX export's workbook, joined from workbooks written by the chunks (``chunks.py``).

An ``.xlsx`` sheet is one XML part of a zip. Written by XlsxWriter in one process, a million rows take about two
minutes, whatever the number of workers; so each chunk writes its own rows with XlsxWriter (``write_part``), on
its worker, at the rows they have in the final sheet, and the join only copies the chunks' ``<row>`` elements,
in order, into the sheet of a workbook holding the heading (``join``). The cells are the bytes a single
``write_xlsx`` would write: the same code writes them, and every workbook gives its formats the same style ids
(``writers.XlsxFormats``).

A chunk counts on the chunks before it being full. When one is not (customers deleted while the export ran), the
rows after it are numbered again on the way (slower, and rare).
"""

import os
import re
import zipfile

from xlsxwriter.utility import xl_range

from .writers import write_xlsx, write_xlsx_rows, xlsx_sheet

SHEET = "xl/worksheets/sheet1.xml"
_OPEN, _EMPTY, _CLOSE = b"<sheetData>", b"<sheetData/>", b"</sheetData>"
_ROW_NUMBERS = re.compile(rb'(<row r="|<c r="[A-Z]+)(\d+)"')
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
_BLOCK = 1 << 20


def write_part(rows, path, first_row):
    """A chunk's workbook: its ``rows`` from sheet row ``first_row`` on (no heading); returns how many."""
    with xlsx_sheet(path) as (sheet, formats):
        return write_xlsx_rows(sheet, formats, rows, first_row)


def join(headers, parts, path):
    """Write the workbook at ``path``: ``headers``, then the rows of ``parts`` (``[(opened file, first row it
    was written at, rows)]``, in order). Returns the number of data rows."""
    total = sum(rows for _part, _first, rows in parts)
    head_path = path + ".head.xlsx"
    try:
        write_xlsx(headers, [], head_path, filter_rows=total)
        with zipfile.ZipFile(head_path) as head, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for item in head.infolist():
                if item.filename != SHEET:
                    out.writestr(item, head.read(item))
                    continue
                sheet = head.read(item).replace(_EMPTY, _OPEN + _CLOSE)
                if total and headers:
                    dimension = xl_range(0, 0, total, len(headers) - 1).encode()
                    sheet = _DIMENSION.sub(b'<dimension ref="' + dimension + b'"/>', sheet, count=1)
                end = sheet.rindex(_CLOSE)
                entry = zipfile.ZipInfo(SHEET, item.date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with out.open(entry, "w", force_zip64=True) as stream:
                    stream.write(sheet[:end])
                    row = 1
                    for part, first_row, rows in parts:
                        _copy_rows(part, stream, shift=row - first_row)
                        row += rows
                    stream.write(sheet[end:])
    finally:
        if os.path.exists(head_path):
            os.unlink(head_path)
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
