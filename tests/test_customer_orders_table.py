"""The customer page's orders table, its rows built in one pass and most cells in Python
(views/customer_page/orders.py on views/listing/table.py's ``BuiltRowsTable``), is the table Wagtail's own ``Table``
renders from the same columns with a template per cell: Django's HTML comparison, ``<tbody>`` and all. Every
status (filled or not), an order with and without the e-mail button, an empty cell, a name that needs escaping, two
languages; on Wagtail 8 and, at the floors, 7.0.
"""

import pytest
from django.test import RequestFactory
from django.test.html import parse_html
from django.urls import reverse
from django.utils import translation
from wagtail.admin.ui.tables import Table

from tests.factories import order_data
from wagtail_customers.models import Order, OrderStatus
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.views.customer_page.orders import orders_table
from wagtail_customers.views.listing.table import BuiltRowsTable

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(account):
    statuses = list(OrderStatus)
    record_orders(
        account,
        [
            order_data(f'<b>"{index}"</b> & co', email="ada@example.com", day=index, status=status)
            for index, status in enumerate(statuses)
        ],
    )
    # A sync status and fulfilment left empty on one order: an empty cell.
    Order.objects.filter(external_id__startswith='<b>"0"').update(fulfilment_status="")
    return Order.objects.first().customer


def render(table, request):
    return table.render_html({"request": request})


def body(html):
    return html.split("<tbody>")[1].split("</tbody>")[0]


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("can_email", [True, False], ids=["may-email", "may-not"])
@pytest.mark.parametrize("ordering", ["-date", "status"])
def test_the_orders_table_is_wagtails(customer, superuser, language, can_email, ordering):
    request = RequestFactory().get(f"/admin/customers/{customer.pk}/")
    request.user = superuser
    with translation.override(language):
        table, _page = orders_table(customer, ordering=ordering, page_number=1, per_page=25, can_email=can_email)
        assert isinstance(table, BuiltRowsTable)
        built = render(table, request)
        # The same columns and rows in Wagtail's own table: each cell through its column's template.
        wagtail = render(Table(list(table.columns.values()), table.data, ordering=ordering, caption=table.caption,
                               classname="listing"), request)  # fmt: skip
    assert parse_html(body(built)) == parse_html(body(wagtail)), f"built:\n{body(built)}\n\nWagtail:\n{body(wagtail)}"
    assert parse_html(built) == parse_html(wagtail)
    assert body(built).count("<tr") == len(OrderStatus)
    assert "&lt;b&gt;&quot;0&quot;&lt;/b&gt; &amp; co" in built and '<b>"0"' not in built
    assert 'class="w-status w-status--primary"' in built and 'class="w-status"' in built
    assert (reverse("wagtail_customers_customer:email", args=[customer.pk]) in built) == can_email
