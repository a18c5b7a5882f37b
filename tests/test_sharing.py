"""The Share access screen: share, change, revoke, the rules on who may give what, history, the menu."""

import html
import json
import re

import pytest
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests.permission_world import grant, make_staff
from wagtail_customers.models import AccessGrant
from wagtail_customers.permissions import GRANT_FLAGS, Action
from wagtail_customers.services.access import AccessError, change_access, revoke_access, share_access
from wagtail_customers.views.sharing.header import sharing_header_actions

pytestmark = pytest.mark.django_db

INDEX = reverse("wagtail_customers_sharing:index")
SHARE = reverse("wagtail_customers_sharing:share")
USERS = reverse("wagtail_customers_sharing:users")


def flags(grant_):
    grant_.refresh_from_db()
    return {action for action, flag in GRANT_FLAGS.items() if getattr(grant_, flag)}


def logged(action):
    return list(ModelLogEntry.objects.filter(action=action).order_by("pk"))


@pytest.fixture
def colleague(db):
    return make_staff("colleague", last_name="Curie", email="marie@lab.example")


@pytest.fixture
def sharer(account):
    """Shares account A, holding view, export and share there."""
    user = make_staff("sharer")
    grant(user, account, Action.VIEW, Action.EXPORT, Action.SHARE)
    return user


def messages_of(response):
    return [html.unescape(str(message)).strip() for message in get_messages(response.wsgi_request)]


def logged_in(client, user):
    client.force_login(user)
    return client


# --- Sharing --------------------------------------------------------------------------------------


def test_superuser_shares_two_accounts_and_it_is_logged(admin_client, superuser, colleague, account, other_account):
    response = admin_client.post(
        SHARE, {"user": "colleague", "accounts": [account.pk, other_account.pk], "actions": ["export"]}
    )
    assert response.status_code == 302
    assert response["Location"] == INDEX
    grants = AccessGrant.objects.filter(user=colleague).order_by("account__name")
    # "View customers" comes with every other action.
    assert [(g.account, flags(g)) for g in grants] == [
        (other_account, {Action.VIEW, Action.EXPORT}),
        (account, {Action.VIEW, Action.EXPORT}),
    ]
    assert all(g.created_by == superuser for g in grants)
    entries = logged("wagtail_customers.access.grant")
    assert len(entries) == 2
    assert {entry.user for entry in entries} == {superuser}
    assert entries[0].data["user"] == "colleague"
    assert entries[0].data["actions"] == ["view", "export"]
    assert entries[0].data["previous_actions"] == []


def test_a_user_can_be_found_by_e_mail_case_insensitively(admin_client, colleague, account):
    response = admin_client.post(SHARE, {"user": "MARIE@lab.example", "accounts": [account.pk], "actions": ["view"]})
    assert response.status_code == 302
    assert AccessGrant.objects.filter(user=colleague, account=account).exists()
    assert "cannot sign in to the Wagtail admin" not in admin_client.get(INDEX).content.decode()


def test_sharing_with_a_user_without_admin_access_warns(admin_client, django_user_model, account):
    django_user_model.objects.create_user("outsider", "outsider@example.com", "pw")
    data = {"user": "outsider", "accounts": [account.pk], "actions": ["view"]}
    response = admin_client.post(SHARE, data, follow=True)
    assert "outsider cannot sign in to the Wagtail admin yet" in response.content.decode()


def test_sharing_again_adds_to_the_grant_and_logs_a_change(admin_client, colleague, account):
    existing = grant(colleague, account, Action.VIEW, Action.DELETE)
    response = admin_client.post(SHARE, {"user": "colleague", "accounts": [account.pk], "actions": ["export"]})
    assert response.status_code == 302
    assert flags(existing) == {Action.VIEW, Action.DELETE, Action.EXPORT}
    [entry] = logged("wagtail_customers.access.change")
    assert entry.data["previous_actions"] == ["view", "delete"]
    assert entry.data["actions"] == ["view", "export", "delete"]
    assert logged("wagtail_customers.access.grant") == []


