"""Chunked exports (exports/chunks.py): the same file as a single-task export, eagerly and on real workers.

Each test exports the same request twice, once as one task (``EXPORT_CHUNK_ROWS`` None) and once split into
chunks, and compares the files: byte for byte in CSV, cell for cell in XLSX.
"""

import io
import os
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.db import connection

from tests.celery_fixtures import wait_for
from tests.export_support import ALL_COLUMNS, FORMULA_CORPUS, exporter, file_of, make_customers, read_csv, read_xlsx
from tests.factories import order_data
from wagtail_customers.exports import chunks, jobs
from wagtail_customers.exports.query import CustomerExport, ExportSpec
from wagtail_customers.exports.resources import CustomerResource
from wagtail_customers.exports.service import write_temporary_file
from wagtail_customers.exports.tasks import join_export_chunks, run_export_job, write_export_chunk
from wagtail_customers.models import Customer, ExportJob, JobState
from wagtail_customers.services.ingestion import record_order
from wagtail_customers.storage import private_storage

CHUNK_ROWS = 7
SLOW = "tests.worker_resources.SlowCustomerResource"


def corpus():
    """The formula corpus, less NUL on PostgreSQL (its text columns cannot hold it)."""
    if connection.vendor == "postgresql":
        return [text for text in FORMULA_CORPUS if "\0" not in text]
    return FORMULA_CORPUS


def every_kind_of_cell(account, count=40):
    """Customers whose rows hold text (formula-like too, accents, quotes, line breaks), numbers, amounts, dates
    and empty cells."""
    make_customers(account, count)
    for i, text in enumerate(corpus()):
        record_order(account, order_data(f"h{i}", email=f"h{i}@example.com", name=f"n{i}", lines=((1, "5.00"),)))
        Customer.objects.filter(email=f"h{i}@example.com").update(name=text, email=f"{text}h{i}@example.com")
    Customer.objects.filter(email="c3@example.com").update(
        name='Zoë "quoted", with\na line break', city="", amount_spent=Decimal("-12.50")
    )


def set_plugin(settings, **values):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, **values}


def new_job(user, file_format, tab="highest-value"):
    spec = ExportSpec(file_format=file_format, tab=tab, columns=ALL_COLUMNS, query={"ordering": []})
    job, created = jobs.find_or_create_job(
        user, spec, total_rows=1, account_ids=[grant.account_id for grant in user.customer_access_grants.all()]
    )
    assert created
    return job


def export_eagerly(settings, user, file_format, chunk_rows):
    set_plugin(settings, EXPORT_CHUNK_ROWS=chunk_rows)
    job = new_job(user, file_format)
    result = run_export_job.delay(str(job.pk)).get()
    assert result == ("chunked" if chunk_rows else "done")
    job.refresh_from_db()
    return job, file_of(job)


def chunk_files():
    try:
        return private_storage.listdir("wagtail_customers/exports/chunks")[1]
    except FileNotFoundError:
        return []


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_chunked_export_is_the_single_task_export(settings, account, other_account, file_format):
    every_kind_of_cell(account)
    make_customers(other_account, 5, prefix="x")
    user = exporter("chunks", account, other_account)
    _single_job, single = export_eagerly(settings, user, file_format, None)
    job, chunked = export_eagerly(settings, user, file_format, CHUNK_ROWS)

    total = 40 + len(corpus()) + 5
    assert (job.rows_written, job.total_rows, job.attempts) == (total, total, 1)
    assert sorted(job.account_ids) == sorted([account.pk, other_account.pk])
    if file_format == "csv":
        assert chunked == single
        assert len(read_csv(chunked)) == total + 1
    else:
        assert read_xlsx(chunked) == read_xlsx(single)
        assert len(read_xlsx(chunked)) == total + 1
        # More than the same values: the same sheet and styles as one XlsxWriter workbook writes them.
        assert workbook_parts(chunked) == workbook_parts(single)
    assert chunk_files() == []


def workbook_parts(content):
    """The sheet, styles and workbook parts of an XLSX file (the others carry the time it was written)."""
    names = ("xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/workbook.xml")
    with zipfile.ZipFile(io.BytesIO(content)) as workbook:
        return {name: workbook.read(name) for name in names}


