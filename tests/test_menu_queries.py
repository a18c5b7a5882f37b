"""The Customers menu reads the user's access once a page: Wagtail asks each of its entries whether to show itself
on every admin page, twice, and each entry asking the database was 14 queries a page for a user with grants."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail_customers.models import AccessGrant, SellerAccount

from .permission_world import build_world, grant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["staff", "view_a", "all_a", "group", "superuser"])
def test_an_admin_page_reads_the_users_grants_once_for_the_menu(client, wagtail_page_tree, name):
    world = build_world()
    client.force_login(world.users[name])
    client.get("/admin/")  # warm caches (content types, site root...)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/")
    assert response.status_code == 200
    grants = f'SELECT "{AccessGrant._meta.db_table}".'
    grants_read = [q["sql"] for q in queries if q["sql"].startswith(grants)]
    # The dashboard has no panel of the plugin's: every query of the grants here is the menu's (the alerts' bell
    # scopes its count with them, inside its one query); none for those whose permissions cover every action.
    assert len(grants_read) == (0 if name == "superuser" else 1), grants_read
    # What can(user, action) runs for each question: none, the menu's entries and the watchlist's included.
    one_by_one = 'SELECT 1 AS "a" FROM "wagtail_customers_selleraccount"'
    assert not [q["sql"] for q in queries if q["sql"].startswith(one_by_one)]
    menu = response.content.decode()
    assert ('"name": "customers"' in menu) == (name != "staff")


@pytest.mark.parametrize("name", ["view_a", "all_a", "group", "superuser"])
@pytest.mark.parametrize("url", ["/admin/customers/", "/admin/customers/saved-views/"])
def test_the_listings_access_check_is_the_menus_read(client, wagtail_page_tree, name, url):
    """Whether the user may open the listing (its pages, fragments, menus and saved views) is answered from the
    grants the menu reads, not by a ``can()`` query of its own."""
    world = build_world()
    client.force_login(world.users[name])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    one_by_one = 'SELECT 1 AS "a" FROM "wagtail_customers_selleraccount"'
    assert not [q["sql"] for q in queries if q["sql"].startswith(one_by_one)]


@pytest.mark.parametrize("access", ["none", "view on a disabled account", "export only"])
def test_a_user_who_may_not_open_the_listing_is_still_refused(client, wagtail_page_tree, access):
    world = build_world()
    user = world.users["staff"]
    if access == "view on a disabled account":
        grant(user, world.b["account"], "view")
        SellerAccount.objects.filter(pk=world.b["account"].pk).update(is_enabled=False)
    elif access == "export only":
        grant(user, world.a["account"], "export")
    client.force_login(user)
    assert client.get("/admin/customers/").status_code == 403
    assert client.get("/admin/customers/saved-views/").status_code == 403
