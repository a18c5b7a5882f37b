"""The XLSX rows written as XML text (``exports/xlsx_rows.py``) against XlsxWriter's own rows for the same values:
the same bytes for text, counts, dates, booleans; the same numbers for amounts (XlsxWriter's releases differ in
how they print a Decimal); text that XlsxWriter would write as XML ("rich strings") kept as text; Excel's limits."""

import datetime
import io
import re
import zipfile
from decimal import Decimal
from enum import Enum, IntEnum

import pytest
import xlsxwriter
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from tests.export_support import decode_xlsx_escapes, read_xlsx
from wagtail_customers.exports import xlsx_join
from wagtail_customers.exports.writers import SHEET, XlsxFormats, write_xlsx
from wagtail_customers.exports.xlsx_rows import (
    BOLD_STYLE,
    DAY_STYLE,
    MOMENT_STYLE,
    MONEY_STYLE,
    TEXT_MAX_UNITS,
    XLSX_MAX_ROWS,
    TooManyRowsForExcel,
    write_rows,
)

UTC = datetime.UTC
PARIS = datetime.timezone(datetime.timedelta(hours=1))

TEXTS = [
    "Ada Lovelace",
    " leading space",
    "trailing space ",
    "\u00a0no-break around\u00a0",
    "line\nbreak",
    "ends with a line break\n",
    "quotes \" and ' stay",
    "a & b < c > d",
    "a\x00b",
    "\x01\x02\x1f",
    "\x0b\x0c vertical tab and form feed",
    "cr\rlf\n",
    "\ufffe\uffff",
    "lone \ud800 surrogate",
    "_x0041_ looks like an escape",
    "_X004a_ and _x12_ and _xZZZZ_",
    "\x7f delete",
    "emoji \U0001f600",
    "=SUM(A1:A9)",
    "+33 1 23 45 67 89",
    "-10OFF",
    "@handle",
    "\tTab first",
    "\x1c file separator first",
    "ends with a group separator\x1d",
    "Ünïcödé ÆØÅ 東京",
]
NUMBERS = [0, 1, -7, 123456789, 10**15, 10**16 + 1, -(10**20), 0.1, -12.5, 1e-7, 1e20, 2.5e-300]
MOMENTS = [
    datetime.datetime(2025, 3, 9, 14, 5, 7, tzinfo=UTC),
    datetime.datetime(2025, 3, 9, 14, 5, 7, 123456, tzinfo=PARIS),
    datetime.datetime(2024, 2, 29, 23, 59, 59),
    # (1 January and 28 February 1900 with a time: XlsxWriter's differ, see the test of Excel's own day numbers)
    datetime.datetime(1900, 3, 1, 0, 0, 1),
    datetime.datetime(1899, 12, 31, 0, 0),
    datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
]
DAYS = [datetime.date(2025, 1, 31), datetime.date(1900, 1, 1), datetime.date(1900, 2, 28), datetime.date(1900, 3, 1)]