@pytest.mark.django_db
def test_an_xlsx_chunk_that_lost_customers_is_joined_without_a_gap(settings, account):
    """Customers deleted after the export read its ids: their chunk writes fewer rows than it was given, so the
    rows of the chunks after it move up (xlsx_join renumbers them), as in a single export made then."""
    every_kind_of_cell(account, 20)
    user = exporter("lost", account)
    set_plugin(settings, EXPORT_CHUNK_ROWS=CHUNK_ROWS)
    job = jobs.claim(new_job(user, "xlsx").pk)
    pks = CustomerExport(user, ExportSpec.from_params(job.params)).ordered_pks()
    Customer.objects.filter(pk__in=[pks[1], pks[CHUNK_ROWS + 2]]).delete()
    ranges = [pks[start : start + CHUNK_ROWS] for start in range(0, len(pks), CHUNK_ROWS)]
    results = [
        write_export_chunk.delay(str(job.pk), job.attempts, index, ids).get() for index, ids in enumerate(ranges)
    ]
    assert [result["rows"] for result in results[:2]] == [CHUNK_ROWS - 1, CHUNK_ROWS - 1]
    assert join_export_chunks.delay(results, str(job.pk), job.attempts).get() == "done"
    chunked = file_of(job)

    _single_job, single = export_eagerly(settings, user, "xlsx", None)
    assert len(read_xlsx(chunked)) == len(pks) - 2 + 1
    assert read_xlsx(chunked) == read_xlsx(single)
    assert workbook_parts(chunked) == workbook_parts(single)
    assert chunk_files() == []


@pytest.mark.django_db
def test_small_exports_and_sites_without_a_result_backend_are_not_chunked(settings, account):
    make_customers(account, 10)
    user = exporter("unchunked", account)
    set_plugin(settings, EXPORT_CHUNK_ROWS=10)
    assert not chunks.chunking_applies(10) and chunks.chunking_applies(11)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_RESULT_BACKEND = None
    assert not chunks.chunking_applies(11)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _job, content = export_eagerly(settings, user, "csv", 3)
    assert len(read_csv(content)) == 11


@pytest.mark.django_db
def test_a_chunk_written_again_overwrites_its_file_and_is_counted_once(settings, account):
    """What a redelivered chunk (its worker killed) does: the same file, the job's progress unchanged."""
    every_kind_of_cell(account, 20)
    user = exporter("again", account)
    _single_job, single = export_eagerly(settings, user, "csv", None)

    set_plugin(settings, EXPORT_CHUNK_ROWS=CHUNK_ROWS)
    job = jobs.claim(new_job(user, "csv").pk)
    pks = CustomerExport(user, ExportSpec.from_params(job.params)).ordered_pks()
    ranges = [pks[start : start + CHUNK_ROWS] for start in range(0, len(pks), CHUNK_ROWS)]
    args = [(str(job.pk), job.attempts, index, ids) for index, ids in enumerate(ranges)]
    results = [write_export_chunk.delay(*arg).get() for arg in args]
    job.refresh_from_db()
    assert job.rows_written == len(pks)
    again = write_export_chunk.delay(*args[1]).get()
    assert again == results[1]
    job.refresh_from_db()
    assert job.rows_written == len(pks)

    # Handed over in the order the chunks finished (a Redis chord's), joined in the listing's order.
    assert join_export_chunks.delay(results[::-1], str(job.pk), job.attempts).get() == "done"
    assert file_of(job) == single
    assert chunk_files() == []


@pytest.mark.django_db
@pytest.mark.parametrize("other_release", [{"format": chunks.CHUNK_FORMAT + 1}, {"format": None}])
def test_a_chunk_of_another_release_is_not_joined_and_the_sweeper_starts_the_export_again(
    settings, account, other_release
):
    """A rolling deploy: a chunk written by an earlier release (no format) or a later one meets this join. The
    attempt is given up as after a database error, its chunk files deleted, no file made, nobody e-mailed."""
    make_customers(account, 12)
    user = exporter("rolling", account)
    set_plugin(settings, EXPORT_CHUNK_ROWS=5)
    job = jobs.claim(new_job(user, "xlsx").pk)
    pks = CustomerExport(user, ExportSpec.from_params(job.params)).ordered_pks()
    results = [
        write_export_chunk.delay(str(job.pk), job.attempts, index, pks[start : start + 5]).get()
        for index, start in enumerate(range(0, len(pks), 5))
    ]
    assert {result["format"] for result in results} == {chunks.CHUNK_FORMAT}
    results[1] = {key: value for key, value in results[1].items() if key != "format"} | (
        other_release if other_release["format"] else {}
    )
    mail.outbox.clear()

    assert join_export_chunks.delay(results, str(job.pk), job.attempts).get() == "stale"
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and not job.file
    assert chunk_files() == [] and mail.outbox == []


