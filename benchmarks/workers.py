"""Work split across Celery workers (issue 17): an export of every customer (CSV and XLSX) and the statistics
rebuild from zero, each run on 1 and on 2 workers.

``python -m benchmarks.workers [--size XL] [--workers 1,2] [--cases csv,xlsx,rebuild]`` takes a working copy of
the cached PostgreSQL dataset (benchmarks/.data/pg), starts a throwaway Redis (the broker and the chords' result
backend) and, for each number of workers, starts that many worker processes (``--concurrency 1`` each, on every
queue, prefetching one task as docs/howto/celery.md advises), then runs each case through the plugin's own entry
points: the export job queued as the export view queues it (``jobs.find_or_create_job``), the rebuild sent as
``customers_rebuild_stats --chunked`` sends it (``start_chunked_rebuild``). A case is timed from the moment it is
queued to the moment it is done (the job's state, the chord's final result).

A faster run must not be a wrong one: every run's CSV file is the same bytes, every XLSX file's sheet the same
XML, and after each rebuild every statistic sums to what it did before the wipe.

Writes ``benchmarks/results/workers-*.json``; ``python -m benchmarks.report`` puts it in docs/performance.md.
"""

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from . import machine
from .datasets import DATA, ROOT, SIZES, child_env, postgres_working_copy
from .postgres import Cluster, free_port

RESULTS = ROOT / "benchmarks" / "results"
#: The target of issue 17: the time on 2 workers at most this fraction of the time on 1.
TARGET_RATIO = 0.65
#: Statistics summed before the wipe and after each rebuild (nothing lost, nothing counted twice).
CHECKED_SUMS = ("orders_count", "units", "amount_spent", "discount_total", "returned_units", "negative_feedbacks")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="XL")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", default="1,2", help="comma-separated numbers of worker processes")
    parser.add_argument("--cases", default="csv,xlsx,rebuild", help="comma-separated: csv, xlsx, rebuild")
    parser.add_argument("--report", default=str(ROOT / "docs" / "performance.md"), help="'' to skip the report")
    parser.add_argument(
        "--rebuild-chunk-rows", type=int, default=100_000, help="customers per rebuild chunk (REBUILD_CHUNK_ROWS)"
    )
    return parser.parse_args(argv)


class Redis:
    def __init__(self, folder):
        self.port = free_port()
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=folder,
            stdout=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + 30
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server does not answer")
            time.sleep(0.1)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