def test_share_form_offers_only_the_sharers_accounts_and_actions(client, sharer, account, other_account):
    response = logged_in(client, sharer).get(SHARE)
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields["accounts"].queryset) == [account]
    assert [value for value, _ in form.fields["actions"].choices] == ["view", "export", "share"]
    content = response.content.decode()
    assert other_account.name not in content
    assert 'data-controller="wc-user-search"' in content


@pytest.mark.parametrize(
    "data, error",
    [
        ({"actions": ["delete"]}, "Select a valid choice"),
        ({"accounts": "other"}, "Select a valid choice"),
        ({"user": "sharer"}, "You cannot change your own access."),
        ({"user": "nobody-like-this"}, "No active user has this user name or e-mail address."),
        ({"actions": []}, "This field is required."),
    ],
)
def test_share_form_refuses(client, sharer, colleague, account, other_account, data, error):
    post = {"user": "colleague", "accounts": [account.pk], "actions": ["export"], **data}
    if post["accounts"] == "other":
        post["accounts"] = [other_account.pk]
    response = logged_in(client, sharer).post(SHARE, post)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not AccessGrant.objects.filter(user=colleague).exists()


def test_only_actions_held_on_that_account_can_be_given(account, other_account, colleague):
    sharer = make_staff("sharer")
    grant(sharer, account, Action.VIEW, Action.SHARE, Action.DELETE)
    grant(sharer, other_account, Action.VIEW, Action.SHARE)
    with pytest.raises(AccessError):
        share_access(sharer, colleague, [account, other_account], [Action.DELETE])
    assert not AccessGrant.objects.filter(user=colleague).exists()  # all or nothing
    share_access(sharer, colleague, [account], [Action.DELETE])
    assert flags(AccessGrant.objects.get(user=colleague)) == {Action.VIEW, Action.DELETE}


def test_share_form_names_the_account_where_an_action_is_not_held(client, account, other_account, colleague):
    sharer = make_staff("sharer")
    grant(sharer, account, Action.VIEW, Action.SHARE, Action.DELETE)
    grant(sharer, other_account, Action.VIEW, Action.SHARE)
    response = logged_in(client, sharer).post(
        SHARE, {"user": "colleague", "accounts": [account.pk, other_account.pk], "actions": ["delete"]}
    )
    assert response.status_code == 200
    assert f"You cannot give Delete customers on {other_account.name}." in response.content.decode()


def test_share_without_the_share_action_is_refused(client, account, colleague):
    viewer = make_staff("viewer")
    grant(viewer, account, *[action for action in Action if action != Action.SHARE])
    data = {"user": "colleague", "accounts": [account.pk], "actions": ["view"]}
    response = logged_in(client, viewer).post(SHARE, data)
    assert response.status_code == 403
    assert not AccessGrant.objects.filter(user=colleague).exists()
    with pytest.raises(AccessError):
        share_access(viewer, colleague, [account], [Action.VIEW])


# --- The listing ---------------------------------------------------------------------------------


def test_listing_shows_grants_of_shareable_accounts_only(client, sharer, colleague, account, other_account):
    shared = grant(colleague, account, Action.VIEW, Action.EXPORT)
    above = grant(make_staff("senior"), account, Action.VIEW, Action.DELETE)
    grant(colleague, other_account, Action.VIEW)
    response = logged_in(client, sharer).get(INDEX)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Colleague Curie" in content
    assert account.name in content
    assert other_account.name not in content
    assert reverse("wagtail_customers_sharing:share") in content
    # Each row's menu: Change, and Revoke when the sharer holds every action of the grant; never on one's own.
    assert reverse("wagtail_customers_sharing:change", args=(shared.pk,)) in content
    assert reverse("wagtail_customers_sharing:revoke", args=(shared.pk,)) in content
    assert reverse("wagtail_customers_sharing:change", args=(above.pk,)) in content
    assert reverse("wagtail_customers_sharing:revoke", args=(above.pk,)) not in content
    own = AccessGrant.objects.get(user=sharer)
    assert reverse("wagtail_customers_sharing:change", args=(own.pk,)) not in content


