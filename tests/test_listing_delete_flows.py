"""Deleting one customer from every way in: the listing row's menu and the customer page's header.

The links are taken from the rendered pages, as a browser would follow them, so a ``next`` that is
built or read wrongly shows up here (it once came through as ``_2Fadmin_2Fcustomers_2F``).
"""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tests.listing_support import customer
from wagtail_customers.models import Customer
from wagtail_customers.views.listing.access import next_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(account):
    return customer(account, "A1", email="ada@example.com", name="Ada Lovelace")


def delete_link(content, pk):
    """The href of the delete link for customer ``pk`` in a rendered page."""
    path = reverse("wagtail_customers:delete", args=(pk,))
    match = re.search(rf'href="({re.escape(path)}[^"]*)"', content)
    assert match, f"no delete link for {pk}"
    return html.unescape(match.group(1))


def cancel_link(content):
    match = re.search(r'<a href="([^"]*)" class="button button-secondary">', content)
    return html.unescape(match.group(1))


def test_row_menu_delete_keeps_the_listing_url_readable(admin_client, ada):
    listing = admin_client.get("/admin/customers/most-orders/?q=ada&per_page=10")
    link = delete_link(listing.content.decode(), ada.pk)
    assert parse_qs(urlsplit(link).query)["next"] == ["/admin/customers/most-orders/?q=ada&per_page=10"]

    confirm = admin_client.get(link)
    assert confirm.status_code == 200
    content = confirm.content.decode()
    # "No, don't delete" goes back to the listing as it was.
    assert cancel_link(content) == "/admin/customers/most-orders/?q=ada&per_page=10"
    assert 'name="next" value="/admin/customers/most-orders/?q=ada&amp;per_page=10"' in content

    response = admin_client.post(link, {"next": "/admin/customers/most-orders/?q=ada&per_page=10"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/customers/most-orders/?q=ada&per_page=10"
    assert not Customer.objects.filter(pk=ada.pk).exists()
    assert "Ada Lovelace" in admin_client.get(response["Location"]).content.decode()  # the message


def test_customer_page_delete_cancels_back_to_the_page_and_deletes_to_the_listing(admin_client, ada):
    detail = reverse("wagtail_customers_customer:detail", args=(ada.pk,))
    link = delete_link(admin_client.get(detail).content.decode(), ada.pk)
    content = admin_client.get(link).content.decode()
    assert cancel_link(content) == detail
    response = admin_client.post(link, {"next": detail})
    assert response["Location"] == reverse("wagtail_customers:index")
    assert not Customer.objects.filter(pk=ada.pk).exists()


@pytest.mark.parametrize(
    "value",
    ["_2Fadmin_2Fcustomers_2F", "admin/customers/", "//evil.example/", "https://evil.example/", "javascript:x"],
)
def test_a_next_that_is_not_a_path_on_this_site_falls_back_to_the_listing(admin_client, ada, rf, value):
    # A bare word would make ``redirect()`` try it as a URL name (a 500), a relative path a 404.
    assert next_url(rf.get("/", {"next": value})) == "/admin/customers/"
    url = reverse("wagtail_customers:delete", args=(ada.pk,))
    assert cancel_link(admin_client.get(url, {"next": value}).content.decode()) == "/admin/customers/"
    response = admin_client.post(url, {"next": value})
    assert response.status_code == 302 and response["Location"] == "/admin/customers/"