class OutOfTimeResource(CustomerResource):
    """The join's soft time limit lands while it writes the file's header row."""

    def export_headers(self, field_names):
        raise SoftTimeLimitExceeded()


@pytest.mark.django_db
def test_a_join_stopped_by_the_time_limit_fails_the_job_saying_so(settings, account):
    make_customers(account, 12)
    user = exporter("late", account)
    set_plugin(settings, EXPORT_CHUNK_ROWS=5)
    job = jobs.claim(new_job(user, "csv").pk)
    pks = CustomerExport(user, ExportSpec.from_params(job.params)).ordered_pks()
    results = [
        write_export_chunk.delay(str(job.pk), job.attempts, index, pks[start : start + 5]).get()
        for index, start in enumerate(range(0, len(pks), 5))
    ]
    mail.outbox.clear()
    set_plugin(settings, EXPORT_RESOURCE=f"{__name__}.OutOfTimeResource", EXPORT_SOFT_TIME_LIMIT=3600)

    assert join_export_chunks.delay(results, str(job.pk), job.attempts).get() == "failed"
    job.refresh_from_db()
    assert job.state == JobState.FAILED and not job.file
    assert job.error == "The export took longer than the time limit (3600 seconds). Try a smaller export."
    assert chunk_files() == [] and len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_chunk_whose_worker_stops_every_time_fails_the_export_after_three_tries(settings, account):
    """A chunk that stops its worker every time (killed for memory on its rows, say) is delivered again each time
    (``acks_late``, ``reject_on_worker_lost``), and its heartbeats keep the sweeper away: the export never ended.
    Each delivery of its message is counted; the one after the third fails the export, naming the rows. A Celery
    retry (a new message, after a database error) is counted afresh. Here a delivery runs to its end, as one whose
    worker stopped before acknowledging it: the broker delivers it again all the same."""
    make_customers(account, 12)
    user = exporter("stops", account)
    set_plugin(settings, EXPORT_CHUNK_ROWS=5, EXPORT_MAX_ATTEMPTS=3)
    job = jobs.claim(new_job(user, "csv").pk)
    pks = CustomerExport(user, ExportSpec.from_params(job.params)).ordered_pks()
    # What start_chunks records before the chord is sent: the attempt's chunks, for whoever gives it up.
    ExportJob.objects.filter(pk=job.pk).update(params={**job.params, chunks.CHUNK_COUNTS: {str(job.attempts): 3}})
    args = (str(job.pk), job.attempts, 1, pks[5:10])
    assert write_export_chunk.delay(str(job.pk), job.attempts, 0, pks[:5]).get()["rows"] == 5
    for _delivery in range(2):
        assert write_export_chunk.delay(*args).get()["rows"] == 5
    for _delivery in range(3):  # the retry's message, delivered three times
        assert write_export_chunk.apply(args, retries=1).get()["rows"] == 5
    job.refresh_from_db()
    assert job.state == JobState.RUNNING
    mail.outbox.clear()

    assert write_export_chunk.apply(args, retries=1).get() is None
    job.refresh_from_db()
    assert job.state == JobState.FAILED and not job.file
    reason = (
        "A worker stopped while writing rows 6-10 of the export (it may have run out of memory); the export was "
        "stopped after 3 tries. Try a smaller export, or ask your administrator to check the export workers."
    )
    assert job.error == reason
    [message] = mail.outbox
    assert reason in message.body
    assert chunk_files() == []
    # The other chunks of the attempt stop without writing, and the join finds nothing to join.
    assert write_export_chunk.delay(str(job.pk), job.attempts, 2, pks[10:]).get() is None
    assert join_export_chunks.delay([None], str(job.pk), job.attempts).get() == "superseded"


@pytest.mark.django_db
def test_chunks_of_a_superseded_attempt_write_nothing(settings, account):
    make_customers(account, 12)
    user = exporter("superseded", account)
    set_plugin(settings, EXPORT_CHUNK_ROWS=5)
    job = jobs.claim(new_job(user, "csv").pk)
    assert write_export_chunk.delay(str(job.pk), job.attempts + 1, 0, [1, 2]).get() is None
    assert join_export_chunks.delay([None], str(job.pk), job.attempts).get() == "superseded"
    assert chunk_files() == []


# --- on real workers (tests/celery_fixtures.py) --------------------------------------------------------------


def done(job):
    job.refresh_from_db()
    return job.state in (JobState.DONE, JobState.FAILED)


