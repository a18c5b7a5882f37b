"""The customer page's orders table, its rows built in one pass and its cells in Python
(views/customer_page/orders.py on views/listing/table.py's ``BuiltRowsTable``), is what Wagtail renders from the same
columns with each cell through its template (``BaseColumn.render_cell_html``, as tests/test_listing_cells.py does):
Django's HTML comparison cell by cell and whole. Every status (filled or not), an empty status and an empty order id,
an order id that needs escaping, totals converted into the account's currency (by the channel, by the rate table, no
rate known), the e-mail button to the admin's form or to the channel's contact page (a new tab), two languages, two
sorts; on Wagtail 8 and, at the floors, 7.0.
"""

from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from wagtail.admin.ui.tables import Table

from tests.factories import order_data
from tests.test_listing_cells import assert_same_html, by_templates
from wagtail_customers.models import Order, OrderStatus, RateSource
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.views.customer_page.orders import orders_table
from wagtail_customers.views.listing.table import BuiltRowsTable

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(account):
    record_orders(
        account,
        [
            order_data(f'<b>"{index}"</b> & co', email="ada@example.com", day=index, status=status)
            for index, status in enumerate(OrderStatus)
        ],
    )
    # Behind the service's back: an empty fulfilment, an empty status, an empty order id (Wagtail's "(blank)").
    Order.objects.filter(external_id__startswith='<b>"0"').update(fulfilment_status="")
    Order.objects.filter(external_id__startswith='<b>"1"').update(status="")
    Order.objects.filter(external_id__startswith='<b>"2"').update(external_id="")
    # Orders in another currency than the account's (USD): converted by the channel, by the rate table, or with no
    # rate known (the total cell's converted amount, ``_converted_amount.html``).
    for index, source, total in (
        (3, RateSource.CHANNEL, "12.34"),
        (4, RateSource.TABLE, "1234.5"),
        (5, RateSource.UNKNOWN, None),
    ):
        Order.objects.filter(external_id__startswith=f'<b>"{index}"').update(
            currency="EUR", rate_source=source, exchange_rate=Decimal("1.0850000000"), account_total=total
        )
    return Order.objects.first().customer


def tables(customer, ordering, can_email):
    """The page's table, and Wagtail's ``Table`` of the same columns with each cell through its template."""
    built, _page = orders_table(customer, ordering=ordering, page_number=1, per_page=25, can_email=can_email)
    reference, _page = orders_table(customer, ordering=ordering, page_number=1, per_page=25, can_email=can_email)
    templated = Table(
        by_templates(list(reference.columns.values())),
        reference.data,
        ordering=ordering,
        caption=reference.caption,
        classname="listing",
    )
    return built, templated


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("can_email", [True, False], ids=["may-email", "may-not"])
@pytest.mark.parametrize("ordering", ["-date", "status"])
def test_the_orders_table_is_what_the_templates_render(customer, superuser, language, can_email, ordering):
    request = RequestFactory().get(f"/admin/customers/{customer.pk}/")
    request.user = superuser
    with translation.override(language):
        built, templated = tables(customer, ordering, can_email)
        assert isinstance(built, BuiltRowsTable)
        built_html = built.render_html({"request": request})
        templated_html = templated.render_html({"request": request})
    assert_same_html(built_html, templated_html)
    assert built_html.count("<tr") == len(OrderStatus) + 1  # the header's and one per order
    assert "&lt;b&gt;&quot;0&quot;&lt;/b&gt; &amp; co" in built_html and '<b>"0"' not in built_html
    assert 'class="w-status w-status--primary"' in built_html and 'class="w-status"' in built_html
    # The three converted totals: two amounts with where they come from, one without a rate.
    assert built_html.count('class="wc-converted"') == 3 and built_html.count("wc-converted__source") == 2
    assert built_html.count('class="wc-not-known"') == 1
    assert (reverse("wagtail_customers_customer:email", args=[customer.pk]) in built_html) == can_email


def test_the_contact_page_button_is_what_the_templates_render(customer, superuser, account):
    """An account that writes to buyers through the channel's page: the e-mail item opens it in a new tab."""
    account.contact_url_template = 'https://example.com/contact?order={order_id}&x="<>&'
    account.save()
    customer.refresh_from_db()
    request = RequestFactory().get(f"/admin/customers/{customer.pk}/")
    request.user = superuser
    built, templated = tables(customer, "-date", True)
    built_html = built.render_html({"request": request})
    assert_same_html(built_html, templated.render_html({"request": request}))
    assert 'target="_blank"' in built_html and 'rel="noopener noreferrer"' in built_html
