"""Helpers for the customers listing tests: users with grants, and customers made from real orders."""

import html
import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from tests.factories import order_data
from wagtail_customers.columns import COLUMNS
from wagtail_customers.models import AccessGrant, Customer
from wagtail_customers.services.ingestion import record_order, record_orders

#: Every sortable column of the listing, both ways.
EVERY_ORDERING = [prefix + column.name for column in COLUMNS if column.sort_field for prefix in ("", "-")]
#: One column of each kind of key the seek writes its own SQL for, both ways: a text, a text read through a join,
#: a whole number, an amount, a date with NULLs, figures computed with NULLs (average order value, return rate), a
#: code and an amount from the joined scores row, missing for some customers.
ONE_ORDERING_OF_EACH_KIND = [
    prefix + name
    for name in (
        "name",
        "account",
        "orders_count",
        "amount_spent",
        "last_order_at",
        "average_order_value",
        "return_rate",
        "rfm_score",
        "expected_spend",
    )
    for prefix in ("", "-")
]


def orderings_to_walk(connection):
    """Every sort on SQLite; one of each kind on PostgreSQL.

    Walking every page both ways for every sort takes about 600 requests a test; what the database can change is
    the SQL of each kind of key (its NULLs, its collation, its join), the same for every column of the kind, while
    the SQLite passes walk every column. The PostgreSQL pass is the longest part of `make test`."""
    return ONE_ORDERING_OF_EACH_KIND if connection.vendor == "postgresql" else EVERY_ORDERING


def staff_user(username, grants=None):
    """An admin user (not a superuser) with ``AccessGrant``s: ``{account: {"can_delete": True, ...}}``."""
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for account, flags in (grants or {}).items():
        # These tests are about other actions: the user sees personal data (as every grant made before the
        # "See personal data" action does) unless a test says otherwise.
        AccessGrant.objects.create(user=user, account=account, **{"can_see_personal_data": True, **flags})
    return user


def customer(account, external_id, **kwargs):
    """One order for one customer; returns the ``Customer``."""
    return record_order(account, order_data(external_id, **kwargs)).customer


def many_customers(account, count, prefix="bulk"):
    """``count`` customers with one order each, recorded in one batch; returns them in id order."""
    record_orders(
        account,
        [
            order_data(f"{prefix}-{i}", email=f"{prefix}{i}@example.com", name=f"{prefix.title()} {i}", day=i % 300)
            for i in range(count)
        ],
    )
    return list(Customer.objects.filter(email__startswith=prefix).order_by("pk"))


def row_ids(response):
    """Customer ids of the listing's rows, in order (from the title cells' ``customer_<id>_title``)."""
    return [int(pk) for pk in re.findall(rb'<span id="customer_(\d+)_title">', response.content)]


def row_names(response):
    """Customer names in the listing's rows, in order (the title cells)."""
    return [name.decode() for name in re.findall(rb'<span id="customer_\d+_title">([^<]*)</span>', response.content)]


def column_labels(response):
    """The listing table's column headers (labels only), in order."""
    head = response.content.split(b"<thead>", 1)[1].split(b"</thead>", 1)[0].decode()
    cells = re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells if re.sub(r"<[^>]+>", "", cell).strip()]


def link(response, css_class):
    """The href of the footer's Previous ("prev") or Next ("next") link, or None when it has none."""
    match = re.search(rf'<li class="{css_class}">\s*<a(?: href="([^"]*)")?>', response.content.decode())
    return html.unescape(match[1]) if match and match[1] else None


def page_through(client, url):
    """Rows of every page by Next, then of every page by Previous from the last (in page order)."""
    forwards = []
    while url:
        response = client.get(url)
        forwards.append(row_ids(response))
        url = link(response, "next")
    backwards = [forwards[-1]]
    url = link(response, "prev")
    while url:
        response = client.get(url)
        backwards.insert(0, row_ids(response))
        url = link(response, "prev")
    return forwards, backwards


#: Headers of a request sent by the listing's own scripts (``fetch`` with ``X-Requested-With``).
FETCH = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def lazy_menu_url(response, path):
    """The URL a listing page's toolbar menu (``listing/_lazy_menu.html``) loads its panel from, ``path`` being
    part of it; the placeholder links to it too, for browsers without JavaScript."""
    page = response.content.decode()
    match = re.search(rf'data-wc-lazy-panel-url-value="([^"]*{re.escape(path)}[^"]*)"', page)
    assert match, f"no menu loading from {path}"
    assert f'href="{match[1]}"' in page, "the placeholder has no link for browsers without JavaScript"
    return html.unescape(match[1])
