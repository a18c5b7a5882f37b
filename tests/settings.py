"""Test settings: the example site, on SQLite by default or on the PostgreSQL cluster the test run starts.

``WC_TEST_DB=postgres`` with ``WC_PG_HOST``/``WC_PG_PORT``/``WC_PG_USER`` selects PostgreSQL
(``make test`` sets them for its PostgreSQL pass).
"""

import os

from example_project.settings import *  # noqa: F403

if os.environ.get("WC_TEST_DB") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ["WC_PG_HOST"],
            "PORT": os.environ["WC_PG_PORT"],
            "USER": os.environ.get("WC_PG_USER", "postgres"),
            "NAME": "wagtail_customers",
            "TEST": {"NAME": "test_wagtail_customers"},
        }
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
WAGTAIL_CUSTOMERS = {
    "BASE_URL": "http://testserver",
    # A fixed test key (Fernet.generate_key() once); the connection tests also rotate to a second one.
    "CREDENTIALS_KEYS": ["n0p4hB6x0Vt2bFQ7m5y0a6eG7bq9J2t3Wk8cR1sYx4E="],
    # Fast tests: short waits for rate limits and back-off.
    "SYNC_RETRY_AFTER_MAX_SECONDS": 1,
    "SYNC_BACKOFF_SECONDS": 1,
    "SYNC_BACKOFF_MAX_SECONDS": 4,
}

# The Celery worker that tests/celery_fixtures.py starts runs with these settings too; the fixture tells it,
# through the environment, which database, broker, media folder, mail folder and plugin settings the test
# process uses.
if os.environ.get("WC_WORKER_SQLITE"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ["WC_WORKER_SQLITE"],
            "OPTIONS": {"timeout": 30},
        }
    }
if os.environ.get("WC_WORKER_PG_NAME"):
    DATABASES["default"]["NAME"] = os.environ["WC_WORKER_PG_NAME"]
if os.environ.get("WC_WORKER_BROKER_URL"):
    CELERY_BROKER_URL = os.environ["WC_WORKER_BROKER_URL"]
    # Chunked exports' chords count their finished chunks there (exports/chunks.py).
    CELERY_RESULT_BACKEND = os.environ["WC_WORKER_BROKER_URL"]
    CELERY_TASK_ALWAYS_EAGER = False
if os.environ.get("WC_WORKER_VISIBILITY_TIMEOUT"):
    # A killed worker's unacknowledged messages go to another worker after this many seconds (and the check
    # runs every second), so a test can see a killed chunk delivered again.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ["WC_WORKER_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
if os.environ.get("WC_WORKER_MEDIA_ROOT"):
    MEDIA_ROOT = os.environ["WC_WORKER_MEDIA_ROOT"]
if os.environ.get("WC_WORKER_EMAIL_DIR"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["WC_WORKER_EMAIL_DIR"]
if os.environ.get("WC_WORKER_SETTINGS"):
    import json

    WAGTAIL_CUSTOMERS = {**WAGTAIL_CUSTOMERS, **json.loads(os.environ["WC_WORKER_SETTINGS"])}