def test_listing_searches_users_and_accounts(admin_client, colleague, account, other_account):
    grant(colleague, account, Action.VIEW)
    grant(make_staff("someone"), other_account, Action.VIEW)
    response = admin_client.get(INDEX, {"q": "curie"})
    content = response.content.decode()
    assert "Colleague Curie" in content and "Someone" not in content
    response = admin_client.get(reverse("wagtail_customers_sharing:index_results"), {"q": other_account.name})
    content = response.content.decode()
    assert "Someone" in content and "Colleague Curie" not in content


def test_listing_empty_state_and_groups(admin_client):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="Customer service")
    group.permissions.add(Permission.objects.get(codename="email_customer"))
    content = admin_client.get(INDEX).content.decode()
    assert "Nobody has been given access to your seller accounts yet." in content
    assert "Customer service" in content
    assert "E-mail customers" in content


def test_listing_queries_do_not_grow_with_the_rows(admin_client, account, other_account):
    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(INDEX).status_code == 200
        return len(queries)

    grant(make_staff("one"), account, Action.VIEW)
    few = count_queries()
    for index in range(12):
        grant(make_staff(f"user{index}"), other_account, Action.VIEW, Action.EXPORT)
    assert count_queries() == few


# --- Change and revoke -----------------------------------------------------------------------


def test_change_sets_the_actions_the_sharer_holds_and_keeps_the_others(client, sharer, colleague, account):
    target = grant(colleague, account, Action.VIEW, Action.DELETE)
    url = reverse("wagtail_customers_sharing:change", args=(target.pk,))
    response = logged_in(client, sharer).get(url)
    assert response.status_code == 200
    assert "Also granted, by someone with more rights than you" in response.content.decode()
    response = client.post(url, {"actions": ["export"]})
    assert response.status_code == 302
    assert messages_of(response) == [f"Access of colleague to {account.name} changed."]
    assert flags(target) == {Action.VIEW, Action.EXPORT, Action.DELETE}
    [entry] = logged("wagtail_customers.access.change")
    assert entry.user == sharer


def test_unticking_everything_revokes(admin_client, superuser, colleague, account, other_account):
    target = grant(colleague, account, Action.VIEW, Action.EXPORT)
    kept = grant(colleague, other_account, Action.VIEW)
    url = reverse("wagtail_customers_sharing:change", args=(target.pk,))
    response = admin_client.post(url, {})
    assert response.status_code == 302
    assert not AccessGrant.objects.filter(pk=target.pk).exists()
    # Only that account's: "Access of colleague revoked." read as if all of it was.
    assert messages_of(response) == [f"Access of colleague to {account.name} revoked."]
    assert AccessGrant.objects.filter(pk=kept.pk).exists()
    [entry] = logged("wagtail_customers.access.revoke")
    assert entry.user == superuser
    assert entry.data["previous_actions"] == ["view", "export"]


def test_revoke_confirms_then_removes_and_logs(client, sharer, colleague, account, other_account):
    target = grant(colleague, account, Action.VIEW, Action.EXPORT)
    kept = grant(colleague, other_account, Action.VIEW)
    url = reverse("wagtail_customers_sharing:revoke", args=(target.pk,))
    response = logged_in(client, sharer).get(url)
    assert response.status_code == 200
    assert "Yes, revoke" in response.content.decode()
    assert AccessGrant.objects.filter(pk=target.pk).exists()
    response = client.post(url)
    assert response.status_code == 302
    assert not AccessGrant.objects.filter(pk=target.pk).exists()
    # The access to that seller account, named: the colleague keeps the other one.
    assert messages_of(response) == [f"Access of colleague to {account.name} revoked."]
    assert AccessGrant.objects.filter(pk=kept.pk).exists()
    [entry] = logged("wagtail_customers.access.revoke")
    assert entry.user == sharer
    assert entry.data["account"] == account.name


def test_revoking_a_grant_with_actions_the_sharer_lacks_is_refused(client, sharer, colleague, account):
    target = grant(colleague, account, Action.VIEW, Action.DELETE)
    url = reverse("wagtail_customers_sharing:revoke", args=(target.pk,))
    assert logged_in(client, sharer).get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert AccessGrant.objects.filter(pk=target.pk).exists()
    with pytest.raises(AccessError):
        revoke_access(sharer, target)


