"""System checks for the ``WAGTAIL_CUSTOMERS`` settings (ids ``wagtail_customers.E0xx`` / ``W0xx``)."""

from django.core.checks import Error, Tags, Warning, register

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
        "EXPORT_DUPLICATE_WINDOW_SECONDS",
    ):
        value = raw.get(key, DEFAULTS[key])
        if not isinstance(value, int) or value <= 0:
            messages.append(
                Error(f"WAGTAIL_CUSTOMERS[{key!r}] must be a positive integer.", id="wagtail_customers.E004")
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
