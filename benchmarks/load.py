"""A bounded load test: the example site under gunicorn, on PostgreSQL, with Redis and a Celery worker.

``python -m benchmarks.load [--size M] [--users 20] [--requests-per-user 40]`` takes a working copy
of the cached PostgreSQL dataset, starts redis-server, one Celery worker (at a lower CPU priority than the web
servers: ``--worker-nice``) and gunicorn, all on
127.0.0.1 and free ports, then lets ``--users`` users (staff with grants on every seller account, half of them
superusers) log in, all at once and before the measured window, and each send a fixed, seeded sequence of
requests: browsing the
tabs, searching, opening customers, toggling the watchlist eye (POST with CSRF, flip semantics) and
starting exports. The run is bounded by the request count and by ``--deadline`` seconds.

It checks: no errors (anything but 200/302 or a request failure; an export start refused by the per-user job
limits, ``EXPORT_MAX_ACTIVE_JOBS_PER_USER``, is counted apart: the listing it returns to says why), no lost
watchlist toggle (each
customer's final state equals its initial state flipped once per successful toggle; a few customers
are toggled by every user at once, the rest by one user each), and every export job it started
finishes. Results go to ``benchmarks/results/load-*.json`` and docs/performance.md.
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import requests

from .cpu import machine_seconds, spent, tree_seconds
from .datasets import ROOT, SIZES, child_env, grant_every_account, postgres_working_copy
from .measure import p95
from .postgres import Cluster, free_port

TABS = ["", "highest-value/", "most-orders/", "most-returned/", "promo-codes/", "watchlist/"]
SURNAMES = ["smith", "garcia", "muller", "rossi", "nowak", "tanaka", "patel", "kelly", "silva", "weber"]
#: Request kinds and their weights in each user's sequence.
MIX = {"tab": 40, "search": 15, "customer": 10, "toggle": 25, "export": 10}
PASSWORD = "load-pw"
JOB_LINK = re.compile(r"#job-([0-9a-f-]{36})")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="M")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests-per-user", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--deadline", type=int, default=900, help="seconds for the whole load phase")
    parser.add_argument("--job-timeout", type=int, default=600, help="seconds to wait for export jobs afterwards")
    parser.add_argument("--pg-data", default=str(ROOT / "benchmarks" / ".data" / "pg"))
    parser.add_argument("--results-dir", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--report", default=str(ROOT / "docs" / "performance.md"), help="'' to skip the report")
    parser.add_argument("--nice", type=int, default=10)
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="the Celery worker's niceness, as a machine shared with the web servers should run it (0: the same)",
    )
    return parser.parse_args(argv)


# --- the site's processes --------------------------------------------------------------------------


class Processes:
    """The processes this test starts; stopped by their own ids, nothing else."""

    def __init__(self, logdir):
        self.logdir = Path(logdir)
        self.started = []

    def start(self, name, command, **kwargs):
        log = open(self.logdir / f"{name}.log", "w")  # noqa: SIM115 - closed in stop()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)
        self.started.append((name, process, log))
        return process

    def pids(self):
        return {name: process.pid for name, process, _log in self.started}

    def check_alive(self):
        for name, process, _log in self.started:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}: see {self.logdir / (name + '.log')}")

    def stop(self):
        for _name, process, _log in reversed(self.started):
            if process.poll() is None:
                process.terminate()
        for name, process, log in reversed(self.started):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(f"  {name} did not stop on SIGTERM; killing it", flush=True)
                process.kill()
                process.wait()
            log.close()


def lower_priority(pid, niceness):
    """Give the process ``niceness``, so the web servers come first when both want the cores (the deployment
    how-to's advice for a worker on their machine: systemd's ``CPUWeight``). With the kernel's autogroups (each
    process started here is in a session of its own, so a group of its own) the scheduler weighs the groups by
    the group's niceness, not the process's: both are set. At L on 2 cores the load got 21.5-23.9 requests/s
    with the worker at the web servers' weight, 26.4-29.4 at niceness 10 (2026-12-05)."""
    os.setpriority(os.PRIO_PROCESS, pid, niceness)
    autogroup = Path(f"/proc/{pid}/autogroup")
    if autogroup.exists():
        autogroup.write_text(str(niceness))


