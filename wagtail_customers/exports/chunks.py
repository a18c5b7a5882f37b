"""Chunked exports: a big export split across any number of Celery workers, joined in order.

An export job with more than ``EXPORT_CHUNK_ROWS`` rows (``chunking_applies``) is not written by its own task.
That task reads the ids of the export's rows once, in the listing's order (``CustomerExport.ordered_pks``),
cuts them into ranges of ``EXPORT_CHUNK_ROWS`` positions, and sends a Celery chord:

* a group of ``write_export_chunk`` tasks, one per range, on the ``exports`` queue: each writes its rows, in the
  listing's order, to its own file in the private storage (CSV lines, or a workbook of its rows at their place in
  the final sheet: ``xlsx_join.py``) and adds its row count to the job's ``rows_written`` (the progress is the
  sum of the chunks);
* then ``join_export_chunks``: the heading (with the CSV byte order mark) once, then the chunk files in chunk
  order, into the final file (for XLSX, the chunks' rows copied into the sheet of a workbook with the heading);
  the chunk files are deleted and the job is finished as a single-task export is (``jobs.complete``).

The chunk files never outlive their attempt. Before the chord is sent, the job records how many chunks the
attempt has (``params[CHUNK_COUNTS]``), so whoever gives the attempt up deletes all of them by name, whether or
not the join ever runs: the joining task whatever its outcome, a task that fails the job (``tasks._failed``), and
the sweeper when it queues the job again or fails it (``jobs.sweep_stale_jobs``). The sweeper also deletes any file
in the chunks folder that no running attempt owns (``delete_stray_chunk_files``: files of a deleted job, or left
by an earlier release).

So the result is the same file as a single-worker export: byte for byte in CSV, cell for cell in XLSX. During a
rolling deploy a chunk written by another release of the plugin is not joined (``CHUNK_FORMAT``): the attempt is
left to the sweeper, which starts the export again.

A chunk task is ``acks_late`` with ``reject_on_worker_lost``: when its worker is killed the broker delivers that
chunk again, alone, and the chunk overwrites its own file. Every chunk and the join carry the job's attempt
number and stop when the attempt no longer owns the job (the sweeper reclaimed it: ``jobs.py``). A chunk that
kills its worker every time (out of memory on its rows, say) would be delivered for ever, its heartbeats keeping
the sweeper away: each delivery of a chunk's message is counted on the job (``note_delivery``), and the one after
``EXPORT_MAX_ATTEMPTS`` fails the job, naming the chunk's rows (``stopped_reason``).

A chord needs Celery's result backend (``CELERY_RESULT_BACKEND``) to know when all chunks are done; without one
(and not running tasks eagerly) exports are not chunked. With eager tasks the chord runs in the process.
"""

import csv
import logging
import os
import shutil
import tempfile
import time
import uuid
from contextlib import ExitStack

from celery import chord, current_app, group
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import ngettext

from ..conf import get_setting, user_settings
from ..counts import grouped
from ..db_router import reading_from_replica
from ..models import ExportJob, JobState
from ..storage import private_storage
from ..task_queue import chords_possible
from . import jobs, xlsx_join
from .query import ExportSpec
from .writers import iter_csv

logger = logging.getLogger("wagtail_customers.exports")

#: Key in ``ExportJob.params`` (beside the spec's own): the number of chunks of each attempt that was split
#: (``{"<attempt>": count}``), so the chunk files of an attempt given up can all be deleted.
CHUNK_COUNTS = "chunk_counts"

#: Key in ``ExportJob.params``: the deliveries of each chunk's message in the running attempt
#: (``{"<attempt>": {"<index>": [retries, deliveries]}}``; ``note_delivery``).
CHUNK_DELIVERIES = "chunk_deliveries"

#: The shape of a chunk's file and of the result its task hands the join (``write_chunk``). Raise it whenever either
#: changes: during a rolling deploy a chunk written by one release may meet the join of another, which then gives the
#: attempt up (``ChunkFormatMismatch``) for the sweeper to start again rather than join files it does not know.
CHUNK_FORMAT = 1


