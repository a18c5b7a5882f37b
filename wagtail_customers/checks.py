"""System checks for the ``WAGTAIL_CUSTOMERS`` settings (ids ``wagtail_customers.E0xx`` / ``W0xx``).

Every key of ``conf.DEFAULTS`` is checked: the keys of one plain kind (a whole number above 0, a string or None,
a dict of a given shape, ...) through ``SETTING_KINDS``, the others by a check of their own (``CHECKED_ELSEWHERE``
names it). tests/test_checks.py fails for a key in neither.
"""

import difflib
import os
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from .conf import DEFAULTS, user_settings
from .task_routing import DEFAULT_TASK_QUEUES


def _is_int(value):
    """A whole number; ``True`` and ``False`` are ints to Python, never to a setting."""
    return isinstance(value, int) and not isinstance(value, bool)


def _positive(value):
    return _is_int(value) and value > 0


def _zero_or_more(value):
    return _is_int(value) and value >= 0


def _seconds(value):
    """A number of seconds, 0 or more: whole or not (``0.5``), never ``True``, NaN or infinity."""
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < float("inf")


def _is_text(value):
    """A string, or a lazy one (``gettext_lazy``, ``reverse_lazy``), which the setting's users turn into one."""
    from django.utils.functional import Promise

    return isinstance(value, str | Promise)


def _is_url(value):
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _import(path):
    """``(object, None)`` for an importable dotted path, else ``(None, why)``."""
    from django.utils.module_loading import import_string

    if not isinstance(path, str):
        return None, f"{path!r} is not a dotted path (a string such as 'myshop.module.Name')"
    try:
        return import_string(path), None
    except ImportError as error:
        return None, str(error)


def _export_resource_problem(path):
    resource, why = _import(path)
    if why:
        return f"it cannot be imported: {why}"
    if not isinstance(resource, type) or not callable(getattr(resource, "export_field_names", None)):
        return "it is not a resource class with export_field_names() (subclass CustomerResource)"
    return _undeclared_export_field(resource)


def _undeclared_export_field(resource_class):
    """Why every export with ``resource_class`` would fail: a name its ``export_field_names()`` gives for every
    column that is none of its fields (``Meta.fields`` is a whitelist: a field declared on the class but not listed
    there is dropped, and the export's headings then stop it with a ``KeyError``). None when all are fields."""
    from .columns import COLUMNS

    try:
        resource = resource_class()
        names = resource.export_field_names([column.name for column in COLUMNS])
        undeclared = [name for name in names if name not in resource.fields]
    except DatabaseError:
        return None  # a resource that reads tables not made yet (before migrate): an error would stop migrate
    except Exception as error:  # noqa: BLE001 - a site's own code: its error is the message
        return f"making it or calling its export_field_names() raised {type(error).__name__}: {error}"
    if not undeclared:
        return None
    return (
        f"its export_field_names() gives {undeclared[0]!r}, which is none of its fields: add it to Meta.fields, "
        f'e.g. class Meta(CustomerResource.Meta): fields = (*CustomerResource.Meta.fields, "{undeclared[0]}")'
    )


def _channel_api_urls_valid(value):
    from .models import Channel

    return isinstance(value, dict) and all(
        channel in Channel.values
        and isinstance(urls, dict)
        and all(isinstance(name, str) and (url in (None, "") or _is_url(url)) for name, url in urls.items())
        for channel, urls in value.items()
    )


def _task_queues_valid(value):
    return value is None or (
        isinstance(value, dict)
        and all(
            kind in DEFAULT_TASK_QUEUES and (queue is None or isinstance(queue, str)) for kind, queue in value.items()
        )
    )


def _ledger_statuses_valid(value):
    from .models import OrderStatus

    return isinstance(value, dict) and all(status in OrderStatus.values for status in value.values())


def _extra_rows_valid(value):
    return isinstance(value, dict) and all(kind in ("shipping", "tax", "discount") for kind in value.values())


@dataclass(frozen=True)
class Kind:
    """What a setting must be: ``problem(value)`` is None when it is, else what is wrong ("" when ``expected``
    says it all); the message has the ``id`` and the ``level``."""

    id: str
    expected: str
    problem: Callable[[object], str | None]
    level: type = Error


def _kind(check_id, expected, accepts, level=Error):
    return Kind(check_id, expected, lambda value: None if accepts(value) else "", level)


