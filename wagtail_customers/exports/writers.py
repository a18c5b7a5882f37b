"""Streaming CSV and XLSX writers: one row at a time, in constant memory.

Both take the rendered cells of a row (text, numbers, dates as the resource gives them) and:

* neutralise text that would start a spreadsheet formula (``neutralise.py``);
* keep numbers as numbers (a numeric cell in XLSX, plain digits in CSV); in XLSX, decimals with at most
  two places are amounts (shown ``#,##0.00``), finer ones (exchange rates) keep every digit;
* write dates as dates (an XLSX date cell; ``YYYY-MM-DD HH:MM:SS`` in CSV).

XLSX uses XlsxWriter's ``constant_memory`` mode: measured on this project's 2-core machine it wrote
50,000 ten-column rows in 2.7 s with 21 MB peak memory, against 3.9 s / 26 MB for openpyxl's
write-only mode. ``constant_memory`` flushes each row to a temporary file as soon as the next one
starts, so rows must come in order (they do) and the ``.xlsx`` exists only after ``close()``.
"""

import csv
import datetime
import re
from contextlib import contextmanager
from decimal import Decimal

import xlsxwriter

from .neutralise import neutralise

#: Excel's last row (1,048,576) minus the heading row.
XLSX_MAX_ROWS = 1_048_575
#: CSV files start with a UTF-8 byte order mark so Excel reads accents correctly.
CSV_BOM = "\ufeff"

# XML cannot carry lone surrogates; XlsxWriter escapes every other control character itself.
_SURROGATES = re.compile("[\ud800-\udfff]")


class ExportFormat:
    def __init__(self, name, label, extension, content_type):
        self.name, self.label, self.extension, self.content_type = name, label, extension, content_type


CSV = ExportFormat("csv", "CSV", "csv", "text/csv; charset=utf-8")
XLSX = ExportFormat("xlsx", "Excel", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
FORMATS = {CSV.name: CSV, XLSX.name: XLSX}


def _csv_datetime(value):
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")


#: How each exact type becomes CSV text (a dict lookup per cell: this runs millions of times).
_CSV_BY_TYPE = {
    str: neutralise,
    int: str,
    Decimal: str,
    float: repr,
    bool: lambda value: "true" if value else "false",
    datetime.datetime: _csv_datetime,
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
        return _csv_datetime(value)
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


class TooManyRowsForExcel(ValueError):
    pass


class XlsxFormats:
    """The cell formats of an export workbook, each given its style id at once, in this order, rather than by the
    first cell that uses it (XlsxWriter's way): every workbook has the same ids, so the rows of one (a chunk,
    ``xlsx_join.py``) can be joined into another."""

    def __init__(self, workbook):
        self.bold = workbook.add_format({"bold": True})
        self.money = workbook.add_format({"num_format": "#,##0.00"})
        self.moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        for cell_format in (self.bold, self.money, self.moment, self.day):
            cell_format._get_xf_index()


@contextmanager
def xlsx_sheet(path, sheet_name="Export"):
    """``(sheet, formats)`` of a new one-sheet workbook at ``path`` in constant memory, closed (written) on exit."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            # Text is always written as text: never turned into a formula, a number or a hyperlink.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "remove_timezone": True,
        },
    )
    try:
        yield workbook.add_worksheet(sheet_name), XlsxFormats(workbook)
    except BaseException:
        # The caller discards the file; closing only releases XlsxWriter's temporary files.
        try:
            workbook.close()
        except Exception:  # noqa: BLE001 - the first error is the one to report
            pass
        raise
    workbook.close()


def write_xlsx(headers, rows, path, *, sheet_name="Export", filter_rows=None):
    """Write an XLSX workbook to ``path`` in constant memory; returns the number of data rows.

    ``filter_rows``: the data rows the heading's filter covers, when they are added afterwards (``xlsx_join``)."""
    with xlsx_sheet(path, sheet_name) as (sheet, formats):
        for col, header in enumerate(headers):
            sheet.write_string(0, col, _xlsx_text(str(header)), formats.bold)
        sheet.freeze_panes(1, 0)
        count = write_xlsx_rows(sheet, formats, rows)
        if headers:
            sheet.autofilter(0, 0, max(count if filter_rows is None else filter_rows, 1), len(headers) - 1)
    return count


def write_xlsx_rows(sheet, formats, rows, first_row=1):
    """Write ``rows`` from the sheet's row ``first_row`` (0 is the heading's) on; returns how many."""
    write_string, write_number, write_datetime = sheet.write_string, sheet.write_number, sheet.write_datetime
    money, moment, day = formats.money, formats.moment, formats.day
    row_index = first_row - 1
    for row_index, row in enumerate(rows, start=first_row):
        if row_index > XLSX_MAX_ROWS:
            raise TooManyRowsForExcel(row_index)
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                write_string(row_index, col, _xlsx_text(value))
            elif isinstance(value, bool):
                sheet.write_boolean(row_index, col, value)
            elif isinstance(value, Decimal):
                # Amounts (two decimal places at most) as money; finer numbers (exchange rates) in full.
                write_number(row_index, col, value, money if value.as_tuple().exponent >= -2 else None)
            elif isinstance(value, int | float):
                write_number(row_index, col, value)
            elif isinstance(value, datetime.datetime):
                write_datetime(row_index, col, value, moment)
            elif isinstance(value, datetime.date):
                write_datetime(row_index, col, value, day)
            else:
                write_string(row_index, col, _xlsx_text(str(value)))
    return row_index - first_row + 1


def _xlsx_text(value):
    value = neutralise(value)
    if _SURROGATES.search(value):
        value = _SURROGATES.sub("\ufffd", value)
    return value
