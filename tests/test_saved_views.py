"""Saved views of the Customers listing: save, open, edit, share, update, delete, history, and scope."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import pre_save
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests.listing_support import FETCH, column_labels, customer, lazy_menu_url, row_ids, staff_user
from tests.parallel_support import clashing_saves, in_thread
from wagtail_customers.models import AccessGrant, ListingPreference, SavedView, SavedViewVisibility
from wagtail_customers.services.saved_views import clean_params

pytestmark = pytest.mark.django_db

INDEX = reverse("wagtail_customers_saved_views:index")
CREATE = reverse("wagtail_customers_saved_views:create")


def url(name, view):
    return reverse(f"wagtail_customers_saved_views:{name}", args=(view.pk,))


@pytest.fixture
def people(account, other_account):
    """Ann sees both accounts, Bea only the other one, Cal none."""
    return {
        "ann": staff_user("ann", {account: {"can_view": True}, other_account: {"can_view": True}}),
        "bea": staff_user("bea", {other_account: {"can_view": True}}),
        "cal": staff_user("cal"),
    }


@pytest.fixture
def shop(account, other_account):
    return {
        "a1": customer(account, "A1", email="a1@example.com", name="Alma One", lines=((1, "100.00"),)),
        "a2": customer(account, "A2", email="a2@example.com", name="Alma Two", lines=((1, "5.00"),)),
        "b1": customer(other_account, "B1", email="b1@example.com", name="Bert One", lines=((1, "300.00"),)),
        "b2": customer(other_account, "B2", email="b2@example.com", name="Bert Two", lines=((1, "7.00"),)),
    }


def save_current(client, name="Big spenders", visibility="private", tab="highest-value", query="", columns=()):
    return client.post(
        CREATE,
        {
            "name": name,
            "visibility": visibility,
            "tab": tab,
            "query": query,
            "columns": list(columns),
            "next": "/admin/customers/",
        },
    )


def menu_url_of(page):
    """The URL the listing page's "Saved views" menu loads its panel from."""
    return lazy_menu_url(page, "/saved-views/menu/")


def menu_of(client, listing_url="/admin/customers/"):
    """The panel of the listing's "Saved views" menu, as the menu fetches it when opened."""
    return client.get(menu_url_of(client.get(listing_url)), **FETCH)


def hidden_values(response, name):
    return re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)"'.encode(), response.content)


def history(action):
    return ModelLogEntry.objects.filter(action=f"wagtail_customers.saved_view.{action}")


def test_only_allowed_parameters_are_kept():
    cleaned = clean_params("q=alma&ordering=-amount_spent&orders_min=2&country=DE&account=3&account=x&evil=1&p=4&id=9")
    assert cleaned == {
        "account": ["3"],
        "country": ["DE"],
        "ordering": ["-amount_spent"],
        "orders_min": ["2"],
        "q": ["alma"],
    }


def test_nuls_are_left_out_of_the_parameters_kept(client, people):
    """PostgreSQL's JSON refuses "\\u0000": saving a listing whose URL had a NUL in its search was a 500 there."""
    assert clean_params("q=al%00ma&country=%00&orders_min=2") == {"orders_min": ["2"], "q": ["alma"]}
    client.force_login(people["ann"])
    assert save_current(client, query="q=al%00ma&country=%00").status_code == 302
    assert SavedView.objects.get().params == {"q": ["alma"]}


def test_save_current_view_then_open_it_shows_its_tab_filters_and_columns(client, people, shop):
    client.force_login(people["ann"])
    response = save_current(
        client, query="amount_spent_min=50&ordering=-amount_spent&p=3", columns=["name", "amount_spent", "nonsense"]
    )
    view = SavedView.objects.get()
    assert view.owner == people["ann"] and view.visibility == SavedViewVisibility.PRIVATE
    assert view.tab == "highest-value"
    assert view.params == {"amount_spent_min": ["50"], "ordering": ["-amount_spent"]}
    assert view.columns == ["name", "amount_spent"]
    # Saved, then opened.
    assert response.status_code == 302
    parts = urlsplit(response["Location"])
    assert parts.path == "/admin/customers/highest-value/"
    assert parse_qs(parts.query)["saved_view"] == [str(view.pk)]
    page = client.get(response["Location"])
    assert row_ids(page) == [shop["b1"].pk, shop["a1"].pk]
    assert column_labels(page)[:2] == ["Customer", "Amount spent"]
    assert "E-mail" not in column_labels(page)
    # The viewer's own column view is not touched.
    assert list(ListingPreference.objects.filter(user=people["ann"]).values_list("columns", flat=True)) in ([], [[]])
    assert history("create").filter(object_id=str(view.pk), user=people["ann"]).exists()
    # Listed in the menu of the listing and on the management page.
    assert f'href="{url("open", view)}"'.encode() in menu_of(client).content
    assert b"Big spenders" in client.get(INDEX).content


def last_message(response):
    """The latest message of the session (Wagtail's end in blank lines)."""
    return [str(message).strip() for message in get_messages(response.wsgi_request)][-1]


def test_a_name_is_required(client, people):
    """A name of spaces only: the message says a name is missing (it said "This field is required.")."""
    client.force_login(people["ann"])
    response = save_current(client, name="  ")
    assert response.status_code == 302
    assert response["Location"] == "/admin/customers/"
    assert not SavedView.objects.exists()
    assert last_message(response) == "The view was not saved. A saved view needs a name."


