"""Sharing with someone who cannot sign in to the admin: the "also let them sign in" box, the plain message
otherwise, and the system checks of ``ADMIN_ACCESS_GROUP``."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import checks
from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests.permission_world import admin_access_group, grant, make_staff
from wagtail_customers.models import AccessGrant
from wagtail_customers.permissions import Action

pytestmark = pytest.mark.django_db

SHARE = reverse("wagtail_customers_sharing:share")
BOX = "Also let them sign in to the Wagtail admin"


@pytest.fixture
def outsider(django_user_model):
    """An active user who cannot sign in to the admin."""
    return django_user_model.objects.create_user("outsider", "outsider@example.com", "pw", first_name="Otto")


@pytest.fixture
def editors(settings):
    group = admin_access_group()  # "Admin access", with "Can access Wagtail admin"
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "ADMIN_ACCESS_GROUP": group.name}
    return group


def share(client, account, **extra):
    data = {"user": "outsider", "accounts": [account.pk], "actions": ["view"], **extra}
    return client.post(SHARE, data, follow=True)


def test_a_user_manager_lets_them_sign_in_from_the_share_form(admin_client, account, outsider, editors):
    assert BOX in admin_client.get(SHARE).content.decode()
    response = share(admin_client, account, admin_access="on")
    content = response.content.decode()
    assert AccessGrant.objects.filter(user=outsider, account=account).exists()
    assert list(outsider.groups.all()) == [editors]
    assert "outsider can now sign in to the Wagtail admin (added to the group “Admin access”)" in content
    assert "cannot sign in" not in content
    # Who let them in is in the site history.
    entry = ModelLogEntry.objects.get(action="wagtail_customers.access.admin_sign_in")
    assert (entry.object_id, entry.user_id) == (str(outsider.pk), response.wsgi_request.user.pk)
    assert entry.data == {"user_id": outsider.pk, "user": "outsider", "group": "Admin access"}


def test_without_the_box_they_are_told_what_else_is_needed(admin_client, account, outsider, editors):
    content = share(admin_client, account).content.decode()
    assert list(outsider.groups.all()) == []
    assert "outsider cannot sign in to the Wagtail admin yet, so this access does nothing for now" in content
    assert "Settings › Users or Settings › Groups" in content


def test_sharers_who_may_not_manage_users_get_no_box_and_are_told_to_ask(client, account, outsider, editors):
    sharer = make_staff("sharer")
    grant(sharer, account, Action.VIEW, Action.SHARE)
    client.force_login(sharer)
    assert BOX not in client.get(SHARE).content.decode()
    # Ticking it anyway (a crafted POST) changes nothing.
    content = share(client, account, admin_access="on").content.decode()
    assert AccessGrant.objects.filter(user=outsider, account=account).exists()
    assert list(outsider.groups.all()) == []
    assert "ask an administrator of this site to add them to a group with “Can access Wagtail admin”" in content


def test_a_sharer_with_change_user_gets_the_box(client, account, outsider, editors):
    sharer = make_staff("sharer")
    sharer.user_permissions.add(Permission.objects.get(content_type__app_label="auth", codename="change_user"))
    grant(sharer, account, Action.VIEW, Action.SHARE)
    client.force_login(sharer)
    share(client, account, admin_access="on")
    assert list(outsider.groups.all()) == [editors]


def test_no_box_without_a_usable_group(admin_client, account, outsider, settings):
    assert BOX not in admin_client.get(SHARE).content.decode()  # the setting is unset
    Group.objects.create(name="No admin")
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "ADMIN_ACCESS_GROUP": "No admin"}
    assert BOX not in admin_client.get(SHARE).content.decode()
    share(admin_client, account, admin_access="on")
    assert list(outsider.groups.all()) == []


def test_someone_who_can_sign_in_already_is_not_added(admin_client, account, editors):
    insider = make_staff("insider")  # in "Admin access" already
    response = admin_client.post(
        SHARE, {"user": "insider", "accounts": [account.pk], "actions": ["view"], "admin_access": "on"}, follow=True
    )
    assert "can now sign in" not in response.content.decode()
    assert "cannot sign in" not in response.content.decode()
    assert list(insider.groups.all()) == [editors]


def check_ids(settings_value, settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "ADMIN_ACCESS_GROUP": settings_value}
    messages = checks.run_checks(tags=[checks.Tags.database], databases=["default"])
    return [message.id for message in messages if message.id.startswith("wagtail_customers.")]


def test_system_checks_of_the_admin_access_group(settings, editors):
    assert check_ids(editors.name, settings) == []
    assert check_ids(None, settings) == []
    assert check_ids("Missing group", settings) == ["wagtail_customers.E020"]
    assert check_ids(42, settings) == ["wagtail_customers.E020"]
    Group.objects.create(name="No admin")
    assert check_ids("No admin", settings) == ["wagtail_customers.W021"]
