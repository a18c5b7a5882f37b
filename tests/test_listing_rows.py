"""The listing's table body built in one pass (views/listing/table.py, ``CustomerTable``) is Wagtail's.

The same rows and columns are rendered by ``CustomerTable`` and by Wagtail's own ``Table`` (its
``wagtailadmin/tables/table.html``, a ``{% component %}`` per cell); the two tables must be the same HTML
(Django's HTML comparison), ``<tbody>`` and all. The name column's row URLs, built from one ``reverse()`` per
page, are the ones ``reverse()`` gives. This runs on Wagtail 8 and, at the floors, on Wagtail 7.0.
"""

import pytest
from django.test import RequestFactory
from django.test.html import parse_html
from django.urls import reverse
from django.utils import translation
from wagtail.admin.ui.tables import Table

from tests.test_listing_cells import listing_context, rows, without_csrf_values  # noqa: F401 - rows: a fixture
from wagtail_customers.columns import COLUMNS
from wagtail_customers.views.listing.table import CustomerTable, RowUrl, table_columns

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
