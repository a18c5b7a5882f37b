import re
import warnings
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy
from import_export.fields import Field

from wagtail_customers.checks import CHECKED_ELSEWHERE, SETTING_KINDS
from wagtail_customers.conf import DEFAULTS, get_setting
from wagtail_customers.exports.resources import CustomerResource


def ids(messages):
    return {message.id for message in messages if message.id.startswith("wagtail_customers.")}


E004, E006, E007, E008, E009, E031 = (
    f"wagtail_customers.{i}" for i in ("E004", "E006", "E007", "E008", "E009", "E031")
)

#: One wrong value (at least) of every key ``SETTING_KINDS`` checks, and the id it gets.
WRONG_VALUES = [
    ("FILTERED_COUNT_LIMIT", "lots", "wagtail_customers.W002"),
    ("FILTERED_COUNT_LIMIT", -1, "wagtail_customers.W002"),
    ("SEARCH_INDEX_MAX_CANDIDATES", 0, E004),
    ("FILTER_PROBE_ROWS", "1000", E004),
    ("INGEST_BATCH_SIZE", 0, E004),
    ("INGEST_BATCH_SIZE", True, E004),  # a bool is an int to Python, not to the setting
    ("EXPORT_SYNC_MAX_ROWS", None, E004),
    ("EXPORT_RESOURCE", "myshop.nowhere.Resource", E006),
    ("EXPORT_RESOURCE", "decimal.Decimal", E006),  # importable, but no resource
    ("EXPORT_RESOURCE", None, E006),
    ("EXPORT_EXPIRY_HOURS", 1.5, E004),
    ("FROM_EMAIL", ["care@shop.example"], E009),
    ("EXPORT_STORAGE_PREFIX", None, E009),
    ("PRIVATE_STORAGE", ["wagtail_customers"], E009),  # and no crash of the storage check
    ("PRIVATE_STORAGE_ROOT", 42, E009),
    ("EXPORT_CHUNK_SIZE", -5, E004),
    ("EXPORT_CHUNK_ROWS", 0, E004),
    ("EXPORT_PROGRESS_ROWS", "1000", E004),
    ("EXPORT_STALE_SECONDS", 0, E004),
    ("EXPORT_PENDING_TIMEOUT_SECONDS", None, E004),
    ("EXPORT_MAX_ATTEMPTS", 0, E004),
    ("EXPORT_SOFT_TIME_LIMIT", None, E004),
    ("EXPORT_SOFT_TIME_LIMIT", 3660, E008),  # equal to the hard limit: never fires first
    ("EXPORT_SOFT_TIME_LIMIT", 7200, E008),
    ("EXPORT_TIME_LIMIT", 0, E004),
    ("EXPORT_TIME_LIMIT", 60, E008),
    ("EXPORT_DUPLICATE_WINDOW_SECONDS", 0, E004),
    ("EXPORT_MAX_ACTIVE_JOBS_PER_USER", 0, E004),
    ("EXPORT_MAX_JOBS_PER_USER_PER_DAY", "50", E004),
    ("IMPORT_SYNC_MAX_ROWS", 0, E004),
    ("IMPORT_MAX_ROWS", "100000", E004),
    ("IMPORT_MAX_COLUMNS", 0, E004),
    ("IMPORT_MAX_CELL_CHARS", None, E004),
    ("IMPORT_MAX_ROW_CHARS", -1, E004),
    ("IMPORT_MAX_XLSX_BYTES", "256MB", E004),
    ("IMPORT_PREVIEW_EXPIRY_HOURS", 0, E004),
    ("HELP_URL", 42, E009),
    ("REBUILD_CHUNK_ROWS", 0, E004),
    ("NEGATIVE_FEEDBACK_MAX_RATING", None, E031),
    ("NEGATIVE_FEEDBACK_MAX_RATING", 6, E031),
    ("EXCHANGE_RATES_FILE", 42, E009),
    ("CHANNEL_API_URLS", None, E007),
    ("CHANNEL_API_URLS", {"ebay": "https://api.sandbox.ebay.com"}, E007),  # a URL instead of {name: URL}
    ("CHANNEL_API_URLS", {"eBay": {"api": "https://api.sandbox.ebay.com"}}, E007),  # not a channel
    ("CHANNEL_API_URLS", {"ebay": {"api": "api.sandbox.ebay.com"}}, E007),  # no scheme
    ("SYNC_INTERVAL_SECONDS", 0, E004),
    ("SYNC_MAX_FAILURES", 0, E004),
    ("SYNC_BACKOFF_SECONDS", "60", E004),
    ("SYNC_BACKOFF_SECONDS", 7200, E008),  # above SYNC_BACKOFF_MAX_SECONDS
    ("SYNC_BACKOFF_MAX_SECONDS", 0, E004),
    ("SYNC_RETRY_AFTER_MAX_SECONDS", -1, E031),
    ("SYNC_RATE_LIMIT_RETRIES", None, E031),
    ("SYNC_LEASE_SECONDS", 0, E004),
    ("SYNC_BUSY_RETRY_SECONDS", 0, E004),
    ("WEBHOOK_MAX_BYTES", "2MB", E004),
    ("WEBHOOK_DELIVERY_RETENTION_DAYS", 0, E004),
    ("SYNC_RUN_RETENTION_DAYS", -1, E004),
    ("TASK_QUEUES", ["a"], E007),
    ("TASK_QUEUES", {"export": "site-exports"}, E007),  # not a kind of work
    ("TASK_QUEUES", {"exports": 5}, E007),
    ("READ_REPLICA", ["replica"], E009),  # and no crash of the replica check
    ("READ_YOUR_WRITES_SECONDS", "30", E031),
    ("READ_YOUR_WRITES_SECONDS", -1, E031),
    ("READ_YOUR_WRITES_SECONDS", float("nan"), E031),
    ("READ_REPLICA", gettext_lazy("replica"), E009),  # a database alias: looked up, a lazy one raises
    ("SYNC_RETRY_AFTER_MAX_SECONDS", True, E031),
    ("SALESMAN_STATUSES", {"NEW": "Paid"}, E007),  # not a ledger status
    ("SALESMAN_STATUSES", None, E007),
    ("SALESMAN_EXTRA_ROWS", {"shipping": "postage"}, E007),
    ("OSCAR_STATUSES", [("Complete", "shipped")], E007),
]


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"BASE_URL": "http://testserver"}, set()),
        ("not a dict", {"wagtail_customers.E001"}),
        ({"PER_PAGE_SIZES": [10]}, {"wagtail_customers.W001"}),
        ({"PER_PAGE_CHOICES": [10, "x"]}, {"wagtail_customers.E002"}),
        ({"PER_PAGE_CHOICES": [True, 25]}, {"wagtail_customers.E002"}),
        ({"PER_PAGE_CHOICES": 25}, {"wagtail_customers.E002"}),
        ({"DEFAULT_PER_PAGE": 30}, {"wagtail_customers.E003"}),
        ({"INGEST_BATCH_SIZE": 0}, {E004}),
        ({"BASE_URL": "example.com"}, {"wagtail_customers.E005"}),
        ({"EXCHANGE_RATES_SOURCE": None}, {"wagtail_customers.E030"}),  # not a string: no crash
        *(({key: bad}, {check_id}) for key, bad, check_id in WRONG_VALUES),
    ],
)
def test_settings_checks(settings, value, expected):
    settings.WAGTAIL_CUSTOMERS = value
    assert ids(run_checks()) == expected