def test_a_name_the_owner_already_has_is_refused(client, people):
    """Three "Alice VIP" in the menu could not be told apart: a name the owner already has, trimmed and in any
    case, is refused, on saving and on renaming; another user may have it, and a view may keep its own."""
    client.force_login(people["ann"])
    # Of another tab: the same name and listing again at once would be a double click's (answered as saved).
    save_current(client, name="Alice VIP", tab="most-orders")
    for name in ("Alice VIP", "  alice vip ", "ALICE VIP"):
        response = save_current(client, name=name)
        assert response.status_code == 302
        assert last_message(response) == (
            f"The view was not saved. You already have a view named “{name.strip()}”. Choose another name."
        )
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Alice VIP"]

    save_current(client, name="Öffentlich")
    response = save_current(client, name="ÖFFENTLICH")
    assert SavedView.objects.filter(owner=people["ann"]).count() == 2
    other = SavedView.objects.get(name="Öffentlich")
    response = client.post(url("edit", other), {"name": "alice vip", "visibility": "private"})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [
        "You already have a view named “alice vip”. Choose another name."
    ]
    other.refresh_from_db()
    assert other.name == "Öffentlich"
    # The view keeps its own name in another case.
    assert client.post(url("edit", other), {"name": "öffentlich", "visibility": "private"}).status_code == 302
    other.refresh_from_db()
    assert other.name == "öffentlich"
    # Bea's views are hers.
    client.force_login(people["bea"])
    assert save_current(client, name="Alice VIP").status_code == 302
    assert SavedView.objects.filter(name="Alice VIP").count() == 2


def refused_form(panel):
    """The menu panel's "Save current view" form: the name's input, the name's error and the checked visibility."""
    content = panel.content.decode()
    name_input = re.search(r'<input type="text" id="wc-saved-view-name"[^>]*>', content).group(0)
    error = re.search(r'<p class="help-block help-critical" id="wc-saved-view-name-error">([^<]*)</p>', content)
    checked = re.findall(r'name="visibility" value="([^"]*)" checked', content)
    return name_input, (html.unescape(error.group(1)) if error else None), checked


