"""A throwaway PostgreSQL cluster for the benchmarks, started the way scripts/with-postgres.sh does.

The cluster's data folder is kept between runs (``benchmarks/.data/pg`` by default) so that built
datasets survive as template databases; the server itself runs only for the duration of a run, on
a free port, listening on 127.0.0.1 only. ``fsync`` and friends are off, as in the test runner.
"""

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

USER = "postgres"


def _pg_bin():
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not candidates or not os.access(os.path.join(candidates[-1], "initdb"), os.X_OK):
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    return candidates[-1]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    def __init__(self, datadir):
        self.datadir = Path(datadir).resolve()
        self.bin = _pg_bin()
        self.port = None
        self.version = Path(self.bin).parent.name

    def _run(self, *args, **kwargs):
        command = [os.path.join(self.bin, args[0]), *args[1:]]
        if os.geteuid() == 0:
            # initdb and postgres refuse to run as root.
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, **kwargs)

    def start(self):
        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # postgres must reach its data folder; the parents are only made traversable.
            for parent in [self.datadir.parent, *self.datadir.parent.parents]:
                if parent.stat().st_mode & 0o001 == 0:
                    parent.chmod(parent.stat().st_mode | 0o001)
        if not (self.datadir / "PG_VERSION").exists():
            if self.datadir.exists():
                shutil.rmtree(self.datadir)
            self.datadir.mkdir()
            if os.geteuid() == 0:
                shutil.chown(self.datadir, USER, USER)
            self._run(
                "initdb", "-D", str(self.datadir), "-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        self.port = free_port()
        options = (
            f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
            "-c shared_buffers=512MB -c work_mem=32MB -c maintenance_work_mem=256MB"
        )
        self._run(
            "pg_ctl", "-D", str(self.datadir), "-l", str(self.datadir / "server.log"), "-w", "-o", options, "start",
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        return self

    def stop(self):
        if self.port is not None:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop", stdout=subprocess.DEVNULL)
            self.port = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def spec(self, name):
        """The ``WC_BENCH_DB`` value for a database of this cluster."""
        return f"postgres:127.0.0.1:{self.port}:{name}:{USER}"

    def sql(self, statement, database="postgres"):
        """Run one statement with psql; returns its unaligned output."""
        command = [
            os.path.join(self.bin, "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", database,
            "-v", "ON_ERROR_STOP=1", "-At", "-c", statement,
        ]  # fmt: skip
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()

    def database_exists(self, name):
        return self.sql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"

    def drop_database(self, name):
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def copy_database(self, template, name):
        """A working copy of ``template`` (a file-level copy: seconds, not a rebuild)."""
        self.drop_database(name)
        for _attempt in range(20):
            try:
                self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                return
            except subprocess.CalledProcessError as error:
                # The template may still have a closing connection from the build.
                if "being accessed by other users" not in (error.stderr or ""):
                    raise
                time.sleep(0.5)
        raise RuntimeError(f"Template database {template} stays busy")

    def postmaster_pid(self):
        """The server's process id (the first line of its ``postmaster.pid``)."""
        return int((self.datadir / "postmaster.pid").read_text().split()[0])

    def server_version(self):
        return self.sql("SHOW server_version")
