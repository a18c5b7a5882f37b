"""Chunk files of a chunked export never outlive their attempt (exports/chunks.py, tasks.py, jobs.py).

The join deletes them when it runs; these tests cover the ways it does not: a chunk or the join killed (the job
left running until the sweeper gives the attempt up), a database error reading the job, a chunk that fails the
job, and files left behind by an earlier release (the sweeper's look at the chunks folder).
"""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import OperationalError
from django.utils import timezone

from tests.export_support import exporter, make_customers, read_csv
from wagtail_customers.exports import chunks, jobs
from wagtail_customers.exports.query import ExportSpec
from wagtail_customers.exports.tasks import run_export_job, sweep_export_jobs
from wagtail_customers.models import ExportJob, JobState
from wagtail_customers.storage import private_storage

CHUNK_ROWS = 7
CUSTOMERS = 3 * CHUNK_ROWS + 3  # four chunks, the last one short
CHUNKS = 4
CHUNKS_FOLDER = "wagtail_customers/exports/chunks"

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """What a killed worker process (hard time limit, out of memory) leaves: none of the task's handlers run."""


@pytest.fixture
def user(settings, account):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXPORT_CHUNK_ROWS": CHUNK_ROWS}
    make_customers(account, CUSTOMERS)
    return exporter("cleanup", account)


def new_job(user):
    spec = ExportSpec(file_format="csv", tab="highest-value", columns=["name", "email"], query={"ordering": []})
    job, created = jobs.find_or_create_job(
        user, spec, total_rows=1, account_ids=[grant.account_id for grant in user.customer_access_grants.all()]
    )
    assert created
    return job


def chunk_files():
    try:
        return sorted(private_storage.listdir(CHUNKS_FOLDER)[1])
    except FileNotFoundError:
        return []


def kill_chunk(monkeypatch, index, times=1):
    """Chunk ``index`` dies (``times`` times) before writing its file; the chunks before it wrote theirs."""
    write_chunk = chunks.write_chunk
    killed = []

    def dying(job, chunk_index, pks):
        if chunk_index == index and len(killed) < times:
            killed.append(chunk_index)
            raise WorkerKilled()
        return write_chunk(job, chunk_index, pks)

    monkeypatch.setattr(chunks, "write_chunk", dying)


def owned_job_raising(monkeypatch, call, error):
    """``chunks.owned_job`` raises ``error`` at its ``call``-th call (the chunks call it in order, then the join)."""
    owned_job = chunks.owned_job
    calls = []

    def reading(job_id, attempt):
        calls.append(attempt)
        if len(calls) == call:
            raise error
        return owned_job(job_id, attempt)

    monkeypatch.setattr(chunks, "owned_job", reading)


def went_stale(job):
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))


def test_the_sweeper_deletes_the_chunk_files_of_the_attempt_it_starts_again(user, monkeypatch):
    kill_chunk(monkeypatch, 2)
    job = new_job(user)
    with pytest.raises(WorkerKilled):
        run_export_job.delay(str(job.pk))
    job.refresh_from_db()
    # What the killed chunk leaves: the job running, the chord's join never called, two chunk files.
    assert (job.state, job.attempts) == (JobState.RUNNING, 1)
    assert chunk_files() == [f"{job.pk}-1-00000.part", f"{job.pk}-1-00001.part"]

    went_stale(job)
    # Queued again, and (tasks eager) run at once as attempt 2, which the join finishes.
    assert jobs.sweep_stale_jobs() == (1, 0)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.rows_written) == (JobState.DONE, 2, CUSTOMERS), job.error
    assert chunk_files() == []
    with private_storage.open(job.file.name, "rb") as stream:
        assert len(read_csv(stream.read())) == CUSTOMERS + 1


def test_the_sweeper_deletes_the_chunk_files_when_it_queues_the_job_again(user, monkeypatch):
    kill_chunk(monkeypatch, 3)
    queued = []
    monkeypatch.setattr(jobs, "enqueue", queued.append)
    job = new_job(user)
    with pytest.raises(WorkerKilled):
        run_export_job.delay(str(job.pk))
    assert len(chunk_files()) == 3

    went_stale(job)
    assert jobs.sweep_stale_jobs() == (1, 0)
    job.refresh_from_db()
    assert (job.state, job.attempts, queued) == (JobState.PENDING, 1, [job.pk])
    assert chunk_files() == []