POSITIVE = _kind("wagtail_customers.E004", "a whole number above 0", _positive)
POSITIVE_OR_NONE = _kind(
    "wagtail_customers.E004", "a whole number above 0, or None", lambda value: value is None or _positive(value)
)
ZERO_OR_MORE = _kind("wagtail_customers.E031", "a whole number, 0 or more", _zero_or_more)
RATING = _kind(
    "wagtail_customers.E031",
    "a whole number from 0 to 5 (feedback is rated 1 to 5; 0: none counts as negative)",
    lambda value: _zero_or_more(value) and value <= 5,
)
TEXT = _kind("wagtail_customers.E009", "a string", lambda value: isinstance(value, str))
TEXT_OR_NONE = _kind(
    "wagtail_customers.E009", "a string, or None", lambda value: value is None or isinstance(value, str)
)
#: Text shown to people (a URL, a sender), which a site may give lazily (``reverse_lazy``, ``gettext_lazy``); not
#: names the code looks things up by (a database alias, a storage alias).
SHOWN_TEXT_OR_NONE = _kind(
    "wagtail_customers.E009", "a string (lazy or not), or None", lambda value: value is None or _is_text(value)
)
SECONDS = _kind("wagtail_customers.E031", "a number of seconds, 0 or more", _seconds)
PATH_OR_NONE = _kind(
    "wagtail_customers.E009",
    "a path (a string or a pathlib.Path), or None",
    lambda value: value is None or isinstance(value, str | os.PathLike),
)
RESOURCE = Kind(
    "wagtail_customers.E006",
    "the dotted path of a django-import-export resource class, such as a subclass of "
    "wagtail_customers.exports.resources.CustomerResource",
    _export_resource_problem,
)
CHANNEL_API_URLS = _kind(
    "wagtail_customers.E007",
    'a dict of dicts {channel: {API name: "https://..."}} with channels in lower case (amazon, ebay, shopify, '
    '...), e.g. {"ebay": {"api": "https://api.sandbox.ebay.com"}}; {} for the real endpoints',
    _channel_api_urls_valid,
)
TASK_QUEUES = _kind(
    "wagtail_customers.E007",
    "None, or a dict {kind: queue name or None} whose kinds are among " + ", ".join(DEFAULT_TASK_QUEUES),
    _task_queues_valid,
)
LEDGER_STATUSES = _kind(
    "wagtail_customers.E007",
    "a dict {shop's order status: ledger status}, the ledger statuses among pending, paid, shipped, delivered, "
    "cancelled, returned, refunded, partially_refunded",
    _ledger_statuses_valid,
)
EXTRA_ROWS = _kind(
    "wagtail_customers.E007",
    'a dict {modifier identifier: "shipping", "tax" or "discount"}',
    _extra_rows_valid,
)
#: FILTERED_COUNT_LIMIT falls back to 0 when it is not a whole number (listing.filtered_count_limit): a warning.
COUNT_LIMIT = _kind(
    "wagtail_customers.W002",
    "a whole number, 0 or more (0: no count before the table); 0 is used instead",
    _zero_or_more,
    level=Warning,
)

