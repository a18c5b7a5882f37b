"""Child process: every case for one database and one dataset size, on a working copy.

``python -m benchmarks.suite SIZE RESULT_JSON --repeat N --baseline-repeat N --export-repeat N
--stats-repeat N [--skip area,...]`` with ``WC_BENCH_DB`` naming the working copy. Order matters:
the gate and the read-only cases first, then the cases that write (rebuilds, imports), then the gate
again.
"""

import argparse
import json
import os
import sys
import time


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("size")
    parser.add_argument("result")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--baseline-repeat", type=int, default=3)
    parser.add_argument("--export-repeat", type=int, default=1)
    parser.add_argument("--stats-repeat", type=int, default=2)
    parser.add_argument("--skip", default="", help="areas to leave out: listing, baseline, exports, stats, imports")
    parser.add_argument("--quick", action="store_true", help="3 listing cases per tab")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from . import gate
    from .cases import NotAvailable, exports, imports, listing, statistics
    from .datasets import SIZES, SUPERUSER, seller_staff_user

    def log(text):
        print(text, flush=True)

    size = SIZES[args.size]
    user = get_user_model().objects.get(username=SUPERUSER)
    results = {"size": size.name, "vendor": connection.vendor}
    started = time.perf_counter()

    log("    correctness gate (before)")
    results["gate_before"] = gate.run_gate()
    log(f"      {'passed' if results['gate_before']['ok'] else 'FAILED'}")

    if "listing" not in skip:
        staff_user = seller_staff_user()
        results["listing"] = listing.run(
            user,
            args.repeat,
            args.baseline_repeat,
            log=log,
            only_plugin="baseline" in skip,
            quick=args.quick,
            staff_user=staff_user,
        )
        results["listing_profile"] = listing.profile_worst(user, results["listing"], log=log, staff_user=staff_user)
    if "exports" not in skip:
        # --skip baseline also leaves out the export baselines (B0, Wagtail's list_export): at XL they hold the
        # whole table in memory for minutes; the floor F stays, the listing speed issue's targets are against it.
        baselines = ("b0", "wagtail") if "baseline" in skip else ()
        results["exports"] = exports.run(
            exports.env_for(os.environ["WC_BENCH_DB"]), args.export_repeat, log=log, skip=baselines
        )
    if "stats" not in skip:
        results["statistics"] = statistics.run(args.stats_repeat, log=log)
    if "stats" not in skip or "imports" not in skip:
        log("    correctness gate (after the rebuilds)")
        results["gate_after"] = gate.run_gate()
        log(f"      {'passed' if results['gate_after']['ok'] else 'FAILED'}")
    if "imports" not in skip:
        try:
            results["imports"] = imports.run(size.import_orders, max(1, min(args.stats_repeat, 3)), log=log)
        except NotAvailable as error:
            results["imports"] = {"error": f"not available: {error}"}
        results["import_memory"] = imports.run_memory(size.import_orders, log=log, quick=args.quick)
    results["seconds"] = round(time.perf_counter() - started, 1)
    with open(args.result, "w") as handle:
        json.dump(results, handle, indent=1, default=str)
    from .report import gate_ok

    return 0 if gate_ok({"results": {"this": {size.name: results}}}) else 3


if __name__ == "__main__":
    sys.exit(main())