class ChunkFormatMismatch(Exception):
    """A chunk of the attempt was written by another release of the plugin (``CHUNK_FORMAT``)."""


def chunking_applies(total):
    """Whether an export of ``total`` rows is split into chunks (``EXPORT_CHUNK_ROWS``; None: never).

    Eagerly (no worker: the example site's default) the chunks would run in this one process one after another,
    so splitting only adds its own cost (every id read first, each chunk's rows read again by id): 5.2-9.1 s
    against 3.4-3.6 s for 200,000 rows on SQLite. An eager export is split only when the site sets
    ``EXPORT_CHUNK_ROWS`` itself (the tests do, to run the chunks without a worker)."""
    size = get_setting("EXPORT_CHUNK_ROWS")
    if size is None or total <= size or not chords_possible():
        return False
    return not current_app.conf.task_always_eager or "EXPORT_CHUNK_ROWS" in (user_settings() or {})


def time_limits():
    return {"soft_time_limit": get_setting("EXPORT_SOFT_TIME_LIMIT"), "time_limit": get_setting("EXPORT_TIME_LIMIT")}


def start_chunks(job, export):
    """Send the chord of a claimed job's chunks and their join (run at once, in order, when tasks are eager)."""
    from .tasks import join_export_chunks, write_export_chunk

    size = get_setting("EXPORT_CHUNK_ROWS")
    pks = export.ordered_pks()
    ranges = [pks[start : start + size] for start in range(0, len(pks), size)] or [[]]
    # Recorded before any chunk can write, so every chunk file of this attempt can be found again by its name.
    params = {
        **job.params,
        CHUNK_COUNTS: {**(job.params.get(CHUNK_COUNTS) or {}), str(job.attempts): len(ranges)},
    }
    if not jobs._owned(job).update(params=params, heartbeat_at=timezone.now()):
        raise jobs.JobSuperseded()
    job.params = params
    job_id = str(job.pk)
    header = group(
        write_export_chunk.signature((job_id, job.attempts, index, ids), **time_limits())
        for index, ids in enumerate(ranges)
    )
    chord(header)(join_export_chunks.signature((job_id, job.attempts), **time_limits()))
    return len(ranges)


def chunk_folder():
    return f"{get_setting('EXPORT_STORAGE_PREFIX').strip('/')}/chunks"


def chunk_name(job_id, attempt, index):
    """A chunk's file: fixed per job, attempt and position, so writing it again replaces it."""
    return f"{chunk_folder()}/{job_id}-{attempt}-{index:05d}.part"


def delete_attempt_chunks(job_id, attempt, params=None):
    """Delete every chunk file of the job's ``attempt`` (none if that attempt was not split). ``params``: the
    job's, if at hand (else read). Call it once the attempt lost the job: a chunk of it still running deletes the
    file it saves itself (``write_chunk``). Storage errors are logged, not raised (``delete_stray_chunk_files``
    deletes what is left). Returns the number of chunk names deleted."""
    if params is None:
        params = ExportJob.objects.filter(pk=job_id).values_list("params", flat=True).first() or {}
    count = ((params or {}).get(CHUNK_COUNTS) or {}).get(str(attempt)) or 0
    for index in range(count):
        try:
            private_storage.delete(chunk_name(job_id, attempt, index))
        except Exception:  # noqa: BLE001 - the sweeper's look at the folder deletes it later
            logger.exception("Export job %s attempt %s: could not delete chunk %s", job_id, attempt, index)
    return count


