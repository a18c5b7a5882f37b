"""The system checks of the site around the plugin (wagtail_customers/checks_site.py): required apps (E060), the
Celery app that reads the CELERY_* settings (W012), the webhook URLs behind Wagtail's catch-all (W051), and with
``check --deploy`` the e-mails' base URL (W013) and eager tasks in production (W014)."""

import types
from pathlib import Path

import pytest
from celery import Celery, current_app
from django.core.checks import run_checks
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from tests.celery_fixtures import use_celery_settings
from tests.export_support import START_URL, exporter, make_customers
from wagtail_customers.checks_site import check_required_apps
from wagtail_customers.models import ExportJob
from wagtail_customers.task_queue import task_queue_configured

W011, W012, W013, W014, E060, W051 = (
    f"wagtail_customers.{i}" for i in ("W011", "W012", "W013", "W014", "E060", "W051")
)


def ids(messages):
    return {message.id for message in messages if message.id.startswith("wagtail_customers.")}


def deploy_ids():
    return ids(run_checks(include_deployment_checks=True))


# W012: the CELERY_* settings with no Celery app of the site loaded.


@pytest.fixture
def fallback_celery_app(monkeypatch):
    """What a process has when the project package's __init__.py does not import its celery.py: Celery's own
    fallback app (made as celery._state makes it), which reads no Django settings."""
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    site_app = current_app._get_current_object()
    fallback = Celery("default", fixups=[], set_as_current=False, loader="default")
    fallback.set_current()
    try:
        yield fallback
    finally:
        site_app.set_current()


def drop_celery_settings(settings):
    from django.conf import settings as django_settings

    for name in [name for name in dir(django_settings) if name.startswith("CELERY_")]:
        delattr(settings, name)


def test_the_site_app_reads_the_celery_settings_no_warning():
    assert current_app.conf.task_always_eager and task_queue_configured()
    assert not {W011, W012} & ids(run_checks())


def test_celery_settings_with_no_site_app_loaded_warn_and_claim_no_queue(fallback_celery_app, settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER and settings.CELERY_BROKER_URL  # set, but read by no app
    assert not task_queue_configured()
    messages = [message for message in run_checks() if message.id in (W011, W012)]
    assert [message.id for message in messages] == [W012]  # not W011 too: its "no CELERY_BROKER_URL" is wrong
    [message] = messages
    assert "CELERY_BROKER_URL" in message.msg and "CELERY_TASK_ALWAYS_EAGER" in message.msg
    assert "celery.py" in message.hint and "__init__.py" in message.hint


def test_no_celery_settings_and_no_app_is_w011_alone(fallback_celery_app, settings):
    drop_celery_settings(settings)
    assert {W011, W012} & ids(run_checks()) == {W011}


def test_w011_names_eager_tasks_for_a_small_site(fallback_celery_app, settings):
    drop_celery_settings(settings)
    [message] = [message for message in run_checks() if message.id == W011]
    assert "CELERY_TASK_ALWAYS_EAGER = True" in message.hint and "small site" in message.hint


@pytest.mark.django_db
def test_a_big_export_is_refused_up_front_not_sent_to_a_broker_that_is_not_there(
    client, account, settings, fallback_celery_app
):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXPORT_SYNC_MAX_ROWS": 5}
    make_customers(account, 8)
    client.force_login(exporter("fallback", account))
    response = client.post(START_URL, {"tab": "all", "scope": "all", "format": "csv"})
    assert response.status_code == 302
    assert not ExportJob.objects.exists()
    [message] = [str(message) for message in response.wsgi_request._messages]
    assert "no task queue" in message and "not reachable" not in message


# W013 and W014: check --deploy.


def test_deploy_checks_only_with_deploy(settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "BASE_URL": "http://localhost:8000"}
    settings.DEBUG = False
    assert not {W013, W014} & ids(run_checks())
    assert {W013, W014} <= deploy_ids()


@pytest.mark.parametrize(
    "base_url, admin_base_url, source",
    [
        ("http://localhost:8000", None, "WAGTAIL_CUSTOMERS['BASE_URL']"),
        ("http://127.0.0.1:8000", "https://admin.shop.co.uk", "WAGTAIL_CUSTOMERS['BASE_URL']"),
        ("https://shop.example.com", None, "WAGTAIL_CUSTOMERS['BASE_URL']"),
        ("http://[::1]/", None, "WAGTAIL_CUSTOMERS['BASE_URL']"),
        (None, "http://example.com", "WAGTAILADMIN_BASE_URL"),  # what `wagtail start` puts in base.py
        (None, "http://127.0.0.1:8000", "WAGTAILADMIN_BASE_URL"),  # the example site's
    ],
)
def test_a_local_or_placeholder_base_url_warns_on_deploy(settings, base_url, admin_base_url, source):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "BASE_URL": base_url}
    settings.WAGTAILADMIN_BASE_URL = admin_base_url
    [message] = [message for message in run_checks(include_deployment_checks=True) if message.id == W013]
    assert source in message.msg and (base_url or admin_base_url) in message.msg


