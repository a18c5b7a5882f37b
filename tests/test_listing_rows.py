"""The listing's table body built in one pass (views/listing/table.py, ``CustomerTable``) is Wagtail's.

The same rows and columns are rendered by ``CustomerTable`` and by Wagtail's own ``Table`` (its
``wagtailadmin/tables/table.html``, a ``{% component %}`` per cell); the two tables must be the same HTML
(Django's HTML comparison), ``<tbody>`` and all. The name column's row URLs, built from one ``reverse()`` per
page, are the ones ``reverse()`` gives, and its cell, built once per page for rows in the same state, is each
row's own. This runs on Wagtail 8 and, at the floors, on Wagtail 7.0.
"""

import pytest
from django.test import RequestFactory
from django.test.html import parse_html
from django.urls import reverse
from django.utils import timezone, translation
from wagtail.admin.ui.tables import Table

from tests.listing_support import customer
from tests.test_listing_cells import listing_context, rows, without_csrf_values  # noqa: F401 - rows: a fixture
from wagtail_customers.columns import COLUMNS
from wagtail_customers.models import Customer, WatchlistEntry
from wagtail_customers.views.listing.name_column import NAME_PLACEHOLDER, URL_ID_PLACEHOLDER, RowUrl
from wagtail_customers.views.listing.table import CustomerTable, table_columns

pytestmark = pytest.mark.django_db


class StripedRows:
    """Rows with a class and attributes of their own, to show the built rows carry ``get_row_attrs``."""

    def get_row_classname(self, instance):
        return "odd" if instance.pk % 2 else ""

    def get_row_attrs(self, instance):
        attrs = super().get_row_attrs(instance)
        attrs.update({"data-customer": f'<{instance.pk}> & "x"', "data-flag": True, "data-off": False})
        return attrs


class StripedTable(StripedRows, CustomerTable):
    pass


class WagtailStripedTable(StripedRows, Table):
    pass


def body(html):
    return html.split("<tbody>")[1].split("</tbody>")[0]


def render_both(built_class, wagtail_class, make_columns, customers, request):
    """The same rows rendered by ``built_class`` and ``wagtail_class``, each with columns of its own."""
    html = [
        table_class(make_columns(), customers, ordering="name").render_html({"request": request})
        for table_class in (built_class, wagtail_class)
    ]
    return [without_csrf_values(table) for table in html]


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("may_act", [True, False], ids=["may-act", "may-only-view"])
@pytest.mark.parametrize(
    "classes", [(CustomerTable, Table), (StripedTable, WagtailStripedTable)], ids=["plain", "row-attrs"]
)
def test_the_built_table_is_wagtails(rows, superuser, account, other_account, language, may_act, classes):  # noqa: F811
    request = RequestFactory().get("/admin/customers/")
    request.user = superuser
    context = listing_context(request, [account.pk, other_account.pk] if may_act else [])
    with translation.override(language):
        built, wagtail = render_both(
            *classes, lambda: table_columns(COLUMNS, context, with_checkboxes=True), rows, request
        )
    assert parse_html(body(built)) == parse_html(body(wagtail)), f"built:\n{body(built)}\n\nWagtail:\n{body(wagtail)}"
    assert parse_html(built) == parse_html(wagtail)
    assert body(built).count("<tr") == 3 and body(built).count("<td") == 3 * (len(COLUMNS) + 1)
    if classes[0] is StripedTable:
        assert 'data-customer="&lt;' in body(built) and " data-flag" in body(built) and "data-off" not in built


def test_an_empty_table_is_wagtails(superuser, account):
    request = RequestFactory().get("/admin/customers/")
    request.user = superuser
    context = listing_context(request, [account.pk])
    built, wagtail = render_both(
        CustomerTable, Table, lambda: table_columns(COLUMNS, context, with_checkboxes=False), [], request
    )
    assert parse_html(built) == parse_html(wagtail)


@pytest.mark.parametrize(
    "url_name",
    [
        "wagtail_customers_customer:detail",
        "wagtail_customers:watchlist_toggle",
        "wagtail_customers:erase",
        "wagtail_customers:delete",
    ],
)
def test_row_urls_are_what_reverse_gives(url_name):
    row_url = RowUrl(url_name)
    assert row_url.parts is not None  # the one-reverse path is the one taken
    for pk in (0, 1, 7, 10, 99, 123456789, 987_654_321_012_345, 2**63 - 1):
        assert row_url(pk) == reverse(url_name, args=(pk,))


