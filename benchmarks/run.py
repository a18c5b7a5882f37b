"""The one entry point: ``python -m benchmarks.run --sizes S,M,L [--db sqlite,postgres] [--repeat N]``.

For each database and size: take a working copy of the cached dataset (building it on a cache
miss), run every case in a child process (``benchmarks.suite``), then write the JSON results and
``docs/performance.md``. Exits 3 when the correctness gate fails anywhere, 1 when a run crashed.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from . import machine, report
from .datasets import DATA, POSTGRES_ONLY_SIZES, ROOT, SIZES, child_env, postgres_working_copy, sqlite_working_copy
from .postgres import Cluster


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="S", help="comma-separated: XS, S, M, L, XL (PostgreSQL only)")
    parser.add_argument("--db", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs per listing case (after 2 warm-ups)")
    parser.add_argument("--baseline-repeat", type=int, default=3, help="timed runs per A0 listing case")
    parser.add_argument("--export-repeat", type=int, default=1, help="runs per export case (each a new process)")
    parser.add_argument("--stats-repeat", type=int, default=2, help="runs per rebuild case and per import")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--skip",
        default="",
        help="areas to leave out: listing, baseline (A0, B0, list_export), exports, stats, imports",
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 listing cases per tab instead of 7 (smoke runs; not for the report)"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the datasets even when cached")
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="build and cache the datasets, measure nothing (builds may run on a busy machine; measurements may not)",
    )
    parser.add_argument("--results-dir", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--report", default=str(ROOT / "docs" / "performance.md"), help="'' to skip the report")
    parser.add_argument("--pg-data", default=str(DATA / "pg"), help="kept PostgreSQL data folder (the cache)")
    parser.add_argument("--nice", type=int, default=10, help="niceness for the run (the machine is shared)")
    args = parser.parse_args(argv)
    args.sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    args.db = [d.strip().lower() for d in args.db.split(",") if d.strip()]
    unknown = [s for s in args.sizes if s not in SIZES] + [d for d in args.db if d not in ("sqlite", "postgres")]
    if unknown:
        parser.error(f"unknown size or database: {', '.join(unknown)}")
    if "sqlite" in args.db and set(args.sizes) & set(POSTGRES_ONLY_SIZES) and args.db == ["sqlite"]:
        parser.error(f"{', '.join(POSTGRES_ONLY_SIZES)} run on PostgreSQL only")
    return args


def _suite(db_spec, size, args, result_path):
    command = [
        sys.executable, "-m", "benchmarks.suite", size.name, str(result_path),
        "--repeat", str(args.repeat), "--baseline-repeat", str(args.baseline_repeat),
        "--export-repeat", str(args.export_repeat), "--stats-repeat", str(args.stats_repeat), "--skip", args.skip,
    ] + (["--quick"] if args.quick else [])  # fmt: skip
    return subprocess.run(command, env=child_env(db_spec), cwd=ROOT).returncode


def main(argv=None):
    args = parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    started = time.perf_counter()
    results_dir = Path(args.results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    run = {
        "args": {key: value for key, value in vars(args).items() if key not in ("results_dir", "report", "pg_data")},
        "datasets": {},
        "results": {},
        "failures": [],
    }
    cluster = Cluster(args.pg_data) if "postgres" in args.db else None
    try:
        if cluster:
            cluster.start()
        run["machine"] = machine.describe(cluster.server_version() if cluster else None)
        for db in args.db:
            for size_name in args.sizes:
                if db == "sqlite" and size_name in POSTGRES_ONLY_SIZES:
                    continue
                size = SIZES[size_name]
                print(f"[{db} {size.name}] {size.customers} customers / {size.orders} orders", flush=True)
                if db == "sqlite":
                    spec, meta, cleanup = sqlite_working_copy(size, args.seed, args.rebuild)
                else:
                    spec, meta, cleanup = postgres_working_copy(cluster, size, args.seed, args.rebuild)
                run["datasets"].setdefault(db, {})[size.name] = meta
                if args.build_only:
                    cleanup()
                    continue
                result_path = results_dir / f".suite-{db}-{size.name}.tmp"
                try:
                    code = _suite(spec, size, args, result_path)
                finally:
                    cleanup()
                if result_path.exists():
                    run["results"].setdefault(db, {})[size.name] = json.loads(result_path.read_text())
                    result_path.unlink()
                if code:
                    run["failures"].append({"db": db, "size": size.name, "exit": code})
    finally:
        if cluster:
            cluster.stop()
    run["seconds"] = round(time.perf_counter() - started, 1)
    if args.build_only:
        print(f"datasets cached in {DATA} ({run['seconds']} s): nothing measured")
        return 0
    run["targets"] = report.evaluate(run)
    run["gate_ok"] = report.gate_ok(run)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    json_path = results_dir / f"{stamp}-{'-'.join(args.sizes)}-{'-'.join(args.db)}.json"
    json_path.write_text(json.dumps(run, indent=1, default=str))
    print(f"results: {json_path}")
    if args.report:
        Path(args.report).write_text(
            report.render(run, json_path.relative_to(ROOT) if json_path.is_relative_to(ROOT) else json_path)
        )
        print(f"report: {args.report}")
    if not run["gate_ok"]:
        print("CORRECTNESS GATE FAILED: the kept statistics differ from the naive aggregates.", file=sys.stderr)
        return 3
    if run["failures"]:
        print(f"failed runs: {run['failures']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
