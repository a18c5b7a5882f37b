"""A file the readers cannot read is explained to the seller in sentences that say what to do; the reading
library's own words ("File is not a zip file", "There is no item named '[Content_Types].xml'", the CSV
parser's "do you need to open the file with newline=''?") go to the log only, and nothing is written."""

import io
import logging
import re
import sys
import zipfile

import openpyxl
import pytest
from django.urls import reverse

from wagtail_customers.importers import ImportFileError, jobs, run_import
from wagtail_customers.importers.reading import COMPOUND_FILE_SIGNATURE
from wagtail_customers.models import ImportJob, JobState, Order

from .test_import_screen import upload
from .test_no_task_queue import no_task_queue  # noqa: F401 (a fixture, used by name)

pytestmark = pytest.mark.django_db

NOT_A_WORKBOOK = (
    "The file is not an Excel workbook (.xlsx), or it is damaged. Save it again from Excel or your spreadsheet "
    "program as an Excel workbook, or as CSV."
)
#: What the libraries say, which a seller must not be shown.
LIBRARY_WORDS = re.compile(r"zip file|Content_Types|archive|CRC|newline=|field limit|KeyError|IndexError|round-trip")


def workbook(*rows):
    book = openpyxl.Workbook()
    for row in rows or (("order_id", "placed_at", "customer_email"), ("1", "2024-01-01", "a@example.com")):
        book.active.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rezipped(content, change):
    """``content`` (a zip) written again with ``change(name, data)`` applied to each part's bytes."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, change(info.filename, source.read(info.filename)))
    return out.getvalue()


def plain_zip():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("orders.csv", "order_id,placed_at,customer_email\n1,2024-01-01,a@example.com\n")
    return out.getvalue()


def bad_crc(content):
    """The workbook with one byte of its sheet's compressed data changed (its checksum then fails)."""
    data = bytearray(content)
    archive = zipfile.ZipFile(io.BytesIO(content))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    return bytes(data)


def import_error(account, content, **kwargs):
    with pytest.raises(ImportFileError) as error:
        run_import(account, content, **kwargs)
    assert not Order.objects.exists()
    return str(error.value)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: b"\x13\x37 garbage, not a workbook \x00\xff" * 20, id="garbage-bytes"),
        pytest.param(lambda: workbook()[:1500], id="truncated-workbook"),
        pytest.param(plain_zip, id="plain-zip-renamed"),
        pytest.param(lambda: bad_crc(workbook()), id="damaged-part"),
    ],
)
def test_a_file_that_is_not_a_workbook_is_explained_and_the_detail_logged(account, make, caplog):
    with caplog.at_level(logging.INFO, logger="wagtail_customers.imports"):
        message = import_error(account, make(), filename="orders.xlsx")
    assert message == NOT_A_WORKBOOK
    assert not LIBRARY_WORDS.search(message)
    # The technical detail is kept for the site's administrators.
    assert any("not a readable workbook" in record.getMessage() for record in caplog.records)


def test_a_workbook_whose_sheet_breaks_after_some_rows_names_the_row(account):
    # Row 3 refers to a shared string the workbook does not hold: openpyxl fails while reading the rows.
    def break_row_3(name, data):
        if name == "xl/worksheets/sheet1.xml":
            return data.replace(b"</sheetData>", b'<row r="3"><c r="A3" t="s"><v>999</v></c></row></sheetData>')
        return data

    content = rezipped(
        workbook(("order_id", "placed_at", "customer_email"), ("1", "2024-01-01", "a@x.com")), break_row_3
    )
    message = import_error(account, content, filename="orders.xlsx")
    assert message.startswith("Row 3: The file is not an Excel workbook (.xlsx), or it is damaged.")
    assert not LIBRARY_WORDS.search(message)


@pytest.mark.parametrize("filename", ["orders.xls", "orders.xlsx", "orders.csv"])
def test_an_old_excel_workbook_or_a_password_protected_one_is_named(account, filename):
    # Both are Compound Files (the .xls format, and the envelope Excel puts a password-protected .xlsx in).
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000
    message = import_error(account, content, filename=filename)
    assert message == (
        "The file is an old Excel workbook (.xls) or a workbook protected by a password. Save it again from Excel "
        "or your spreadsheet program as an Excel workbook (.xlsx) without a password, or as CSV."
    )


