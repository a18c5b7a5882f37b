"""Scoping of the listing and its companions: grants, disabled accounts, the watchlist snippet, seller
accounts, the menu and the wagtail-modeladmin Customer column."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from shop.ledger import SHOP_ACCOUNT_NAME, to_order_data
from shop.models import ShopOrder, ShopOrderLine
from wagtail.models import ModelLogEntry

from tests.listing_support import customer, row_ids, staff_user
from wagtail_customers.listing import customer_listing_queryset
from wagtail_customers.models import Channel, EventKind, OrderEvent, SellerAccount, WatchlistEntry
from wagtail_customers.permissions import Action
from wagtail_customers.services.ingestion import record_order

pytestmark = pytest.mark.django_db

ALL_TABS = ["", "highest-value/", "most-orders/", "most-returned/", "promo-codes/", "watchlist/"]
MARKER = "bravomarker"


@pytest.fixture
def two_shops(account, other_account, superuser):
    """One customer per account who is on every tab (returns, promo code, watchlist); B's carries a marker."""
    mine = customer(account, "A1", email="alice@example.com", name="Alice", promo_codes=["A10"])
    theirs = customer(other_account, "B1", email=f"{MARKER}@example.com", name=f"Bob {MARKER}", promo_codes=["B10"])
    for person in (mine, theirs):
        person.returned_units = 1
        person.save(update_fields=["returned_units"])
        WatchlistEntry.objects.create(customer=person, added_by=superuser, note=f"note {person.name}")
    return mine, theirs


@pytest.mark.parametrize("tab", ALL_TABS)
def test_rows_of_an_account_without_a_grant_never_appear(client, account, two_shops, tab):
    mine, theirs = two_shops
    user = staff_user("seller", {account: {"can_view": True, "can_manage_watchlist": True, "can_delete": True}})
    client.force_login(user)
    for query in ("", "?q=bravo", f"?account={theirs.account_id}", f"?account={theirs.account_id}&account=x"):
        for suffix in ("", "results/"):
            response = client.get(f"/admin/customers/{tab}{suffix}{query}")
            assert response.status_code == 200
            assert MARKER not in response.content.decode().lower(), (tab, suffix, query)
            assert theirs.pk not in row_ids(response)
    assert row_ids(client.get(f"/admin/customers/{tab}")) == [mine.pk]
    stats = client.get(f"/admin/customers/{tab}").context["statistics"]
    assert stats["customers"] == 1


def test_users_with_every_account_see_both(admin_client, two_shops):
    assert sorted(row_ids(admin_client.get("/admin/customers/watchlist/"))) == sorted(c.pk for c in two_shops)


def test_asking_for_another_accounts_customers_shows_nothing(client, account, two_shops):
    mine, theirs = two_shops
    client.force_login(staff_user("seller", {account: {"can_view": True}}))
    assert row_ids(client.get(f"/admin/customers/?account={theirs.account_id}")) == []
    assert row_ids(client.get(f"/admin/customers/?account={theirs.account_id}&account={mine.account_id}")) == [mine.pk]


@pytest.mark.parametrize("tab", ["", "most-returned/"])
def test_a_url_naming_only_accounts_not_theirs_says_so_not_all_your_accounts(client, account, two_shops, tab):
    mine, theirs = two_shops
    client.force_login(staff_user("seller", {account: {"can_view": True}}))
    page = client.get(f"/admin/customers/{tab}?account={theirs.account_id}&q=a").content.decode()
    heading = re.search(r'id="wc-statistics-heading">(.*?)</h2>', page, re.S)[1].strip()
    assert heading == "None of the seller accounts in the address is yours"
    assert "Seller accounts: none of yours" in page and "Seller accounts: all" not in page
    assert "Statistics for" not in page
    # The empty table says why, with the way to the user's own accounts (the search kept).
    assert "the address names only seller accounts that are not yours" in page
    # An empty account= is every account: without it, the selection the user saved would be read.
    assert f'href="/admin/customers/{tab}?account=&amp;q=a">Show all your seller accounts</a>' in page
    # Their own accounts, named or by default, read as before.
    page = client.get(f"/admin/customers/?account={mine.account_id}").content.decode()
    assert "Statistics for 1 seller account" in page and "none of yours" not in page


def test_users_without_any_grant_are_refused(client, two_shops):
    client.force_login(staff_user("nobody"))
    for path in ("/admin/customers/", "/admin/customers/results/", "/admin/customers/watchlist/"):
        assert client.get(path).status_code == 403