def connections_kept():
    """How the site's settings keep database connections between requests, as the setup line says it."""
    from django.conf import settings

    age = settings.DATABASES["default"].get("CONN_MAX_AGE", 0)
    if age is None:
        return "database connections kept without limit"
    return "a new database connection per request" if age == 0 else f"database connections kept {age} s"


def start_site(processes, pg_spec, workers, worker_nice=0):
    _engine, host, port, name, user = pg_spec.split(":")
    redis_port, web_port = free_port(), free_port()
    processes.start(
        "redis",
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    )
    site_env = child_env(
        pg_spec,
        DJANGO_SETTINGS_MODULE="example_project.settings",
        DATABASE_URL_POSTGRES=f"{host}:{port}:{name}:{user}",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_port}/0",
        CELERY_TASK_ALWAYS_EAGER="0",
        DJANGO_DEBUG="0",
    )
    venv_bin = Path(sys.executable).parent
    worker = processes.start(
        "celery",
        [str(venv_bin / "celery"), "-A", "example_project", "worker", "-l", "warning", "-c", "1", "--without-heartbeat",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT / "example_project",
        env=site_env,
    )  # fmt: skip
    if worker_nice:
        lower_priority(worker.pid, worker_nice)
    processes.start(
        "gunicorn",
        [str(venv_bin / "gunicorn"), "example_project.wsgi:application", "--bind", f"127.0.0.1:{web_port}",
         "--workers", str(workers), "--timeout", "120", "--graceful-timeout", "10", "--access-logfile", "-",
         "--control-socket", str(processes.logdir / "gunicorn.ctl")],
        cwd=ROOT / "example_project",
        env=site_env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{web_port}"
    for _attempt in range(120):
        processes.check_alive()
        try:
            if requests.get(f"{base}/admin/login/", timeout=30).status_code == 200:
                return base
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer within 60 s")


# --- the users ---------------------------------------------------------------------------------------


def make_users(count):
    """Half superusers, half a seller's staff (``datasets.grant_every_account``: view, export and the watchlist on
    every seller account)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    names = []
    for index in range(count):
        username = f"load{index:02d}"
        if index % 2 == 0:
            User.objects.create_superuser(username, f"{username}@example.com", PASSWORD)
        else:
            user = User.objects.create_user(username, f"{username}@example.com", PASSWORD, is_staff=True)
            grant_every_account(user, "Load test editors")
        names.append(username)
    return names


def plan(users, per_user, seed, customer_ids):
    """Each user's request sequence, seeded. Toggles go to a few shared ("hot") customers, toggled by
    everyone at once, and to each user's own customers."""
    rng = random.Random(seed)
    hot = customer_ids[:8]
    own = {user: customer_ids[8 + index * 4 : 12 + index * 4] for index, user in enumerate(users)}
    kinds, weights = zip(*MIX.items(), strict=True)
    plans = {}
    for user in users:
        steps = []
        for _ in range(per_user):
            kind = rng.choices(kinds, weights)[0]
            if kind == "tab":
                steps.append(("tab", f"/admin/customers/{rng.choice(TABS)}?p={rng.randint(1, 5)}"))
            elif kind == "search":
                steps.append(("search", f"/admin/customers/?q={rng.choice(SURNAMES)}"))
            elif kind == "customer":
                steps.append(("customer", f"/admin/customers/{rng.choice(customer_ids)}/"))
            elif kind == "toggle":
                steps.append(("toggle", rng.choice(hot) if rng.random() < 0.5 else rng.choice(own[user])))
            else:
                fmt = rng.choice(["csv", "csv", "xlsx"])
                tab = rng.choice(["all", "highest-value", "most-orders", "most-returned", "promo-codes"])
                steps.append(("export", {"format": fmt, "scope": "all", "tab": tab}))
        plans[user] = steps
    return plans, hot + [pk for ids in own.values() for pk in ids]


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.records = []
        self.logins = []
        self.toggles = defaultdict(int)
        self.jobs = set()
        self.errors = []
        #: Export starts the per-user job limits refused, as the seller is told (not errors: the guard working).
        self.refused = []

    def add(self, kind, seconds, ok, detail=""):
        with self.lock:
            self.records.append((kind, seconds, ok))
            if not ok:
                self.errors.append(f"{kind}: {detail}")

    def add_login(self, seconds, ok, detail=""):
        """A login, before the measured window: an error if it failed, not one of the window's requests."""
        with self.lock:
            self.logins.append((seconds, ok))
            if not ok:
                self.errors.append(f"login: {detail}")


#: What the listing says when the per-user job limits refuse an export (exports/jobs.py, in English).
JOB_LIMIT_MESSAGES = ("exports being prepared, the most at once", "background exports in the last 24 hours")


def refused_by_job_limits(session, base, response):
    """Whether a start that redirected without a job was refused by the per-user limits: the page it redirects
    to shows the refusal (one more request, outside the recorded mix)."""
    location = response.headers.get("Location", "")
    if not location or "/exports/" in location:
        return False
    page = session.get(location if location.startswith("http") else f"{base}{location}", timeout=120)
    return any(message in page.text for message in JOB_LIMIT_MESSAGES)


def log_in(base, username, recorder):
    """A session logged in through the admin's login form, or ``None`` (an error recorded) if the login failed."""
    session = requests.Session()
    started = time.perf_counter()
    try:
        session.get(f"{base}/admin/login/", timeout=60)
        token = session.cookies.get("csrftoken")
        response = session.post(
            f"{base}/admin/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token, "next": "/admin/"},
            allow_redirects=False,
            timeout=60,
        )
    except requests.RequestException as error:
        recorder.add_login(time.perf_counter() - started, False, f"{username} {type(error).__name__}: {error}")
        return None
    ok = response.status_code == 302
    recorder.add_login(time.perf_counter() - started, ok, f"{username} HTTP {response.status_code}")
    return session if ok else None


def log_in_all(base, users, recorder):
    """``{username: session}`` of the users who logged in, all at once."""
    sessions = {}

    def one(username):
        session = log_in(base, username, recorder)
        if session is not None:
            sessions[username] = session

    threads = {username: threading.Thread(target=one, args=(username,), daemon=True) for username in users}
    for thread in threads.values():
        thread.start()
    for username, thread in threads.items():
        thread.join(120)
        if thread.is_alive():  # a failed login records its error itself; this one has not ended
            recorder.add_login(120, False, f"{username}: no answer within 120 s")
    return sessions


def run_user(base, session, steps, recorder, deadline):
    token = session.cookies.get("csrftoken")
    headers = {"X-CSRFToken": token, "Referer": f"{base}/admin/customers/"}
    for kind, target in steps:
        if time.monotonic() > deadline:
            recorder.add(kind, 0, False, "deadline reached before the request")
            continue
        started = time.perf_counter()
        try:
            if kind == "toggle":
                response = session.post(
                    f"{base}/admin/customers/{target}/watchlist/",
                    data={"csrfmiddlewaretoken": token},
                    headers={**headers, "Accept": "application/json"},
                    allow_redirects=False,
                    timeout=120,
                )
                ok = response.status_code == 200 and "watched" in response.json()
                if ok:
                    with recorder.lock:
                        recorder.toggles[target] += 1
            elif kind == "export":
                response = session.post(
                    f"{base}/admin/customers/exports/start/",
                    data={**target, "csrfmiddlewaretoken": token},
                    headers=headers,
                    allow_redirects=False,
                    timeout=120,
                )
                match = JOB_LINK.search(response.headers.get("Location", ""))
                # Up to EXPORT_SYNC_MAX_ROWS rows the file downloads at once; more start a job.
                downloaded = (
                    response.status_code == 200
                    and "attachment" in response.headers.get("Content-Disposition", "")
                    and len(response.content) > 0
                )
                ok = downloaded or (response.status_code == 302 and match is not None)
                if not ok and response.status_code == 302 and refused_by_job_limits(session, base, response):
                    ok = True
                    with recorder.lock:
                        recorder.refused.append(str(target))
                if match:
                    with recorder.lock:
                        recorder.jobs.add(match.group(1))
            else:
                response = session.get(f"{base}{target}", allow_redirects=False, timeout=120)
                ok = response.status_code == 200
            seconds = time.perf_counter() - started
            recorder.add(kind, seconds, ok, f"{target} HTTP {response.status_code}")
        except (requests.RequestException, ValueError) as error:
            recorder.add(kind, time.perf_counter() - started, False, f"{target} {type(error).__name__}: {error}")


def wait_for_jobs(job_ids, timeout):
    from wagtail_customers.models import ExportJob, JobState

    deadline = time.monotonic() + timeout
    while True:
        states = dict(ExportJob.objects.filter(pk__in=job_ids).values_list("pk", "state"))
        active = [pk for pk, state in states.items() if state in (JobState.PENDING, JobState.RUNNING)]
        if not active or time.monotonic() > deadline:
            return {str(pk): state for pk, state in states.items()}
        time.sleep(1)


def summarise(recorder, wall, users):
    seconds = [s for _kind, s, _ok in recorder.records if s]
    by_kind = {}
    logins = [("login", s, ok) for s, ok in recorder.logins]
    for kind in ["login", *MIX]:
        rows = [(s, ok) for k, s, ok in (logins if kind == "login" else recorder.records) if k == kind]
        if rows:
            times = [s for s, _ok in rows if s]
            by_kind[kind] = {
                "count": len(rows),
                "p50_ms": round(statistics.median(times) * 1000, 1) if times else None,
                "p95_ms": round(p95(times) * 1000, 1) if times else None,
                "errors": sum(1 for _s, ok in rows if not ok),
            }
    if "login" in by_kind:
        by_kind["login"]["before_the_load"] = True
    return {
        "users": users,
        "requests": len(recorder.records),
        "wall_s": round(wall, 1),
        "throughput_rps": round(len(recorder.records) / wall, 1),
        "p50_ms": round(statistics.median(seconds) * 1000, 1),
        "p95_ms": round(p95(seconds) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
        "errors": len(recorder.errors),
        "export_refusals": len(recorder.refused),
    }, by_kind


def main(argv=None):
    args = parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    size = SIZES[args.size.upper()]
    logdir = Path(tempfile.mkdtemp(prefix="wcb-load-"))
    cluster = Cluster(args.pg_data).start()
    processes = Processes(logdir)
    cleanup = None
    try:
        spec, meta, cleanup = postgres_working_copy(cluster, size, args.seed)
        # The site's own settings, as gunicorn runs them (password hashers included).
        _engine, host, port, name, user = spec.split(":")
        # The plugin's default sync limit, not the demo's low one (which is there to show the background path).
        os.environ.update(
            DJANGO_SETTINGS_MODULE="example_project.settings",
            DATABASE_URL_POSTGRES=f"{host}:{port}:{name}:{user}",
            EXAMPLE_EXPORT_SYNC_MAX_ROWS="5000",
        )
        sys.path.insert(0, str(ROOT / "example_project"))
        import django

        django.setup()
        from django.db import connection

        from wagtail_customers.models import Customer, ExportJob, JobState, WatchlistEntry

        users = make_users(args.users)
        customer_ids = list(Customer.objects.order_by("-orders_count", "pk").values_list("pk", flat=True)[:200])
        random.Random(args.seed).shuffle(customer_ids)
        plans, toggled = plan(users, args.requests_per_user, args.seed, customer_ids)
        initial = set(WatchlistEntry.objects.filter(customer_id__in=toggled).values_list("customer_id", flat=True))
        connection.close()

        print(f"[load {size.name}] starting redis, a Celery worker and gunicorn ({args.workers} workers)", flush=True)
        base = start_site(processes, spec, args.workers, args.worker_nice)
        print(f"  {args.users} users x {args.requests_per_user} requests against {base}", flush=True)
        recorder = Recorder()
        # Every user logs in first, all at once, outside the measured window: a seller logs in once a day, not once
        # every 40 requests, and the 20 password hashes (the site's own hashers, PBKDF2) took about 5.6 core-seconds
        # at the start of the window, every user's first requests queued behind them.
        sessions = log_in_all(base, users, recorder)
        deadline = time.monotonic() + args.deadline
        threads = [
            threading.Thread(target=run_user, args=(base, sessions[user], plans[user], recorder, deadline), daemon=True)
            for user in users
            if user in sessions
        ]
        roots = {**processes.pids(), "postgres": cluster.postmaster_pid()}
        cpu_before, own_before, machine_before = tree_seconds(roots), time.process_time(), machine_seconds()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1, deadline - time.monotonic() + 60))
        wall = time.perf_counter() - started
        cpu = {**spent(cpu_before, tree_seconds(roots)), "load generator": round(time.process_time() - own_before, 1)}
        machine = spent(machine_before, machine_seconds())
        summary, by_kind = summarise(recorder, wall, args.users)
        # Where the cores went during the load: the rest of nproc x wall was idle or other processes.
        summary.update(cpu_s=cpu, cpu_available_s=round(wall * os.cpu_count(), 1), machine_cpu_s=machine)
        print(f"  load done in {wall:.1f} s; waiting for {len(recorder.jobs)} export job(s)", flush=True)
        waited = time.perf_counter()
        job_states = wait_for_jobs(list(recorder.jobs), args.job_timeout)
        waited = time.perf_counter() - waited
        processes.check_alive()

        final = set(WatchlistEntry.objects.filter(customer_id__in=toggled).values_list("customer_id", flat=True))
        lost = []
        for pk in set(toggled):
            expected = (pk in initial) != (recorder.toggles.get(pk, 0) % 2 == 1)
            if expected != (pk in final):
                lost.append({"customer": pk, "toggles": recorder.toggles.get(pk, 0), "initial": pk in initial})
        done = sum(1 for state in job_states.values() if state == JobState.DONE)
        summary.update(
            toggles=sum(recorder.toggles.values()),
            lost_toggles=len(lost),
            export_jobs=len(recorder.jobs),
            export_jobs_done=done,
            jobs_wait_s=round(waited, 1),
        )
        summary["ok"] = not recorder.errors and not lost and done == len(recorder.jobs)
        for job in ExportJob.objects.filter(pk__in=recorder.jobs, state=JobState.DONE):
            job.file.delete(save=False)
        result = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "setup": (
                f"PostgreSQL {cluster.server_version()}, size {size.name} ({meta['customers']} customers / "
                f"{meta['orders']} orders); gunicorn {args.workers} sync workers ({connections_kept()}); "
                "1 Celery worker on Redis"
                + (f" at niceness {args.worker_nice} (its autogroup's too)" if args.worker_nice else "")
                + "; "
                f"{args.users} users (half superusers, half staff with grants), {args.requests_per_user} requests "
                f"each; mix {MIX}; nproc {os.cpu_count()}"
            ),
            "summary": summary,
            "by_kind": by_kind,
            "errors": recorder.errors[:50],
            "lost_toggles": lost,
            "job_states": job_states,
        }
        print(json.dumps(summary, indent=1), flush=True)
        connection.close()
    finally:
        processes.stop()
        if cleanup:
            cleanup()
        cluster.stop()
    results_dir = Path(args.results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"load-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{size.name}.json"
    path.write_text(json.dumps(result, indent=1, default=str))
    print(f"results: {path}")
    if args.report:
        from . import report

        report.main([args.report])
    shutil.rmtree(logdir, ignore_errors=True) if summary["ok"] else print(f"logs kept in {logdir}")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
