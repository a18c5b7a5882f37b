"""System checks of how the site around the plugin is put together: its apps, its URLs, its Celery app and, with
``manage.py check --deploy``, what a production site must not keep from development.

The checks of the ``WAGTAIL_CUSTOMERS`` settings themselves are in ``checks.py``; every id is in
docs/reference/checks.md.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .conf import get_setting, user_settings

#: Apps the plugin needs besides its own, and what goes wrong without each (E060).
REQUIRED_APPS = {
    "wagtail.snippets": (
        "the Watchlist is a Wagtail snippet: without this app its menu item is missing and its pages answer 404"
    ),
    "wagtail.users": (
        "alert e-mails are written in each user's language and time zone, read from their Wagtail user profile, "
        "whose table this app creates"
    ),
}

#: Hosts that are no public address: links built on them lead nowhere for whoever receives the e-mail (W013).
PLACEHOLDER_HOSTS = {"localhost", "example.com", "example.org", "example.net"}
PLACEHOLDER_SUFFIXES = (".localhost", ".example.com", ".example.org", ".example.net", ".example", ".invalid")

#: A made-up token for the webhook URL the URL check resolves (W051).
PROBE_TOKEN = "system-check"


@register(Tags.compatibility)
def check_required_apps(app_configs=None, **kwargs):
    """``wagtail.snippets`` and ``wagtail.users`` are in ``INSTALLED_APPS``."""
    from django.apps import apps

    return [
        Error(
            f"{name!r} is not in INSTALLED_APPS: {why}.",
            hint=f'Add "{name}" to INSTALLED_APPS (docs/install.md); a site made by `wagtail start` has it.',
            id="wagtail_customers.E060",
        )
        for name, why in REQUIRED_APPS.items()
        if not apps.is_installed(name)
    ]


@register(Tags.compatibility)
def check_celery_app_loaded(app_configs=None, **kwargs):
    """Django's settings have ``CELERY_*`` settings, but the process never loaded the Celery app that reads them."""
    from .task_queue import celery_app_not_loaded, task_queue_configured

    names = celery_app_not_loaded()
    if not names:
        return []
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    effect = (
        "Tasks go to the broker Celery's default app finds on its own (the CELERY_BROKER_URL environment variable "
        "or a celeryconfig module), with none of these settings."
        if task_queue_configured()
        else "Tasks would go to Celery's default broker (AMQP on localhost): exports above EXPORT_SYNC_MAX_ROWS "
        "and imports above IMPORT_SYNC_MAX_ROWS are refused (the site has no task queue that works)."
    )
    return [
        Warning(
            f"The Celery settings in Django's settings ({shown}) are not read: no Celery app of the site is "
            f"loaded. {effect}",
            hint=(
                "Add the project's celery.py (Celery's standard app for Django, reading the CELERY_* settings) and "
                "import it in the project package's __init__.py: `from .celery import app as celery_app` "
                "(docs/tutorial.md, docs/howto/celery.md)."
            ),
            id="wagtail_customers.W012",
        )
    ]


def _placeholder_host(host):
    if not host:
        return True
    host = host.lower().rstrip(".")
    if host in PLACEHOLDER_HOSTS or host.endswith(PLACEHOLDER_SUFFIXES):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


@register(Tags.compatibility, deploy=True)
def check_email_base_url(app_configs=None, **kwargs):
    """``check --deploy``: the base URL of the links in the plugin's e-mails is set and is a public address."""
    raw = user_settings()
    if raw is not None and not isinstance(raw, dict):
        return []  # E001 already
    own = get_setting("BASE_URL")
    if own is not None and not str(own).startswith(("http://", "https://")):
        return []  # E005 already
    url, source = (own, "WAGTAIL_CUSTOMERS['BASE_URL']") if own else (None, None)
    if not url:
        url, source = getattr(settings, "WAGTAILADMIN_BASE_URL", None), "WAGTAILADMIN_BASE_URL"
    hint = (
        "Set WAGTAIL_CUSTOMERS['BASE_URL'] (or Wagtail's WAGTAILADMIN_BASE_URL) to the public address of the "
        "admin, https://... (docs/reference/settings.md)."
    )
    if not url:
        return [
            Warning(
                "Neither WAGTAIL_CUSTOMERS['BASE_URL'] nor WAGTAILADMIN_BASE_URL is set: the e-mails the plugin "
                "sends (finished exports, alert digests, store connection notices) carry no links.",
                hint=hint,
                id="wagtail_customers.W013",
            )
        ]
    if not str(url).startswith(("http://", "https://")):
        # Wagtail's own setting, which E005 does not check: "shop.co.uk" makes links no mail program opens.
        why = "which is no full address (a link needs http:// or https:// before the host)"
    else:
        try:
            host = urlsplit(str(url)).hostname
        except ValueError:
            host = None
        if not _placeholder_host(host):
            return []
        why = "which is no public address"
    return [
        Warning(
            f"The links in the e-mails the plugin sends (finished exports, alert digests, store connection "
            f"notices) start with {str(url)!r} ({source}), {why}: they lead nowhere for the people who get them.",
            hint=hint,
            id="wagtail_customers.W013",
        )
    ]


