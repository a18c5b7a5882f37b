"""Run by scripts/check-wheel.sh inside a new `wagtail start` site that has the installed wheel.

From the site's folder, with DJANGO_SETTINGS_MODULE set:

``python fresh_site_check.py admin USERNAME PASSWORD [EMAIL ...]``
    Logs in through Django's test client (the real auth backends and middleware), reads the admin sidebar's
    menu from /admin/, opens /admin/customers/ and looks for each EMAIL in the listing.
``python fresh_site_check.py figures``
    Compares the imported customers' statistics with the figures docs/tutorial.md states.
``python fresh_site_check.py celery``
    Sends the statistics reconciliation task through the site's Celery app (eager, as the tutorial sets it up).

Exits non-zero with the reason on any failure.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.getcwd())

import django  # noqa: E402

django.setup()

from django.contrib.staticfiles import finders  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

SIDEBAR_PROPS = re.compile(r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>', re.S)
PLUGIN_STATIC = re.compile(r'/static/(wagtail_customers/[^"\'?#\s]+)')


def fail(message):
    sys.exit(f"FAILED: {message}")


def menu_items(node):
    """Every menu item (its props dict and its children) in the sidebar's serialised module tree."""
    if isinstance(node, dict):
        args = node.get("_args") or []
        if node.get("_type", "").endswith("MenuItem") and args and isinstance(args[0], dict):
            children = args[1] if len(args) > 1 and isinstance(args[1], list) else []
            yield args[0], children
        for value in node.values():
            yield from menu_items(value)
    elif isinstance(node, list):
        for value in node:
            yield from menu_items(value)


def check_plugin_static(html):
    """Every plugin static file a page references is found by the site's static files finders."""
    for path in sorted(set(PLUGIN_STATIC.findall(html))):
        if not finders.find(path):
            fail(f"the page references static/{path}, which is not in the installed package")


def check_admin(username, password, *emails):
    setup_test_environment()  # lets the test client run against this site's own database
    client = Client()
    if not client.login(username=username, password=password):
        fail(f"cannot log in as {username}")

    response = client.get("/admin/")
    if response.status_code != 200:
        fail(f"/admin/ answered {response.status_code}")
    html = response.content.decode()
    match = SIDEBAR_PROPS.search(html)
    if not match:
        fail("/admin/ has no sidebar menu")
    items = list(menu_items(json.loads(match.group(1))))
    customers = [(props, children) for props, children in items if props.get("name") == "customers" and children]
    if not customers:
        fail(f"no Customers submenu in the admin menu (menu items: {sorted(p.get('name') for p, _ in items)})")
    submenu = {props["label"]: props.get("url") for props, _ in menu_items(customers[0][1])}
    if submenu.get("Customers") != "/admin/customers/":
        fail(f"the Customers submenu has no Customers entry to /admin/customers/ (entries: {submenu})")
    check_plugin_static(html)
    print(f"/admin/ shows the Customers menu ({', '.join(submenu)}).")

    response = client.get("/admin/customers/")
    if response.status_code != 200:
        fail(f"/admin/customers/ answered {response.status_code}")
    listing = response.content.decode()
    for email in emails:
        if email not in listing:
            fail(f"the customers listing does not show {email}, imported before the check")
    check_plugin_static(listing)
    print(f"/admin/customers/ answered 200{' and lists ' + ', '.join(emails) if emails else ''}.")


def check_celery():
    from celery import current_app

    from wagtail_customers.tasks import rebuild_statistics_task

    if current_app.main != "mysite" or not current_app.conf.task_always_eager:
        fail(f"the site's Celery app is not the tutorial's eager one ({current_app.main!r})")
    corrected = rebuild_statistics_task.delay().get(timeout=60)
    if corrected != 0:
        fail(f"the reconciliation corrected {corrected} rows after an import through the service; expected 0")
    print("The reconciliation task ran through the site's Celery app and corrected 0 rows.")


def check_tutorial_figures():
    """The figures docs/tutorial.md states for its sample file."""
    from decimal import Decimal

    from wagtail_customers.models import Customer

    expected = {
        "ada@example.com": {"orders_count": 2, "units": 3, "amount_spent": Decimal("43.00"), "promo_codes_used": 1},
        "grace@example.com": {"orders_count": 1, "units": 2, "amount_spent": Decimal("27.50"), "promo_codes_used": 0},
    }
    for email, figures in expected.items():
        customer = Customer.objects.get(email=email)
        actual = {name: getattr(customer, name) for name in figures}
        if actual != figures:
            fail(f"{email}: the tutorial says {figures}, the site has {actual}")
    print("The imported customers have the figures the tutorial states.")


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    {"admin": check_admin, "celery": check_celery, "figures": check_tutorial_figures}[command](*arguments)
