"""The reference pages in docs/ name everything the code offers, and nothing it does not.

Each test collects one kind of public name from the running code (settings keys, system check ids, URL names,
signals, management commands, Celery tasks, log actions) and looks for it in its reference page, so a feature that
adds one without documenting it fails here with the missing names.
"""

import re
from pathlib import Path

import pytest
from django.dispatch import Signal
from django.urls import URLPattern, URLResolver, get_resolver

from wagtail_customers import signals
from wagtail_customers.conf import DEFAULTS
from wagtail_customers.log_actions import LOG_ACTIONS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PACKAGE = ROOT / "wagtail_customers"


def page(relative):
    return (DOCS / relative).read_text()


def code_names(text):
    """Every ``inline code`` span of a markdown page."""
    return set(re.findall(r"`([^`\n]+)`", text))


def missing(expected, documented):
    return sorted(name for name in expected if name not in documented)


def assert_all_in(expected, documented, message):
    absent = missing(expected, documented)
    assert not absent, f"{message}: {absent}"


def test_every_setting_is_documented_with_its_default_and_no_other():
    text = page("reference/settings.md")
    rows = dict(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \| (.+?) \|", text, re.M))
    assert_all_in(DEFAULTS, rows, "settings missing from docs/reference/settings.md")
    assert_all_in(rows, DEFAULTS, "documented settings the code does not read")


def package_sources():
    return [path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts]


def test_every_system_check_id_is_documented_and_no_other():
    in_code = set()
    for path in package_sources():
        in_code |= set(re.findall(r"wagtail_customers\.[EWI]\d{3}", path.read_text()))
    documented = set(re.findall(r"wagtail_customers\.[EWI]\d{3}", page("reference/checks.md")))
    assert in_code, "no system check ids found in the code"
    assert_all_in(in_code, documented, "check ids missing from docs/reference/checks.md")
    assert_all_in(documented, in_code, "documented check ids the code does not raise")


def plugin_url_names():
    """``namespace:name`` of every URL pattern in a namespace that belongs to the plugin."""

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and namespace and pattern.name:
                yield namespace.rsplit(":", 1)[-1], pattern.name

    names = walk(get_resolver().url_patterns)
    return {(namespace, name) for namespace, name in names if "wagtail_customers" in namespace}


def test_every_url_the_plugin_serves_is_in_the_urls_reference():
    documented = code_names(page("reference/urls.md"))
    names = plugin_url_names()
    assert names, "no plugin URLs found"
    undocumented = []
    for namespace, name in names:
        if namespace.startswith("wagtail_customers"):
            if f"{namespace}:{name}" not in documented:
                undocumented.append(f"{namespace}:{name}")
        elif namespace not in documented:  # Wagtail's own snippet views: the namespace documents them all
            undocumented.append(namespace)
    assert not undocumented, f"URLs missing from docs/reference/urls.md: {sorted(set(undocumented))}"
    plugin_names = {f"{namespace}:{name}" for namespace, name in names}
    stale = sorted(
        name for name in documented if re.fullmatch(r"wagtail_customers\w*:\w+", name) and name not in plugin_names
    )
    assert not stale, f"docs/reference/urls.md names URLs that do not exist: {stale}"


def test_every_signal_is_documented():
    sent = [name for name, value in vars(signals).items() if isinstance(value, Signal)]
    documented = code_names(page("reference/signals.md"))
    assert sent, "no signals found"
    expected = [f"wagtail_customers.signals.{name}" for name in sent]
    assert_all_in(expected, documented, "signals missing from docs/reference/signals.md")


def test_every_management_command_is_documented():
    commands = [
        path.stem for path in (PACKAGE / "management" / "commands").glob("*.py") if not path.stem.startswith("_")
    ]
    text = page("reference/commands.md")
    undocumented = [name for name in commands if not re.search(rf"^`{name}\b", text, re.M)]
    assert not undocumented, f"commands missing from docs/reference/commands.md: {undocumented}"


def test_every_celery_task_is_documented_and_every_documented_task_exists():
    from celery import current_app

    import wagtail_customers.tasks  # noqa: F401  (registers the tasks)

    current_app.loader.import_default_modules()
    registered = {name for name in current_app.tasks if name.startswith("wagtail_customers.")}
    howtos = page("howto/celery.md") + page("howto/reconciliation.md")
    documented = set(re.findall(r"wagtail_customers\.[a-z_]+", howtos)) - {"wagtail_customers.tasks"}
    assert registered, "no Celery tasks registered"
    assert_all_in(registered, documented, "tasks missing from the Celery how-tos")
    scheduled = set(re.findall(r'"task": "([^"]+)"', howtos))
    assert_all_in(scheduled, registered, "scheduled tasks that do not exist")


#: The scheduled tasks a management command runs (the cron lines call the command instead of the task).
TASK_COMMANDS = {
    "wagtail_customers.rebuild_statistics": "customers_rebuild_stats",
    "wagtail_customers.refresh_exchange_rates": "customers_refresh_rates",
    "wagtail_customers.apply_retention_rules": "customers_apply_retention",
    "wagtail_customers.refresh_buyer_insight": "customers_refresh_insight",
}


def test_the_cron_lines_run_every_entry_of_the_beat_schedule_at_its_times():
    """docs/howto/reconciliation.md's "Without a worker: cron": a line per ``BEAT_SCHEDULE`` entry, at its times,
    running its task (or the command that does its work) with its arguments."""
    from celery import current_app

    import wagtail_customers.tasks  # noqa: F401  (registers the tasks)
    from wagtail_customers.beat import BEAT_SCHEDULE

    text = page("howto/reconciliation.md")
    block = re.search(r"## Without a worker: cron\n.*?```text\n(.*?)```", text, re.S).group(1)
    lines = [line.split(None, 5) for line in block.splitlines() if line.strip()]
    missing_entries = []
    for name, entry in BEAT_SCHEDULE.items():
        schedule = entry["schedule"]
        times = [
            str(getattr(schedule, f"_orig_{field}"))
            for field in ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
        ]
        runs = TASK_COMMANDS.get(entry["task"]) or f"import {current_app.tasks[entry['task']].run.__name__} as t"
        call = f"t({', '.join(map(repr, entry.get('args', ())))})"
        if not any(
            fields[:5] == times and runs in fields[5] and (entry["task"] in TASK_COMMANDS or call in fields[5])
            for fields in lines
        ):
            missing_entries.append(name)
    assert not missing_entries, f"beat entries missing from the cron lines: {missing_entries}"
    assert len(lines) == len(BEAT_SCHEDULE)


def test_every_log_action_is_documented():
    documented = code_names(page("reference/log-actions.md"))
    actions = [action for action, _label, _message in LOG_ACTIONS]
    assert_all_in(actions, documented, "log actions missing from docs/reference/log-actions.md")


@pytest.mark.parametrize("relative", ["celery.py", "init.py", "settings.py", "seller_account.py", "orders.csv"])
def test_the_tutorial_shows_the_files_the_wheel_check_runs(relative):
    """scripts/check-wheel.sh copies these files into a new site; the tutorial must show them, not a variant."""
    assert f"tutorial_files/{relative}" in page("tutorial.md")
