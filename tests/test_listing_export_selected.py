"""Export selected: the confirmation form, and what the user is told once the file is on its way."""

import pytest
from django.urls import reverse

from tests.export_support import START_URL, make_customers
from wagtail_customers.models import Customer
from wagtail_customers.views.exports.download_notice import DOWNLOAD_COOKIE

pytestmark = pytest.mark.django_db


@pytest.fixture
def selected(account):
    make_customers(account, 6)
    return list(Customer.objects.order_by("pk")[:5])


def export_selected(client, customers, **extra):
    data = {
        "tab": "all",
        "scope": "selected",
        "format": "csv",
        "ids": ",".join(str(customer.pk) for customer in customers),
        "next": "/admin/customers/?q=c",
        **extra,
    }
    return client.post(START_URL, data)


def test_the_confirmation_form_is_wired_to_the_download_controller(admin_client, selected):
    url = reverse("wagtail_customers:bulk_action", args=("all", "export"))
    content = admin_client.get(url, {"id": [c.pk for c in selected]}).content.decode()
    assert 'data-controller="wc-export-download"' in content
    assert 'name="download_token"' in content
    assert "js/export-download-controller.js" in content
    assert 'data-wc-export-download-next-value="/admin/customers/"' in content


def test_a_download_with_a_token_sets_the_cookie_and_the_listing_says_so(admin_client, selected):
    response = export_selected(admin_client, selected, download_token="abcdef0123456789")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    b"".join(response.streaming_content)
    cookie = response.cookies[DOWNLOAD_COOKIE]
    assert cookie.value == "abcdef0123456789" and not cookie["httponly"]
    listing = admin_client.get("/admin/customers/?q=c").content.decode()
    assert "Your export of 5 customers is downloading as customers-" in listing


def test_a_download_without_a_token_or_with_a_bad_one_changes_nothing_else(admin_client, selected):
    for extra in ({}, {"download_token": "<script>"}, {"download_token": "x" * 200}):
        response = export_selected(admin_client, selected, **extra)
        assert response.status_code == 200
        b"".join(response.streaming_content)
        assert DOWNLOAD_COOKIE not in response.cookies
        assert "is downloading" not in admin_client.get("/admin/customers/").content.decode()


def test_thousands_are_grouped_in_the_message(admin_client, account, settings):
    make_customers(account, 1200, prefix="k")
    response = admin_client.post(
        START_URL, {"tab": "all", "scope": "all", "format": "csv", "download_token": "abcdef0123456789"}
    )
    b"".join(response.streaming_content)
    assert "Your export of 1,200 customers is downloading" in admin_client.get("/admin/customers/").content.decode()


def test_the_listings_export_panel_comes_back_to_the_listing_too(admin_client, selected):
    content = admin_client.get("/admin/customers/most-orders/", {"q": "c", "per_page": "10"}).content.decode()
    panel = content[content.index("wc-export-controls") :]
    assert 'data-controller="wc-export-download"' in panel and 'name="download_token"' in panel
    assert 'data-wc-export-download-next-value="/admin/customers/most-orders/?q=c&amp;per_page=10"' in panel
    assert "js/export-download-controller.js" in content


def test_the_listings_export_panel_comes_back_to_the_page_it_was_on(admin_client, account):
    """Exporting page 2 came back to page 1, its notice naming the page-2 file: the panel returns to the page."""
    make_customers(account, 12, prefix="p")
    content = admin_client.get("/admin/customers/", {"per_page": "10", "p": "2"}).content.decode()
    panel = content[content.index("wc-export-controls") :]
    assert 'data-wc-export-download-next-value="/admin/customers/?per_page=10&amp;p=2"' in panel


def test_rows_ticked_one_by_one_are_read_in_the_listing_next_names(admin_client, superuser, account, other_account):
    """Wagtail 8's bulk bar sends the ticked ids and ``next`` alone: the accounts and filters come from ``next``."""
    from wagtail_customers.models import ListingPreference

    make_customers(account, 3)
    make_customers(other_account, 3, prefix="x")
    # The selector remembers the first account; the page shows the second one, chosen in the URL.
    ListingPreference.objects.update_or_create(user=superuser, defaults={"account_ids": [account.pk]})
    ticked = list(Customer.objects.filter(account=other_account).order_by("pk")[:2])
    url = reverse("wagtail_customers:bulk_action", args=("all", "export"))
    query = {"id": [c.pk for c in ticked], "next": f"/admin/customers/?account={other_account.pk}&q=x"}
    content = admin_client.get(url, query).content.decode()
    assert "2 customers" in content
    assert f'name="account" value="{other_account.pk}"' in content and 'name="q" value="x"' in content
    for customer in ticked:
        assert customer.name in content