def test_wagtails_base_url_without_a_scheme_warns_on_deploy_for_what_it_is(settings):
    settings.WAGTAIL_CUSTOMERS = {}
    settings.WAGTAILADMIN_BASE_URL = "admin.shop.co.uk"
    [message] = [message for message in run_checks(include_deployment_checks=True) if message.id == W013]
    assert "'admin.shop.co.uk' (WAGTAILADMIN_BASE_URL), which is no full address" in message.msg


def test_no_base_url_at_all_warns_on_deploy(settings):
    settings.WAGTAIL_CUSTOMERS = {}
    del settings.WAGTAILADMIN_BASE_URL
    [message] = [message for message in run_checks(include_deployment_checks=True) if message.id == W013]
    assert "no links" in message.msg


@pytest.mark.parametrize(
    "base_url, admin_base_url",
    [
        ("https://shop.co.uk", None),
        (None, "https://admin.shop.co.uk"),
        ("https://shop.co.uk", "http://localhost:8000"),  # the plugin's own comes first
        ("http://10.0.0.5:8000", None),  # an intranet admin is an address its staff can reach
    ],
)
def test_a_public_base_url_passes_deploy(settings, base_url, admin_base_url):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "BASE_URL": base_url}
    settings.WAGTAILADMIN_BASE_URL = admin_base_url
    assert W013 not in deploy_ids()


def test_a_base_url_without_scheme_is_e005_alone(settings):
    settings.WAGTAIL_CUSTOMERS = {"BASE_URL": "localhost"}
    assert {W013, "wagtail_customers.E005"} & deploy_ids() == {"wagtail_customers.E005"}


def test_eager_tasks_with_debug_off_warn_on_deploy(settings):
    settings.DEBUG = False
    assert current_app.conf.task_always_eager
    [message] = [message for message in run_checks(include_deployment_checks=True) if message.id == W014]
    assert "web request" in message.msg and "EXPORT_SYNC_MAX_ROWS" in message.msg
    assert "CELERY_BROKER_URL" in message.hint and "worker" in message.hint


def test_eager_tasks_with_debug_on_or_a_worker_pass_deploy(settings):
    settings.DEBUG = True
    assert W014 not in deploy_ids()
    settings.DEBUG = False
    use_celery_settings(settings, task_always_eager=False)
    assert W014 not in deploy_ids()


# E060: the apps the plugin needs.


