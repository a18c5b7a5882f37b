"""System checks for the ``WAGTAIL_CUSTOMERS`` settings (ids ``wagtail_customers.E0xx`` / ``W0xx``)."""

from contextlib import closing
from pathlib import Path

from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .conf import DEFAULTS, user_settings


@register(Tags.compatibility)
def check_settings(app_configs=None, **kwargs):
    messages = []
    raw = user_settings()
    if raw is None:
        return messages
    if not isinstance(raw, dict):
        return [
            Error(
                "WAGTAIL_CUSTOMERS must be a dict.",
                hint="Set WAGTAIL_CUSTOMERS = {...} in your settings, or remove it to use the defaults.",
                id="wagtail_customers.E001",
            )
        ]
    for key in sorted(set(raw) - set(DEFAULTS)):
        messages.append(
            Warning(
                f"Unknown key {key!r} in WAGTAIL_CUSTOMERS; it is ignored.",
                hint="See the settings reference for the keys the plugin reads.",
                id="wagtail_customers.W001",
            )
        )
    choices = raw.get("PER_PAGE_CHOICES", DEFAULTS["PER_PAGE_CHOICES"])
    default = raw.get("DEFAULT_PER_PAGE", DEFAULTS["DEFAULT_PER_PAGE"])
    if not choices or not all(isinstance(c, int) and 0 < c <= 500 for c in choices):
        messages.append(
            Error(
                "WAGTAIL_CUSTOMERS['PER_PAGE_CHOICES'] must be a non-empty list of integers from 1 to 500.",
                id="wagtail_customers.E002",
            )
        )
    elif default not in choices:
        messages.append(
            Error(
                "WAGTAIL_CUSTOMERS['DEFAULT_PER_PAGE'] must be one of PER_PAGE_CHOICES.",
                id="wagtail_customers.E003",
            )
        )
    for key in (
        "INGEST_BATCH_SIZE",
        "SEARCH_INDEX_MAX_CANDIDATES",
        "FILTER_PROBE_ROWS",
        "EXPORT_SYNC_MAX_ROWS",
        "IMPORT_SYNC_MAX_ROWS",
        "EXPORT_EXPIRY_HOURS",
        "EXPORT_CHUNK_SIZE",
        "EXPORT_PROGRESS_ROWS",
        "EXPORT_STALE_SECONDS",
        "EXPORT_PENDING_TIMEOUT_SECONDS",
        "EXPORT_MAX_ATTEMPTS",
        "EXPORT_SOFT_TIME_LIMIT",
        "EXPORT_TIME_LIMIT",
        "EXPORT_MAX_ACTIVE_JOBS_PER_USER",
        "EXPORT_MAX_JOBS_PER_USER_PER_DAY",
        "IMPORT_PREVIEW_EXPIRY_HOURS",
    ):
        value = raw.get(key, DEFAULTS[key])
        if not isinstance(value, int) or value <= 0:
            messages.append(
                Error(f"WAGTAIL_CUSTOMERS[{key!r}] must be a positive integer.", id="wagtail_customers.E004")
            )
    window = raw.get("EXPORT_DUPLICATE_WINDOW_SECONDS", DEFAULTS["EXPORT_DUPLICATE_WINDOW_SECONDS"])
    if window is not None and (not isinstance(window, int) or window <= 0):
        messages.append(
            Error(
                "WAGTAIL_CUSTOMERS['EXPORT_DUPLICATE_WINDOW_SECONDS'] must be a positive integer or None.",
                id="wagtail_customers.E004",
            )
        )
    base_url = raw.get("BASE_URL")
    if base_url is not None and not str(base_url).startswith(("http://", "https://")):
        messages.append(
            Error(
                "WAGTAIL_CUSTOMERS['BASE_URL'] must start with http:// or https://.",
                id="wagtail_customers.E005",
            )
        )
    return messages


@register(Tags.security)
def check_private_storage(app_configs=None, **kwargs):
    """Import uploads and export files hold buyers' data: their storage must not be reachable by URL."""
    from django.conf import settings

    from .storage import build_private_storage

    if not isinstance(user_settings() or {}, dict):
        return []  # E001 already
    try:
        storage = build_private_storage()
    except ImproperlyConfigured as error:
        return [
            Error(
                str(error),
                hint="Set WAGTAIL_CUSTOMERS['PRIVATE_STORAGE_ROOT'] to a folder outside MEDIA_ROOT.",
                id="wagtail_customers.E010",
            )
        ]
    problems = []
    location = getattr(storage, "location", None)
    if location and settings.MEDIA_ROOT:
        media_root = Path(settings.MEDIA_ROOT).resolve()
        private_root = Path(location).resolve()
        if private_root == media_root or media_root in private_root.parents:
            problems.append(f"its folder {private_root} is inside MEDIA_ROOT")
    if getattr(storage, "base_url", None):
        problems.append(f"it has a public base URL ({storage.base_url})")
    if not problems:
        return []
    return [
        Warning(
            "The private storage of import and export files is not private: " + "; ".join(problems) + ".",
            hint=(
                "Files there could be downloaded without a login. Remove the STORAGES alias named by "
                "WAGTAIL_CUSTOMERS['PRIVATE_STORAGE'] to use the plugin's own folder, or give it a location "
                "outside MEDIA_ROOT and no base_url (a private bucket for cloud storage)."
            ),
            id="wagtail_customers.W010",
        )
    ]


