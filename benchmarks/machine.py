"""What the figures were measured on: cores, memory, CPU model, Python, Django, Wagtail, databases."""

import os
import platform
import sqlite3
from datetime import UTC, datetime
from importlib import metadata


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib():
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe(postgres_version=None):
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "cpu": _cpu_model(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        "django": _version("django"),
        "wagtail": _version("wagtail"),
        "django_import_export": _version("django-import-export"),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version,
        "platform": platform.platform(),
    }
