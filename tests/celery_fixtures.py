"""A real Redis server and real Celery worker processes for the tests marked ``worker``.

* ``redis_url`` (session): ``redis-server`` on a free port of 127.0.0.1, no persistence, stopped at the end.
* ``worker_database`` (module): a database the worker process can open too. On PostgreSQL that is the
  test database itself. SQLite's in-memory test database lives inside this process, so the module gets a
  file copy of it (SQLite's backup API, WAL mode for concurrent readers and writer): this process's
  connection points at the file for the module's tests, and back at the in-memory database afterwards.
  Tests using it must be ``django_db(transaction=True)`` so their data is committed and visible.
* ``celery_worker`` (function): ``start(settings=None)`` runs ``celery -A example_project worker`` as a
  subprocess with ``tests.settings`` and the environment variables that file reads (``WC_WORKER_*``), listening
  on every queue or only on ``queues`` (``celery worker -Q``), waits
  until it is ready, and returns a handle with ``kill()`` (SIGKILL to the worker and its pool processes).
  While the fixture is active this process's Celery app publishes to that Redis instead of running tasks
  eagerly. Every worker started is killed at the end of the test, and the broker emptied.
* ``use_celery_settings(settings, **values)``: how a test points this process's Celery app elsewhere;
  ``broker_down(settings)`` (a context manager) points it at a broker that is down.

Registered for every test module through ``pytest_plugins`` in tests/conftest.py.
"""

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 90


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mail_bodies(raw):
    """The plain-text bodies of the e-mails Django's console or file backend wrote, decoded.

    Those backends write each message as sent, then a line of 79 dashes; from Django 6.0 a body with a line
    longer than 78 characters (an export's download link) is quoted-printable, so a link can be split by
    soft line breaks in the raw text."""
    import email
    import email.policy

    separator = "\n" + "-" * 79 + "\n"
    messages = [part for part in raw.split(separator) if part.strip()]
    return [
        email.message_from_string(message, policy=email.policy.default).get_body(("plain",)).get_content()
        for message in messages
    ]


def wait_for(condition, timeout, what):
    """Poll ``condition()`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"Gave up after {timeout} s waiting for {what}.")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    import redis

    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=open(folder / "redis.log", "w"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
    )
    client = redis.Redis(host="127.0.0.1", port=port)

    def answers():
        try:
            return client.ping()
        except redis.ConnectionError:
            if process.poll() is not None:
                pytest.fail(f"redis-server exited: {(folder / 'redis.log').read_text()}")
            return False

    wait_for(answers, 30, "redis-server to answer")
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def worker_database(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            yield {"WC_WORKER_PG_NAME": connection.settings_dict["NAME"]}
            return
        if not connection.is_in_memory_db():
            yield {"WC_WORKER_SQLITE": connection.settings_dict["NAME"]}
            return
        path = tmp_path_factory.mktemp("worker-db") / "test.sqlite3"
        connection.ensure_connection()
        in_memory = connection.connection
        copy = sqlite3.connect(path)
        in_memory.backup(copy)
        copy.execute("PRAGMA journal_mode=WAL")
        copy.close()
        saved_name, saved_options = connection.settings_dict["NAME"], connection.settings_dict.get("OPTIONS", {})
        # Park the in-memory connection (closing it would destroy that database for the other modules).
        connection.connection = None
        connection.settings_dict["NAME"] = str(path)
        connection.settings_dict["OPTIONS"] = {**saved_options, "timeout": 30}
        try:
            yield {"WC_WORKER_SQLITE": str(path)}
        finally:
            connection.close()
            connection.settings_dict["NAME"] = saved_name
            connection.settings_dict["OPTIONS"] = saved_options
            connection.connection = in_memory


class WorkerProcess:
    def __init__(self, process, log_path, name):
        self.process, self.log_path, self.name = process, log_path, name

    def log(self):
        return self.log_path.read_text(errors="replace")

    def kill(self):
        """SIGKILL the worker and its pool processes at once: nothing runs a shutdown handler."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def _reset_publisher(app):
    """Forget pooled broker connections so the next publish uses the current ``broker_url``."""
    from kombu import pools

    pools.reset()  # kombu shares producer pools per broker URL; drop them all
    app._pool = None
    app.amqp._producer_pool = None