# At the floors the CSV alone: the chord and its workers are the same, the file formats are the eager test's above.
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("file_format", ["csv", pytest.param("xlsx", marks=pytest.mark.version_neutral)])
def test_a_chunked_export_on_two_workers_is_the_single_task_export(settings, account, celery_worker, file_format):
    every_kind_of_cell(account, 60)
    user = exporter(f"workers{file_format}", account)
    first = celery_worker({"EXPORT_CHUNK_ROWS": None})
    job = new_job(user, file_format)
    jobs.enqueue(job.pk)
    wait_for(lambda: done(job), 120, "the single-task export")
    single = file_of(job)
    first.kill()

    workers = [celery_worker({"EXPORT_CHUNK_ROWS": CHUNK_ROWS}) for _ in range(2)]
    job = new_job(user, file_format)
    jobs.enqueue(job.pk)
    wait_for(lambda: done(job), 180, "the chunked export")
    assert job.state == JobState.DONE, job.error or "\n".join(worker.log() for worker in workers)
    logs = "".join(worker.log() for worker in workers)
    assert "wagtail_customers.write_export_chunk" in logs and "wagtail_customers.join_export_chunks" in logs
    assert job.rows_written == 60 + len(corpus())
    chunked = file_of(job)
    if file_format == "csv":
        assert chunked == single
    else:
        assert read_xlsx(chunked) == read_xlsx(single)
    assert chunk_files() == []


# version_neutral: a killed worker's task delivered again is the broker's and the task options' (acks_late,
# reject_on_worker_lost), the same since Celery 4; the floors run the two-worker chord above. The lowest versions'
# pass is the longest stream of `make test`.
@pytest.mark.worker
@pytest.mark.version_neutral
@pytest.mark.django_db(transaction=True)
def test_a_chunk_whose_worker_is_killed_is_delivered_again_alone(settings, account, celery_worker, monkeypatch):
    rows, chunk_rows = 450, 150
    make_customers(account, rows)
    user = exporter("killedchunk", account, columns=["name", "address", "email"])
    monkeypatch.setenv("WC_WORKER_VISIBILITY_TIMEOUT", "8")
    plugin = {"EXPORT_RESOURCE": SLOW, "EXPORT_CHUNK_ROWS": chunk_rows, "EXPORT_PROGRESS_ROWS": 10}
    first = celery_worker(plugin)
    job = new_job(user, "csv")
    spec = ExportSpec.from_params(job.params)
    jobs.enqueue(job.pk)

    # Mid-chunk: a chunk's heartbeat after the first chunk was counted, with chunks still to finish.
    first_counted = wait_for(lambda: job_with(job, lambda: job.rows_written >= chunk_rows), 120, "a first chunk")
    counted_at = first_counted.heartbeat_at
    wait_for(
        lambda: job_with(job, lambda: job.heartbeat_at > counted_at and job.rows_written < rows),
        60,
        "a later chunk to be under way",
    )
    first.kill()
    job.refresh_from_db()
    finished_chunks = job.rows_written // chunk_rows
    assert job.state == JobState.RUNNING and job.attempts == 1 and finished_chunks < rows // chunk_rows

    second = celery_worker(plugin)
    wait_for(lambda: done(job), 180, "the killed chunk to be delivered again and the export joined")
    assert job.state == JobState.DONE, job.error or second.log()
    # No new attempt: only the chunks not finished ran again, on the second worker.
    assert (job.attempts, job.rows_written) == (1, rows)
    log = second.log()
    assert len(re.findall(r"write_export_chunk\[[^\]]+\] succeeded", log)) == rows // chunk_rows - finished_chunks
    assert "run_export_job[" not in log

    expected_path = write_temporary_file(CustomerExport(user, spec))
    try:
        expected = Path(expected_path).read_bytes()
    finally:
        os.unlink(expected_path)
    assert file_of(job) == expected
    assert chunk_files() == []


def job_with(job, condition):
    job.refresh_from_db()
    return job if condition() else None


def test_an_eager_export_is_one_task_unless_the_site_sets_the_chunk_size(settings):
    """Eagerly the chunks would run one after another in the web process, so the default size does not split."""
    settings.WAGTAIL_CUSTOMERS = {"BASE_URL": "http://testserver"}
    assert settings.CELERY_TASK_ALWAYS_EAGER
    assert not chunks.chunking_applies(60_000)
    set_plugin(settings, EXPORT_CHUNK_ROWS=50_000)
    assert chunks.chunking_applies(60_000)
    assert not chunks.chunking_applies(50_000)