def test_an_unknown_key_names_the_key_it_is_close_to(settings):
    settings.WAGTAIL_CUSTOMERS = {"DEFAULT_PERPAGE": 50, "default_per_page": 25, "SOMETHING_ELSE": 1, 7: "x"}
    hints = {message.msg: message.hint for message in run_checks() if message.id == "wagtail_customers.W001"}
    assert hints["Unknown key 'DEFAULT_PERPAGE' in WAGTAIL_CUSTOMERS; it is ignored."].startswith(
        "Did you mean 'DEFAULT_PER_PAGE'? "
    )
    assert hints["Unknown key 'default_per_page' in WAGTAIL_CUSTOMERS; it is ignored."].startswith(
        "Did you mean 'DEFAULT_PER_PAGE'? "
    )
    assert not hints["Unknown key 'SOMETHING_ELSE' in WAGTAIL_CUSTOMERS; it is ignored."].startswith("Did you mean")
    assert "Unknown key 7 in WAGTAIL_CUSTOMERS; it is ignored." in hints  # not a string: no crash


def test_every_setting_has_a_check():
    assert not set(SETTING_KINDS) & set(CHECKED_ELSEWHERE)
    assert set(SETTING_KINDS) | set(CHECKED_ELSEWHERE) == set(DEFAULTS)
    assert {key for key, _bad, _id in WRONG_VALUES} == set(SETTING_KINDS)