OLD_WORKBOOK = (
    "The file is an old Excel workbook (.xls) or a workbook protected by a password. Save it again from Excel "
    "or your spreadsheet program as an Excel workbook (.xlsx) without a password, or as CSV."
)


def compound_file(size):
    """``size`` bytes starting as an .xls does, its binary holding a line break every 160 bytes (as one does)."""
    return (COMPOUND_FILE_SIGNATURE + (b"\x00" * 159 + b"\n") * (size // 160 + 1))[:size]


def test_an_old_workbook_is_not_counted_as_lines():
    # About 1.3 MB of an .xls held over 8,000 b"\n": counted as rows, more than IMPORT_SYNC_MAX_ROWS (5,000).
    content = compound_file(1_300_000)
    assert content.count(b"\n") > 5000
    assert jobs.estimate_rows(content, "orders.xls") == 0
    assert jobs.estimate_rows(content, "orders.xlsx") == 0


@pytest.mark.parametrize("name", ["orders.xls", "orders.xlsx"])
@pytest.mark.usefixtures("no_task_queue")
def test_a_big_old_workbook_gets_its_own_sentence_on_a_site_without_a_task_queue(admin_client, account, settings, name):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "IMPORT_SYNC_MAX_ROWS": 2}
    response = upload(admin_client, account, compound_file(2000), name=name)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    # Checked during the upload, not refused as a file of 12 rows that needs a task queue.
    assert job.state == JobState.FAILED and job.error == OLD_WORKBOOK
    assert not Order.objects.exists()


def test_the_upload_screen_shows_the_sentence_not_the_library_words(admin_client, account):
    response = upload(admin_client, account, workbook()[:1500], name="orders.xlsx")
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.state == JobState.FAILED and job.error == NOT_A_WORKBOOK
    page = admin_client.get(reverse("wagtail_customers_imports:job", args=[job.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "Save it again from Excel or your spreadsheet program" in html
    assert "zip file" not in html


def test_a_csv_the_parser_stops_on_says_what_to_do(account, caplog):
    # Lines ended by a carriage return alone (old Mac files): the CSV parser refuses the second one.
    content = b"order_id,placed_at,customer_email\r1,2024-01-01,a@example.com\r2,2024-01-02,b@example.com\r"
    with caplog.at_level(logging.INFO, logger="wagtail_customers.imports"):
        message = import_error(account, content)
    assert message == (
        "Row 1: The file cannot be read as CSV from this row on: a quote or a line break is out of place. "
        "Save the file again as CSV from your spreadsheet program."
    )
    assert any("newline" in record.getMessage() for record in caplog.records)


def test_a_cell_past_the_csv_parsers_own_limit_is_named_as_a_too_long_cell(account):
    content = b"order_id,placed_at,customer_email\n1,2024-01-01," + b"a" * 200_000 + b"\n"
    message = import_error(account, content)
    assert message == "Row 2: A cell holds more than 32,767 characters (the most a spreadsheet cell holds)."


def test_a_codecs_own_refusal_is_not_shown(account):
    # Python 3.11's idna decoder raises a bare UnicodeError with its own words ("IDNA does not round-trip"), which
    # the lowest-versions pass reads; 3.13's a UnicodeDecodeError, read with the byte it stopped at. Neither shows
    # the codec's words.
    message = import_error(account, b"xn--zz-", encoding="idna")
    if sys.version_info < (3, 13):
        assert message == "The file is not idna text. Save it as CSV UTF-8 or choose its encoding."
    else:
        assert re.fullmatch(
            r"The file is not idna text \(byte 0x[0-9a-f]{2} at position \d+\)\. Save it as CSV UTF-8 or choose its "
            r"encoding\.",
            message,
        ), message
    assert "round-trip" not in message and "failed" not in message