def test_a_job_the_sweeper_fails_after_its_last_attempt_leaves_no_chunk_files(user, settings, monkeypatch):
    settings.WAGTAIL_CUSTOMERS["EXPORT_MAX_ATTEMPTS"] = 1
    kill_chunk(monkeypatch, 3)
    job = new_job(user)
    with pytest.raises(WorkerKilled):
        run_export_job.delay(str(job.pk))
    assert len(chunk_files()) == 3

    went_stale(job)
    assert jobs.sweep_stale_jobs() == (0, 1)
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.FAILED, 1)
    assert "stopped without finishing 1 times" in job.error
    assert chunk_files() == []


def test_the_files_of_a_chunk_killed_after_saving_are_deleted_by_the_sweeper(user, settings, monkeypatch):
    """A chunk past its hard time limit once its file was saved: the chord's join never runs."""
    settings.WAGTAIL_CUSTOMERS["EXPORT_MAX_ATTEMPTS"] = 1
    write_chunk = chunks.write_chunk

    def saved_then_killed(job, index, pks):
        result = write_chunk(job, index, pks)
        if index == CHUNKS - 1:
            raise WorkerKilled()
        return result

    monkeypatch.setattr(chunks, "write_chunk", saved_then_killed)
    job = new_job(user)
    with pytest.raises(WorkerKilled):
        run_export_job.delay(str(job.pk))
    assert len(chunk_files()) == CHUNKS

    went_stale(job)
    assert jobs.sweep_stale_jobs() == (0, 1)
    assert chunk_files() == []


def test_a_database_error_reading_the_job_in_a_chunk_is_retried(user, monkeypatch):
    owned_job_raising(monkeypatch, 3, OperationalError("server closed the connection unexpectedly"))
    job = new_job(user)
    assert run_export_job.delay(str(job.pk)).get() == "chunked"
    job.refresh_from_db()
    # The chunk ran again, not the whole job: one attempt, and no chunk file of any attempt left.
    assert (job.state, job.attempts, job.rows_written) == (JobState.DONE, 1, CUSTOMERS), job.error
    assert chunk_files() == []


def test_a_database_error_reading_the_job_in_the_join_leaves_it_to_the_sweeper_and_deletes_its_chunks(
    user, monkeypatch
):
    """A blip need not cost the export: the job stays running, and the sweeper starts it again."""
    owned_job_raising(monkeypatch, CHUNKS + 1, OperationalError("server closed the connection unexpectedly"))
    job = new_job(user)
    assert run_export_job.delay(str(job.pk)).get() == "chunked"
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.RUNNING, 1)
    assert chunk_files() == []

    went_stale(job)
    assert jobs.sweep_stale_jobs() == (1, 0)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.rows_written) == (JobState.DONE, 2, CUSTOMERS), job.error
    assert chunk_files() == []


def test_a_chunk_that_fails_the_job_deletes_the_attempt_s_chunk_files(user, monkeypatch):
    """Even if the join then never runs (its process killed): the failed job's files are gone at once."""
    write_chunk = chunks.write_chunk

    def broken(job, index, pks):
        if index == 2:
            raise ZeroDivisionError("a bug")
        return write_chunk(job, index, pks)

    monkeypatch.setattr(chunks, "write_chunk", broken)
    owned_job_raising(monkeypatch, CHUNKS + 1, WorkerKilled())
    job = new_job(user)
    with pytest.raises(WorkerKilled):
        run_export_job.delay(str(job.pk))
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.FAILED, 1)
    assert "unexpected error;" in job.error and "ZeroDivisionError" not in job.error
    assert chunk_files() == []


def test_the_sweep_deletes_chunk_files_no_running_attempt_owns(user):
    """Files an earlier release left (or of a deleted job): only the running attempts' chunks are kept."""
    running = jobs.claim(new_job(user).pk)
    gone = ExportJob.objects.create(user=user, file_format="csv", params={}, fingerprint="gone")
    failed = ExportJob.objects.create(
        user=user, file_format="csv", params={}, fingerprint="failed", state=JobState.FAILED, attempts=2
    )
    names = [
        chunks.chunk_name(running.pk, 1, 0),
        chunks.chunk_name(running.pk, 0, 3),  # an attempt given up before
        chunks.chunk_name(gone.pk, 1, 0),
        chunks.chunk_name(failed.pk, 2, 1),
    ]
    for name in names:
        private_storage.save(name, ContentFile(b"a,b\r\n"))
    gone.delete()
    sweep_export_jobs.delay()
    assert chunk_files() == [f"{running.pk}-1-00000.part"]