with warnings.catch_warnings():
    # django-import-export's own warning on defining it ("ignoring field 'phone'"), which the check is for.
    warnings.simplefilter("ignore", UserWarning)

    class PhoneResource(CustomerResource):
        """The exports how-to's custom column written without adding it to ``Meta.fields`` (a whitelist)."""

        phone = Field(attribute="phone", column_name="Phone")

        def export_field_names(self, column_names):
            return [*super().export_field_names(column_names), "phone"]


class ListedPhoneResource(PhoneResource):
    class Meta(CustomerResource.Meta):
        fields = (*CustomerResource.Meta.fields, "phone")


def test_an_export_resource_whose_extra_column_is_none_of_its_fields_is_named(settings):
    """Every export with it failed (a download cut off after 0 bytes) while the checks passed."""
    settings.WAGTAIL_CUSTOMERS = {"EXPORT_RESOURCE": f"{__name__}.PhoneResource"}
    [message] = [message for message in run_checks() if message.id == E006]
    assert "its export_field_names() gives 'phone', which is none of its fields: add it to Meta.fields" in message.msg
    settings.WAGTAIL_CUSTOMERS = {"EXPORT_RESOURCE": f"{__name__}.ListedPhoneResource"}
    assert ids(run_checks()) == set()


def test_the_defaults_pass(settings):
    settings.WAGTAIL_CUSTOMERS = dict(DEFAULTS)
    assert ids(run_checks()) == set()


@pytest.mark.parametrize(
    "value",
    [
        {"FILTERED_COUNT_LIMIT": 10_000},
        {"EXPORT_CHUNK_ROWS": None},  # never split
        {"EXPORT_DUPLICATE_WINDOW_SECONDS": None},
        {"EXPORT_RESOURCE": "tests.worker_resources.SlowCustomerResource"},
        {"EXPORT_SOFT_TIME_LIMIT": 600, "EXPORT_TIME_LIMIT": 660},
        {"SYNC_BACKOFF_SECONDS": 60, "SYNC_BACKOFF_MAX_SECONDS": 60},
        {"HELP_URL": None},
        {"HELP_URL": ""},
        {"FROM_EMAIL": "Shop A <care@shop-a.example>"},
        {"PRIVATE_STORAGE_ROOT": Path("/srv/private")},
        {"EXCHANGE_RATES_FILE": "/srv/rates/eurofxref-hist.csv"},
        {"NEGATIVE_FEEDBACK_MAX_RATING": 0},
        {"NEGATIVE_FEEDBACK_MAX_RATING": 5},
        {"CHANNEL_API_URLS": {"ebay": {"api": "https://api.sandbox.ebay.com", "identity": ""}}},
        {"CHANNEL_API_URLS": {"shopify": {"admin": "http://127.0.0.1:8001"}}},
        {"SYNC_RETRY_AFTER_MAX_SECONDS": 0, "SYNC_RATE_LIMIT_RETRIES": 0},
        {"TASK_QUEUES": None},
        {"TASK_QUEUES": {"exports": "site-exports", "maintenance": None}},
        {"READ_YOUR_WRITES_SECONDS": 0},
        # Fractions of a second work where the setting is a wait, and lazy strings where it is text.
        {"READ_YOUR_WRITES_SECONDS": 0.5, "SYNC_RETRY_AFTER_MAX_SECONDS": 2.5},
        {"HELP_URL": reverse_lazy("wagtailadmin_home"), "FROM_EMAIL": gettext_lazy("Shop <care@shop.example>")},
        {"SALESMAN_STATUSES": {"NEW": "pending"}, "SALESMAN_EXTRA_ROWS": {"promo": "discount"}},
        {"OSCAR_STATUSES": {"Returned": "returned"}},
    ],
)
def test_values_meant_by_design_pass(settings, value):
    settings.WAGTAIL_CUSTOMERS = {"BASE_URL": "http://testserver", **value}
    assert ids(run_checks()) == set()


