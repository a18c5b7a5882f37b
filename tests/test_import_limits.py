"""Hostile and oversized files: refused with a clear message before they are parsed whole, nothing
written, and the reader stops early (measured as the memory it took, never as time)."""

import io
import re
import struct
import tracemalloc
import zipfile

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from wagtail_customers.importers import ImportFileError, jobs, run_import
from wagtail_customers.models import Customer, ImportJob, JobState, Order

from .test_import_screen import upload

pytestmark = pytest.mark.django_db

HEADER = ["order_id", "placed_at", "customer_email", "sku", "quantity", "unit_price"]
MB = 1 << 20


def peak_mb(function, *args, **kwargs):
    """Run ``function`` and return (its outcome or exception, the peak of memory it allocated in MB)."""
    tracemalloc.start()
    try:
        try:
            outcome = function(*args, **kwargs)
        except Exception as error:  # the caller asserts what was raised
            outcome = error
        return outcome, tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


def nothing_written():
    return not Order.objects.exists() and not Customer.objects.exists()


def workbook_bytes(rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def order_rows(count):
    return [HEADER] + [[f"X{n}", "2024-01-01", f"c{n}@example.com", "MUG", 1, 2.5] for n in range(count)]


def rewrite_member(content, name, chunks):
    """The workbook ``content`` with member ``name`` replaced by the concatenated ``chunks`` (deflated as written)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == name:
                replaced = zipfile.ZipInfo(name)
                replaced.compress_type = zipfile.ZIP_DEFLATED
                with target.open(replaced, "w", force_zip64=True) as stream:
                    for chunk in chunks:
                        stream.write(chunk)
            else:
                target.writestr(info, source.read(info.filename), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def huge_string_cell(megabytes):
    """A workbook whose one text cell holds ``megabytes`` MB of text, built without ever holding that text."""
    content = workbook_bytes([HEADER, ["X1", "2024-01-01", "a@example.com", "placeholder", 1, 2.5]])
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    before, after = sheet.split(b"placeholder")

    def chunks():
        yield before
        for _ in range(megabytes):
            yield b"A" * MB
        yield after

    return rewrite_member(content, "xl/worksheets/sheet1.xml", chunks())


# --- item 17: bounded reading -------------------------------------------------------------------------------


def test_a_single_line_of_commas_is_refused_after_reading_a_bounded_part(account):
    content = b"," * (30 * MB)  # tablib made 30 million cells of it (2 GB) before this fix
    error, peak = peak_mb(run_import, account, content)
    assert isinstance(error, ImportFileError)
    assert "Row 1: The row is longer than 1,000,000 characters" in str(error)
    assert peak < 40  # a few 1 MB chunks, not the line
    assert nothing_written()


def test_a_long_line_deep_in_the_file_names_its_row(account):
    rows = [",".join(HEADER)] + [f"X{n},2024-01-01,c{n}@example.com,MUG,1,2.50" for n in range(5)]
    rows.append("X9,2024-01-01,z@example.com," + "M" * 1_100_000 + ",1,2.50")
    with pytest.raises(ImportFileError, match=r"Row 7: The row is longer than 1,000,000 characters"):
        run_import(account, "\n".join(rows).encode())
    assert nothing_written()


def test_a_cell_longer_than_a_spreadsheet_cell_is_refused(account):
    content = f"{','.join(HEADER)}\nX1,2024-01-01,a@example.com,{'S' * 40_000},1,2.50\n".encode()
    with pytest.raises(ImportFileError, match=r"Row 2: A cell holds more than 32,767 characters"):
        run_import(account, content)
    assert nothing_written()


def test_too_many_columns_are_refused(account):
    header = HEADER + [f"extra {n}" for n in range(600)]
    with pytest.raises(ImportFileError, match=r"Row 1: The row has 606 columns; at most 500 are read"):
        run_import(account, (",".join(header) + "\nX1,2024-01-01,a@example.com,MUG,1,2.50\n").encode())
    assert nothing_written()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_too_many_rows_are_refused(account, settings, kind):
    settings.WAGTAIL_CUSTOMERS = {"IMPORT_MAX_ROWS": 10}
    rows = order_rows(11)
    if kind == "csv":
        content = "\n".join(",".join(str(cell) for cell in row) for row in rows).encode()
    else:
        content = workbook_bytes(rows)
    with pytest.raises(ImportFileError, match=r"more than 10 rows"):
        run_import(account, content, filename=f"orders.{kind}")
    assert nothing_written()
    run_import(account, workbook_bytes(order_rows(10)), filename="orders.xlsx")
    assert Order.objects.count() == 10


def test_a_huge_string_in_a_small_workbook_is_refused_before_openpyxl_reads_it(account):
    content = huge_string_cell(60)
    assert len(content) < MB  # 60 MB of text deflates to a few dozen KB
    error, peak = peak_mb(run_import, account, content, filename="orders.xlsx")
    assert isinstance(error, ImportFileError)
    assert "A cell holds more than 32,767 characters" in str(error)
    assert peak < 30  # openpyxl would have built the 60 MB string
    assert nothing_written()


def test_a_workbook_that_unpacks_past_the_limit_is_refused(account, settings):
    settings.WAGTAIL_CUSTOMERS = {"IMPORT_MAX_XLSX_BYTES": 2 * MB}
    content = rewrite_member(
        workbook_bytes(order_rows(1)), "docProps/app.xml", (b"<x>" + b"<y/>" * 100_000 + b"</x>" for _ in range(8))
    )
    with pytest.raises(ImportFileError, match=r"The workbook unpacks to more than 2 MB"):
        run_import(account, content, filename="orders.xlsx")
    assert nothing_written()


def _lie_about_size(content, name, size):
    """Write ``size`` as the uncompressed size of ``name`` in its local header and the central directory."""
    data = bytearray(content)
    encoded = name.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(encoded)] == encoded:
                data[start + offset : start + offset + 4] = struct.pack("<I", size)
            start += 4
    return bytes(data)


def test_a_workbook_whose_directory_understates_a_part_is_refused(account, settings):
    settings.WAGTAIL_CUSTOMERS = {"IMPORT_MAX_XLSX_BYTES": 4 * MB}
    big = workbook_bytes(order_rows(1))
    source = zipfile.ZipFile(io.BytesIO(big))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/app.xml":
                data = data.replace(b"</Properties>", b"<!--" + b"-" * 0 + b"x" * (20 * MB) + b"--></Properties>")
            target.writestr(info.filename, data)
    content = _lie_about_size(out.getvalue(), "docProps/app.xml", 1000)
    assert sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(content)).infolist()) < MB
    error, peak = peak_mb(run_import, account, content, filename="orders.xlsx")
    assert isinstance(error, ImportFileError)
    assert re.search(r"is not an Excel workbook \(\.xlsx\), or it is damaged|unpacks to more than", str(error))
    assert peak < 30
    assert nothing_written()


def test_a_hostile_upload_fails_in_the_request_with_its_reason(admin_client, account):
    response = upload(admin_client, account, huge_string_cell(20), name="orders.xlsx")
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.state == JobState.FAILED and "more than 32,767 characters" in job.error
    page = admin_client.get(reverse("wagtail_customers_imports:job", args=[job.pk]))
    assert page.status_code == 200 and "more than 32,767 characters" in page.content.decode()
    assert nothing_written()


# --- item 18: a workbook declaring fewer rows than it holds -------------------------------------------------


def with_dimension(content, ref):
    """Rewrite the first worksheet's <dimension ref="..."> inside the zip."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(rb'<dimension ref="[^"]*"', b'<dimension ref="%s"' % ref.encode(), data)
                assert count == 1
            target.writestr(info, data)
    return out.getvalue()