#: The kind of each setting checked by ``check_settings`` (the others: ``CHECKED_ELSEWHERE``).
SETTING_KINDS = {
    "FILTERED_COUNT_LIMIT": COUNT_LIMIT,
    "SEARCH_INDEX_MAX_CANDIDATES": POSITIVE,
    "FILTER_PROBE_ROWS": POSITIVE,
    "INGEST_BATCH_SIZE": POSITIVE,
    "EXPORT_SYNC_MAX_ROWS": POSITIVE,
    "EXPORT_RESOURCE": RESOURCE,
    "EXPORT_EXPIRY_HOURS": POSITIVE,
    "FROM_EMAIL": SHOWN_TEXT_OR_NONE,
    "EXPORT_STORAGE_PREFIX": TEXT,
    "PRIVATE_STORAGE": TEXT,
    "PRIVATE_STORAGE_ROOT": PATH_OR_NONE,
    "EXPORT_CHUNK_SIZE": POSITIVE,
    "EXPORT_CHUNK_ROWS": POSITIVE_OR_NONE,
    "EXPORT_PROGRESS_ROWS": POSITIVE,
    "EXPORT_STALE_SECONDS": POSITIVE,
    "EXPORT_PENDING_TIMEOUT_SECONDS": POSITIVE,
    "EXPORT_MAX_ATTEMPTS": POSITIVE,
    "EXPORT_SOFT_TIME_LIMIT": POSITIVE,
    "EXPORT_TIME_LIMIT": POSITIVE,
    "EXPORT_DUPLICATE_WINDOW_SECONDS": POSITIVE_OR_NONE,
    "EXPORT_MAX_ACTIVE_JOBS_PER_USER": POSITIVE,
    "EXPORT_MAX_JOBS_PER_USER_PER_DAY": POSITIVE,
    "IMPORT_SYNC_MAX_ROWS": POSITIVE,
    "IMPORT_MAX_ROWS": POSITIVE,
    "IMPORT_MAX_COLUMNS": POSITIVE,
    "IMPORT_MAX_CELL_CHARS": POSITIVE,
    "IMPORT_MAX_ROW_CHARS": POSITIVE,
    "IMPORT_MAX_XLSX_BYTES": POSITIVE,
    "IMPORT_PREVIEW_EXPIRY_HOURS": POSITIVE,
    "HELP_URL": SHOWN_TEXT_OR_NONE,
    "REBUILD_CHUNK_ROWS": POSITIVE,
    "NEGATIVE_FEEDBACK_MAX_RATING": RATING,
    "EXCHANGE_RATES_FILE": PATH_OR_NONE,
    "CHANNEL_API_URLS": CHANNEL_API_URLS,
    "SYNC_INTERVAL_SECONDS": POSITIVE,
    "SYNC_MAX_FAILURES": POSITIVE,
    "SYNC_BACKOFF_SECONDS": POSITIVE,
    "SYNC_BACKOFF_MAX_SECONDS": POSITIVE,
    "SYNC_RETRY_AFTER_MAX_SECONDS": SECONDS,
    "SYNC_RATE_LIMIT_RETRIES": ZERO_OR_MORE,
    "SYNC_LEASE_SECONDS": POSITIVE,
    "SYNC_BUSY_RETRY_SECONDS": POSITIVE,
    "WEBHOOK_MAX_BYTES": POSITIVE,
    "WEBHOOK_DELIVERY_RETENTION_DAYS": POSITIVE,
    "SYNC_RUN_RETENTION_DAYS": POSITIVE,
    "TASK_QUEUES": TASK_QUEUES,
    "READ_REPLICA": TEXT_OR_NONE,
    "READ_YOUR_WRITES_SECONDS": SECONDS,
    "SALESMAN_STATUSES": LEDGER_STATUSES,
    "SALESMAN_EXTRA_ROWS": EXTRA_ROWS,
    "OSCAR_STATUSES": LEDGER_STATUSES,
}

#: Settings checked by a check of their own, and its ids.
CHECKED_ELSEWHERE = {
    "PER_PAGE_CHOICES": "E002",
    "DEFAULT_PER_PAGE": "E003",
    "BASE_URL": "E005",
    "EXCHANGE_RATES_SOURCE": "E030",
    "EXCHANGE_RATES_MAX_AGE_DAYS": "E031",
    "EXCHANGE_RATES_URL": "E032",
    "ADMIN_ACCESS_GROUP": "E020, W021",
    "ERASURE_KEY": "E040",
    "CREDENTIALS_KEYS": "E050, W050",
    "SALESMAN_SELLER_ACCOUNT": "E070",
    "OSCAR_SELLER_ACCOUNT": "E071",
}

#: (smaller, larger, strictly, why): two settings that only make sense in this order (E008).
ORDERED_PAIRS = (
    (
        "EXPORT_SOFT_TIME_LIMIT",
        "EXPORT_TIME_LIMIT",
        True,
        "the soft limit must fire first so that the job fails with the reason, before Celery kills the worker",
    ),
    (
        "SYNC_BACKOFF_SECONDS",
        "SYNC_BACKOFF_MAX_SECONDS",
        False,
        "the first wait after a failure cannot be longer than the longest wait",
    ),
)


