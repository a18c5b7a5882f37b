"""The "Columns" menu's form is loaded when the menu is opened (views/listing/column_picker.py), not rendered
with every listing page and results refresh; without JavaScript it opens on a page of its own.

The browser tests (tests/browser/test_listing.py, test_layout.py) open the menu, use the form and save it.
"""

import re

import pytest
from django.urls import reverse

from tests.listing_support import FETCH, column_labels, customer, lazy_menu_url, staff_user
from wagtail_customers.columns import COLUMNS, DEFAULT_COLUMNS
from wagtail_customers.models import ListingPreference

pytestmark = pytest.mark.django_db

PICKER_URL = reverse("wagtail_customers:column_picker")


def menu_url(response):
    """The form's URL the listing's "Columns" menu holds."""
    return lazy_menu_url(response, "/preferences/columns/form/")


def listed_columns(response):
    return re.findall(r'data-column="([^"]+)"', response.content.decode())


def checked_columns(response):
    return re.findall(r'<input type="checkbox" name="columns" value="([^"]+)" checked>', response.content.decode())


@pytest.mark.parametrize("path", ["/admin/customers/?q=ada&per_page=10", "/admin/customers/most-orders/results/"])
def test_the_listing_and_its_refresh_hold_a_link_to_the_form_not_the_form(admin_client, account, path):
    customer(account, "Ada")
    response = admin_client.get(path)
    assert response.status_code == 200
    assert "data-wc-column-picker-target" not in response.content.decode()
    url = menu_url(response)
    assert url.startswith(PICKER_URL + "?next=")
    # Saving goes back to the page the menu was opened on, with its search and tab.
    listing_path = path.replace("results/", "")
    assert admin_client.get(url, **FETCH).context["current_url"] == listing_path


def test_the_fetched_form_lists_every_column_in_the_users_order(admin_client, superuser):
    ListingPreference.objects.create(user=superuser, columns=["name", "units", "email"])
    response = admin_client.get(PICKER_URL, {"next": "/admin/customers/?q=x"}, **FETCH)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith("<form") and "<html" not in page
    assert 'class="wc-disclosure__panel" data-wc-disclosure-target="panel"' in page
    columns = listed_columns(response)
    assert columns[:3] == ["name", "units", "email"]
    assert sorted(columns) == sorted(column.name for column in COLUMNS)
    assert checked_columns(response) == ["units", "email"]  # the name is always shown, not a choice
    assert '<input type="hidden" name="next" value="/admin/customers/?q=x">' in page


def test_with_no_preference_the_default_columns_are_ticked(admin_client):
    response = admin_client.get(PICKER_URL, **FETCH)
    assert checked_columns(response) == [name for name in DEFAULT_COLUMNS if name != "name"]
    assert listed_columns(response)[: len(DEFAULT_COLUMNS)] == list(DEFAULT_COLUMNS)


def test_without_javascript_the_form_opens_on_a_page_that_saves_and_goes_back(admin_client, superuser, account):
    customer(account, "Ada")
    response = admin_client.get(PICKER_URL, {"next": "/admin/customers/highest-value/"})
    page = response.content.decode()
    assert "<html" in page and "Columns of the customers listing" in page
    assert "wc-disclosure__panel" not in page  # a form on the page, not a floating panel
    assert 'href="/admin/customers/highest-value/"' in page  # back to the customers
    saved = admin_client.post(
        reverse("wagtail_customers:save_columns"),
        {"columns": ["name", "units"], "next": "/admin/customers/highest-value/"},
    )
    assert saved.status_code == 302 and saved.url == "/admin/customers/highest-value/"
    assert column_labels(admin_client.get(saved.url))[:2] == ["Customer", "Units"]


@pytest.mark.parametrize("tampered", ["https://elsewhere.example/", "//elsewhere.example/", "javascript:alert(1)", ""])
def test_a_next_off_this_site_goes_back_to_the_listing(admin_client, tampered):
    response = admin_client.get(PICKER_URL, {"next": tampered}, **FETCH)
    assert response.status_code == 200
    assert response.context["current_url"] == "/admin/customers/"


def test_users_who_may_not_open_the_listing_are_refused(client, account):
    client.force_login(staff_user("nobody", {}))
    assert client.get(PICKER_URL, **FETCH).status_code == 403
    assert client.get(PICKER_URL).status_code == 403


def test_only_get(admin_client):
    assert admin_client.post(PICKER_URL).status_code == 405


def test_a_user_sees_their_own_column_view(client, admin_client, superuser, account):
    ListingPreference.objects.create(user=superuser, columns=["name", "units"])
    client.force_login(staff_user("other", {account: {"can_view": True}}))
    assert checked_columns(client.get(PICKER_URL, **FETCH)) == [name for name in DEFAULT_COLUMNS if name != "name"]