def test_every_row_is_read_whatever_the_workbook_declares(account):
    content = with_dimension(workbook_bytes(order_rows(1000)), "A1:C2")
    report = run_import(account, content, filename="orders.xlsx")
    assert (report.rows, report.orders_created) == (1000, 1000)
    assert Order.objects.count() == 1000
    assert "The file declares 1 rows but holds 1,000" in " ".join(report.warnings)


def test_a_workbook_declaring_its_true_size_has_no_warning(account):
    report = run_import(account, workbook_bytes(order_rows(3)), filename="orders.xlsx")
    assert report.warnings == [] and report.orders_created == 3


def test_background_or_request_is_decided_on_the_rows_counted(account, settings):
    settings.WAGTAIL_CUSTOMERS = {"IMPORT_SYNC_MAX_ROWS": 100}
    content = with_dimension(workbook_bytes(order_rows(1000)), "A1:C2")
    assert jobs.estimate_rows(content, "orders.xlsx") == 1000


def two_sheet_workbook(orders, lookup, orders_first=True):
    """A workbook whose active sheet holds ``orders`` and another sheet (a lookup table) ``lookup``."""
    workbook = openpyxl.Workbook()
    first, second = workbook.active, workbook.create_sheet()
    order_sheet, lookup_sheet = (first, second) if orders_first else (second, first)
    for row in orders:
        order_sheet.append(row)
    for row in lookup:
        lookup_sheet.append(row)
    workbook.active = workbook.index(order_sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("orders_first", [True, False])
def test_only_the_active_sheet_of_a_workbook_is_counted_and_limited(account, settings, orders_first):
    settings.WAGTAIL_CUSTOMERS = {"IMPORT_MAX_ROWS": 10, "IMPORT_MAX_COLUMNS": 50}
    lookup = [[f"SKU{n}", f"Product {n}"] for n in range(40)] + [[f"wide {n}" for n in range(60)]]
    content = two_sheet_workbook(order_rows(10), lookup, orders_first)

    # The sheet imported: a lookup sheet beside it neither sends the file to the background nor past the limits.
    assert jobs.estimate_rows(content, "orders.xlsx") == 10
    report = run_import(account, content, filename="orders.xlsx")
    assert (report.rows, report.orders_created) == (10, 10)

    with pytest.raises(ImportFileError, match=r"more than 10 rows"):
        run_import(account, two_sheet_workbook(order_rows(11), lookup[:3], orders_first), filename="orders.xlsx")
    wide = [HEADER + [f"extra {n}" for n in range(50)]] + order_rows(2)[1:]
    with pytest.raises(ImportFileError, match=r"The row has 5\d columns; at most 50 are read"):
        run_import(account, two_sheet_workbook(wide, lookup[:3], orders_first), filename="orders.xlsx")


def test_the_preview_warns_about_the_declared_size(admin_client, account):
    content = with_dimension(workbook_bytes(order_rows(30)), "A1:F2")
    upload(admin_client, account, content, name="orders.xlsx")
    job = ImportJob.objects.get()
    page = admin_client.get(reverse("wagtail_customers_imports:job", args=[job.pk])).content.decode()
    assert "The file declares 1 rows but holds 30" in page
    assert job.preview["report"]["orders_created"] == 30


# --- item 22: columns ---------------------------------------------------------------------------------------


def test_duplicate_known_columns_are_refused_naming_them(account):
    content = (
        b"order_id,placed_at,customer_email,sku,customer_email,quantity,sku\n"
        b"X1,2024-01-01,a@example.com,MUG,b@example.com,1,TEE\n"
    )
    with pytest.raises(ImportFileError, match=r"These columns appear more than once: 'customer_email', 'sku'"):
        run_import(account, content)
    assert nothing_written()


def test_duplicate_unknown_columns_are_ignored_like_any_unknown_column(account):
    content = b"order_id,placed_at,customer_email,note,note\nX1,2024-01-01,a@example.com,a,b\n"
    report = run_import(account, content)
    assert report.orders_created == 1 and report.unknown_columns == ["note", "note"]


def _many_unknown_columns(count):
    header = HEADER + [f"extra {n}" for n in range(count)]
    return (",".join(header) + "\nX1,2024-01-01,a@example.com,MUG,1,2.50\n").encode()


def test_unknown_columns_are_summarised(account):
    report = run_import(account, _many_unknown_columns(300))
    assert report.unknown_columns == [f"extra {n}" for n in range(20)]
    assert (report.unknown_columns_total, report.unknown_columns_more) == (300, 280)


def test_the_preview_and_the_command_name_twenty_unknown_columns_and_count_the_rest(admin_client, account, tmp_path):
    upload(admin_client, account, _many_unknown_columns(300))
    job = ImportJob.objects.get()
    assert len(job.preview["report"]["unknown_columns"]) == 20
    page = admin_client.get(reverse("wagtail_customers_imports:job", args=[job.pk])).content.decode()
    assert "<code>extra 19</code>" in page and "<code>extra 20</code>" not in page
    assert "and 280 more columns" in page
    path = tmp_path / "orders.csv"
    path.write_bytes(_many_unknown_columns(300))
    err = io.StringIO()
    call_command("customers_import", str(path), account="Shop A", dry_run=True, stdout=io.StringIO(), stderr=err)
    assert "Unknown column ignored: extra 19" in err.getvalue() and "extra 20\n" not in err.getvalue()
    assert "... and 280 more unknown column(s) ignored." in err.getvalue()


def test_the_command_refuses_a_hostile_file_with_its_reason(account, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(b"," * (2 * MB))
    with pytest.raises(CommandError, match="Nothing was imported. Row 1: The row is longer than"):
        call_command("customers_import", str(path), account="Shop A", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.parametrize(
    "encoding, content, message",
    [
        ("utf-16", b"order_id,placed_at\n1,2024-01-01\n", "The file is not utf-16 text"),
        ("rot13", b"order_id,placed_at\n1,2024-01-01\n", "Unknown text encoding 'rot13'"),
        ("utf-8", b"order_id,placed_at\n1,2024-01-01\n\xe2\x82", "not utf-8 text (byte 0xe2 at position 32)"),
    ],
)
def test_text_decoded_in_chunks_still_names_a_wrong_encoding(account, encoding, content, message):
    with pytest.raises(ImportFileError, match=re.escape(message)):
        run_import(account, content, encoding=encoding)
    assert nothing_written()
