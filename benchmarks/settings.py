"""Settings for benchmark processes: the example site, plus the baselines' viewset, on the database
named by ``WC_BENCH_DB`` (``sqlite:/path/to/file`` or ``postgres:host:port:name:user``).

The baselines live in the ``benchmarks`` app, installed only here, never in the plugin.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "example_project") not in sys.path:
    sys.path.insert(0, str(ROOT / "example_project"))

from example_project.settings import *  # noqa: E402, F403
from example_project.settings import INSTALLED_APPS  # noqa: E402


def database_from_spec(spec):
    """``sqlite:/path`` or ``postgres:host:port:name:user`` -> a Django DATABASES entry."""
    engine, _, rest = spec.partition(":")
    if engine == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": rest, "OPTIONS": {"timeout": 60}}
    if engine == "postgres":
        host, port, name, user = rest.split(":")
        return {"ENGINE": "django.db.backends.postgresql", "HOST": host, "PORT": port, "NAME": name, "USER": user}
    raise ValueError(f"WC_BENCH_DB must start with sqlite: or postgres:, not {spec!r}")


DATABASES = {"default": database_from_spec(os.environ.get("WC_BENCH_DB", f"sqlite:{ROOT / 'benchmarks/.data/x.db'}"))}

# "benchmarks" first: its viewset's hooks run before the plugin's, so the plugin's own registrations win.
INSTALLED_APPS = ["benchmarks", *INSTALLED_APPS]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Eager, unless the workers benchmark (benchmarks/workers.py) gives a Redis for real workers and chord results.
CELERY_BROKER_URL = os.environ.get("WC_BENCH_BROKER", "memory://")
CELERY_RESULT_BACKEND = os.environ.get("WC_BENCH_BROKER")
CELERY_TASK_ALWAYS_EAGER = "WC_BENCH_BROKER" not in os.environ
MEDIA_ROOT = os.environ.get("WC_BENCH_MEDIA", str(ROOT / "benchmarks/.data/media"))
WAGTAIL_CUSTOMERS = {"BASE_URL": "http://testserver"}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "level": "WARNING"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # A 404 on a tab that has not landed yet is reported by the harness, not logged as noise.
    "loggers": {"django.request": {"level": "ERROR"}},
}