@register(Tags.compatibility)
def check_task_queue(app_configs=None, **kwargs):
    """Exports and imports above the sync limits need a Celery broker (or eager tasks)."""
    from .task_queue import task_queue_configured

    if task_queue_configured():
        return []
    return [
        Warning(
            "No Celery broker is configured (CELERY_BROKER_URL), and tasks do not run eagerly: exports above "
            "EXPORT_SYNC_MAX_ROWS and imports above IMPORT_SYNC_MAX_ROWS will be refused.",
            hint=(
                "Set up Celery with a broker and run a worker (see the Celery how-to), or raise the sync limits. "
                "A broker Celery finds on its own (AMQP on localhost) still needs CELERY_BROKER_URL set."
            ),
            id="wagtail_customers.W011",
        )
    ]


@register(Tags.database)
def check_admin_access_group(app_configs=None, databases=None, **kwargs):
    """``ADMIN_ACCESS_GROUP`` names a group that exists and lets its members sign in to the admin.

    A database check: it runs with ``migrate`` and ``check --database default``."""
    from .conf import get_setting

    if not isinstance(user_settings() or {}, dict):
        return []  # E001 already
    name = get_setting("ADMIN_ACCESS_GROUP")
    if name is None:
        return []
    if not isinstance(name, str) or not name:
        return [
            Error("WAGTAIL_CUSTOMERS['ADMIN_ACCESS_GROUP'] must be a group name or None.", id="wagtail_customers.E020")
        ]
    if not databases:
        return []
    from django.contrib.auth.models import Group
    from django.db import DatabaseError

    from .services.admin_access import group_gives_admin_access

    try:
        group = Group.objects.filter(name=name).first()
        gives_access = group is not None and group_gives_admin_access(group)
    except DatabaseError:
        return []  # not migrated yet
    if group is None:
        return [
            Error(
                f"WAGTAIL_CUSTOMERS['ADMIN_ACCESS_GROUP'] names the group {name!r}, which does not exist.",
                hint="Create it in Settings › Groups with “Can access Wagtail admin”, or correct the name.",
                id="wagtail_customers.E020",
            )
        ]
    if not gives_access:
        return [
            Warning(
                f"The group {name!r} (WAGTAIL_CUSTOMERS['ADMIN_ACCESS_GROUP']) lacks “Can access Wagtail admin”: "
                "the Share access form does not offer to add people to it.",
                hint="Tick “Can access Wagtail admin” for this group in Settings › Groups.",
                id="wagtail_customers.W021",
            )
        ]
    return []


@register(Tags.compatibility)
def check_exchange_rates(app_configs=None, **kwargs):
    """The rate source is importable and answers ``rate()``; the refresh settings make sense."""
    from django.utils.module_loading import import_string

    raw = user_settings()
    if not isinstance(raw, dict):
        return []  # no settings (the defaults are right), or E001 already
    messages = []
    path = raw.get("EXCHANGE_RATES_SOURCE", DEFAULTS["EXCHANGE_RATES_SOURCE"])
    try:
        source = import_string(path)
    except ImportError as error:
        source = None
        messages.append(
            Error(
                f"WAGTAIL_CUSTOMERS['EXCHANGE_RATES_SOURCE'] cannot be imported: {error}",
                hint="A dotted path to a class or factory whose object has rate(from_currency, to_currency, on).",
                id="wagtail_customers.E030",
            )
        )
    if isinstance(source, type) and not callable(getattr(source, "rate", None)):
        messages.append(
            Error(
                f"WAGTAIL_CUSTOMERS['EXCHANGE_RATES_SOURCE'] {path!r} has no rate() method.",
                hint="A source answers rate(from_currency, to_currency, on) -> Decimal | None.",
                id="wagtail_customers.E030",
            )
        )
    max_age = raw.get("EXCHANGE_RATES_MAX_AGE_DAYS", DEFAULTS["EXCHANGE_RATES_MAX_AGE_DAYS"])
    if not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 0:
        messages.append(
            Error(
                "WAGTAIL_CUSTOMERS['EXCHANGE_RATES_MAX_AGE_DAYS'] must be an integer, 0 or more.",
                id="wagtail_customers.E031",
            )
        )
    url = raw.get("EXCHANGE_RATES_URL")
    if url is not None and not str(url).startswith(("http://", "https://")):
        messages.append(
            Error(
                "WAGTAIL_CUSTOMERS['EXCHANGE_RATES_URL'] must start with http:// or https://, or be None.",
                hint="For a file on disk, run manage.py customers_refresh_rates PATH from cron instead.",
                id="wagtail_customers.E032",
            )
        )
    return messages


