"""The listing's actions: the watchlist eye, bulk actions, delete, and saved preferences."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests.listing_support import column_labels, customer, many_customers, row_ids, staff_user
from wagtail_customers.columns import COLUMNS_BY_NAME, DEFAULT_COLUMNS
from wagtail_customers.models import (
    Customer,
    EventKind,
    ListingPreference,
    Order,
    OrderEvent,
    WatchlistEntry,
)
from wagtail_customers.views.listing import index as listing_index

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def toggle_url(customer):
    return reverse("wagtail_customers:watchlist_toggle", args=(customer.pk,))


def default_labels():
    return [str(COLUMNS_BY_NAME[name].label) for name in DEFAULT_COLUMNS]


def bulk_url(action, tab="all"):
    return reverse("wagtail_customers:bulk_action", args=(tab, action))


@pytest.fixture
def ada(account):
    return customer(account, "A1", email="ada@example.com", name="Ada Lovelace")


@pytest.fixture
def dan(other_account):
    return customer(other_account, "D1", email="dan@example.org", name="Dan Brown")


# --- The watchlist eye --------------------------------------------------------------------------


def test_the_eye_toggles_with_json_for_fetch(admin_client, ada, superuser):
    response = admin_client.post(toggle_url(ada), **JSON)
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["watched"] is True and data["customer"] == ada.pk
    entry = WatchlistEntry.objects.get(customer=ada)
    assert entry.added_by == superuser
    data = json.loads(admin_client.post(toggle_url(ada), **JSON).content)
    assert data["watched"] is False
    assert not WatchlistEntry.objects.filter(customer=ada).exists()


def test_the_eye_works_as_a_plain_form_and_goes_back(admin_client, ada):
    back = "/admin/customers/highest-value/?q=ada"
    response = admin_client.post(toggle_url(ada), {"next": back, "watch": "1"})
    assert response.status_code == 302 and response["Location"] == back
    assert WatchlistEntry.objects.filter(customer=ada).exists()
    # Asking for the state it already has changes nothing (a double click).
    admin_client.post(toggle_url(ada), {"watch": "1"})
    assert WatchlistEntry.objects.filter(customer=ada).count() == 1
    assert OrderEvent.objects.filter(customer=ada, kind=EventKind.WATCHLIST).count() == 1


def test_the_eye_without_javascript_goes_back_to_the_page_it_was_on(admin_client, account):
    many_customers(account, 30)
    page = admin_client.get("/admin/customers/", {"per_page": 10})
    for _page in range(2):  # on to page 3 by the footer's links (a keyset position)
        page = admin_client.get(page.context["pagination"]["next_url"])
    assert page.context["pagination"]["number"] == 3
    shown = row_ids(page)
    first = Customer.objects.get(pk=shown[0])
    html = page.content.decode()
    form = html[html.index(f'action="{toggle_url(first)}"') :].split("</form>", 1)[0]
    back = re.search(r'name="next" value="([^"]+)"', form)[1].replace("&amp;", "&")
    assert "p=3" in back and "after=" in back
    response = admin_client.post(toggle_url(first), {"next": back, "watch": "1"}, follow=True)
    assert WatchlistEntry.objects.filter(customer=first).exists()
    assert response.context["pagination"]["number"] == 3 and row_ids(response) == shown


def test_the_eye_ignores_a_next_url_on_another_site(admin_client, ada):
    response = admin_client.post(toggle_url(ada), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("wagtail_customers:index")


def test_watched_customers_show_a_filled_eye_and_appear_in_the_watchlist_tab(admin_client, ada):
    page = admin_client.get("/admin/customers/").content.decode()
    assert 'aria-pressed="false"' in page and "#icon-wc-eye-outline" in page
    admin_client.post(toggle_url(ada))
    page = admin_client.get("/admin/customers/").content.decode()
    assert 'aria-pressed="true"' in page and "#icon-view" in page
    assert row_ids(admin_client.get("/admin/customers/watchlist/")) == [ada.pk]


def test_the_customer_pages_watchlist_buttons_say_what_they_do_and_are_no_toggles(admin_client, ada):
    # Their label flips ("Add to" / "Remove from"): with aria-pressed a screen reader said "Remove from watchlist,
    # pressed". The listing's eye keeps one label, so it is the toggle.
    detail = reverse("wagtail_customers_customer:detail", args=[ada.pk])
    page = admin_client.get(detail).content.decode()
    assert "Add to watchlist" in page and "aria-pressed" not in page
    admin_client.post(toggle_url(ada))
    page = admin_client.get(detail).content.decode()
    assert "Remove from watchlist" in page and "aria-pressed" not in page


def test_the_eye_refuses_a_post_without_csrf_token(ada, superuser):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    assert client.post(toggle_url(ada)).status_code == 403
    assert not WatchlistEntry.objects.filter(customer=ada).exists()


def test_the_eye_only_answers_post(admin_client, ada):
    assert admin_client.get(toggle_url(ada)).status_code == 405
    assert not WatchlistEntry.objects.exists()


def test_watchlist_changes_are_logged_and_on_the_timeline(admin_client, ada, superuser):
    admin_client.post(toggle_url(ada))
    admin_client.post(toggle_url(ada))
    actions = list(
        ModelLogEntry.objects.filter(object_id=str(ada.pk), content_type__model="customer")
        .order_by("pk")
        .values_list("action", "user_id")
    )
    assert actions == [
        ("wagtail_customers.watchlist.add", superuser.pk),
        ("wagtail_customers.watchlist.remove", superuser.pk),
    ]
    events = OrderEvent.objects.filter(customer=ada, kind=EventKind.WATCHLIST).order_by("pk")
    assert [event.message for event in events] == ["Added to the watchlist", "Removed from the watchlist"]
    assert all(event.user == superuser for event in events)


def test_the_eye_needs_the_manage_watchlist_action(client, account, ada):
    viewer = staff_user("viewer", {account: {"can_view": True}})
    client.force_login(viewer)
    page = client.get("/admin/customers/").content.decode()
    assert toggle_url(ada) not in page
    response = client.post(toggle_url(ada), **JSON)
    assert response.status_code == 403
    assert client.post(toggle_url(ada)).status_code == 403
    assert not WatchlistEntry.objects.exists()


def test_the_eye_on_another_accounts_customer_is_not_found(client, account, dan):
    manager = staff_user("manager", {account: {"can_view": True, "can_manage_watchlist": True}})
    client.force_login(manager)
    assert client.post(toggle_url(dan), **JSON).status_code == 404
    assert client.post(reverse("wagtail_customers:watchlist_toggle", args=(987654,))).status_code == 404
    assert not WatchlistEntry.objects.exists()


# --- Bulk actions -----------------------------------------------------------------------------


def test_bulk_buttons_follow_the_users_permissions(client, account):
    customer(account, "A1")
    viewer = staff_user("viewer", {account: {"can_view": True}})
    client.force_login(viewer)
    page = client.get("/admin/customers/").content.decode()
    assert "data-bulk-action-footer" not in page and "bulk-action-checkbox" not in page
    manager = staff_user("manager", {account: {"can_view": True, "can_manage_watchlist": True}})
    client.force_login(manager)
    page = client.get("/admin/customers/").content.decode()
    assert bulk_url("watchlist-add") in page and bulk_url("delete") not in page


def test_bulk_add_to_watchlist_confirms_then_acts(admin_client, account):
    customers = many_customers(account, 3)
    query = "&".join(f"id={c.pk}" for c in customers[:2]) + "&next=/admin/customers/"
    confirm = admin_client.get(f"{bulk_url('watchlist-add')}?{query}")
    assert confirm.status_code == 200
    assert "Add these 2 customers to the watchlist?" in confirm.content.decode()
    assert not WatchlistEntry.objects.exists()
    response = admin_client.post(f"{bulk_url('watchlist-add')}?{query}")
    assert response.status_code == 302 and response["Location"] == "/admin/customers/"
    assert set(WatchlistEntry.objects.values_list("customer_id", flat=True)) == {c.pk for c in customers[:2]}
    assert ModelLogEntry.objects.filter(action="wagtail_customers.watchlist.add").count() == 2
    response = admin_client.post(f"{bulk_url('watchlist-remove', 'watchlist')}?{query}")
    assert not WatchlistEntry.objects.exists()


def test_bulk_select_all_uses_the_tab_and_its_filters(admin_client, account, other_account):
    many_customers(account, 4, prefix="alpha")
    bravo = many_customers(other_account, 3, prefix="bravo")
    url = f"{bulk_url('watchlist-add', 'highest-value')}?id=all&channel=amazon&q=bravo"
    confirm = admin_client.get(url)
    assert "Add these 3 customers to the watchlist?" in confirm.content.decode()
    admin_client.post(url)
    assert set(WatchlistEntry.objects.values_list("customer_id", flat=True)) == {c.pk for c in bravo}


def test_bulk_leaves_alone_what_the_user_may_not_change(client, account, other_account):
    mine = customer(account, "A1", email="mine@example.com", name="Mine")
    theirs = customer(other_account, "B1", email="theirs@example.com", name="Theirs")
    user = staff_user("mixed", {account: {"can_view": True, "can_delete": True}, other_account: {"can_view": True}})
    client.force_login(user)
    url = f"{bulk_url('delete')}?id={mine.pk}&id={theirs.pk}"
    confirm = client.get(url).content.decode()
    assert "Delete this customer?" in confirm
    assert "You may not do this for 1 selected customer" in confirm and "Theirs" in confirm
    client.post(url)
    assert not Customer.objects.filter(pk=mine.pk).exists()
    assert Customer.objects.filter(pk=theirs.pk).exists()


def test_bulk_ids_outside_the_users_scope_are_not_found(client, account, dan):
    user = staff_user("deleter", {account: {"can_view": True, "can_delete": True}})
    client.force_login(user)
    url = f"{bulk_url('delete')}?id={dan.pk}&id=abc&id=99999999999999999999"
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Dan Brown" not in confirm.content.decode()
    client.post(url)
    assert Customer.objects.filter(pk=dan.pk).exists()


def test_bulk_delete_confirmation_says_what_goes_with_them(admin_client, account, ada, superuser):
    customer(account, "A2", email="ada@example.com", name="Ada Lovelace")
    WatchlistEntry.objects.create(customer=ada, added_by=superuser)
    bob = customer(account, "B1", email="bob@example.com", name="Bob")
    url = f"{bulk_url('delete')}?id={ada.pk}&id={bob.pk}"
    content = admin_client.get(url).content.decode()
    assert "Delete these 2 customers?" in content
    assert "3 orders, with their lines" in content
    assert "1 watchlist entry" in content
    admin_client.post(url)
    assert not Customer.objects.filter(pk__in=[ada.pk, bob.pk]).exists()
    assert not Order.objects.exists() and not WatchlistEntry.objects.exists()
    deleted = ModelLogEntry.objects.filter(action="wagtail.delete", content_type__model="customer")
    assert sorted(deleted.values_list("object_id", flat=True)) == sorted([str(ada.pk), str(bob.pk)])


def test_bulk_actions_refuse_get_changes_unknown_actions_and_csrf_less_posts(ada, superuser, admin_client):
    assert admin_client.get(f"{bulk_url('delete')}?id={ada.pk}").status_code == 200
    assert Customer.objects.filter(pk=ada.pk).exists()
    assert admin_client.get(bulk_url("explode")).status_code == 404
    assert admin_client.get(bulk_url("delete", "no-such-tab")).status_code == 404
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    assert client.post(f"{bulk_url('delete')}?id={ada.pk}").status_code == 403
    assert Customer.objects.filter(pk=ada.pk).exists()


def test_export_selected_is_offered_only_when_exports_are_installed(admin_client, ada, monkeypatch):
    monkeypatch.setattr(listing_index, "EXPORT_START_URL_NAME", "wagtail_customers_exports:not-installed")
    page = admin_client.get("/admin/customers/").content.decode()
    assert bulk_url("export") not in page
    assert admin_client.get(f"{bulk_url('export')}?id={ada.pk}").status_code == 404


def test_export_selected_posts_the_listing_filter_and_ids(admin_client, ada, monkeypatch):
    # Any existing URL stands in for the exports feature's start view.
    monkeypatch.setattr(listing_index, "EXPORT_START_URL_NAME", "wagtailadmin_home")
    page = admin_client.get("/admin/customers/").content.decode()
    assert bulk_url("export", "all") in page
    content = admin_client.get(f"{bulk_url('export', 'most-orders')}?id={ada.pk}&q=ada").content.decode()
    assert 'action="/admin/"' in content
    for name, value in (("tab", "most-orders"), ("scope", "selected"), ("q", "ada"), ("ids", str(ada.pk))):
        assert f'name="{name}" value="{value}"' in content
    everything = admin_client.get(f"{bulk_url('export', 'all')}?id=all&channel=shopify").content.decode()
    assert 'name="scope" value="all"' in everything and 'name="channel" value="shopify"' in everything
    # The selection is the tab's rows among the ids: nobody here has used a promo code.
    nothing = admin_client.get(f"{bulk_url('export', 'promo-codes')}?id={ada.pk}").content.decode()
    assert 'action="/admin/"' not in nothing and "nothing to do" in nothing


# --- Deleting one customer ---------------------------------------------------------------------


def test_delete_confirmation_says_what_goes_with_the_customer(admin_client, account, ada, superuser):
    customer(account, "A2", email="ada@example.com", name="Ada Lovelace")
    WatchlistEntry.objects.create(customer=ada, added_by=superuser)
    url = reverse("wagtail_customers:delete", args=(ada.pk,))
    content = admin_client.get(url).content.decode()
    assert "Ada Lovelace" in content
    assert "2 orders, with their lines" in content and "1 watchlist entry" in content
    assert Customer.objects.filter(pk=ada.pk).exists()
    response = admin_client.post(url, {"next": "/admin/customers/most-orders/"})
    assert response["Location"] == "/admin/customers/most-orders/"
    assert not Customer.objects.filter(pk=ada.pk).exists()
    assert not Order.objects.filter(customer_id=ada.pk).exists()
    log = ModelLogEntry.objects.get(action="wagtail.delete", object_id=str(ada.pk))
    # Labelled by id (history_labels.py): the deleted customer's name is not kept in the history.
    assert log.user_id == superuser.pk and log.label == f"Customer #{ada.pk}"


def test_delete_needs_the_delete_action_and_scope(client, account, ada, dan):
    viewer = staff_user("viewer", {account: {"can_view": True}})
    client.force_login(viewer)
    url = reverse("wagtail_customers:delete", args=(ada.pk,))
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert "/delete/" not in client.get("/admin/customers/").content.decode()
    deleter = staff_user("deleter", {account: {"can_view": True, "can_delete": True}})
    client.force_login(deleter)
    assert client.get(reverse("wagtail_customers:delete", args=(dan.pk,))).status_code == 404
    assert client.post(reverse("wagtail_customers:delete", args=(dan.pk,))).status_code == 404
    assert Customer.objects.filter(pk=dan.pk).exists()
    assert client.post(url).status_code == 302
    assert not Customer.objects.filter(pk=ada.pk).exists()


# --- Saved preferences -------------------------------------------------------------------------


def test_column_view_is_saved_per_user_and_applies_to_every_tab(admin_client, ada, superuser):
    response = admin_client.post(
        reverse("wagtail_customers:save_columns"),
        {"columns": ["amount_spent", "email", "bogus", "amount_spent"], "next": "/admin/customers/?columns=x"},
    )
    assert response.status_code == 302
    assert ListingPreference.objects.get(user=superuser).columns == ["name", "amount_spent", "email"]
    for path in ("/admin/customers/", "/admin/customers/highest-value/"):
        assert column_labels(admin_client.get(path)) == ["Customer", "Amount spent", "E-mail"]
    admin_client.post(reverse("wagtail_customers:reset_columns"))
    assert ListingPreference.objects.get(user=superuser).columns == []
    assert column_labels(admin_client.get("/admin/customers/")) == default_labels()


def test_column_view_of_one_user_is_not_anothers(admin_client, client, account, ada):
    admin_client.post(reverse("wagtail_customers:save_columns"), {"columns": ["name", "units"]})
    other = staff_user("other", {account: {"can_view": True}})
    client.force_login(other)
    assert column_labels(client.get("/admin/customers/")) == default_labels()


def test_preference_endpoints_only_take_csrf_protected_posts(superuser, admin_client):
    for name in ("save_columns", "reset_columns", "save_per_page", "save_accounts"):
        assert admin_client.get(reverse(f"wagtail_customers:{name}")).status_code == 405
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    assert client.post(reverse("wagtail_customers:save_columns"), {"columns": ["units"]}).status_code == 403
    assert not ListingPreference.objects.exists()


def test_rows_per_page_are_remembered(admin_client, account, superuser):
    many_customers(account, 60)
    response = admin_client.post(
        reverse("wagtail_customers:save_per_page"), {"per_page": "50", "next": "/admin/customers/?per_page=10&p=2"}
    )
    assert response["Location"] == "/admin/customers/"
    assert len(row_ids(admin_client.get("/admin/customers/"))) == 50
    admin_client.post(reverse("wagtail_customers:save_per_page"), {"per_page": "9999"})
    assert ListingPreference.objects.get(user=superuser).per_page == 25


def test_account_selection_is_remembered_and_scoped(client, account, other_account, ada, dan):
    third = other_account.__class__.objects.create(name="Third", currency="GBP")
    user = staff_user("seller", {account: {"can_view": True}, other_account: {"can_view": True}})
    client.force_login(user)
    assert sorted(row_ids(client.get("/admin/customers/"))) == sorted([ada.pk, dan.pk])
    response = client.post(
        reverse("wagtail_customers:save_accounts"),
        {"account": [str(other_account.pk), str(third.pk), "junk"], "next": f"/admin/customers/?account={account.pk}"},
    )
    assert response["Location"] == "/admin/customers/"
    assert ListingPreference.objects.get(user=user).account_ids == [other_account.pk]
    assert row_ids(client.get("/admin/customers/")) == [dan.pk]
    # The URL's account parameter (a filter chip, a bookmark) takes precedence over the remembered one.
    assert row_ids(client.get(f"/admin/customers/?account={account.pk}")) == [ada.pk]
    client.post(reverse("wagtail_customers:save_accounts"), {"all": "1"})
    assert sorted(row_ids(client.get("/admin/customers/"))) == sorted([ada.pk, dan.pk])
