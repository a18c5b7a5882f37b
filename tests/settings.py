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
WAGTAIL_CUSTOMERS = {"BASE_URL": "http://testserver"}