def test_disabled_accounts_drop_out(admin_client, two_shops, other_account):
    other_account.is_enabled = False
    other_account.save()
    mine, theirs = two_shops
    for tab in ALL_TABS:
        assert theirs.pk not in row_ids(admin_client.get(f"/admin/customers/{tab}"))
    assert row_ids(admin_client.get(f"/admin/customers/?account={other_account.pk}")) == []
    assert admin_client.post(reverse("wagtail_customers:watchlist_toggle", args=(theirs.pk,))).status_code == 404


def test_exports_scope_by_the_export_grant(account, other_account, two_shops):
    mine, theirs = two_shops
    user = staff_user("exporter", {account: {"can_view": True, "can_export": True}, other_account: {"can_view": True}})
    assert sorted(customer_listing_queryset(user, "all", {}).values_list("pk", flat=True)) == sorted(
        [mine.pk, theirs.pk]
    )
    exported = customer_listing_queryset(user, "all", {}, action=Action.EXPORT)
    assert list(exported.values_list("pk", flat=True)) == [mine.pk]


def test_no_seller_accounts_yet_says_what_to_do(admin_client):
    content = admin_client.get("/admin/customers/").content.decode()
    assert "No seller accounts yet" in content
    assert reverse("wagtail_customers_accounts:add") in content


def test_empty_watchlist_says_how_to_fill_it(admin_client, account):
    customer(account, "A1")
    content = admin_client.get("/admin/customers/watchlist/").content.decode()
    assert "The watchlist is empty" in content and "eye" in content


# --- The watchlist snippet -------------------------------------------------------------------


def snippet_url(name, *args):
    return reverse(f"wagtailsnippets_wagtail_customers_watchlistentry:{name}", args=args)


