"""The example site: a Wagtail site with a small shop, on SQLite, Celery tasks run eagerly.

Every default here can be overridden from the environment so the same site runs on PostgreSQL
and a real Redis-backed Celery worker (see docs/howto/celery.md).
"""

import base64
import hashlib
import os
from pathlib import Path

import django
from kombu import Queue

from wagtail_customers.task_routing import DEFAULT_QUEUES as PLUGIN_QUEUES

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "shop",
    "wagtail_customers",
    "wagtail_modeladmin",
    "import_export",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "example_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

WSGI_APPLICATION = "example_project.wsgi.application"

#: SQLite waits for a busy database instead of failing with "database is locked" when requests run in parallel:
#: a busy timeout (seconds); WAL, so readers never block the writer; and (Django 5.1+) transactions that take the
#: write lock when they begin, so two of them never both read and then deadlock upgrading to write.
SQLITE_OPTIONS = {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
if django.VERSION >= (5, 1):
    SQLITE_OPTIONS["transaction_mode"] = "IMMEDIATE"

if os.environ.get("DATABASE_URL_POSTGRES"):
    # host:port:name:user, e.g. for the load test on a throwaway PostgreSQL
    host, port, name, user = os.environ["DATABASE_URL_POSTGRES"].split(":")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": host,
            "PORT": port,
            "NAME": name,
            "USER": user,
            # Persistent connections, as docs/howto/deployment.md advises: a new PostgreSQL connection for every
            # request cost each listing page 3-10 ms (the load test at L: 32 -> 39 requests/s).
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("EXAMPLE_DB", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": SQLITE_OPTIONS,
        }
    }

AUTH_PASSWORD_VALIDATORS = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

WAGTAIL_SITE_NAME = "Example shop"
WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8000"
# No outside fetches from the admin (avatars would come from gravatar.com).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = "shop@example.com"

# Celery: eager by default so the example runs with nothing else installed; set CELERY_BROKER_URL
# (e.g. redis://127.0.0.1:6379/0) and CELERY_TASK_ALWAYS_EAGER=0 to use a real worker.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", None)
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "1") == "1"
CELERY_TASK_EAGER_PROPAGATES = True
# The plugin sends each kind of work to its own queue (docs/howto/deployment.md); listing them here makes a worker
# started without -Q consume them all, beside Celery's default queue.
CELERY_TASK_QUEUES = [Queue(name) for name in ("celery", *PLUGIN_QUEUES)]

WAGTAIL_CUSTOMERS = {
    "BASE_URL": WAGTAILADMIN_BASE_URL,
    # Below the demo's 2,000 customers, so "all pages" shows the background path: the "being prepared" notice,
    # the Exports page (/admin/customers/exports/) and the e-mailed link (printed by the console e-mail backend in
    # the terminal running the site). The plugin's default is 5,000.
    "EXPORT_SYNC_MAX_ROWS": int(os.environ.get("EXAMPLE_EXPORT_SYNC_MAX_ROWS", "500")),
    # The key that encrypts the channel credentials of connected stores. FOR THE DEMO ONLY it is derived from
    # SECRET_KEY; a real site sets a key of its own, e.g. CREDENTIALS_KEYS=[os.environ["CUSTOMERS_CREDENTIALS_KEY"]]
    # (docs/howto/connect-a-store.md, "Credentials at rest").
    "CREDENTIALS_KEYS": [
        base64.urlsafe_b64encode(hashlib.sha256(b"demo-credentials:" + SECRET_KEY.encode()).digest()).decode()
    ],
}