def test_a_deactivated_users_grant_is_marked_and_can_be_reduced_and_revoked_not_widened(
    client, sharer, colleague, account
):
    """Change and Revoke of a deactivated user's grant were refused ("This user account is deactivated."), so
    their access came back unasked when the account was reactivated."""
    target = grant(colleague, account, Action.VIEW, Action.EXPORT)
    colleague.is_active = False
    colleague.save()
    change_url = reverse("wagtail_customers_sharing:change", args=(target.pk,))
    revoke_url = reverse("wagtail_customers_sharing:revoke", args=(target.pk,))

    listing = logged_in(client, sharer).get(INDEX).content.decode()
    row = re.search(r"Colleague Curie.*?</tr>", listing, re.S).group(0)
    assert "Deactivated" in row
    assert change_url in row and revoke_url in row

    page = client.get(change_url)
    assert page.status_code == 200
    assert "This user account is deactivated" in page.content.decode()
    # Only what they have is offered, to take away (the sharer could also give "Share access").
    assert [value for value, _label in page.context["form"].fields["actions"].choices] == ["view", "export"]
    response = client.post(change_url, {"actions": ["view", "share"]})
    assert response.status_code == 200 and response.context["form"].errors
    with pytest.raises(AccessError):
        change_access(sharer, target, [Action.VIEW, Action.EXPORT, Action.SHARE])
    assert flags(target) == {Action.VIEW, Action.EXPORT}

    assert client.post(change_url, {"actions": ["view"]}).status_code == 302
    assert flags(target) == {Action.VIEW}
    assert logged("wagtail_customers.access.change")[-1].data["previous_actions"] == ["view", "export"]

    assert client.get(revoke_url).status_code == 200
    assert client.post(revoke_url).status_code == 302
    assert not AccessGrant.objects.filter(pk=target.pk).exists()
    assert logged("wagtail_customers.access.revoke")[-1].user == sharer
    # Nothing new is given to them either.
    with pytest.raises(AccessError):
        share_access(sharer, colleague, [account], [Action.VIEW])


def test_grants_of_other_accounts_answer_404(client, sharer, colleague, other_account):
    target = grant(colleague, other_account, Action.VIEW)
    logged_in(client, sharer)
    for name in ("change", "revoke"):
        url = reverse(f"wagtail_customers_sharing:{name}", args=(target.pk,))
        assert client.get(url).status_code == 404
        assert client.post(url, {"actions": ["view"]}).status_code == 404
    assert flags(target) == {Action.VIEW}


def test_nobody_changes_their_own_grant(client, sharer, account):
    own = AccessGrant.objects.get(user=sharer)
    for name in ("change", "revoke"):
        response = logged_in(client, sharer).post(reverse(f"wagtail_customers_sharing:{name}", args=(own.pk,)))
        assert response.status_code == 403
    assert flags(own) == {Action.VIEW, Action.EXPORT, Action.SHARE}
    with pytest.raises(AccessError):
        change_access(sharer, own, [])


# --- The user search --------------------------------------------------------------------------------


def test_user_search_finds_by_name_prefix_and_whole_e_mail_only(client, sharer, colleague):
    make_staff("inactive", email="marie@old.example", is_active=False)
    response = logged_in(client, sharer).get(USERS, {"q": "cur"}, headers={"x-requested-with": "XMLHttpRequest"})
    assert response.status_code == 200
    # Only what sharing needs: the user name to submit and a name to recognise; no e-mail address.
    assert response.json() == {"results": [{"username": "colleague", "name": "Colleague Curie"}]}
    assert [user["username"] for user in client.get(USERS, {"q": "coll cur"}).json()["results"]] == ["colleague"]
    # A whole e-mail address finds its user, and the address comes back (the searcher typed it).
    assert client.get(USERS, {"q": "MARIE@lab.example"}).json() == {
        "results": [{"username": "colleague", "name": "Colleague Curie", "email": "marie@lab.example"}]
    }
    # No search inside e-mail addresses or names, no short prefixes, never oneself: no user enumeration.
    for query in ("marie", "lab.example", "@lab.example", "olleague", "co", "c", "sharer", "marie@old.example"):
        assert client.get(USERS, {"q": query}).json() == {"results": []}, query