def use_celery_settings(settings, **values):
    """Configure this process's Celery app for one test as a site does: through its ``CELERY_*`` Django settings,
    which the app reads live (``config_from_object("django.conf:settings", namespace="CELERY")``) and
    pytest-django's ``settings`` puts back after the test. E.g. ``use_celery_settings(settings,
    task_always_eager=False)``. Returns the app, with its publisher reset; reset it again at the end of the test
    (a pool made meanwhile keeps the test's broker).

    Not ``app.conf.update(task_always_eager=False)``: before Celery 5.7 (celery/celery#10597) a lookup tried the
    ``CELERY_`` name in every source before the plain one, so tests/settings.py's ``CELERY_TASK_ALWAYS_EAGER``
    beat the update, and on the lowest supported Celery the tests' "queued" jobs ran eagerly, in this process.
    """
    from celery import current_app

    for key, value in values.items():
        setattr(settings, f"CELERY_{key.upper()}", value)
    app = current_app._get_current_object()
    for key, value in values.items():
        assert app.conf[key] == value, f"Celery does not see CELERY_{key.upper()}={value!r}"
    _reset_publisher(app)
    return app


@contextlib.contextmanager
def broker_down(settings):
    """This process's Celery app publishing to a broker that is configured but not there (nothing listens on port
    9), giving up after one retry: what a site sees while its Redis is down."""
    app = use_celery_settings(
        settings, broker_url="redis://127.0.0.1:9/0", task_always_eager=False, broker_connection_max_retries=1
    )
    try:
        yield
    finally:
        _reset_publisher(app)


@pytest.fixture
def celery_worker(redis_url, worker_database, settings, tmp_path):
    app = use_celery_settings(settings, broker_url=redis_url, task_always_eager=False)
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    email_dir = tmp_path / "worker-mail"
    email_dir.mkdir()
    workers = []

    def start(plugin_settings=None, queues=None):
        name = f"wc-test-{uuid.uuid4().hex[:8]}@localhost"
        log_path = tmp_path / f"{name.split('@')[0]}.log"
        env = {
            **os.environ,
            **worker_database,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "example_project")]),
            "WC_WORKER_BROKER_URL": redis_url,
            "WC_WORKER_MEDIA_ROOT": str(media_root),
            "WC_WORKER_EMAIL_DIR": str(email_dir),
            "WC_WORKER_SETTINGS": json.dumps({**settings.WAGTAIL_CUSTOMERS, **(plugin_settings or {})}),
        }
        command = [
            *(sys.executable, "-m", "celery", "-A", "example_project", "worker"),
            *("--hostname", name, "--concurrency", "1", "--pool", "prefork", "--loglevel", "INFO"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            # None: every queue of CELERY_TASK_QUEUES (Celery's default queue and the plugin's four).
            *(("--queues", ",".join(queues)) if queues else ()),
        ]
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=open(log_path, "w"),  # noqa: SIM115 - closed with the process
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so kill() reaches the pool processes too
        )
        worker = WorkerProcess(process, log_path, name)
        workers.append(worker)

        def ready():
            if process.poll() is not None:
                pytest.fail(f"The Celery worker exited:\n{worker.log()}")
            return " ready." in worker.log()

        wait_for(ready, READY_TIMEOUT, "the Celery worker to be ready")
        return worker

    start.email_dir = email_dir
    yield start
    # Killed, not stopped: the test has seen what it waited for, and a warm shutdown took about 3 s a worker.
    # The broker is emptied after them, so no message left queued or unacknowledged reaches the next test.
    for worker in workers:
        worker.kill()
    import redis

    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()
    if workers:
        _wait_for_killed_sessions()
    _reset_publisher(app)


def _wait_for_killed_sessions():
    """On PostgreSQL, a killed worker's session runs its statement to the end, holding its locks, before it finds
    its client gone: wait for it (as a warm shutdown waited for the task), so that the test's flush does not."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return

    def none_left():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state = 'active'"
            )
            return cursor.fetchone()[0] == 0

    wait_for(none_left, 30, "the killed workers' database sessions to end")