def delete_stray_chunk_files():
    """Delete the files in the chunks folder that no running attempt owns: chunks of an attempt given up, a
    deleted job, or left by an earlier release. Returns the number of files deleted (0 when the storage cannot
    list a folder)."""
    folder = chunk_folder()
    try:
        names = private_storage.listdir(folder)[1]
    except (FileNotFoundError, NotImplementedError):
        return 0
    owners = {}
    for name in names:
        job_id, attempt, _rest = (name.rsplit("-", 2) + ["", ""])[:3]
        try:
            owners[name] = (uuid.UUID(job_id), int(attempt))
        except ValueError:
            continue  # not a chunk file's name: left alone
    job_ids = {job_id for job_id, _attempt in owners.values()}
    running = set(ExportJob.objects.filter(pk__in=job_ids, state=JobState.RUNNING).values_list("pk", "attempts"))
    deleted = 0
    for name, owner in owners.items():
        if owner not in running:
            try:
                private_storage.delete(f"{folder}/{name}")
            except Exception as error:  # noqa: BLE001 - any storage's error: the next sweep tries again
                logger.warning("Could not delete the export chunk file %s: %r", name, error)
                continue
            deleted += 1
    return deleted


def owned_job(job_id, attempt):
    """The job while this attempt still owns it (running), else ``None``."""
    return ExportJob.objects.select_related("user").filter(pk=job_id, state=JobState.RUNNING, attempts=attempt).first()


def note_delivery(job, index, retries):
    """Count this delivery of chunk ``index``'s message on the job; returns how many times it was delivered (1 the
    first time). Raises ``JobSuperseded`` when the attempt lost the job.

    ``retries``: the task's ``request.retries``. A redelivered message carries the same number, a Celery retry (a
    new message, after a database error) the next one, so its deliveries are counted afresh. Celery's own
    ``delivery_info["redelivered"]`` is not enough: it says "again", never how many times, and not every broker
    sets it."""
    attempt, key = str(job.attempts), str(index)
    with transaction.atomic():
        # The write first: it locks the job's row (SQLite: takes the database's write lock) before the parameters
        # are read, so chunks starting at once each add their count to what the others wrote.
        if not jobs._owned(job).update(heartbeat_at=timezone.now()):
            raise jobs.JobSuperseded()
        params = ExportJob.objects.filter(pk=job.pk).values_list("params", flat=True).get() or {}
        noted = (params.get(CHUNK_DELIVERIES) or {}).get(attempt) or {}
        seen_retries, deliveries = noted.get(key) or (None, 0)
        deliveries = deliveries + 1 if seen_retries == retries else 1
        # Only the running attempt's counts are kept.
        params = {**params, CHUNK_DELIVERIES: {attempt: {**noted, key: [retries, deliveries]}}}
        jobs._owned(job).update(params=params)
    job.params = params
    return deliveries


def stopped_reason(index, pks, tries):
    """Why a job failed whose chunk ``index`` (of the ids ``pks``) was delivered more than ``tries`` times."""
    first = index * get_setting("EXPORT_CHUNK_ROWS") + 1
    return ngettext(
        "A worker stopped while writing rows %(first)s-%(last)s of the export (it may have run out of memory); the "
        "export was stopped after %(tries)s try. Try a smaller export, or ask your administrator to check the "
        "export workers.",
        "A worker stopped while writing rows %(first)s-%(last)s of the export (it may have run out of memory); the "
        "export was stopped after %(tries)s tries. Try a smaller export, or ask your administrator to check the "
        "export workers.",
        tries,
    ) % {"first": grouped(first), "last": grouped(first + max(len(pks), 1) - 1), "tries": tries}