class Workers:
    """``count`` Celery worker processes of the benchmark site, one task at a time each."""

    def __init__(self, count, env, folder):
        self.processes, self.logs = [], []
        for number in range(count):
            log = Path(folder) / f"worker-{count}-{number}.log"
            command = [
                *(sys.executable, "-m", "celery", "-A", "example_project", "worker"),
                *("--hostname", f"bench{number}@localhost", "--concurrency", "1", "--pool", "prefork"),
                *("--prefetch-multiplier", "1", "--loglevel", "INFO"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ]
            self.logs.append(log)
            self.processes.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        deadline = time.monotonic() + 120
        while not all(" ready." in log.read_text() for log in self.logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise RuntimeError("a worker did not start:\n" + "\n".join(log.read_text() for log in self.logs))
            time.sleep(0.2)

    def tasks_run(self):
        """How many tasks each worker finished (from its log)."""
        return [log.read_text().count(" succeeded in ") for log in self.logs]

    def stop(self):
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=120)


def _export(user, file_format, out_path):
    """One export job of every customer, queued as the view queues it; returns its figures."""
    from wagtail_customers.exports import jobs
    from wagtail_customers.exports.query import CustomerExport, ExportSpec
    from wagtail_customers.models import ExportJob, JobState

    from .baselines import EXPORT_COLUMNS

    ExportJob.objects.filter(user=user).delete()
    spec = ExportSpec(file_format=file_format, scope="all", tab="all", columns=list(EXPORT_COLUMNS))
    export = CustomerExport(user, spec)
    total = export.count()
    started = time.perf_counter()
    job, _created = jobs.find_or_create_job(user, spec, total_rows=total, account_ids=export.scope_account_ids())
    while job.state not in (JobState.DONE, JobState.FAILED, JobState.EXPIRED):
        time.sleep(0.2)
        job.refresh_from_db()
    seconds = time.perf_counter() - started
    if job.state != JobState.DONE:
        raise RuntimeError(f"export job ended {job.state}: {job.error}")
    with job.file.open("rb") as source, open(out_path, "wb") as target:
        while block := source.read(1 << 20):
            target.write(block)
    job.file.delete(save=False)
    return {"seconds": round(seconds, 2), "rows": job.rows_written, "rows_per_s": round(job.rows_written / seconds)}


def _file_digest(path, file_format):
    """The CSV file's bytes; the XLSX file's sheet (its other parts carry the time they were written)."""
    if file_format == "xlsx":
        with zipfile.ZipFile(path) as workbook:
            return hashlib.sha256(workbook.read("xl/worksheets/sheet1.xml")).hexdigest()
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _sums():
    from django.db.models import Count, Max, Sum

    from wagtail_customers.models import Customer

    figures = Customer.objects.aggregate(
        customers=Count("pk"), last=Max("last_order_at"), **{name: Sum(name) for name in CHECKED_SUMS}
    )
    return {name: str(value) for name, value in figures.items()}


def _rebuild(rows):
    """Every customer's statistics wiped (not timed), then the chunked rebuild; returns its figures."""
    from wagtail_customers.models import Customer
    from wagtail_customers.services.rebuild_chunks import start_chunked_rebuild

    from .cases.statistics import WIPED

    wipe_started = time.perf_counter()
    Customer.objects.update(**WIPED)
    wipe_seconds = time.perf_counter() - wipe_started
    started = time.perf_counter()
    chunks, result = start_chunked_rebuild(rows=rows)
    corrected = result.get(timeout=3600)
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "chunks": chunks, "corrected": corrected, "wipe_s": round(wipe_seconds, 1)}


def _warm_up():
    """Every table of the plugin read whole once, so the first case does not pay for the cold cache alone."""
    from django.apps import apps
    from django.db import connection

    with connection.cursor() as cursor:
        for model in apps.get_app_config("wagtail_customers").get_models():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT sum(length(t::text)) FROM {table} t")