def test_a_message_names_the_key_the_value_and_what_is_expected(settings):
    settings.WAGTAIL_CUSTOMERS = {"WEBHOOK_MAX_BYTES": "2MB"}
    [message] = [message for message in run_checks() if message.id == E004]
    assert message.msg == "WAGTAIL_CUSTOMERS['WEBHOOK_MAX_BYTES'] is '2MB': it must be a whole number above 0."
    assert "2097152" in message.hint
    settings.WAGTAIL_CUSTOMERS = {"EXPORT_RESOURCE": "myshop.nowhere.Resource"}
    [message] = [message for message in run_checks() if message.id == E006]
    assert "'myshop.nowhere.Resource'" in message.msg and "cannot be imported" in message.msg


def test_settings_are_read_lazily_with_defaults(settings):
    settings.WAGTAIL_CUSTOMERS = {"DEFAULT_PER_PAGE": 50}
    assert get_setting("DEFAULT_PER_PAGE") == 50
    assert get_setting("INGEST_BATCH_SIZE") == 1000
    settings.WAGTAIL_CUSTOMERS = {"DEFAULT_PER_PAGE": 10}
    assert get_setting("DEFAULT_PER_PAGE") == 10
    with pytest.raises(KeyError):
        get_setting("NOT_A_SETTING")


# Wrongly typed settings: the models still import (their file fields build the private storage from the settings
# when they are defined), and ``manage.py check`` shows the documented id instead of an unrelated traceback.

WRONG_SHAPES = [
    ({"WAGTAIL_CUSTOMERS": [("DEFAULT_PER_PAGE", 50)]}, "wagtail_customers.E001"),
    ({"WAGTAIL_CUSTOMERS": "DEFAULT_PER_PAGE=50"}, "wagtail_customers.E001"),
    ({"WAGTAIL_CUSTOMERS": {"PRIVATE_STORAGE_ROOT": 5}}, E009),
    ({"WAGTAIL_CUSTOMERS": {"PRIVATE_STORAGE": ["x"]}}, E009),
    ({"MEDIA_ROOT": "", "BASE_DIR": None}, "wagtail_customers.E010"),  # None: no BASE_DIR at all
]


@pytest.mark.parametrize("values, expected", WRONG_SHAPES)
def test_wrong_shapes_are_reported_by_their_check(settings, values, expected):
    for name, value in values.items():
        if value is None:
            delattr(settings, name)
        else:
            setattr(settings, name, value)
    assert ids(run_checks()) == {expected}


@pytest.mark.parametrize("value", [[("DEFAULT_PER_PAGE", 50)], "DEFAULT_PER_PAGE=50", 42, ({"ERASURE_KEY": "k"},)])
def test_a_wagtail_customers_that_is_no_dict_stops_what_reads_it(settings, value):
    """Not the defaults: they would hash buyers with another erasure key, store files elsewhere. E001 says why."""
    from django.core.exceptions import ImproperlyConfigured

    settings.WAGTAIL_CUSTOMERS = value
    with pytest.raises(ImproperlyConfigured, match="not a dict"):
        get_setting("ERASURE_KEY")
    [error] = [message for message in run_checks() if message.id == "wagtail_customers.E001"]
    # Its type only: the value holds the erasure and credentials keys, and checks are printed to logs.
    assert "'k'" not in error.msg and "50" not in error.msg and "DEFAULT_PER_PAGE" not in error.msg
    if isinstance(value, tuple):
        assert error.hint == "Remove the comma after the closing } of WAGTAIL_CUSTOMERS = {...}."