@pytest.fixture
def same_state_rows(account, superuser):
    """Rows sharing their state (the name cell is built once for them), with names that are markup, that are
    the cell's placeholders, or that hold the placeholder id; one watched row among them."""
    names = ['<i>Ann</i> & "Bo"', NAME_PLACEHOLDER, f"{URL_ID_PLACEHOLDER} {NAME_PLACEHOLDER}", "Zoë", "Ann"]
    made = [
        customer(account, f"S{index}", name=name, email=f"s{index}@example.com") for index, name in enumerate(names)
    ]
    WatchlistEntry.objects.create(customer=made[3], added_by=superuser)
    return list(Customer.objects.select_related("account", "watchlist_entry").order_by("pk"))


@pytest.mark.parametrize(
    "next_url",
    [
        "/admin/customers/?q=a&p=2",
        f"/admin/customers/?q={NAME_PLACEHOLDER}",
        f"/admin/customers/?p={URL_ID_PLACEHOLDER}",
    ],
    ids=["plain", "placeholder-name-in-next", "placeholder-id-in-next"],
)
def test_name_cells_shared_by_rows_are_each_rows_own(same_state_rows, superuser, account, next_url):
    """The name cell built once for rows in the same state gives each row what Wagtail's template gives it,
    also when the page's ``next`` URL holds a placeholder (the cell is then built for each row)."""
    request = RequestFactory().get("/admin/customers/")
    request.user = superuser
    context = {**listing_context(request, [account.pk]), "next_url": next_url}
    built, wagtail = render_both(
        CustomerTable, Table, lambda: table_columns(COLUMNS, context, with_checkboxes=True), same_state_rows, request
    )
    assert parse_html(body(built)) == parse_html(body(wagtail)), f"built:\n{body(built)}\n\nWagtail:\n{body(wagtail)}"
    assert "&lt;i&gt;Ann&lt;/i&gt; &amp; &quot;Bo&quot;" in built and f"/{URL_ID_PLACEHOLDER}/" not in body(built)


@pytest.mark.parametrize(
    "next_url, shared", [("/admin/customers/?p=2", True), (f"/admin/?q={NAME_PLACEHOLDER}", False)]
)
def test_a_name_cell_is_built_once_for_each_row_state(same_state_rows, superuser, account, next_url, shared):
    request = RequestFactory().get("/admin/customers/")
    request.user = superuser
    context = {**listing_context(request, [account.pk]), "next_url": next_url}
    columns = table_columns(COLUMNS, context, with_checkboxes=False)
    CustomerTable(columns, same_state_rows).render_html({"request": request})
    name_column = next(column for column in columns if column.name == "name")
    # Watched or not; the same account, the same actions. A placeholder in the page: each row's cell its own.
    assert len(name_column.shared_cells) == 2
    assert all(bool(cell) is shared for cell in name_column.shared_cells.values())


def test_name_cells_follow_each_rows_own_actions_and_state(account, other_account, superuser):
    """Accounts with different actions (watchlist and erase on one, delete on the other), an erased customer and
    one whose name is blank: each row's name cell is what Wagtail's template gives it."""
    made = [
        customer(owner, f"M{index}", name=f"Mixed {index}", email=f"m{index}@example.com")
        for index, owner in enumerate([account, account, account, other_account, other_account, account])
    ]
    Customer.objects.filter(pk=made[1].pk).update(erased_at=timezone.now())
    Customer.objects.filter(pk=made[2].pk).update(name="   ")
    WatchlistEntry.objects.create(customer=made[0], added_by=superuser)
    WatchlistEntry.objects.create(customer=made[4], added_by=superuser)
    table_rows = list(Customer.objects.select_related("account", "watchlist_entry").order_by("pk"))
    request = RequestFactory().get("/admin/customers/")
    request.user = superuser
    context = {
        **listing_context(request, []),
        "manage_account_ids": {account.pk},
        "erase_account_ids": {account.pk},
        "delete_account_ids": {other_account.pk},
    }
    built, wagtail = render_both(
        CustomerTable, Table, lambda: table_columns(COLUMNS, context, with_checkboxes=True), table_rows, request
    )
    assert parse_html(body(built)) == parse_html(body(wagtail)), f"built:\n{body(built)}\n\nWagtail:\n{body(wagtail)}"
    assert "(blank)" in body(built)
    # Three of the account's four rows may be erased (one is already); only the other account's two deleted.
    assert body(built).count("/erase/") == 3 and body(built).count("/delete/") == 2