def check_in_a_new_process(tmp_path, settings_lines):
    """``manage.py check`` in a new process whose settings are the tests' with ``settings_lines`` after them (the
    app registry cannot lose an app in this process: some apps cannot be set up twice)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "site_settings.py").write_text("from tests.settings import *  # noqa: F403\n\n" + settings_lines)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "site_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(root), str(root / "example_project")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "django", "check"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("app", ["wagtail.snippets", "wagtail.users"])
def test_a_required_app_missing_is_an_error(tmp_path, app):
    result = check_in_a_new_process(
        tmp_path, f"INSTALLED_APPS = [name for name in INSTALLED_APPS if name != {app!r}]\n"
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in output, output
    [line] = [line for line in output.splitlines() if "wagtail_customers." in line]
    assert f"({E060}) {app!r} is not in INSTALLED_APPS" in line


def test_the_required_apps_installed_pass():
    assert check_required_apps() == []


# W051: the webhook URLs behind another pattern.


def urlconf(*patterns):
    module = types.ModuleType("site_urls")
    module.urlpatterns = [path("admin/", include(wagtailadmin_urls)), *patterns]
    return module


WEBHOOKS = path("customers-webhooks/", include("wagtail_customers.urls"))
PAGES = path("", include(wagtail_urls))


def test_webhooks_after_wagtails_catch_all_warn(settings):
    settings.ROOT_URLCONF = urlconf(PAGES, WEBHOOKS)
    [message] = [message for message in run_checks() if message.id == W051]
    assert "/customers-webhooks/" in message.msg and "wagtail_serve" in message.msg
    assert "before" in message.hint


@pytest.mark.parametrize(
    "patterns",
    [(WEBHOOKS, PAGES), (PAGES,), ()],
    ids=["webhooks first", "no webhooks (pull only)", "no pages"],
)
def test_webhooks_served_or_not_included_pass(settings, patterns):
    settings.ROOT_URLCONF = urlconf(*patterns)
    assert W051 not in ids(run_checks())


def test_the_example_sites_urls_pass():
    assert W051 not in ids(run_checks())


class NoLabelFormat:
    name = "nolabel"
    delimiter = None

    def parse(self, table, report):
        return []


class CraftlyFormat(NoLabelFormat):
    name = "craftly"
    label = "Craftly orders"


@pytest.mark.parametrize(
    "registered, problem",
    [
        (NoLabelFormat, "has no label"),
        (CraftlyFormat(), "is an instance, not a class"),
        (type("NoParse", (), {"label": "x", "delimiter": None}), "has no parse(table, report) method"),
        (type("NoDelimiter", (), {"label": "x", "parse": lambda self, table, report: []}), "has no delimiter"),
    ],
)
def test_an_import_format_the_import_screen_cannot_use_is_an_error(registered, problem):
    from wagtail_customers.importers import FORMATS

    FORMATS["site"] = registered
    try:
        [error] = [message for message in run_checks() if message.id == "wagtail_customers.E072"]
        assert error.msg.startswith("The import format 'site' (") and error.msg.endswith(f") {problem}.")
        FORMATS["site"] = CraftlyFormat
        assert not [message for message in run_checks() if message.id == "wagtail_customers.E072"]
    finally:
        del FORMATS["site"]


@pytest.mark.parametrize(
    "name, meant",
    [
        ("WAGTAIL_CUSTOMER", "WAGTAIL_CUSTOMERS"),
        ("CELERY_TASK_ALWAYS_EAGR", "CELERY_TASK_ALWAYS_EAGER"),
        ("CELERY_BORKER_URL", "CELERY_BROKER_URL"),
    ],
)
def test_a_setting_name_one_letter_off_is_named(settings, name, meant):
    if name.startswith("WAGTAIL"):
        del settings.WAGTAIL_CUSTOMERS
    setattr(settings, name, True)
    [warning] = [message for message in run_checks() if message.id == "wagtail_customers.W015"]
    assert warning.msg == f"The setting {name} is not one that Celery or wagtail-customers reads."
    assert warning.hint.startswith(f"Did you mean {meant}? ")


def test_celery_and_wagtail_settings_spelt_right_pass(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_ALWAYS_EAGER = True  # Celery 3's name, still read
    settings.CELERY_BEAT_SCHEDULE = {}
    settings.WAGTAIL_SITE_NAME = "Shop"
    settings.CELERY_RESULT_BACKEND_URL = "redis://"  # a setting of the site's own, named after Celery's
    settings.CELERYAPP_BROKER_URL = "redis://"
    assert not [message for message in run_checks() if message.id == "wagtail_customers.W015"]


# W016: the plugin's queues declared by the site's Celery app.


def test_queues_no_worker_without_q_reads_warn_until_declared(settings):
    # A site that runs Celery the usual way (`celery -A mysite worker`, no -Q, no CELERY_TASK_QUEUES): its workers
    # read only 'celery', and every plugin task waited in the plugin's four queues.
    from kombu import Queue

    from wagtail_customers.task_routing import DEFAULT_QUEUES

    use_celery_settings(settings, task_always_eager=False, task_queues=None)
    [message] = [message for message in run_checks() if message.id == "wagtail_customers.W016"]
    assert all(name in message.msg for name in DEFAULT_QUEUES)
    assert "CELERY_TASK_QUEUES" in message.hint and "-Q" in message.hint
    use_celery_settings(settings, task_queues=[Queue(name) for name in ("celery", *DEFAULT_QUEUES[:3])])
    [message] = [message for message in run_checks() if message.id == "wagtail_customers.W016"]
    assert DEFAULT_QUEUES[3] in message.msg and DEFAULT_QUEUES[0] not in message.msg
    use_celery_settings(settings, task_queues=[Queue(name) for name in ("celery", *DEFAULT_QUEUES)])
    assert "wagtail_customers.W016" not in ids(run_checks())
    # Every task on the site's default queue: nothing to declare.
    use_celery_settings(settings, task_queues=None)
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "TASK_QUEUES": None}
    assert "wagtail_customers.W016" not in ids(run_checks())


def test_queues_mapped_to_the_default_queue_need_no_declaring(settings):
    # With no queue list, Celery declares its default queue, which a worker without -Q reads.
    use_celery_settings(settings, task_always_eager=False, task_queues=None)
    kinds = ("exports", "imports", "sync", "maintenance")
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "TASK_QUEUES": dict.fromkeys(kinds, "celery")}
    assert "wagtail_customers.W016" not in ids(run_checks())


def test_eager_tasks_need_no_queue_declared(settings):
    use_celery_settings(settings, task_queues=None)
    assert "wagtail_customers.W016" not in ids(run_checks())
