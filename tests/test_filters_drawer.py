"""The header's filters drawer holds the filters in force only on the page; every filter is fetched from its
own URL when the drawer is about to open (views/listing/filters_drawer.py).

The browser tests (tests/browser/test_filters_drawer.py, test_countries.py) open and use the completed drawer.
"""

import re

import pytest
from django.test import Client
from django.test.signals import template_rendered
from django.urls import reverse

from tests.listing_support import customer, staff_user

pytestmark = pytest.mark.django_db

FETCH = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def drawer_fields(html):
    """The ``auto_id``s of the drawer's fields (one submenu each)."""
    return re.findall(r'class="w-drilldown__submenu" id="drilldown-([^"]+)"', html)


def drawer_url(response):
    match = re.search(r'data-wc-filters-drawer-url-value="([^"]+)"', response.content.decode())
    assert match, "no filters drawer controller"
    return match[1]


def test_an_unfiltered_page_renders_the_drawer_without_fields_and_where_to_fetch_them(admin_client, account):
    customer(account, "o-1", name="Ada")
    response = admin_client.get("/admin/customers/most-orders/")
    page = response.content.decode()
    assert 'id="filters-drilldown"' in page and "Show filters" in page
    assert drawer_fields(page) == []
    assert drawer_url(response) == reverse("wagtail_customers:filters_drawer", args=("most-orders",))


def test_the_filters_in_force_are_in_the_page_s_search_form(admin_client, account):
    """So a search typed before the drawer is complete keeps them."""
    customer(account, "o-1", name="Ada")
    response = admin_client.get("/admin/customers/?orders_min=2&has_returns=yes&q=ada")
    page = response.content.decode()
    assert drawer_fields(page) == ["id_orders", "id_has_returns"]
    form = page.split('role="search"', 1)[1].split("</form>", 1)[0]
    assert 'name="orders_min"' in form and 'value="2"' in form
    assert re.search(r'name="has_returns" value="yes"[^>]*checked', form)


def test_an_invalid_value_in_force_shows_its_field_with_the_error(admin_client, account):
    response = admin_client.get("/admin/customers/?orders_min=lots")
    page = response.content.decode()
    assert drawer_fields(page) == ["id_orders"]
    assert response.status_code == 200


def test_the_fetched_drawer_has_every_field_with_the_listing_s_values(admin_client, account, other_account):
    response = admin_client.get(
        reverse("wagtail_customers:filters_drawer", args=("all",)),
        {"orders_min": "2", "channel": "amazon", "p": "3", "q": "ada"},
        **FETCH,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "w-drilldown__contents" in html
    full = admin_client.get("/admin/customers/results/?_w_filter_fragment=1").content.decode()
    assert drawer_fields(html) == drawer_fields(full) and len(drawer_fields(html)) > 10
    assert re.search(r'name="orders_min"[^>]*value="2"', html)
    assert re.search(r'name="channel" value="amazon"[^>]*checked', html)
    # Both accounts are offered to a superuser; the country <select> loads its choices from its own URL.
    assert "Shop A" in html and "Amazon B" in html
    assert 'data-controller="wc-country-choices"' in html
    assert f'data-wc-country-choices-url-value="{reverse("wagtail_customers:country_choices", args=("all",))}"' in html


def test_the_fetched_drawer_offers_only_the_accounts_the_user_may_view(client, account, other_account):
    client.force_login(staff_user("viewer", {account: {}}))
    url = reverse("wagtail_customers:filters_drawer", args=("all",))
    # Another account's id in the URL is not offered, and not selected.
    html = client.get(url, {"account": str(other_account.pk)}, **FETCH).content.decode()
    assert "Shop A" in html and "Amazon B" not in html
    assert f'value="{other_account.pk}"' not in html


def test_a_link_followed_without_javascript_goes_to_the_listing(admin_client):
    url = reverse("wagtail_customers:filters_drawer", args=("watchlist",))
    response = admin_client.get(url, {"country": "DE", "p": "2", "_w_filter_fragment": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/customers/watchlist/?country=DE"


@pytest.mark.parametrize(
    ("method", "tab", "status"),
    [("post", "all", 405), ("get", "no-such-tab", 404)],
)
def test_other_methods_and_unknown_tabs_are_refused(admin_client, method, tab, status):
    url = f"/admin/customers/filters/{tab}/"
    assert getattr(admin_client, method)(url, **FETCH).status_code == status


def test_users_without_customers_are_refused(account):
    client = Client()
    client.force_login(staff_user("nobody"))
    response = client.get(reverse("wagtail_customers:filters_drawer", args=("all",)), **FETCH)
    assert response.status_code == 403
    assert response.json()["error"]


def test_the_page_renders_fewer_templates_than_with_the_whole_drawer(admin_client, account):
    """The reason for all this: the drawer's widgets are a fifth of a page's templates."""
    customer(account, "o-1", name="Ada")
    rendered = []

    def count(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(count)
    try:
        admin_client.get("/admin/customers/")
    finally:
        template_rendered.disconnect(count)
    # The search box is the one field rendered.
    assert rendered.count("wagtailadmin/shared/formatted_field.html") == 1
    assert [name for name in rendered if name.startswith("django/forms/widgets/")] == [
        "django/forms/widgets/text.html",
        "django/forms/widgets/input.html",
        "django/forms/widgets/attrs.html",
    ]


def test_a_country_in_force_loads_its_choices_from_the_fetched_drawer_only(admin_client, account):
    """Both <select>s loading their choices would run the grouped count twice."""
    page = admin_client.get("/admin/customers/?country=DE").content.decode()
    assert drawer_fields(page) == ["id_country"] and "wc-country-choices" not in page
    fetched = admin_client.get("/admin/customers/filters/all/?country=DE", **FETCH).content.decode()
    assert 'data-controller="wc-country-choices"' in fetched


@pytest.mark.parametrize("query", ["p=-1", "orders_min=%00", "account=1e9&account=x", "last_order_from=2024-99-99"])
def test_hostile_parameters_never_answer_500(admin_client, account, query):
    response = admin_client.get(f"/admin/customers/filters/all/?{query}", **FETCH)
    assert response.status_code == 200


def test_the_amount_filters_say_their_bounds_are_in_each_accounts_own_currency(admin_client, account, other_account):
    # Shop A keeps USD, Amazon B EUR: a bound of 100 is $100 for one and €100 for the other.
    html = admin_client.get(reverse("wagtail_customers:filters_drawer", args=("all",)), **FETCH).content.decode()
    note = "In each seller account&#x27;s own currency: amounts are not converted between accounts."
    for field in ("amount_spent", "average_order_value", "expected_spend"):
        submenu = html[html.index(f'id="drilldown-id_{field}"') :]
        submenu = submenu[: submenu.find('class="w-drilldown__submenu"', 1)]
        assert note in submenu, field
    orders = html[html.index('id="drilldown-id_orders"') :]
    assert note not in orders[: orders.find('class="w-drilldown__submenu"', 1)]