@pytest.mark.parametrize("visibility", ["private", "shared"])
def test_a_refused_save_opens_the_menu_again_with_what_was_typed(client, people, shop, visibility):
    """A refused "Save current view" went back to the listing with a message only: the name and visibility typed
    were lost. The listing's menu now opens on arrival, its form filled in as sent, the error beside the name."""
    client.force_login(people["ann"])
    save_current(client, name="Alice VIP")
    response = client.post(
        CREATE,
        {
            "name": "  alice vip ",
            "visibility": visibility,
            "tab": "highest-value",
            "query": "q=alma",
            "next": "/admin/customers/highest-value/?q=alma",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/customers/highest-value/?q=alma"
    page = client.get(response["Location"])
    assert re.search(rb'<details class="wc-disclosure wc-saved-views" open ', page.content)
    # The Columns menu stays closed.
    assert re.search(rb'<details class="wc-disclosure wc-column-picker" data-controller', page.content)
    panel = client.get(menu_url_of(page), **FETCH)
    name_input, error, checked = refused_form(panel)
    assert 'value="  alice vip "' in name_input
    assert 'aria-invalid="true"' in name_input and "autofocus" in name_input
    assert 'aria-describedby="wc-saved-view-name-error wc-saved-view-help"' in name_input
    assert error == "You already have a view named “alice vip”. Choose another name."
    assert checked == [visibility]
    # The listing's state is the page's, as on any opening of the menu.
    assert hidden_values(panel, "tab") == [b"highest-value"]
    assert hidden_values(panel, "query") == [b"q=alma"]
    # Shown once: the listing and its menu are as usual afterwards.
    assert b'<details class="wc-disclosure wc-saved-views" data-controller' in client.get(response["Location"]).content
    name_input, error, checked = refused_form(menu_of(client))
    assert 'value=""' in name_input and "aria-invalid" not in name_input and "autofocus" not in name_input
    assert error is None and checked == ["private"]


def test_a_refused_save_of_tampered_values_is_kept_without_a_500(client, people):
    """No name, a name too long, a visibility that is none: refused, with what may be shown again."""
    client.force_login(people["ann"])
    response = save_current(client, name="   ")
    assert response.status_code == 302
    name_input, error, checked = refused_form(menu_of(client))
    assert error == "A saved view needs a name." and 'aria-invalid="true"' in name_input
    assert checked == ["private"]

    response = save_current(client, name="x" * 5000, visibility="<everyone>")
    assert response.status_code == 302
    assert not SavedView.objects.exists()
    panel = menu_of(client)
    name_input, error, checked = refused_form(panel)
    assert f'value="{"x" * 120}"' in name_input
    assert error == "Ensure this value has at most 120 characters (it has 5000)."
    # The unknown visibility is not shown back as chosen; its error is the form's, described on its choices.
    assert checked == ["private"]
    assert b'<fieldset aria-describedby="wc-saved-view-errors">' in panel.content
    assert b"&lt;everyone&gt; is not one of the available choices." in panel.content
    # On the menu's page of its own (no JavaScript) too.
    save_current(client, name="")
    page = client.get(menu_url_of(client.get("/admin/customers/")))
    assert b"<html" in page.content
    assert refused_form(page)[1] == "A saved view needs a name."
    assert client.get(CREATE).status_code == 405


def test_a_refused_save_from_the_menus_own_page_goes_back_to_that_page(client, people, shop):
    """Without JavaScript the menu is a page of its own, and the listing cannot open its menu: a refused save sent
    from that page went back to the listing, with the message only. It comes back to the page, the form as sent."""
    client.force_login(people["ann"])
    save_current(client, name="Alice VIP")
    page = client.get(menu_url_of(client.get("/admin/customers/highest-value/?q=alma")))
    # The page's form says where it was sent from; the listing's fetched panel does not.
    (menu_page,) = hidden_values(page, "menu_page")
    menu_page = html.unescape(menu_page.decode())
    assert menu_page.startswith("/admin/customers/saved-views/menu/?")
    assert hidden_values(menu_of(client), "menu_page") == []
    form = {
        "name": "alice vip",
        "visibility": "shared",
        "tab": "highest-value",
        "query": "q=alma",
        "next": "/admin/customers/highest-value/?q=alma",
    }
    response = client.post(CREATE, {**form, "menu_page": menu_page})
    assert response.status_code == 302 and response["Location"] == menu_page
    again = client.get(menu_page)
    assert b"<html" in again.content
    name_input, error, checked = refused_form(again)
    assert 'value="alice vip"' in name_input and 'aria-invalid="true"' in name_input
    assert error == "You already have a view named “alice vip”. Choose another name."
    assert checked == ["shared"]
    assert "The view was not saved." in again.content.decode()
    # A page that is not the menu's, or not on this site, is the listing's way.
    for tampered in (
        "https://evil.example/admin/customers/saved-views/menu/",
        "/admin/customers/",
        "//evil.example/",
        "/\t/[x",
        "/\t/evil.example/admin/customers/saved-views/menu/",
        "/admin/customers/saved-views/menu/\n?x",
        "/admin/customers/saved-views/menu/../../",
        f"/admin/customers/saved-views/menu/?{'x' * 9000}",
    ):
        response = client.post(CREATE, {**form, "menu_page": tampered})
        assert response["Location"] == "/admin/customers/highest-value/?q=alma", tampered
    assert SavedView.objects.count() == 1


def test_a_refused_save_opens_the_menu_on_its_own_listing_page_only(client, people, shop):
    """Kept for the page the seller was sent back to: another listing page (a tab, a search) drops it, where it
    opened the menu on every listing page until the menu was fetched."""
    client.force_login(people["ann"])
    save_current(client, name="")
    elsewhere = client.get("/admin/customers/most-orders/?q=zz")
    assert b'<details class="wc-disclosure wc-saved-views" data-controller' in elsewhere.content
    home = client.get("/admin/customers/")
    assert b'<details class="wc-disclosure wc-saved-views" data-controller' in home.content
    assert refused_form(client.get(menu_url_of(home), **FETCH))[1] is None


def test_a_refused_save_keeps_a_bounded_part_of_a_tampered_post_in_the_session(client, people):
    """A choice error repeats the value posted: a 20,000-character visibility wrote 20 kB into the session."""
    client.force_login(people["ann"])
    save_current(client, name="x" * 5000, visibility="v" * 20_000)
    assert len(client.session.encode(dict(client.session.items()))) < 2_000


def test_the_second_post_of_a_double_click_answers_as_the_first(client, people, shop):
    """Both posts of a double click on "Save view" arrive; the second found the name taken by the view the first
    saved, and told the seller it was not saved, the menu open on a name error."""
    client.force_login(people["ann"])
    first = save_current(client, name="Big spenders", query="q=alma")
    second = save_current(client, name="Big spenders", query="q=alma")
    assert second.status_code == 302 and second["Location"] == first["Location"]
    # The first post's message, left for the page the second opens, once.
    assert [str(message).strip() for message in get_messages(second.wsgi_request)] == ["View “Big spenders” saved."]
    assert SavedView.objects.count() == 1 and history("create").count() == 1
    # Not the same view (another search): the name is the seller's to change.
    refused = save_current(client, name="big spenders", query="q=bert")
    assert last_message(refused).startswith("The view was not saved. You already have a view named")


def test_owner_edits_renames_updates_and_deletes_with_history(client, people, shop):
    client.force_login(people["ann"])
    save_current(client)
    view = SavedView.objects.get()
    assert client.get(url("edit", view)).status_code == 200
    response = client.post(url("edit", view), {"name": "Renamed", "visibility": "private"})
    assert response.status_code == 302
    view.refresh_from_db()
    assert view.name == "Renamed"
    response = client.post(
        url("update", view), {"tab": "most-orders", "query": "q=alma&saved_view=99", "columns": ["name", "city"]}
    )
    assert response.status_code == 302
    view.refresh_from_db()
    assert (view.tab, view.params, view.columns) == ("most-orders", {"q": ["alma"]}, ["name", "city"])
    assert history("change").filter(object_id=str(view.pk)).count() == 2
    confirm = client.get(url("delete", view))
    assert confirm.status_code == 200 and b"Yes, delete" in confirm.content
    assert client.post(url("delete", view)).status_code == 302
    assert not SavedView.objects.exists()
    assert history("delete").filter(object_id=str(view.pk), user=people["ann"]).exists()


def test_others_may_open_a_shared_view_but_not_change_it(client, people, shop, other_account):
    view = SavedView.objects.create(owner=people["ann"], name="Shared", visibility=SavedViewVisibility.SHARED)
    view.shared_with_users.add(people["bea"])
    client.force_login(people["bea"])
    assert client.get(url("open", view)).status_code == 302
    assert client.get(url("edit", view)).status_code == 403
    assert client.post(url("edit", view), {"name": "Mine", "visibility": "private"}).status_code == 403
    assert client.post(url("update", view), {"tab": "all"}).status_code == 403
    assert client.get(url("delete", view)).status_code == 403
    assert client.post(url("delete", view)).status_code == 403
    view.refresh_from_db()
    assert view.name == "Shared"
    assert b"Shared" in client.get(INDEX).content


def test_a_private_view_is_not_found_by_others_and_tampered_ids_are_404(client, people):
    view = SavedView.objects.create(owner=people["ann"], name="Private")
    bea = people["bea"]
    client.force_login(bea)
    for name in ("open", "edit", "delete"):
        assert client.get(url(name, view)).status_code == 404
    assert client.post(url("update", view), {"tab": "all"}).status_code == 404
    assert client.get("/admin/customers/saved-views/999999/").status_code == 404
    assert client.get("/admin/customers/saved-views/abc/").status_code == 404
    assert b"Private" not in client.get(INDEX).content


def test_post_only_urls_answer_405_to_get(client, people):
    view = SavedView.objects.create(owner=people["ann"], name="Mine")
    client.force_login(people["ann"])
    assert client.get(CREATE).status_code == 405
    assert client.get(url("update", view)).status_code == 405
    assert client.put(url("edit", view)).status_code == 405


def test_a_user_without_listing_access_is_refused(client, people):
    client.force_login(people["cal"])
    assert client.get(INDEX).status_code == 403
    assert save_current(client).status_code == 403


def test_a_shared_view_shows_the_viewer_only_their_own_accounts(client, people, shop, account, other_account):
    """Ann's view names both accounts; Bea, who sees only the other one, gets only its customers."""
    view = SavedView.objects.create(
        owner=people["ann"],
        name="Both shops",
        tab="highest-value",
        params={"account": [str(account.pk), str(other_account.pk)]},
        visibility=SavedViewVisibility.SHARED,
    )
    view.shared_with_users.add(people["bea"])
    client.force_login(people["ann"])
    owner_page = client.get(client.get(url("open", view))["Location"])
    assert set(row_ids(owner_page)) == {c.pk for c in shop.values()}
    client.force_login(people["bea"])
    location = client.get(url("open", view))["Location"]
    # The account Bea may not see is not even named in her URL.
    assert parse_qs(urlsplit(location).query)["account"] == [str(other_account.pk)]
    assert row_ids(client.get(location)) == [shop["b1"].pk, shop["b2"].pk]
    # Typing the owner's accounts into the URL widens nothing either.
    typed = f"/admin/customers/highest-value/?account={account.pk}&account={other_account.pk}&saved_view={view.pk}"
    assert row_ids(client.get(typed)) == [shop["b1"].pk, shop["b2"].pk]


def test_a_view_of_accounts_the_viewer_cannot_see_shows_their_own(client, people, shop, account, other_account):
    view = SavedView.objects.create(
        owner=people["ann"], name="Shop A", params={"account": [str(account.pk)]}, visibility="shared"
    )
    view.shared_with_users.add(people["bea"])
    client.force_login(people["bea"])
    location = client.get(url("open", view))["Location"]
    assert "account" not in parse_qs(urlsplit(location).query)
    assert set(row_ids(client.get(location))) == {shop["b1"].pk, shop["b2"].pk}


def test_share_offers_and_accepts_only_people_who_see_the_views_accounts(client, people, account, other_account):
    dora = staff_user("dora", {account: {"can_view": True}})
    view = SavedView.objects.create(owner=people["ann"], name="Shop B", params={"account": [str(other_account.pk)]})
    client.force_login(people["ann"])
    form = client.get(url("edit", view)).context["form"]
    offered = set(form.fields["shared_with_users"].queryset)
    assert people["bea"] in offered
    assert not {dora, people["cal"], people["ann"]} & offered
    # A tampered id is refused.
    response = client.post(
        url("edit", view), {"name": "Shop B", "visibility": "shared", "shared_with_users": [dora.pk]}
    )
    assert response.status_code == 200 and response.context["form"].errors["shared_with_users"]
    assert not view.shared_with_users.exists()
    response = client.post(
        url("edit", view), {"name": "Shop B", "visibility": "shared", "shared_with_users": [people["bea"].pk]}
    )
    assert response.status_code == 302
    assert list(view.shared_with_users.all()) == [people["bea"]]
    entry = history("change").get(object_id=str(view.pk))
    assert entry.data["shared_with_users"] == [people["bea"].pk]


def test_sharing_with_a_group_reaches_its_members(client, people, other_account):
    team = Group.objects.create(name="Team B")
    people["bea"].groups.add(team)
    view = SavedView.objects.create(owner=people["ann"], name="For the team")
    client.force_login(people["ann"])
    form = client.get(url("edit", view)).context["form"]
    assert team in form.fields["shared_with_groups"].queryset
    client.post(url("edit", view), {"name": "For the team", "visibility": "shared", "shared_with_groups": [team.pk]})
    client.force_login(people["bea"])
    assert client.get(url("open", view)).status_code == 302
    # Made private again: the group loses it.
    client.force_login(people["ann"])
    client.post(url("edit", view), {"name": "For the team", "visibility": "private", "shared_with_groups": [team.pk]})
    assert not view.shared_with_groups.exists()
    client.force_login(people["bea"])
    assert client.get(url("open", view)).status_code == 404


def test_a_shared_save_goes_on_to_choosing_people(client, people):
    client.force_login(people["ann"])
    response = save_current(client, visibility="shared")
    view = SavedView.objects.get()
    assert response["Location"] == url("edit", view)


def test_a_search_travels_only_to_people_who_may_see_the_personal_data(client, people, shop, account, other_account):
    """The owner's typed search is personal data: Bea without "See personal data" opens the view without it."""
    view = SavedView.objects.create(
        owner=people["ann"],
        name="One buyer",
        tab="all",
        params={"q": ["b1@example.com"], "account": [str(other_account.pk)]},
        visibility=SavedViewVisibility.SHARED,
    )
    view.shared_with_users.add(people["bea"])
    client.force_login(people["bea"])
    assert "q" in parse_qs(urlsplit(client.get(url("open", view))["Location"]).query)  # she may see it
    AccessGrant.objects.filter(user=people["bea"]).update(can_see_personal_data=False)
    location = client.get(url("open", view))["Location"]
    assert "q" not in parse_qs(urlsplit(location).query)
    assert "b1@example.com" not in client.get(location).content.decode()


@pytest.mark.parametrize("results", [False, True], ids=["page", "results refresh"])
def test_the_menu_loads_when_opened_with_the_listing_s_state(client, people, shop, results):
    """The listing holds the menu's button and where to load its panel from; the panel lists the views and
    carries the listing's tab, parameters and columns into its forms. A results refresh (the toolbar comes with
    the results) gives the page's own."""
    ann = people["ann"]
    SavedView.objects.create(owner=ann, name="Mine")
    shared = SavedView.objects.create(owner=people["bea"], name="Bea's", visibility=SavedViewVisibility.SHARED)
    shared.shared_with_users.add(ann)
    client.force_login(ann)
    listing_url = "/admin/customers/most-orders/?q=alma&ordering=-units"
    with CaptureQueriesContext(connection) as captured:
        page = client.get(listing_url.replace("most-orders/", "most-orders/results/") if results else listing_url)
    # The page itself reads no saved view and renders no form of the menu.
    assert not [query for query in captured if SavedView._meta.db_table in query["sql"]]
    assert b"Save current view" not in page.content
    assert b"Mine" not in page.content
    panel = client.get(menu_url_of(page), **FETCH)
    assert panel.status_code == 200
    assert panel.content.lstrip().startswith(b'<div class="wc-disclosure__panel" data-wc-disclosure-target="panel">')
    # The user's own view unmarked, the shared one with its owner.
    assert b">Mine</a></li>" in panel.content and b"Bea&#x27;s</a> <span" in panel.content
    assert b"(shared by bea)" in panel.content
    assert hidden_values(panel, "tab") == [b"most-orders"]
    assert hidden_values(panel, "query") == [b"q=alma&amp;ordering=-units"]
    assert hidden_values(panel, "next") == [listing_url.replace("&", "&amp;").encode()]
    assert hidden_values(panel, "columns")[:2] == [b"name", b"email"]
    assert b"Update" not in panel.content  # no view is open


def test_the_owner_of_the_opened_view_may_update_it_from_the_menu(client, people, shop):
    ann, bea = people["ann"], people["bea"]
    view = SavedView.objects.create(owner=ann, name="Spenders", visibility=SavedViewVisibility.SHARED)
    view.shared_with_users.add(bea)
    listing_url = f"/admin/customers/?q=alma&saved_view={view.pk}"
    client.force_login(ann)
    page = client.get(listing_url)
    assert b"View: Spenders" in page.content
    panel = client.get(menu_url_of(page), **FETCH)
    assert f'action="{url("update", view)}"'.encode() in panel.content
    assert b'aria-current="page">Spenders</a>' in panel.content
    # The opened view's id is not part of what the forms save.
    assert hidden_values(panel, "query") == [b"q=alma", b"q=alma"]
    client.force_login(bea)
    panel = menu_of(client, listing_url)
    assert b'aria-current="page">Spenders</a>' in panel.content
    assert url("update", view).encode() not in panel.content


def test_the_menu_without_javascript_is_a_page_of_its_own(client, people, shop):
    client.force_login(people["ann"])
    page = client.get("/admin/customers/highest-value/")
    menu_url = menu_url_of(page)
    # The placeholder's link, for a browser without JavaScript.
    assert f'<a href="{html.escape(menu_url)}">'.encode() in page.content
    response = client.get(menu_url)
    assert response.status_code == 200
    assert b"<html" in response.content and b"Save current view" in response.content
    assert b'href="/admin/customers/highest-value/">Back to the customers' in response.content


def test_the_menu_refuses_other_methods_and_users_and_a_foreign_next(client, people):
    menu = reverse("wagtail_customers_saved_views:menu")
    client.force_login(people["cal"])
    assert client.get(menu).status_code == 403
    refused = client.get(menu, **FETCH)
    assert refused.status_code == 403 and refused["Content-Type"] == "application/json"
    client.force_login(people["ann"])
    assert client.post(menu).status_code == 405
    response = client.get(menu, {"next": "https://evil.example/", "tab": "nonsense", "columns": "<x>"})
    assert response.status_code == 200
    assert hidden_values(response, "next") == [b"/admin/customers/"]
    assert hidden_values(response, "tab") == [b"all"]
    assert b'value="&lt;x&gt;"' in response.content
    # A view of someone else's, named in the URL, is neither shown as open nor offered for update.
    private = SavedView.objects.create(owner=people["bea"], name="Bea only")
    response = client.get(menu, {"saved_view": private.pk})
    assert response.status_code == 200 and response.context["opened"] is None
    assert b"Bea only" not in response.content and b"/update/" not in response.content


@pytest.fixture
def clash_on_save():
    """While set up, a save of a view is preceded by another request's: a view of the owner's of ``name`` is
    saved and committed by another connection (a thread) after this request's form checked the name and before its
    own insert, as on a double click on "Save view". The database alone can refuse the name then."""
    with clashing_saves(
        SavedView, lambda view, name: SavedView.objects.create(owner_id=view.owner_id, name=name)
    ) as clash:
        yield clash


@pytest.mark.django_db(transaction=True)
def test_a_name_saved_by_another_request_meanwhile_is_the_form_s_error_not_a_500(client, people, clash_on_save):
    """A double click on "Save view" sends two posts that both pass the form's check: the database's unique name
    per owner keeps the second out, and it reads as the form's message (it was saved twice before)."""
    ann = people["ann"]
    client.force_login(ann)
    clash_on_save("VIP")
    response = save_current(client, name="vip")
    assert response.status_code == 302
    assert response["Location"] == "/admin/customers/"
    assert last_message(response) == "The view was not saved. You already have a view named “vip”. Choose another name."
    assert list(SavedView.objects.filter(owner=ann).values_list("name", flat=True)) == ["VIP"]
    assert not history("create").exists()
    # The listing's menu gives the form back as it was sent, as for a name refused by the form.
    name_input, error, checked = refused_form(menu_of(client))
    assert 'value="vip"' in name_input and 'aria-invalid="true"' in name_input
    assert error == "You already have a view named “vip”. Choose another name."
    assert checked == ["private"]

    # Renaming: the edit page again, with its error under the name; the view keeps its name.
    other = SavedView.objects.create(owner=ann, name="Returns")
    clash_on_save("Germany")
    response = client.post(url("edit", other), {"name": "GERMANY", "visibility": "private"})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["You already have a view named “GERMANY”. Choose another name."]
    other.refresh_from_db()
    assert other.name == "Returns"
    assert response.context["saved_view"].name == "Returns"
    assert sorted(SavedView.objects.filter(owner=ann).values_list("name", flat=True)) == ["Germany", "Returns", "VIP"]


@pytest.mark.django_db(transaction=True)
def test_updating_a_view_to_the_listing_keeps_a_rename_made_meanwhile(client, people):
    """ "Update view to this listing" writes the listing's state only: while it ran, another tab renamed the view and
    saved a new one under its old name, which a save of every field wrote back over the rename (a 500 from the
    unique name, or the rename lost)."""
    ann = people["ann"]
    view = SavedView.objects.create(owner=ann, name="VIP")
    errors = []

    def other_tab(sender, instance, **kwargs):
        pre_save.disconnect(other_tab, sender=SavedView)

        def rename_and_save_another():
            SavedView.objects.filter(pk=view.pk).update(name="Germany", name_key="germany")
            SavedView.objects.create(owner=ann, name="VIP")

        in_thread(rename_and_save_another, errors).join(30)

    client.force_login(ann)
    pre_save.connect(other_tab, sender=SavedView)
    try:
        response = client.post(url("update", view), {"tab": "most-orders", "query": "", "columns": ["name"]})
    finally:
        pre_save.disconnect(other_tab, sender=SavedView)
    assert not errors
    assert response.status_code == 302
    view.refresh_from_db()
    assert (view.name, view.tab) == ("Germany", "most-orders")
    assert sorted(SavedView.objects.filter(owner=ann).values_list("name", flat=True)) == ["Germany", "VIP"]


def test_the_database_keeps_one_name_per_owner_in_any_case(people):
    """The key is case-folded in Python: "ÖFFENTLICH" clashes with "Öffentlich" on SQLite too (its lower() knows
    only ASCII letters), "STRASSE" with "Straße"; another owner may have the name."""
    ann = people["ann"]
    SavedView.objects.create(owner=ann, name="Öffentlich")
    SavedView.objects.create(owner=ann, name="Straße")
    for name in (" ÖFFENTLICH ", "STRASSE"):
        with pytest.raises(IntegrityError), transaction.atomic():
            SavedView.objects.create(owner=ann, name=name)
    SavedView.objects.create(owner=people["bea"], name="ÖFFENTLICH")
    # A save of the name alone keeps the key with it.
    view = SavedView.objects.get(owner=ann, name="Straße")
    view.name = "Nord"
    view.save(update_fields=["name"])
    assert SavedView.objects.get(pk=view.pk).name_key == "nord"


def menu_items(panel):
    """The texts of the menu's list of views, tags and spaces collapsed."""
    return sorted(
        " ".join(re.sub(r"<[^>]+>", " ", html.unescape(item)).split())
        for item in re.findall(r"<li>(.*?)</li>", panel.content.decode(), re.S)
    )


def test_views_shared_with_you_are_marked_with_their_owner(client, people, other_account):
    """Two colleagues sharing a "VIP" with Cal: the menu said "VIP (shared with you)" twice, beside Cal's own
    "VIP"; it names each owner (their name, or their username without one)."""
    ann, bea, cal = people["ann"], people["bea"], people["cal"]
    AccessGrant.objects.create(user=cal, account=other_account, can_view=True)
    ann.first_name, ann.last_name = "Ann", "Archer"
    ann.save()
    for owner in (ann, bea):
        view = SavedView.objects.create(owner=owner, name="VIP", visibility=SavedViewVisibility.SHARED)
        view.shared_with_users.add(cal)
    SavedView.objects.create(owner=cal, name="VIP")
    client.force_login(cal)
    assert menu_items(menu_of(client)) == ["VIP", "VIP (shared by Ann Archer)", "VIP (shared by bea)"]
    client.force_login(ann)
    assert menu_items(menu_of(client)) == ["VIP"]


SAVE_COLUMNS = reverse("wagtail_customers:save_columns")
COLUMN_PICKER = reverse("wagtail_customers:column_picker")


def ticked_columns(picker):
    return re.findall(rb'<input type="checkbox" name="columns" value="([^"]+)" checked>', picker.content)


def test_columns_chosen_with_a_view_open_show_on_it_and_update_saves_them(client, people, shop):
    """The picker of a listing with a saved view open ticks the view's columns; "Save as my default" saves the user's
    view and shows the columns on the listing too (the view's would hide them), and "Update" saves them into it."""
    ann = people["ann"]
    view = SavedView.objects.create(owner=ann, name="Spenders", tab="all", columns=["name", "amount_spent"])
    client.force_login(ann)
    listing_url = f"/admin/customers/?q=alma&saved_view={view.pk}"
    picker = client.get(COLUMN_PICKER, {"next": listing_url}, **FETCH)
    assert ticked_columns(picker) == [b"amount_spent"]
    assert b'name="only_here"' in picker.content
    saved = client.post(SAVE_COLUMNS, {"columns": ["name", "units", "email"], "next": listing_url})
    assert saved.status_code == 302
    query = parse_qs(urlsplit(saved.url).query)
    assert query["saved_view"] == [str(view.pk)] and query["q"] == ["alma"]
    assert query["columns"] == ["name", "units", "email"]
    assert ListingPreference.objects.get(user=ann).columns == ["name", "units", "email"]
    page = client.get(saved.url)
    assert last_message(page) == "Your column view is saved."
    assert column_labels(page)[:3] == ["Customer", "Units", "E-mail"]
    assert ticked_columns(client.get(lazy_menu_url(page, "/preferences/columns/form/"), **FETCH)) == [
        b"units",
        b"email",
    ]
    panel = client.get(menu_url_of(page), **FETCH)
    assert hidden_values(panel, "columns")[:3] == [b"name", b"units", b"email"]
    assert hidden_values(panel, "query")[0] == b"q=alma"  # the columns travel apart from the listing's parameters
    update = dict(tab="all", query="q=alma", columns=["name", "units", "email"], next=saved.url)
    client.post(url("update", view), update)
    view.refresh_from_db()
    assert view.columns == ["name", "units", "email"]


def test_columns_shown_on_a_view_only_leave_the_users_own_view(client, people, shop):
    ann = people["ann"]
    ListingPreference.objects.create(user=ann, columns=["name", "city"])
    view = SavedView.objects.create(owner=ann, name="Spenders", tab="all", columns=["name", "amount_spent"])
    client.force_login(ann)
    listing_url = f"/admin/customers/?saved_view={view.pk}&p=2"
    shown = client.post(SAVE_COLUMNS, {"columns": ["units"], "only_here": "1", "next": listing_url})
    query = parse_qs(urlsplit(shown.url).query)
    assert query["columns"] == ["name", "units"] and "p" not in query
    assert ListingPreference.objects.get(user=ann).columns == ["name", "city"]
    assert column_labels(client.get(shown.url))[:2] == ["Customer", "Units"]
    # Reset brings the plugin's default columns onto the listing too, the view still open.
    reset = client.post(reverse("wagtail_customers:reset_columns"), {"next": shown.url})
    assert parse_qs(urlsplit(reset.url).query)["columns"][:2] == ["name", "email"]


def test_saving_columns_without_a_view_open_drops_the_columns_shown(client, people, shop):
    client.force_login(people["ann"])
    picker = client.get(COLUMN_PICKER, {"next": "/admin/customers/?columns=name&columns=units"}, **FETCH)
    assert ticked_columns(picker) == [b"units"] and b'name="only_here"' not in picker.content
    saved = client.post(SAVE_COLUMNS, {"columns": ["name", "city"], "next": "/admin/customers/?q=a&columns=units"})
    assert saved.url == "/admin/customers/?q=a"
    assert column_labels(client.get(saved.url))[:2] == ["Customer", "City"]


def test_a_search_does_not_travel_further_when_its_owner_loses_every_account(client, people, shop, account):
    """The view is about the accounts it was saved with: once Ann lost them all, her view named nothing she still
    sees, and Dora without "See personal data" was given the e-mail in her address and search box."""
    view = SavedView.objects.create(
        owner=people["ann"],
        name="One buyer",
        tab="all",
        params={"q": ["a1@example.com"], "account": [str(account.pk)]},
        visibility=SavedViewVisibility.SHARED,
    )
    dora = staff_user("dora", {account: {"can_view": True, "can_see_personal_data": False}})
    eve = staff_user("eve", {account: {"can_view": True}})
    view.shared_with_users.add(dora, eve)
    AccessGrant.objects.filter(user=people["ann"]).delete()
    client.force_login(dora)
    location = client.get(url("open", view))["Location"]
    assert "q" not in parse_qs(urlsplit(location).query)
    assert "a1@example.com" not in client.get(location).content.decode()
    # Eve may see the personal data of the account the view was saved with: she still gets the search.
    client.force_login(eve)
    assert parse_qs(urlsplit(client.get(url("open", view))["Location"]).query)["q"] == ["a1@example.com"]


def test_a_search_does_not_travel_further_when_its_owner_loses_one_of_its_accounts(
    client, people, shop, account, other_account
):
    """Ann's view is about both accounts; after she lost the other one, Dora, who sees the personal data of the
    first account only, was given the search as if the view were about the first account alone."""
    view = SavedView.objects.create(
        owner=people["ann"],
        name="One buyer",
        tab="all",
        params={"q": ["b1@example.com"], "account": [str(account.pk), str(other_account.pk)]},
        visibility=SavedViewVisibility.SHARED,
    )
    dora = staff_user(
        "dora", {account: {"can_view": True}, other_account: {"can_view": True, "can_see_personal_data": False}}
    )
    view.shared_with_users.add(dora)
    client.force_login(dora)
    assert "q" not in parse_qs(urlsplit(client.get(url("open", view))["Location"]).query)
    AccessGrant.objects.filter(user=people["ann"], account=other_account).delete()
    location = client.get(url("open", view))["Location"]
    assert "q" not in parse_qs(urlsplit(location).query)
    assert "b1@example.com" not in client.get(location).content.decode()


def test_a_search_of_a_view_without_accounts_travels_only_to_people_who_see_every_account_they_list(
    client, people, shop, account, other_account
):
    """A view saved without accounts is about those the viewer's listing shows: all of them must be theirs to see."""
    view = SavedView.objects.create(
        owner=people["ann"],
        name="One buyer",
        tab="all",
        params={"q": ["b1@example.com"]},
        visibility=SavedViewVisibility.SHARED,
    )
    dora = staff_user(
        "dora", {account: {"can_view": True}, other_account: {"can_view": True, "can_see_personal_data": False}}
    )
    view.shared_with_users.add(dora, people["bea"])
    client.force_login(dora)
    assert "q" not in parse_qs(urlsplit(client.get(url("open", view))["Location"]).query)
    AccessGrant.objects.filter(user=people["ann"]).delete()
    assert "q" not in parse_qs(urlsplit(client.get(url("open", view))["Location"]).query)
    client.force_login(people["bea"])
    assert parse_qs(urlsplit(client.get(url("open", view))["Location"]).query)["q"] == ["b1@example.com"]


def test_editing_a_view_keeps_the_shares_its_owner_can_no_longer_offer(client, people, account, other_account):
    """Ann shared a view with Bea and Bea's team, who see only the other account; Ann lost that account, so the form
    no longer offered them, and saving it (a mere rename) took the view away from them unasked."""
    team = Group.objects.create(name="Team B")
    people["bea"].groups.add(team)
    dora = staff_user("dora", {account: {"can_view": True}})
    view = SavedView.objects.create(owner=people["ann"], name="Everyone", visibility=SavedViewVisibility.SHARED)
    view.shared_with_users.add(people["bea"])
    view.shared_with_groups.add(team)
    AccessGrant.objects.filter(user=people["ann"], account=other_account).delete()
    client.force_login(people["ann"])
    form = client.get(url("edit", view)).context["form"]
    assert people["bea"] not in form.fields["shared_with_users"].queryset
    assert team not in form.fields["shared_with_groups"].queryset
    response = client.post(
        url("edit", view), {"name": "Everyone (renamed)", "visibility": "shared", "shared_with_users": [dora.pk]}
    )
    assert response.status_code == 302
    view.refresh_from_db()
    assert view.name == "Everyone (renamed)"
    assert set(view.shared_with_users.all()) == {people["bea"], dora}
    assert list(view.shared_with_groups.all()) == [team]
    assert history("change").get(object_id=str(view.pk)).data["shared_with_users"] == sorted(
        [people["bea"].pk, dora.pk]
    )
    client.force_login(people["bea"])
    assert client.get(url("open", view)).status_code == 302
    # Made private, it is taken away from everyone, those not offered too.
    client.force_login(people["ann"])
    client.post(url("edit", view), {"name": "Everyone (renamed)", "visibility": "private"})
    assert not view.shared_with_users.exists() and not view.shared_with_groups.exists()