def _shown(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def kind_messages(raw, key, kind):
    """The message (a list of 0 or 1) about ``raw[key]`` (else its default) when it is not of ``kind``."""
    value = raw.get(key, DEFAULTS[key])
    problem = kind.problem(value)
    if problem is None:
        return []
    return [
        kind.level(
            f"WAGTAIL_CUSTOMERS[{key!r}] is {_shown(value)}: "
            + (f"{problem}; " if problem else "")
            + f"it must be {kind.expected}.",
            hint=f"The default is {DEFAULTS[key]!r} (docs/reference/settings.md).",
            id=kind.id,
        )
    ]


def valid(raw, key):
    """Whether ``raw[key]`` (else its default) is of its kind: checks that use a setting skip a wrong one."""
    return SETTING_KINDS[key].problem(raw.get(key, DEFAULTS[key])) is None


@register(Tags.compatibility)
def check_settings(app_configs=None, **kwargs):
    messages = []
    raw = user_settings()
    if raw is None:
        return messages
    if not isinstance(raw, dict):
        # The type only: the value holds the erasure key and the credentials keys, and checks print to logs.
        trailing_comma = isinstance(raw, tuple) and len(raw) == 1 and isinstance(raw[0], dict)
        return [
            Error(
                f"WAGTAIL_CUSTOMERS is a {type(raw).__name__}: it must be a dict. Until it is, the plugin's "
                "private files cannot be stored and its pages and tasks stop with this error.",
                hint=(
                    "Remove the comma after the closing } of WAGTAIL_CUSTOMERS = {...}."
                    if trailing_comma
                    else "Set WAGTAIL_CUSTOMERS = {...} in your settings (a list of pairs: dict(...) of it), or "
                    "remove it to use the defaults."
                ),
                id="wagtail_customers.E001",
            )
        ]
    for key in sorted(set(raw) - set(DEFAULTS), key=str):
        # A misspelt key is the usual cause: name the key meant (DEFAULT_PERPAGE -> DEFAULT_PER_PAGE).
        close = difflib.get_close_matches(str(key).upper(), DEFAULTS, n=1)
        messages.append(
            Warning(
                f"Unknown key {key!r} in WAGTAIL_CUSTOMERS; it is ignored.",
                hint=(f"Did you mean {close[0]!r}? " if close else "")
                + "See the settings reference for the keys the plugin reads.",
                id="wagtail_customers.W001",
            )
        )
    choices = raw.get("PER_PAGE_CHOICES", DEFAULTS["PER_PAGE_CHOICES"])
    default = raw.get("DEFAULT_PER_PAGE", DEFAULTS["DEFAULT_PER_PAGE"])
    if not isinstance(choices, list | tuple) or not choices or not all(_is_int(c) and 0 < c <= 500 for c in choices):
        messages.append(
            Error(
                f"WAGTAIL_CUSTOMERS['PER_PAGE_CHOICES'] is {_shown(choices)}: it must be a non-empty list of "
                "integers from 1 to 500.",
                hint=f"The default is {DEFAULTS['PER_PAGE_CHOICES']!r}.",
                id="wagtail_customers.E002",
            )
        )
    elif not _is_int(default) or default not in choices:
        messages.append(
            Error(
                f"WAGTAIL_CUSTOMERS['DEFAULT_PER_PAGE'] is {_shown(default)}: it must be one of PER_PAGE_CHOICES "
                f"{tuple(choices)!r}.",
                id="wagtail_customers.E003",
            )
        )
    for key, kind in SETTING_KINDS.items():
        messages += kind_messages(raw, key, kind)
    for smaller, larger, strictly, why in ORDERED_PAIRS:
        if not (valid(raw, smaller) and valid(raw, larger)):
            continue  # E004 already
        low, high = raw.get(smaller, DEFAULTS[smaller]), raw.get(larger, DEFAULTS[larger])
        if low < high or (low == high and not strictly):
            continue
        messages.append(
            Error(
                f"WAGTAIL_CUSTOMERS[{smaller!r}] ({low}) must be {'below' if strictly else 'at most'} "
                f"WAGTAIL_CUSTOMERS[{larger!r}] ({high}): {why}.",
                hint=f"Lower {smaller} or raise {larger} (defaults {DEFAULTS[smaller]} and {DEFAULTS[larger]}).",
                id="wagtail_customers.E008",
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

    raw = user_settings() or {}
    if not isinstance(raw, dict) or not (valid(raw, "PRIVATE_STORAGE") and valid(raw, "PRIVATE_STORAGE_ROOT")):
        return []  # E001 or E009 already
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
    alias = raw.get("PRIVATE_STORAGE")
    storages = getattr(settings, "STORAGES", None) or {}
    if alias and (alias == "default" or (alias in storages and storages[alias] == storages.get("default"))):
        # A cloud media bucket has neither a folder nor a base_url to tell: the site's media storage is public.
        problems.append(f"it is the site's media storage (STORAGES[{alias!r}] is STORAGES['default'])")
    if not problems:
        return []
    return [
        Warning(
            "The private storage of import and export files is not private: " + "; ".join(problems) + ".",
            hint=(
                "Files there could be downloaded without a login. Remove the STORAGES alias named by "
                "WAGTAIL_CUSTOMERS['PRIVATE_STORAGE'] to use the plugin's own folder, or give it a location "
                "outside MEDIA_ROOT and no base_url (a private bucket of its own for cloud storage)."
            ),
            id="wagtail_customers.W010",
        )
    ]


@register(Tags.compatibility)
def check_task_queue(app_configs=None, **kwargs):
    """Exports and imports above the sync limits need a Celery broker (or eager tasks)."""
    from .task_queue import celery_app_not_loaded, task_queue_configured

    if task_queue_configured() or celery_app_not_loaded():
        return []  # a queue; or CELERY_* settings no app reads: W012 says that (checks_site.py)
    return [
        Warning(
            "No Celery broker is configured (CELERY_BROKER_URL), and tasks do not run eagerly: exports above "
            "EXPORT_SYNC_MAX_ROWS and imports above IMPORT_SYNC_MAX_ROWS will be refused.",
            hint=(
                "For a small site, CELERY_TASK_ALWAYS_EAGER = True runs them inside the web request; else set up "
                "Celery with a broker (CELERY_BROKER_URL) and run a worker. Either needs the site's Celery app: "
                "celery.py, imported in the project package's __init__.py (docs/tutorial.md, "
                "docs/howto/celery.md). A broker Celery finds on its own (AMQP on localhost) still needs "
                "CELERY_BROKER_URL set."
            ),
            id="wagtail_customers.W011",
        )
    ]


@register(Tags.compatibility)
def check_task_queues_declared(app_configs=None, **kwargs):
    """The plugin's queues (``TASK_QUEUES``) are among the queues the site's Celery app declares: a worker started
    without ``-Q`` consumes only those, and the plugin's tasks waited in the others for ever."""
    from celery import current_app

    from .task_queue import celery_app_not_loaded, task_queue_configured
    from .task_routing import queue_names

    app = current_app._get_current_object()
    if not task_queue_configured() or celery_app_not_loaded() or app.conf.task_always_eager:
        return []  # no queue at all (W011), no site app (W012), or every task runs in the process
    if not isinstance(user_settings() or {}, dict):
        return []  # E001 already
    wanted = queue_names()
    # With no queue list, Celery declares its default queue alone (task_default_queue).
    declared = {getattr(queue, "name", queue) for queue in (app.conf.task_queues or ())} or {
        app.conf.task_default_queue
    }
    missing = [name for name in wanted if name not in declared]
    if not missing:
        return []
    return [
        Warning(
            "The Celery app does not declare the queues the plugin's tasks are sent to: "
            + ", ".join(missing)
            + ". A worker started without -Q consumes only the queues the app declares (by default 'celery'), so "
            "exports, imports, store syncs and the periodic jobs would wait in these for ever.",
            hint=(
                "List them in CELERY_TASK_QUEUES (wagtail_customers.task_routing.DEFAULT_QUEUES, "
                "docs/howto/celery.md), or set WAGTAIL_CUSTOMERS['TASK_QUEUES'] = None to send every task to the "
                "default queue. If your workers are started with -Q naming these queues, silence this check."
            ),
            id="wagtail_customers.W016",
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
    raw = user_settings()
    if not isinstance(raw, dict):
        return []  # no settings (the defaults are right), or E001 already
    messages = []
    path = raw.get("EXCHANGE_RATES_SOURCE", DEFAULTS["EXCHANGE_RATES_SOURCE"])
    source, why = _import(path)
    if why:
        messages.append(
            Error(
                f"WAGTAIL_CUSTOMERS['EXCHANGE_RATES_SOURCE'] cannot be imported: {why}",
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
    messages += kind_messages(raw, "EXCHANGE_RATES_MAX_AGE_DAYS", ZERO_OR_MORE)
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
    if not alias or not isinstance(alias, str):
        return []  # no replica, or E009 already
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