@pytest.mark.parametrize(
    "value, reason",
    [
        ([("PRIVATE_STORAGE_ROOT", "/srv/private")], "not a dict"),
        ({"PRIVATE_STORAGE_ROOT": 5}, "PRIVATE_STORAGE_ROOT'] must be a folder's path"),
        ({"PRIVATE_STORAGE": ["x"]}, "PRIVATE_STORAGE'] must be the name of a STORAGES alias"),
        ({"PRIVATE_STORAGE": {"wagtail_customers": 1}}, "PRIVATE_STORAGE'] must be the name of a STORAGES alias"),
    ],
)
def test_a_private_storage_setting_of_the_wrong_type_stops_its_files(settings, value, reason):
    """Not a default folder: on a site of several servers, each would keep the files it wrote on its own disk."""
    from django.core.exceptions import ImproperlyConfigured
    from django.core.files.base import ContentFile

    from wagtail_customers.storage import build_private_storage, private_storage

    settings.WAGTAIL_CUSTOMERS = value
    with pytest.raises(ImproperlyConfigured, match=re.escape(reason)):
        build_private_storage()
    with pytest.raises(ImproperlyConfigured, match=re.escape(reason)):
        private_storage.save("wagtail_customers/exports/x.csv", ContentFile(b"a,b\n"))


def test_without_any_folder_the_file_fields_still_build_and_using_them_says_why(settings):
    from django.core.exceptions import ImproperlyConfigured
    from django.core.files.base import ContentFile
    from django.core.files.storage import Storage
    from django.db import models

    from wagtail_customers.storage import get_private_storage, private_storage

    settings.MEDIA_ROOT = ""
    del settings.BASE_DIR
    # What Django does when the models are defined: call the storage callable, and require a Storage.
    field = models.FileField(storage=get_private_storage)
    assert isinstance(field.storage, Storage)
    with pytest.raises(ImproperlyConfigured, match="needs a private folder"):
        private_storage.save("wagtail_customers/exports/x.csv", ContentFile(b"a,b\n"))
    with pytest.raises(ImproperlyConfigured, match="needs a private folder"):
        private_storage.open("wagtail_customers/exports/x.csv")


SITE_SETTINGS = {
    "not a dict": 'WAGTAIL_CUSTOMERS = [("DEFAULT_PER_PAGE", 50)]',
    "a string": 'WAGTAIL_CUSTOMERS = "DEFAULT_PER_PAGE=50"',
    "a root that is no path": 'WAGTAIL_CUSTOMERS = {"PRIVATE_STORAGE_ROOT": 5}',
    "an alias that is no string": 'WAGTAIL_CUSTOMERS = {"PRIVATE_STORAGE": ["x"]}',
    "no folder": 'MEDIA_ROOT = ""\ndel BASE_DIR',
}


@pytest.mark.parametrize(
    "line, expected",
    [
        (SITE_SETTINGS["not a dict"], "wagtail_customers.E001"),
        (SITE_SETTINGS["a string"], "wagtail_customers.E001"),
        (SITE_SETTINGS["a root that is no path"], E009),
        (SITE_SETTINGS["an alias that is no string"], E009),
        (SITE_SETTINGS["no folder"], "wagtail_customers.E010"),
    ],
    ids=list(SITE_SETTINGS),
)
def test_manage_py_check_reports_them_in_a_new_process(tmp_path, line, expected):
    """The models are imported once per process: a new process with such settings imports them, and
    ``manage.py check`` ends with the check's message, not a traceback."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "wrong_settings.py").write_text(f"from tests.settings import *  # noqa: F403\n\n{line}\n")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wrong_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(root), str(root / "example_project")]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert f"({expected})" in output
    assert result.returncode == 1  # an error stops the command, as Django's own checks do