@register(Tags.compatibility)
def check_read_replica(app_configs=None, **kwargs):
    """``READ_REPLICA`` names an alias of ``DATABASES``, and the router that reads from it is installed."""
    from django.conf import settings

    raw = user_settings()
    alias = raw.get("READ_REPLICA") if isinstance(raw, dict) else None
    if not alias:
        return []
    errors = []
    if alias not in settings.DATABASES:
        errors.append(
            Error(
                f"WAGTAIL_CUSTOMERS['READ_REPLICA'] names {alias!r}, which is not in DATABASES.",
                hint="Add the replica to DATABASES under that alias, or set READ_REPLICA to None.",
                id="wagtail_customers.E080",
            )
        )
    if "wagtail_customers.db_router.ReadReplicaRouter" not in getattr(settings, "DATABASE_ROUTERS", []):
        errors.append(
            Error(
                "WAGTAIL_CUSTOMERS['READ_REPLICA'] is set but DATABASE_ROUTERS lacks the plugin's router: "
                "everything would still read from the primary.",
                hint='Add "wagtail_customers.db_router.ReadReplicaRouter" to DATABASE_ROUTERS.',
                id="wagtail_customers.E081",
            )
        )
    return errors


@register(Tags.compatibility)
def check_sqlite_search_index(app_configs=None, **kwargs):
    """The search's index on SQLite needs FTS5 and its trigram tokenizer (SQLite 3.34+); without them the search
    still works, reading every customer (``services/search_index.py``)."""
    import sqlite3

    from django.conf import settings

    if not any(database.get("ENGINE", "").endswith("sqlite3") for database in settings.DATABASES.values()):
        return []
    try:
        with closing(sqlite3.connect(":memory:")) as probe:
            probe.execute("CREATE VIRTUAL TABLE probe USING fts5(text, tokenize='trigram')")
    except sqlite3.Error:
        return [
            Warning(
                f"This SQLite ({sqlite3.sqlite_version}) has no FTS5 trigram tokenizer: the customers search reads "
                "every customer for each term.",
                hint="Use a Python built with SQLite 3.34 or newer and FTS5 (most are), or PostgreSQL, then run "
                "migrate (it creates the index). A database whose index a SQLite with FTS5 made cannot be written "
                "by one without it.",
                id="wagtail_customers.W090",
            )
        ]
    return []


@register(Tags.security)
def check_erasure_key(app_configs=None, **kwargs):
    """``ERASURE_KEY`` is None or a non-empty string (or bytes): the key of erased customers' hashes."""
    raw = user_settings()
    if not isinstance(raw, dict):
        return []
    key = raw.get("ERASURE_KEY")
    if key is None or (isinstance(key, str | bytes) and key):
        return []
    return [
        Error(
            "WAGTAIL_CUSTOMERS['ERASURE_KEY'] must be a non-empty string, or None (a key derived from SECRET_KEY).",
            hint="A long random string, kept secret and never changed (docs/howto/personal-data.md).",
            id="wagtail_customers.E040",
        )
    ]


@register(Tags.security)
def check_credentials_keys(app_configs=None, **kwargs):
    """``CREDENTIALS_KEYS`` holds valid Fernet keys (E050); stored connections need one (W050)."""
    from .credentials import configured_keys

    raw = user_settings()
    keys = raw.get("CREDENTIALS_KEYS") if isinstance(raw, dict) else None
    if keys:
        from cryptography.fernet import Fernet

        try:
            for key in configured_keys():
                Fernet(key)
        except (ValueError, TypeError):
            return [
                Error(
                    "WAGTAIL_CUSTOMERS['CREDENTIALS_KEYS'] must be a list of Fernet keys.",
                    hint="Make one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())' (docs/howto/connect-a-store.md).",
                    id="wagtail_customers.E050",
                )
            ]
        return []
    # Only when the checks may use the database (``migrate``, ``check --database default``).
    if not _connections_stored(kwargs.get("databases") or ()):
        return []
    return [
        Warning(
            "Channel connections are stored but WAGTAIL_CUSTOMERS['CREDENTIALS_KEYS'] is not set: "
            "their credentials cannot be read and no store syncs.",
            hint="Set the keys the credentials were encrypted with (docs/howto/connect-a-store.md).",
            id="wagtail_customers.W050",
        )
    ]


def _connections_stored(databases):
    """Whether any connection has credentials; False while the database or its table is not there."""
    from django.db import DatabaseError

    from .models import ChannelConnection

    try:
        return any(
            ChannelConnection.objects.using(alias).exclude(encrypted_credentials="").exists() for alias in databases
        )
    except DatabaseError:
        return False
