"""The load test's account of CPU time (benchmarks/cpu.py) and how the report shows it. No timing is asserted,
only that time a process tree spent is found where it was spent."""

import subprocess
import sys
import time
from contextlib import contextmanager

from benchmarks import cpu, report

#: A grandchild's program: 0.3 s of CPU, then it says so.
BUSY = "import time\\nend = time.process_time() + 0.3\\nwhile time.process_time() < end: pass\\nprint(1, flush=True)"
#: A child that waits for that grandchild to end (reaped: its time is in the child's counters), then says so.
REAPS_BUSY_GRANDCHILD = (
    f"import subprocess, sys, time\nsubprocess.run([sys.executable, '-c', '{BUSY}'], stdout=subprocess.PIPE)\n"
    "print('ready', flush=True)\ntime.sleep(60)\n"
)
#: A child whose busy grandchild is still running when the child says so (its time is its own).
KEEPS_BUSY_GRANDCHILD = (
    f"import subprocess, sys, time\ngrandchild = subprocess.Popen([sys.executable, '-c', '{BUSY}; time.sleep(60)'],"
    " stdout=subprocess.PIPE)\ngrandchild.stdout.readline()\nprint('ready', flush=True)\ntime.sleep(60)\n"
)


@contextmanager
def child_running(program):
    """The pid of a child running ``program`` once it has printed "ready"; the child and its children are
    killed afterwards."""
    child = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        yield child.pid
    finally:
        subprocess.run(["pkill", "-KILL", "-P", str(child.pid)], check=False)
        child.kill()
        child.wait()


def test_a_tree_counts_the_time_of_children_it_has_reaped():
    with child_running(REAPS_BUSY_GRANDCHILD) as pid:
        assert cpu.tree_seconds({"child": pid})["child"] >= 0.25


def test_a_tree_counts_its_live_descendants_once():
    with child_running(KEEPS_BUSY_GRANDCHILD) as pid:
        seconds = cpu.tree_seconds({"child": pid})["child"]
    # The grandchild's 0.3 s and two interpreters' start, counted once: twice would be 0.6 s or more.
    assert 0.25 <= seconds < 0.6


def test_a_stat_line_is_read_after_the_command_name_whatever_it_holds():
    ticks = cpu.TICKS
    # pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17) ...
    fields = ["S", "4242", *["0"] * 9, str(ticks), str(2 * ticks), str(3 * ticks), str(4 * ticks), "20", "0"]
    line = "1234 (a) b (c) " + " ".join(fields) + "\n"
    assert cpu.parse_stat(line) == (4242, 10.0)


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
    # States the cores never were in are left out, but for idle.
    assert "| nice 39.5, system 2.0, idle 0.0 |" in page
    assert "| No errors, nothing lost, every job done | met |" in page
    assert "| At least 40 requests/s and p95 at most 300 ms | **missed** |" in page


def test_a_load_test_from_before_the_machine_states_renders():
    summary = {
        "requests": 820, "users": 20, "wall_s": 38.2, "throughput_rps": 21.4, "p50_ms": 797.7, "p95_ms": 1603.1,
        "max_ms": 5023.8, "errors": 0, "toggles": 207, "lost_toggles": 0, "export_jobs": 52,
        "export_jobs_done": 52, "ok": True, "cpu_available_s": 76.5, "cpu_s": {"gunicorn": 28.1},
    }  # fmt: skip
    page = report._load({"date": "2026-12-05", "setup": "L", "summary": summary, "by_kind": {}})
    assert "gunicorn 28.1" in page
    assert "by state" not in page
