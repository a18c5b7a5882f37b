"""The country filter's choices are loaded after the listing page from their own URL (issue 14).

The countries of the customers in scope with their counts are a grouped count over every one of them:
the page renders the country ``<select>`` with only "Any country" and the selected country, and
``views/listing/country_choices.py`` answers the rest as JSON, scoped like the listing.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.listing_support import staff_user
from tests.test_countries import country_select, german, ordered_from
from tests.test_listing import HOSTILE_QUERIES
from wagtail_customers.listing import TABS
from wagtail_customers.models import Customer, ListingPreference
from wagtail_customers.services.ingestion import record_order

pytestmark = pytest.mark.django_db

CUSTOMER_TABLE = Customer._meta.db_table
COUNTRY_COLUMN = f'"{CUSTOMER_TABLE}"."country"'


def grouped_by_country(queries):
    """The grouped queries that read the customers' country (``filters.country_choices`` is one; some
    backends write its ``GROUP BY`` as a column position)."""
    return [query["sql"] for query in queries if "GROUP BY" in query["sql"].upper() and COUNTRY_COLUMN in query["sql"]]


@pytest.fixture
def world(account, other_account):
    """Account A: two German customers, one British, one in "Channel Islands"; account B: a French one."""
    people = [
        (account, "a1", "DE"),
        (account, "a2", "Deutschland"),
        (account, "a3", "United Kingdom"),
        (account, "a4", "Channel Islands"),
        (other_account, "b1", "France"),
    ]
    for shop, key, country in people:
        record_order(shop, ordered_from(key, country))


def choices_url(tab="all", query=""):
    url = reverse("wagtail_customers:country_choices", args=[tab])
    return f"{url}?{query}" if query else url


def choices(client, tab="all", query=""):
    response = client.get(choices_url(tab, query))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_the_choices_are_the_countries_in_scope_with_counts_sorted_by_name(admin_client, world):
    assert choices(admin_client) == [
        ["Channel Islands", "Channel Islands (1)"],
        ["FR", "France (1)"],
        ["DE", "Germany (2)"],
        ["GB", "United Kingdom (1)"],
    ]


def test_a_tab_counts_its_own_customers(admin_client, superuser, world):
    from wagtail_customers.services.watchlist import add_to_watchlist

    # The Watchlist holds one of the two German customers: its choices count that one alone.
    add_to_watchlist(Customer.objects.filter(name="A1"), superuser)
    assert Customer.objects.filter(watched=True).count() == 1
    assert choices(admin_client, tab="watchlist") == [["DE", "Germany (1)"]]
    assert choices(admin_client, tab="promo-codes") == []


def test_the_names_are_in_the_users_language(client, account, world):
    client.force_login(german(staff_user("sellerin", {account: {"can_view": True}})))
    assert choices(client) == [
        ["Channel Islands", "Channel Islands (1)"],
        ["DE", "Deutschland (2)"],
        ["GB", "Vereinigtes Königreich (1)"],
    ]


def test_a_user_sees_only_the_countries_of_their_accounts(client, account, other_account, world):
    client.force_login(staff_user("seller", {other_account: {"can_view": True}}))
    assert choices(client) == [["FR", "France (1)"]]
    # Another account's id in the URL only empties the choices.
    assert choices(client, query=f"account={account.pk}") == []


def test_the_account_selection_is_honoured(admin_client, superuser, account, other_account, world):
    assert choices(admin_client, query=f"account={other_account.pk}") == [["FR", "France (1)"]]
    # The remembered selection, unless the URL overrides it ("account=" alone: every account).
    ListingPreference.objects.create(user=superuser, account_ids=[other_account.pk])
    assert choices(admin_client) == [["FR", "France (1)"]]
    assert len(choices(admin_client, query="account=")) == 4
    assert len(choices(admin_client, query=f"account={account.pk}")) == 3


def test_other_parameters_are_ignored(admin_client, world):
    everything = choices(admin_client)
    assert choices(admin_client, query="country=DE&q=a1&channel=amazon&has_returns=yes") == everything
    assert choices(admin_client, tab="most-orders") == everything  # a tab of every customer


@pytest.mark.parametrize("query", HOSTILE_QUERIES + ["account=%C2%B2", "account=" + "9" * 400])
def test_hostile_parameters_never_fail(admin_client, world, query):
    response = admin_client.get(choices_url(query=query))
    assert response.status_code == 200, query
    assert isinstance(response.json(), list)


def test_get_only_and_refusals(client, admin_client, world):
    assert admin_client.post(choices_url()).status_code == 405
    assert admin_client.get(choices_url("no-such-tab")).status_code == 404
    client.force_login(staff_user("nobody"))
    response = client.get(choices_url(), HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert "error" in response.json()


@pytest.mark.parametrize("tab", TABS, ids=lambda tab: tab.slug)
@pytest.mark.parametrize("query", ["", "country=DE", "country=Channel+Islands&q=a", "account=1&country=GB"])
def test_the_page_runs_no_grouped_count_of_the_countries(admin_client, world, tab, query):
    path = reverse(f"wagtail_customers:{tab.url_name}")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(f"{path}?{query}")
    assert response.status_code == 200
    assert grouped_by_country(queries.captured_queries) == []
    # The same query does run for the choices, so the pattern above would see it.
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(choices_url(tab.slug))
    assert grouped_by_country(queries.captured_queries)


def test_the_filters_drawer_says_where_to_load_the_choices_from(admin_client, account, world):
    drawer = admin_client.get(
        f"/admin/customers/filters/most-returned/?account={account.pk}&q=x", HTTP_X_REQUESTED_WITH="XMLHttpRequest"
    )
    attributes, options = country_select(drawer)
    assert 'data-controller="wc-country-choices"' in attributes
    assert f'data-wc-country-choices-url-value="{choices_url("most-returned", f"account={account.pk}")}"' in attributes
    assert options == [("", "Any country")]


def test_a_removed_chip_brings_a_drawer_that_loads_its_own_choices(admin_client, world):
    """Removing a chip swaps in a new filters drawer (Wagtail's ``_w_filter_fragment``), without the count."""
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/customers/results/?country=GB&_w_filter_fragment=1")
    assert grouped_by_country(queries.captured_queries) == []
    attributes, options = country_select(response)
    assert 'data-controller="wc-country-choices"' in attributes
    assert options == [("", "Any country"), ("GB", "United Kingdom")]


def test_the_chip_of_a_selected_country_names_it_without_a_count(admin_client, world):
    html = admin_client.get("/admin/customers/?country=DE").content.decode()
    chips = html.split('class="w-active-filters"', 1)[1].split("</ul>", 1)[0]
    assert re.search(r"Country:\s*</span>\s*<b[^>]*>Germany</b>", chips)
