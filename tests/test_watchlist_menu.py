"""The watchlist lives in the Customers menu only: installing the plugin adds no "Snippets" menu item.

Wagtail shows its Snippets menu item (and lists a snippet on ``/admin/snippets/``) for every snippet
whose viewset has no menu item of its own; the watchlist's viewset registers its item in the Customers
menu, so a site with no other snippets has no Snippets menu, and ``/admin/snippets/`` shows no count of
watchlist entries to anyone.
"""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from wagtail.admin.menu import admin_menu
from wagtail.snippets.models import get_snippet_models
from wagtail.snippets.views.snippets import get_snippet_models_for_index_view

from tests.permission_world import build_world
from wagtail_customers.menu import customers_menu
from wagtail_customers.models import WatchlistEntry

pytestmark = pytest.mark.django_db


def menu_names(menu, user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return [item.name for item in menu.menu_items_for_request(request)]


@pytest.fixture
def world(db):
    return build_world()


def test_the_example_site_has_no_other_snippet():
    # What the next tests stand on: the watchlist is the only snippet of the test site.
    assert get_snippet_models() == [WatchlistEntry]


def test_a_site_with_no_other_snippets_shows_no_snippets_menu_item(world):
    for name in ("superuser", "all_a", "group", "view_a"):
        assert "snippets" not in menu_names(admin_menu, world.users[name]), name
    assert get_snippet_models_for_index_view() == []


def test_the_watchlist_is_in_the_customers_menu(world):
    watchlist = reverse("wagtailsnippets_wagtail_customers_watchlistentry:list")
    request = RequestFactory().get("/admin/")
    for name in ("superuser", "all_a", "view_a"):
        request.user = world.users[name]
        urls = [item.url for item in customers_menu.menu_items_for_request(request)]
        assert urls.count(watchlist) == 1, name
    request.user = world.users["staff"]
    assert watchlist not in [item.url for item in customers_menu.menu_items_for_request(request)]


def test_the_snippets_index_shows_no_count_of_watchlist_entries(client, world):
    for name in ("superuser", "staff", "view_a"):
        client.force_login(world.users[name])
        response = client.get(reverse("wagtailsnippets:index"))
        # Nothing to list: Wagtail refuses the page (its redirect to the dashboard), for everyone.
        assert response.status_code == 302, name
        assert response["Location"] == reverse("wagtailadmin_home")


def test_the_watchlist_breadcrumbs_do_not_lead_to_snippets(admin_client, world):
    content = admin_client.get(reverse("wagtailsnippets_wagtail_customers_watchlistentry:list")).content.decode()
    assert reverse("wagtailsnippets:index") not in content