def _database_sizes():
    """The database's size on disk and its largest tables' (with their indexes), in MB: what a projection scales."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        sizes = {"database": cursor.fetchone()[0] // 2**20}
        cursor.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relkind = 'r' "
            "ORDER BY pg_total_relation_size(oid) DESC LIMIT 4"
        )
        sizes.update({name: size // 2**20 for name, size in cursor.fetchall()})
    return sizes


def _run_cases(args, env, folder, log):
    """In this process, with Django set up on the working copy: every case on each number of workers."""
    import django

    os.environ.update(env)
    django.setup()
    from django.contrib.auth import get_user_model

    from .datasets import SUPERUSER

    user = get_user_model().objects.get(username=SUPERUSER)
    _warm_up()
    before = _sums()
    sizes, results, digests = _database_sizes(), {}, {}
    for count in [int(n) for n in args.workers.split(",")]:
        log(f"  {count} worker(s)")
        workers = Workers(count, env, folder)
        try:
            for case in args.cases.split(","):
                tasks_before = workers.tasks_run()
                if case == "rebuild":
                    figures = _rebuild(args.rebuild_chunk_rows)
                    figures["sums_equal"] = _sums() == before
                else:
                    out_path = Path(folder) / f"export-{count}.{case}"
                    figures = _export(user, case, out_path)
                    digests.setdefault(case, set()).add(_file_digest(out_path, case))
                    figures["bytes"] = out_path.stat().st_size
                    out_path.unlink()
                figures["tasks_per_worker"] = [b - a for a, b in zip(tasks_before, workers.tasks_run(), strict=True)]
                results.setdefault(case, {})[str(count)] = figures
                log(f"    {case}: {figures}")
        finally:
            workers.stop()
    for case, seen in digests.items():
        for figures in results[case].values():
            figures["same_output"] = len(seen) == 1
    return results, sizes


def main(argv=None):
    args = parse_args(argv)
    size = SIZES[args.size]
    started = time.perf_counter()
    folder = tempfile.mkdtemp(prefix="wc-bench-workers-")
    print(f"workers benchmark, size {size.name}, in {folder}", flush=True)
    with Cluster(DATA / "pg") as cluster:
        spec, meta, drop = postgres_working_copy(cluster, size, args.seed, log=print)
        redis = Redis(folder)
        try:
            env = child_env(spec, WC_BENCH_BROKER=redis.url, WC_BENCH_MEDIA=str(Path(folder) / "media"))
            results, sizes = _run_cases(args, env, folder, lambda text: print(text, flush=True))
        finally:
            redis.stop()
            drop()
    run = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": size.name,
        "customers": meta.get("customers"),
        "orders": meta.get("orders"),
        "database": f"PostgreSQL {cluster.version}",
        "machine": machine.describe(),
        "rebuild_chunk_rows": args.rebuild_chunk_rows,
        "database_mb": sizes,
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"workers-{stamp}-{size.name}.json"
    path.write_text(json.dumps(run, indent=1))
    print(f"results: {path.relative_to(ROOT)}")
    if args.report:
        from . import report

        report.main([args.report])
    return 0


def newest_by_case(directory=RESULTS):
    """``{case: run}``: for each case, the newest ``workers-*.json`` run that measured it."""
    latest = {}
    for path in sorted(Path(directory).glob("workers-*.json")):
        run = json.loads(path.read_text())
        latest.update(dict.fromkeys(run["results"], run))
    return latest


def section(latest):
    """The "Work across Celery workers" section of docs/performance.md, from ``newest_by_case()``."""
    from .report import _table

    if not latest:
        return "No workers run in this tree yet: run `python -m benchmarks.workers`."
    rows = []
    for case, run in latest.items():
        by_count = run["results"][case]
        one = by_count.get("1", {}).get("seconds")
        for count, figures in sorted(by_count.items()):
            ratio = figures["seconds"] / one if one else None
            if count == "1" or ratio is None:
                verdict = "–"
            else:
                verdict = f"{ratio:.2f}x of 1 worker: " + ("**met**" if ratio <= TARGET_RATIO else "**missed**")
            check = figures.get("same_output", figures.get("sums_equal"))
            rows.append(
                (
                    case,
                    count,
                    f"{figures['seconds']:,.1f}",
                    figures.get("chunks") or figures.get("rows_per_s", ""),
                    ", ".join(str(n) for n in figures.get("tasks_per_worker", [])),
                    {True: "yes", False: "**no**", None: "–"}[check],
                    verdict,
                    run["date"],
                )
            )
    run = next(iter(latest.values()))
    headers = ["case", "workers", "seconds", "rows/s or chunks", "tasks per worker", "same result", "2 workers", "run"]
    intro = (
        f"`python -m benchmarks.workers` (each case from the newest run that measured it): size {run['size']} "
        f"({run['customers']:,} customers, {run['orders']:,} orders) on {run['database']}, Redis broker and result "
        "backend, each worker one process (`--concurrency 1 --prefetch-multiplier 1`) on every queue; rebuild "
        f"chunks of {run['rebuild_chunk_rows']:,} customers, export chunks of `EXPORT_CHUNK_ROWS`. Target: 2 workers "
        f'≤ {TARGET_RATIO}x the time of 1 worker. "Same result": every run\'s CSV bytes and XLSX sheet identical; '
        "after each rebuild every statistic sums to its value before the wipe."
    )
    return intro + "\n\n" + _table(headers, rows)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
