"""Streaming CSV and XLSX writers: one row at a time, in constant memory.

Both take the rendered cells of a row (text, numbers, dates as the resource gives them) and:

* neutralise text that would start a spreadsheet formula (``neutralise.py``);
* keep numbers as numbers (a numeric cell in XLSX, plain digits in CSV); in XLSX, an amount is shown with its
  currency's decimals (``#,##0`` for JPY or KRW, ``#,##0.00`` for USD: the resource's ``money_columns`` say which
  column holds each amount's currency), other decimals with at most two places as ``#,##0.00``, finer ones
  (exchange rates) with every digit; the cell holds the number itself either way;
* write dates as dates (an XLSX date cell; ``YYYY-MM-DD HH:MM:SS`` in CSV).

XLSX: the rows' XML is written by ``xlsx_rows`` (XlsxWriter's own cell calls were the export's ceiling) to a
temporary file, then put into a workbook XlsxWriter writes with the heading (styles, filter, frozen pane), so
memory stays flat whatever the number of rows. The ``.xlsx`` is whole only once every row is written.
"""

import csv
import datetime
import os
import re
import shutil
import tempfile
import zipfile
from decimal import Decimal

import xlsxwriter
from xlsxwriter.utility import xl_range

from .neutralise import neutralise
from .xlsx_rows import MONEY_FORMATS, MONEY_STYLES, write_rows

#: The sheet's part in the workbook's zip, and the bounds of its rows.
SHEET = "xl/worksheets/sheet1.xml"
SHEET_DATA_OPEN, SHEET_DATA_EMPTY, SHEET_DATA_CLOSE = b"<sheetData>", b"<sheetData/>", b"</sheetData>"
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
#: CSV files start with a UTF-8 byte order mark so Excel reads accents correctly.
CSV_BOM = "\ufeff"

# The heading, which XlsxWriter writes: XML cannot carry lone surrogates; XlsxWriter escapes every other control
# character itself.
_SURROGATES = re.compile("[\ud800-\udfff]")


class ExportFormat:
    def __init__(self, name, label, extension, content_type):
        self.name, self.label, self.extension, self.content_type = name, label, extension, content_type


CSV = ExportFormat("csv", "CSV", "csv", "text/csv; charset=utf-8")
XLSX = ExportFormat("xlsx", "Excel", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
FORMATS = {CSV.name: CSV, XLSX.name: XLSX}


def csv_datetime(value):
    """A date-time's CSV text: ``YYYY-MM-DD HH:MM:SS`` of its own wall clock, its zone left out."""
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")


#: How each exact type becomes CSV text (a dict lookup per cell: this runs millions of times).
_CSV_BY_TYPE = {
    str: neutralise,
    int: str,
    Decimal: str,
    float: repr,
    bool: lambda value: "true" if value else "false",
    datetime.datetime: csv_datetime,
    datetime.date: datetime.date.isoformat,
    type(None): lambda value: "",
}


def csv_cell(value):
    convert = _CSV_BY_TYPE.get(type(value))
    if convert is not None:
        return convert(value)
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, datetime.datetime):
        return csv_datetime(value)
    if isinstance(value, int | Decimal | float):
        return str(value)
    return neutralise(str(value))


class _Line:
    """A file-like object that hands back what ``csv.writer`` writes to it (Django's streaming CSV recipe)."""

    def write(self, value):
        return value


def iter_csv(headers, rows, *, rows_per_chunk=500, rendered=False):
    """Yield a CSV file as text chunks (for ``StreamingHttpResponse``): rows are formatted as they come.

    ``rendered=True``: the rows' cells are CSV text already (a resource's ``csv_row_exporter``)."""
    writer = csv.writer(_Line())
    yield CSV_BOM + writer.writerow([csv_cell(header) for header in headers])
    buffer = []
    for row in rows if rendered else _csv_rows(rows):
        buffer.append(writer.writerow(row))
        if len(buffer) >= rows_per_chunk:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)


def _csv_rows(rows):
    for row in rows:
        yield [csv_cell(value) for value in row]