@pytest.mark.parametrize("query", ["cur\x00ie", "marie@lab.example\x00", "\x00cur"])
def test_user_search_with_a_nul_finds_nobody_not_an_error(client, sharer, colleague, query):
    """PostgreSQL refuses a NUL in a query's text: a 500 there."""
    client = logged_in(client, sharer)
    client.raise_request_exception = False
    response = client.get(USERS, {"q": query})
    assert response.status_code == 200
    assert response.json() == {"results": []}


def test_user_search_is_refused_to_users_who_may_share_nothing(client, account, colleague):
    viewer = make_staff("viewer")
    grant(viewer, account, *[action for action in Action if action != Action.SHARE])
    logged_in(client, viewer)
    for headers in ({}, {"x-requested-with": "XMLHttpRequest"}):
        response = client.get(USERS, {"q": "colleague"}, headers=headers)
        assert response.status_code == 403
        assert b"colleague" not in response.content


def test_user_search_limits_results(admin_client):
    for index in range(15):
        make_staff(f"twin{index:02}")
    results = admin_client.get(USERS, {"q": "twin"}).json()["results"]
    assert len(results) == 10
    assert results[0] == {"username": "twin00", "name": "Twin00"}


# --- Menu and header -----------------------------------------------------------------------------


def sidebar_urls(client):
    """The URLs of the Wagtail sidebar's menu, as the admin's home page sends them."""
    content = client.get(reverse("wagtailadmin_home")).content.decode()
    match = re.search(r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>', content, re.S)
    assert match, "sidebar props not found"
    return set(re.findall(r'"url": "([^"]+)"', json.dumps(json.loads(match.group(1)))))


def test_customers_menu_appears_on_the_next_page_load_after_sharing(client, colleague, account):
    logged_in(client, colleague)
    assert reverse("wagtail_customers:index") not in sidebar_urls(client)
    grant(colleague, account, Action.VIEW)
    urls = sidebar_urls(client)
    assert reverse("wagtail_customers:index") in urls
    assert INDEX not in urls  # the Sharing entry needs the share action
    AccessGrant.objects.filter(user=colleague).update(can_share=True)
    assert INDEX in sidebar_urls(client)
    AccessGrant.objects.filter(user=colleague).delete()
    assert reverse("wagtail_customers:index") not in sidebar_urls(client)


def test_sharing_header_actions(sharer, colleague, account):
    request = RequestFactory().get("/")
    request.user = sharer
    [button] = sharing_header_actions(request)
    assert button.url == INDEX
    assert str(button.label) == "Permissions"
    request.user = colleague
    assert sharing_header_actions(request) == []


def test_grants_show_in_site_history(admin_client, colleague, account):
    admin_client.post(SHARE, {"user": "colleague", "accounts": [account.pk], "actions": ["view"]})
    content = admin_client.get(reverse("wagtailadmin_reports:site_history")).content.decode()
    assert "Access shared" in content
    assert "colleague" in content


def test_a_group_without_view_customers_is_said_to_act_only_where_its_members_may_view(admin_client):
    # A group's Export without View's applies on the accounts a member may view (permissions.py), not on every
    # account as the table's heading says of groups.
    from django.contrib.auth.models import Group, Permission

    exporters = Group.objects.create(name="Exporters")
    exporters.permissions.add(
        Permission.objects.get(content_type__app_label="wagtail_customers", codename="export_customer")
    )
    viewers = Group.objects.create(name="Viewers")
    viewers.permissions.add(
        Permission.objects.get(content_type__app_label="wagtail_customers", codename="view_customer")
    )
    page = admin_client.get(INDEX).content.decode()
    rows = {
        name: re.search(rf"<tr>\s*<td>(?:<a[^>]*>)?{name}.*?</tr>", page, re.S).group(0)
        for name in ("Exporters", "Viewers")
    }
    assert "only on the seller accounts where a member may view customers" in rows["Exporters"]
    assert "only on the seller accounts where a member may view customers" not in rows["Viewers"]