def xlsxwriter_rows(rows, path):
    """The rows as XlsxWriter's ``constant_memory`` mode writes them through its own calls (what the export used
    before ``xlsx_rows``), with the export's formats; returns the sheet's XML."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "remove_timezone": True,
        },
    )
    sheet, formats = workbook.add_worksheet("Export"), XlsxFormats(workbook)
    for row_index, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                text = value if not value or value[0] not in "=+-@\t\r\0" else "'" + value
                sheet.write_string(row_index, col, re.sub("[\ud800-\udfff]", "\ufffd", text))
            elif isinstance(value, bool):
                sheet.write_boolean(row_index, col, value)
            elif isinstance(value, Decimal):
                sheet.write_number(row_index, col, value, formats.money if value.as_tuple().exponent >= -2 else None)
            elif isinstance(value, int | float):
                sheet.write_number(row_index, col, value)
            elif isinstance(value, datetime.datetime):
                sheet.write_datetime(row_index, col, value, formats.moment)
            else:
                sheet.write_datetime(row_index, col, value, formats.day)
    workbook.close()
    with zipfile.ZipFile(path) as written:
        return sheet_rows(written.read(SHEET))


def our_rows(rows, first_row=1):
    stream = io.BytesIO()
    assert write_rows(rows, stream, first_row)[0] == len(rows)
    return stream.getvalue()


def sheet_rows(sheet_xml):
    if b"<sheetData/>" in sheet_xml:
        return b""
    return sheet_xml[sheet_xml.index(b"<sheetData>") + len(b"<sheetData>") : sheet_xml.rindex(b"</sheetData>")]


def test_every_kind_of_value_is_written_as_xlsxwriter_writes_it(tmp_path):
    rows = [
        *([text] for text in TEXTS),
        NUMBERS,
        MOMENTS,
        DAYS,
        [True, False, None, "", 3],
        ["", None],  # a row of nothing: left out, as XlsxWriter leaves it out
        [None, "second column", None, 5, None],
        [f"wide {col}" for col in range(30)],  # columns past Z
    ]
    assert our_rows(rows) == xlsxwriter_rows(rows, tmp_path / "oracle.xlsx")


def test_moments_early_in_1900_are_excels_day_numbers():
    # Excel's 1900 system: 1 is 1900-01-01 (0 the day before, which Excel shows as "1900-01-00"), 59 is 28 February,
    # 60 the 29 February 1900 that never was, 61 is 1 March. XlsxWriter 3.1 wrote 60.25 for 28 February at 06:00,
    # which Excel shows as the 29th (3.3.4 writes 59.25), and writes 1900-01-01 at noon as 0.5, a time of day alone.
    moments = [
        datetime.datetime(1899, 12, 31, 6, 0),
        datetime.datetime(1900, 1, 1, 12, 0),
        datetime.datetime(1900, 2, 28, 0, 0),
        datetime.datetime(1900, 2, 28, 6, 0),
        datetime.datetime(1900, 2, 28, 23, 59, 59),
        datetime.datetime(1900, 3, 1, 6, 0),
    ]
    cells = re.findall(rb"<v>([^<]*)</v>", our_rows([moments]))
    assert [float(cell) for cell in cells] == [0.25, 1.5, 59, 59.25, 59 + 86399 / 86400, 61.25]


def test_amounts_are_the_numbers_xlsxwriter_writes(tmp_path):
    # XlsxWriter 3.1 prints a Decimal through a float ("5"), later releases through the Decimal ("5.00"): the same
    # numbers, so these compare as numbers, with the money style on amounts only.
    amounts = [Decimal("5.00"), Decimal("-12.5"), Decimal("1234567.89"), Decimal("0.000123"), Decimal("1E+3")]
    cell = re.compile(rb'<c r="([A-Z]+\d+)"(?: s="(\d+)")?><v>([^<]*)</v></c>')

    def numbers(xml):
        return [(ref, style, Decimal(value.decode())) for ref, style, value in cell.findall(xml)]

    ours = numbers(our_rows([amounts]))
    assert ours == numbers(xlsxwriter_rows([amounts], tmp_path / "oracle.xlsx"))
    assert [style for _ref, style, _value in ours] == [b"2", b"2", b"2", b"", b"2"]


def test_subclasses_and_lazy_text_are_written_by_what_they_are():
    class Rank(IntEnum):
        GOLD = 3

    class Tier(str, Enum):  # noqa: UP042 - the mix-in whose format() gives the member's name, not its text
        TOP = "top tier"

    class Blank:
        def __str__(self):
            return ""

    row = [mark_safe("<b>safe</b>"), gettext_lazy("Customers"), Rank.GOLD, Tier.TOP, Blank(), "last"]
    assert our_rows([row]).decode() == (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>&lt;b&gt;safe&lt;/b&gt;</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>Customers</t></is></c><c r="C2"><v>3</v></c>'
        '<c r="D2" t="inlineStr"><is><t>top tier</t></is></c><c r="F2" t="inlineStr"><is><t>last</t></is></c></row>'
    )


def test_text_that_xlsxwriter_would_write_as_xml_stays_text(tmp_path):
    # XlsxWriter writes a string between <r> and </r> into the sheet unescaped: a name could add cells.
    injected = '<r><t>a</t></r></is></c><c r="Z2"><v>1</v></c><c r="Z3" t="inlineStr"><is><r><t>b</t></r>'
    path = tmp_path / "rich.xlsx"
    write_xlsx(["name", "after"], [[injected, "next cell"], ["<r>x</r>", None]], path)
    rows = read_xlsx(path.read_bytes())
    assert rows[1] == [injected, "next cell"]
    assert rows[2][0] == "<r>x</r>"
    assert all(len(row) == 2 for row in rows)


def test_numbers_excel_has_no_room_for_are_written_as_text_not_a_failed_export():
    xml = our_rows([[float("nan"), float("inf"), Decimal("-Infinity"), Decimal("NaN")]]).decode()
    assert re.findall(r"<t>([^<]*)</t>", xml) == ["nan", "inf", "'-Infinity", "NaN"]


def test_text_is_cut_at_excels_longest_without_splitting_a_character(tmp_path):
    plain = "x" * (TEXT_MAX_UNITS + 10)
    # The emoji takes UTF-16 units 32,766 and 32,767 (two units): kept only if both fit.
    straddling = "y" * (TEXT_MAX_UNITS - 1) + "\U0001f600" + "z"
    fitting = "w" * (TEXT_MAX_UNITS - 2) + "\U0001f600"
    path = tmp_path / "long.xlsx"
    write_xlsx(["text"], [[plain], [straddling], [fitting]], path)
    rows = read_xlsx(path.read_bytes())
    assert rows[1][0] == "x" * TEXT_MAX_UNITS
    assert rows[2][0] == "y" * (TEXT_MAX_UNITS - 1)
    assert rows[3][0] == fitting


def test_the_style_ids_are_the_formats_the_workbook_gives(tmp_path):
    workbook = xlsxwriter.Workbook(str(tmp_path / "styles.xlsx"))
    formats = XlsxFormats(workbook)
    ids = [cell_format._get_xf_index() for cell_format in (formats.bold, formats.money, formats.moment, formats.day)]
    assert ids == [BOLD_STYLE, MONEY_STYLE, MOMENT_STYLE, DAY_STYLE]
    workbook.close()


def test_a_workbook_reads_back_with_its_types_and_formats(tmp_path):
    import openpyxl

    path = tmp_path / "types.xlsx"
    moment = datetime.datetime(2025, 3, 9, 14, 5, 7, tzinfo=UTC)
    rows = [["Ada", 3, Decimal("12.50"), Decimal("1.234567"), moment, datetime.date(2025, 1, 31), True]]
    assert write_xlsx(list("ABCDEFG"), rows, path) == 1
    sheet = openpyxl.load_workbook(path).active
    cells = list(sheet.iter_rows(min_row=2, values_only=False))[0]
    assert [cell.value for cell in cells] == [
        "Ada",
        3,
        12.5,
        1.234567,
        datetime.datetime(2025, 3, 9, 14, 5, 7),
        datetime.datetime(2025, 1, 31),
        True,
    ]
    assert [cell.number_format for cell in cells[2:6]] == ["#,##0.00", "General", "yyyy-mm-dd hh:mm:ss", "yyyy-mm-dd"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G2"
    assert sheet.dimensions == "A1:G2"


def test_the_sheet_spans_the_widest_row_and_a_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    import openpyxl

    path = tmp_path / "wide.xlsx"
    write_xlsx(["only"], [["a", "b", "c"], ["d"]], path)
    assert openpyxl.load_workbook(path, read_only=True).active.calculate_dimension() == "A1:C3"
    assert [row for row in read_xlsx(path.read_bytes())] == [["only", None, None], ["a", "b", "c"], ["d", None, None]]

    class Unprintable:
        def __str__(self):
            raise RuntimeError("no text")

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    with pytest.raises(RuntimeError):
        write_xlsx(["fine", Unprintable()], [["x", "y"]], tmp_path / "failed.xlsx")
    assert list(scratch.iterdir()) == []


def test_rows_past_excels_last_row_are_refused():
    stream = io.BytesIO()
    with pytest.raises(TooManyRowsForExcel):
        write_rows([["a"], ["b"]], stream, first_row=XLSX_MAX_ROWS)


def test_a_chunk_written_at_its_place_joins_into_the_single_files_sheet(tmp_path):
    rows = [[f"customer {index}", index, Decimal("9.99")] for index in range(7)]
    single = tmp_path / "single.xlsx"
    write_xlsx(["name", "orders", "spent"], rows, single)
    parts = []
    for first_row, chunk in ((1, rows[:4]), (5, rows[4:])):
        part_path = tmp_path / f"part{first_row}.zip"
        assert xlsx_join.write_part(chunk, part_path, first_row) == len(chunk)
        parts.append((open(part_path, "rb"), first_row, len(chunk)))  # noqa: SIM115 - closed below
    joined = tmp_path / "joined.xlsx"
    try:
        assert xlsx_join.join(["name", "orders", "spent"], parts, str(joined)) == len(rows)
    finally:
        for part, _first, _rows in parts:
            part.close()
    with zipfile.ZipFile(single) as one, zipfile.ZipFile(joined) as other:
        assert one.read(SHEET) == other.read(SHEET)
    assert [decode_xlsx_escapes(row[0]) for row in read_xlsx(joined.read_bytes())[1:]] == [row[0] for row in rows]