def test_watchlist_snippet_lists_only_entries_the_user_may_view(client, account, two_shops):
    mine, theirs = two_shops
    client.force_login(staff_user("seller", {account: {"can_view": True, "can_manage_watchlist": True}}))
    response = client.get(snippet_url("list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Alice" in content and MARKER not in content.lower()
    theirs_entry = WatchlistEntry.objects.get(customer=theirs)
    assert client.get(snippet_url("edit", theirs_entry.pk)).status_code == 404
    assert client.post(snippet_url("delete", theirs_entry.pk)).status_code == 404
    assert WatchlistEntry.objects.filter(pk=theirs_entry.pk).exists()


def test_watchlist_snippet_edit_and_delete_need_manage_watchlist(client, account, two_shops):
    mine, _theirs = two_shops
    entry = WatchlistEntry.objects.get(customer=mine)
    client.force_login(staff_user("viewer", {account: {"can_view": True}}))
    assert client.get(snippet_url("list")).status_code == 200
    assert client.post(snippet_url("delete", entry.pk)).status_code == 403
    assert WatchlistEntry.objects.filter(pk=entry.pk).exists()


def test_deleting_an_entry_in_the_snippet_is_a_watchlist_removal(admin_client, two_shops, superuser):
    mine, _theirs = two_shops
    entry = WatchlistEntry.objects.get(customer=mine)
    response = admin_client.post(snippet_url("delete", entry.pk))
    assert response.status_code == 302
    assert not WatchlistEntry.objects.filter(pk=entry.pk).exists()
    assert OrderEvent.objects.filter(customer=mine, kind=EventKind.WATCHLIST, user=superuser).exists()
    assert ModelLogEntry.objects.filter(action="wagtail_customers.watchlist.remove", object_id=str(mine.pk)).exists()
    assert ModelLogEntry.objects.filter(action="wagtail.delete", object_id=str(entry.pk)).exists()


def test_bulk_delete_in_the_snippet_is_scoped_and_recorded(client, account, two_shops):
    mine, theirs = two_shops
    user = staff_user("seller", {account: {"can_view": True, "can_manage_watchlist": True}})
    client.force_login(user)
    url = reverse("wagtail_bulk_action", args=("wagtail_customers", "watchlistentry", "delete"))
    response = client.post(f"{url}?id=all")
    assert response.status_code == 302
    assert not WatchlistEntry.objects.filter(customer=mine).exists()
    assert WatchlistEntry.objects.filter(customer=theirs).exists()
    assert OrderEvent.objects.filter(customer=mine, kind=EventKind.WATCHLIST, user=user).exists()


def test_the_snippets_add_view_sends_users_to_the_listing(admin_client):
    response = admin_client.get(snippet_url("add"))
    assert response.status_code == 302 and response["Location"] == reverse("wagtail_customers:index")


# --- Seller accounts -----------------------------------------------------------------------


def test_superusers_manage_seller_accounts_including_disabled_ones(admin_client, account, other_account):
    other_account.is_enabled = False
    other_account.save()
    content = admin_client.get("/admin/customers/accounts/").content.decode()
    assert account.name in content and other_account.name in content
    response = admin_client.post(
        "/admin/customers/accounts/new/",
        {
            "name": "eBay UK",
            "channel": Channel.EBAY,
            "marketplace": "ebay.co.uk",
            "currency": "GBP",
            "is_enabled": "on",
        },
    )
    assert response.status_code == 302
    assert SellerAccount.objects.filter(name="eBay UK", currency="GBP").exists()


def test_sellers_see_only_their_own_accounts_and_cannot_add(client, account, other_account):
    client.force_login(staff_user("seller", {account: {"can_view": True}}))
    response = client.get("/admin/customers/accounts/")
    assert response.status_code == 200
    content = response.content.decode()
    assert account.name in content and other_account.name not in content
    client.post("/admin/customers/accounts/new/", {"name": "Sneaky", "channel": "other", "currency": "USD"})
    assert not SellerAccount.objects.filter(name="Sneaky").exists()


# --- Menu -----------------------------------------------------------------------------------


def menu_urls(client):
    return client.get("/admin/").content.decode()


def test_the_customers_submenu_has_watchlist_and_seller_accounts_for_superusers(admin_client, account):
    content = menu_urls(admin_client)
    for url in ("/admin/customers/", snippet_url("list"), "/admin/customers/accounts/"):
        assert url in content


def test_sellers_see_the_listing_and_watchlist_but_not_seller_accounts(client, account):
    client.force_login(staff_user("seller", {account: {"can_view": True}}))
    content = menu_urls(client)
    assert "/admin/customers/" in content and "/admin/customers/accounts/" not in content


# --- wagtail-modeladmin: the shop's order admin ----------------------------------------------


@pytest.fixture
def shop_orders(db):
    account = SellerAccount.objects.create(name=SHOP_ACCOUNT_NAME, channel=Channel.WEBSITE, currency="EUR")
    orders = []
    for i in range(12):
        order = ShopOrder.objects.create(
            number=f"W-{i}", customer_name=f"Buyer {i}", customer_email=f"buyer{i}@example.com", country="DE"
        )
        ShopOrderLine.objects.create(order=order, product="Mug", quantity=1, unit_price="10.00")
        record_order(account, to_order_data(order))
        orders.append(order)
    unrecorded = ShopOrder.objects.create(number="W-X", customer_name="Not yet", customer_email="x@example.com")
    return account, orders, unrecorded


def test_the_shop_order_admin_shows_the_customer_column(admin_client, shop_orders):
    account, orders, _unrecorded = shop_orders
    response = admin_client.get("/admin/shop/shoporder/")
    assert response.status_code == 200
    content = response.content.decode()
    assert ">Customer<" in content or "Customer\n" in content
    first = account.customers.get(email="buyer0@example.com")
    assert f'href="/admin/customers/{first.pk}/"' in content
    assert reverse("wagtail_customers:watchlist_toggle", args=(first.pk,)) in content
    assert "wagtail_customers/js/watchlist-toggle-controller.js" in content


def test_the_customer_column_adds_no_query_per_row(admin_client, shop_orders):
    admin_client.get("/admin/shop/shoporder/")
    with CaptureQueriesContext(connection) as few:
        admin_client.get("/admin/shop/shoporder/?q=W-1")  # W-1, W-10, W-11
    with CaptureQueriesContext(connection) as many:
        admin_client.get("/admin/shop/shoporder/")
    assert len(few) == len(many)


def test_the_customer_column_is_scoped(client, shop_orders, other_account):
    account, orders, _unrecorded = shop_orders
    user = staff_user("shopkeeper", {other_account: {"can_view": True}})
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_shoporder", "change_shoporder"]))
    client.force_login(user)
    response = client.get("/admin/shop/shoporder/")
    assert response.status_code == 200
    first = account.customers.get(email="buyer0@example.com")
    assert f"/admin/customers/{first.pk}/" not in response.content.decode()


@pytest.mark.parametrize("sees_personal_data", [True, False])
def test_the_customer_column_names_customers_as_the_user_may_see_them(client, shop_orders, sees_personal_data):
    account, orders, _unrecorded = shop_orders
    user = staff_user("clerk", {account: {"can_view": True, "can_see_personal_data": sees_personal_data}})
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_shoporder", "change_shoporder"]))
    client.force_login(user)
    response = client.get("/admin/shop/shoporder/")
    assert response.status_code == 200
    first = account.customers.get(email="buyer0@example.com")
    cell = re.search(rf'href="/admin/customers/{first.pk}/"[^>]*>(.*?)</a>', response.content.decode(), re.S)
    # The shop's own columns show its own order's buyer; the plugin's cell names the customer as the plugin does.
    assert cell is not None
    assert (cell[1].strip() == "Buyer 0") is sees_personal_data
    assert (f"Customer #{first.pk}" in cell[1]) is not sees_personal_data
