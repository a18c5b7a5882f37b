"""The load test's account of CPU time (benchmarks/cpu.py) and how the report shows it. No timing is asserted,
only that time a process tree spent is found where it was spent."""

import subprocess
import sys
import time

from benchmarks import cpu, report

# A child that spends CPU in a grandchild it waits for, then sleeps: the grandchild's time is only in the
# child's reaped-children counters by the time it is read.
BUSY_GRANDCHILD = (
    "import subprocess, sys, time\n"
    "subprocess.run([sys.executable, '-c', 'import time\\nend = time.process_time() + 0.3\\n"
    "while time.process_time() < end: pass'])\n"
    "print('reaped', flush=True)\n"
    "time.sleep(60)\n"
)


def test_a_tree_counts_the_time_of_children_it_has_reaped():
    child = subprocess.Popen([sys.executable, "-c", BUSY_GRANDCHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "reaped"
        seconds = cpu.tree_seconds({"child": child.pid})["child"]
        assert seconds >= 0.25
    finally:
        child.kill()
        child.wait()


def test_a_tree_that_is_gone_counts_nothing_and_spent_subtracts():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert cpu.tree_seconds({"gone": child.pid}) == {"gone": 0.0}
    assert cpu.spent({"web": 1.0}, {"web": 3.5, "new": 0.5}) == {"web": 2.5, "new": 0.5}


def test_the_machine_counts_its_cores_by_state():
    before = cpu.machine_seconds()
    time.sleep(0.05)
    after = cpu.machine_seconds()
    assert set(before) == set(cpu.MACHINE_COLUMNS)
    assert sum(after.values()) > sum(before.values())


def test_the_report_says_where_the_load_tests_cores_went():
    summary = {
        "requests": 820, "users": 20, "wall_s": 21.0, "throughput_rps": 39.1, "p50_ms": 431.9, "p95_ms": 818.0,
        "max_ms": 2699.0, "errors": 0, "toggles": 207, "lost_toggles": 0, "export_jobs": 52,
        "export_jobs_done": 52, "ok": True, "cpu_available_s": 42.0,
        "cpu_s": {"gunicorn": 26.2, "postgres": 11.8, "celery": 2.5, "load generator": 1.0},
        "machine_cpu_s": {"user": 0.0, "nice": 39.5, "system": 2.0, "idle": 0.0},
    }  # fmt: skip
    page = report._load({"date": "2026-12-05", "setup": "L", "summary": summary, "by_kind": {}})
    assert "CPU seconds during the load (of 42.0 on the cores) | gunicorn 26.2, postgres 11.8" in page
    # States the cores never were in are left out.
    assert "| nice 39.5, system 2.0 |" in page
    assert "| No errors, nothing lost, every job done | **met** |" in page
    assert "| At least 40 requests/s and p95 at most 300 ms | **missed** |" in page