def write_csv(headers, rows, path, *, rendered=False):
    """Write a CSV file to ``path``; returns the number of data rows.

    ``rendered=True``: the rows' cells are CSV text already (a resource's ``csv_row_exporter``)."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as stream:
        stream.write(CSV_BOM)
        writer = csv.writer(stream)
        writer.writerow([csv_cell(header) for header in headers])
        writerow = writer.writerow
        for row in rows if rendered else _csv_rows(rows):
            writerow(row)
            count += 1
    return count


class XlsxFormats:
    """The cell formats of an export workbook, each given its style id at once, in this order, rather than by the
    first cell that uses it (XlsxWriter's way): the ids ``xlsx_rows`` writes the cells with.

    Amounts have one format per number of decimals (``money_by_decimals``, ``xlsx_rows.MONEY_FORMATS``), every
    one in every workbook: a chunk of a chunked export writes its rows before the workbook exists."""

    def __init__(self, workbook):
        self.bold = workbook.add_format({"bold": True})
        self.money_by_decimals = {
            decimals: workbook.add_format({"num_format": num_format}) for decimals, num_format in MONEY_FORMATS.items()
        }
        self.money = self.money_by_decimals[2]
        self.moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        # Then the other amounts' formats, in the order of their style ids (the money one has its id already).
        money_by_style = [self.money_by_decimals[decimals] for decimals in sorted(MONEY_STYLES, key=MONEY_STYLES.get)]
        for cell_format in (self.bold, self.money, self.moment, self.day, *money_by_style):
            cell_format._get_xf_index()


def write_heading_workbook(headers, path, *, data_rows, sheet_name="Export"):
    """A one-sheet workbook at ``path`` holding only the heading row (bold, frozen), its filter over
    ``data_rows`` rows below it: the workbook ``write_workbook`` puts the rows into."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            # The heading as inline strings, as ``xlsx_rows`` writes text (no shared strings part).
            "constant_memory": True,
            # Text is always written as text: never turned into a formula, a number or a hyperlink.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    try:
        sheet, formats = workbook.add_worksheet(sheet_name), XlsxFormats(workbook)
        for col, header in enumerate(headers):
            sheet.write_string(0, col, _xlsx_text(str(header)), formats.bold)
        sheet.freeze_panes(1, 0)
        if headers:
            sheet.autofilter(0, 0, max(data_rows, 1), len(headers) - 1)
    except BaseException:
        # Closing releases XlsxWriter's temporary file; the caller removes the workbook.
        try:
            workbook.close()
        except Exception:  # noqa: BLE001 - the first error is the one to report
            pass
        raise
    workbook.close()


def write_workbook(headers, data_rows, path, copy_rows, *, width, sheet_name="Export"):
    """Write the workbook at ``path``: ``headers``, then ``data_rows`` rows at most ``width`` cells wide, whose
    ``<row>`` elements ``copy_rows(stream)`` writes into the sheet's XML (a binary stream). On an error what is at
    ``path`` is no workbook: the caller, which chose ``path``, removes it (every caller writes to a file of its
    own and deletes it on failure)."""
    handle, head_path = tempfile.mkstemp(prefix="wc-xlsx-head-", suffix=".xlsx")
    os.close(handle)
    try:
        write_heading_workbook(headers, head_path, data_rows=data_rows, sheet_name=sheet_name)
        with zipfile.ZipFile(head_path) as head, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for item in head.infolist():
                if item.filename != SHEET:
                    out.writestr(item, head.read(item))
                    continue
                sheet = head.read(item).replace(SHEET_DATA_EMPTY, SHEET_DATA_OPEN + SHEET_DATA_CLOSE)
                width = max(width, len(headers))
                if data_rows and width:
                    dimension = xl_range(0, 0, data_rows, width - 1).encode()
                    sheet = _DIMENSION.sub(b'<dimension ref="' + dimension + b'"/>', sheet, count=1)
                end = sheet.rindex(SHEET_DATA_CLOSE)
                entry = zipfile.ZipInfo(SHEET, item.date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with out.open(entry, "w", force_zip64=True) as stream:
                    stream.write(sheet[:end])
                    copy_rows(stream)
                    stream.write(sheet[end:])
    finally:
        os.unlink(head_path)


def write_xlsx(headers, rows, path, *, sheet_name="Export", money_columns=()):
    """Write an XLSX workbook to ``path`` in constant memory; returns the number of data rows.

    ``money_columns``: ``(amount column, currency column)`` index pairs (``xlsx_rows.write_rows``), the amounts
    shown with their currency's decimals.

    The rows' XML goes to a temporary file first, as XlsxWriter's ``constant_memory`` mode does: the sheet's
    dimension, written before them, needs their number."""
    with tempfile.TemporaryFile(prefix="wc-xlsx-rows-") as rows_file:
        count, width = write_rows(rows, rows_file, money_columns=money_columns)
        rows_file.seek(0)
        write_workbook(
            headers,
            count,
            path,
            lambda stream: shutil.copyfileobj(rows_file, stream, 1 << 20),
            width=width,
            sheet_name=sheet_name,
        )
    return count


def _xlsx_text(value):
    value = neutralise(value)
    if _SURROGATES.search(value):
        value = _SURROGATES.sub("\ufffd", value)
    return value