@register(Tags.compatibility, deploy=True)
def check_eager_tasks(app_configs=None, **kwargs):
    """``check --deploy``: a production site (``DEBUG`` off) whose Celery tasks run eagerly, in the web request."""
    from celery import current_app

    if settings.DEBUG or not current_app.conf.task_always_eager:
        return []
    return [
        Warning(
            "Celery tasks run eagerly (CELERY_TASK_ALWAYS_EAGER) with DEBUG off: exports above "
            "EXPORT_SYNC_MAX_ROWS, imports above IMPORT_SYNC_MAX_ROWS, stores' syncs and the other background "
            "jobs run inside the web request that starts them, holding a web process until they end, and are cut "
            "off by the web server's timeout (gunicorn's default is 30 seconds).",
            hint=(
                "Run a broker and a Celery worker: CELERY_BROKER_URL, and CELERY_TASK_ALWAYS_EAGER = False "
                "(docs/howto/celery.md, docs/howto/deployment.md). A small site that accepts requests this long can "
                'silence this warning: SILENCED_SYSTEM_CHECKS = ["wagtail_customers.W014"].'
            ),
            id="wagtail_customers.W014",
        )
    ]


@register(Tags.urls)
def check_webhook_urls_reachable(app_configs=None, **kwargs):
    """The webhook URLs, when the site includes them, are served by the plugin, not by a pattern before them
    (Wagtail's catch-all page route, most often). A site that does not include them (pulls only) is not warned."""
    from django.urls import NoReverseMatch, Resolver404, get_script_prefix, resolve, reverse

    try:
        url = reverse("wagtail_customers_webhooks:receive", args=[PROBE_TOKEN])
    except NoReverseMatch:
        return []
    prefix = get_script_prefix()
    path = "/" + url[len(prefix) :] if url.startswith(prefix) else url
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if match is not None and "wagtail_customers_webhooks" in match.namespaces and match.url_name == "receive":
        return []
    served_by = f"the view {match.view_name} (pattern {match.route})" if match is not None else "no view (a 404)"
    return [
        Warning(
            f"The stores' webhooks URL {path} is served by {served_by}, not by the plugin: every webhook a store "
            "sends gets that view's answer (a 404 for a Wagtail page route) and no order arrives by webhook.",
            hint=(
                'In your urls.py, put path("customers-webhooks/", include("wagtail_customers.urls")) before the '
                'pattern that takes its address: most often Wagtail\'s catch-all path("", include(wagtail_urls)) '
                "(docs/howto/connect-a-store.md)."
            ),
            id="wagtail_customers.W051",
        )
    ]


@register(Tags.compatibility)
def check_import_formats(app_configs=None, **kwargs):
    """Every import format a site added to ``FORMATS`` is a class the Import screen and ``customers_import`` can use:
    one without a ``label`` turned the Import screen into an error page for every format (E072)."""
    from .importers import FORMATS

    errors = []
    for name, format_class in FORMATS.items():
        problem = _import_format_problem(format_class)
        if problem:
            errors.append(
                Error(
                    f"The import format {name!r} ({format_class!r}) {problem}.",
                    hint="A format is a class with a name, a label, a delimiter (None to guess it) and "
                    "parse(table, report), registered as FORMATS[MyFormat.name] = MyFormat: see 'Add a channel: a "
                    "new import format' in the documentation.",
                    id="wagtail_customers.E072",
                )
            )
    return errors


def _import_format_problem(format_class):
    if not isinstance(format_class, type):
        return "is an instance, not a class"
    missing = [attribute for attribute in ("label", "delimiter") if not hasattr(format_class, attribute)]
    if missing:
        return "has no " + " and no ".join(missing)
    if not callable(getattr(format_class, "parse", None)):
        return "has no parse(table, report) method"
    return None


@register(Tags.compatibility)
def check_misspelt_setting_names(app_configs=None, **kwargs):
    """A setting whose name is a letter or two off ``WAGTAIL_CUSTOMERS`` or a Celery setting's, and is neither: the
    site runs on defaults (``WAGTAIL_CUSTOMER``) or without what it set (``CELERY_TASK_ALWAYS_EAGR``) (W015). A name
    that adds more to a Celery setting's (``CELERY_RESULT_BACKEND_URL``) is taken for a setting of the site's own."""
    import difflib

    names = [name for name in dir(settings) if name.isupper()]
    celery_names = _celery_setting_names()
    warnings = []
    for name in names:
        if name == "WAGTAIL_CUSTOMERS":
            continue
        if name.startswith("CELERY") and name not in celery_names:
            known = celery_names
        elif name.startswith("WAGTAIL") and "WAGTAIL_CUSTOMERS" not in names:
            known = ("WAGTAIL_CUSTOMERS",)
        else:
            continue
        # difflib finds the few candidates; the edit distance decides (difflib's ratio allows a suffix added).
        close = [
            candidate
            for candidate in difflib.get_close_matches(name, known, n=3, cutoff=0.8)
            if _edit_distance(name, candidate) <= 2
        ]
        if close:
            warnings.append(
                Warning(
                    f"The setting {name} is not one that Celery or wagtail-customers reads.",
                    hint=f"Did you mean {close[0]}? (If it is a setting of your own, silence wagtail_customers.W015.)",
                    id="wagtail_customers.W015",
                )
            )
    return warnings


def _edit_distance(left, right):
    """Levenshtein's distance between two short names."""
    previous = list(range(len(right) + 1))
    for row, left_char in enumerate(left, start=1):
        current = [row]
        for column, right_char in enumerate(right, start=1):
            current.append(
                min(previous[column] + 1, current[column - 1] + 1, previous[column - 1] + (left_char != right_char))
            )
        previous = current
    return previous[-1]


def _celery_setting_names():
    """Every setting name Celery reads from Django's settings with the ``CELERY`` namespace, old names included."""
    try:
        from celery.app.defaults import NAMESPACES, flatten
    except ImportError:  # Celery's layout changed: no names, no warnings
        return frozenset()
    names = set()
    for key, option in flatten(NAMESPACES):
        names.add(f"CELERY_{key.upper()}")
        names.update(old.upper() for old in (option.old or ()))
    return frozenset(names)
