"""Child process: one export of every customer, measured like a worker would be.

``python -m benchmarks.export_worker CASE FORMAT OUT_FILE RESULT_JSON``. Django is set up and the
connection opened first; then the process's peak RSS is reset (``/proc/self/clear_refs``), the
export runs, and the result records the time, the rows, the file size and the RSS growth: peak
resident memory during the export minus the resident memory just before it. A fresh process per
export keeps one case's memory from hiding another's.
"""

import json
import os
import sys
import time


def _status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak_rss():
    # "5" resets VmHWM (the peak resident set) to the current RSS (Linux >= 4.0).
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def main(case, file_format, out_path, result_path):
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from .cases.exports import EXPORTERS
    from .datasets import SUPERUSER

    user = get_user_model().objects.get(username=SUPERUSER)
    connection.ensure_connection()
    exporter = EXPORTERS[case]
    prepared = exporter.prepare(user, file_format)
    _reset_peak_rss()
    rss_before = _status_kb("VmRSS")
    started = time.perf_counter()
    rows = exporter.run(prepared, file_format, out_path)
    seconds = time.perf_counter() - started
    peak = _status_kb("VmHWM")
    if hasattr(exporter, "finish"):
        exporter.finish(prepared, out_path)
    result = {
        "seconds": round(seconds, 3),
        "rows": rows,
        "rows_per_s": round(rows / seconds) if seconds else None,
        "bytes": os.path.getsize(out_path),
        "rss_before_mb": round(rss_before / 1024, 1),
        "rss_peak_mb": round(peak / 1024, 1),
        "rss_growth_mb": round((peak - rss_before) / 1024, 1),
    }
    with open(result_path, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main(*sys.argv[1:5])