def write_chunk(job, index, pks):
    """Write one chunk's rows to its file in the private storage; returns what the join needs to know."""
    spec = ExportSpec.from_params(job.params)
    as_csv = spec.file_format != "xlsx"
    name = chunk_name(job.pk, job.attempts, index)
    # A redelivered chunk whose file was saved already counted its rows (or will be counted by the join).
    counted = private_storage.exists(name)
    handle, temp_path = tempfile.mkstemp(prefix="wc-export-chunk-", suffix=".part")
    os.close(handle)
    try:
        with spec.activate(), reading_from_replica():
            export = jobs.job_export(job, spec)
            rows = _with_heartbeat(export.rows(csv=as_csv, pks=pks), job)
            # The rows' place in the final sheet, if every chunk before this one is full (xlsx_join.py).
            first_row = index * get_setting("EXPORT_CHUNK_ROWS") + 1
            if as_csv:
                written = _write_csv_lines(rows, temp_path)
            else:
                written = xlsx_join.write_part(rows, temp_path, first_row, export.money_columns())
        if counted:
            private_storage.delete(name)
        with open(temp_path, "rb") as stream:
            saved = private_storage.save(name, File(stream, name=name.rsplit("/", 1)[-1]))
    finally:
        os.unlink(temp_path)
    progress = {"heartbeat_at": timezone.now()}
    if not counted:
        progress["rows_written"] = F("rows_written") + written
    if not jobs._owned(job).update(**progress):
        private_storage.delete(saved)
        raise jobs.JobSuperseded()
    return {
        "format": CHUNK_FORMAT,
        "index": index,
        "name": saved,
        "rows": written,
        "first_row": first_row,
        "accounts": sorted(export.account_ids),
    }


def join_chunks(job, results):
    """Write the final file from the chunk files, in chunk order, and finish the job; returns the job.
    (The joining task deletes the chunk files, whatever happens here.)"""
    formats = {result.get("format") for result in results}
    if formats != {CHUNK_FORMAT}:
        raise ChunkFormatMismatch(f"chunk formats {sorted(map(str, formats))}, this release joins {CHUNK_FORMAT}")
    spec = ExportSpec.from_params(job.params)
    # A chord hands the results over in the order the chunks finished (Redis, unless Celery's
    # result_chord_ordered is on): put them back in the listing's order.
    results = sorted(results, key=lambda result: result["index"])
    handle, temp_path = tempfile.mkstemp(prefix="wc-export-", suffix=f".{spec.format.extension}.part")
    os.close(handle)
    try:
        jobs.check_still_allowed(job)
        with spec.activate():
            headers = jobs.job_export(job, spec).headers()
            if spec.file_format == "xlsx":
                with ExitStack() as files:
                    opened = [files.enter_context(private_storage.open(result["name"], "rb")) for result in results]
                    parts = [
                        (part, result["first_row"], result["rows"])
                        for part, result in zip(opened, results, strict=True)
                    ]
                    xlsx_join.join(headers, parts, temp_path)
            else:
                with open(temp_path, "wb") as out:
                    out.write("".join(iter_csv(headers, [], rendered=True)).encode("utf-8"))
                    for result in results:
                        with private_storage.open(result["name"], "rb") as chunk:
                            shutil.copyfileobj(chunk, out, 1024 * 1024)
        written = sum(result["rows"] for result in results)
        accounts = {account for result in results for account in result["accounts"]}
        return jobs.complete(job, temp_path, spec, written, accounts)
    finally:
        os.unlink(temp_path)


def delete_chunk_files(results):
    """Delete the chunk files the chunk tasks' ``results`` name. A file that cannot be deleted is logged, not raised
    (the join goes on to its e-mail); the sweeper's look at the folder deletes it later."""
    for result in results or ():
        if isinstance(result, dict) and result.get("name"):
            try:
                private_storage.delete(result["name"])
            except Exception:  # noqa: BLE001 - any storage's error: left for delete_stray_chunk_files
                logger.exception("Could not delete the export chunk file %s", result["name"])


def _with_heartbeat(rows, job):
    """Keep the job's heartbeat fresh while a chunk runs (its rows are counted when the chunk is saved)."""
    every = get_setting("EXPORT_PROGRESS_ROWS")
    last = time.monotonic()
    for count, row in enumerate(rows, start=1):
        yield row
        if count % every == 0 and time.monotonic() - last >= jobs.HEARTBEAT_MIN_SECONDS:
            if not jobs._owned(job).update(heartbeat_at=timezone.now()):
                raise jobs.JobSuperseded()
            last = time.monotonic()


def _write_csv_lines(rows, path):
    """The rows as ``writers.write_csv`` writes them (its lines, without the byte order mark and heading)."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writerow = csv.writer(stream).writerow
        for row in rows:
            writerow(row)
            count += 1
    return count
