"""Migration 0011 changes nothing for existing users: every grant made before it gets "See personal data",
and every group or user holding the view permission gets ``view_personal_data``; a grant made afterwards
starts without it."""

import pytest
from django.contrib.auth.hashers import make_password

from tests.migration_support import back_to_the_latest_schema, migrate  # noqa: F401 (a fixture)

BEFORE = [("wagtail_customers", "0010_channel_connections")]
AFTER = [("wagtail_customers", "0011_personal_data_grant")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_existing_users_keep_seeing_personal_data_and_new_grants_start_without_it():
    apps = migrate(BEFORE)
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    SellerAccount = apps.get_model("wagtail_customers", "SellerAccount")
    AccessGrant = apps.get_model("wagtail_customers", "AccessGrant")
    assert not Permission.objects.filter(codename="view_personal_data").exists()

    account = SellerAccount.objects.create(name="Shop", currency="EUR")
    granted, grouped, direct, other = (
        User.objects.create(username=name, password=make_password("pw"))
        for name in ("granted", "grouped", "direct", "other")
    )
    AccessGrant.objects.create(user=granted, account=account, can_view=True)
    view = Permission.objects.get(content_type__app_label="wagtail_customers", codename="view_customer")
    export = Permission.objects.get(content_type__app_label="wagtail_customers", codename="export_customer")
    viewers = Group.objects.create(name="Viewers")
    viewers.permissions.add(view)
    exporters_only = Group.objects.create(name="Exporters only")
    exporters_only.permissions.add(export)
    grouped.groups.add(viewers)
    direct.user_permissions.add(view)
    other.groups.add(exporters_only)

    apps = migrate(AFTER)
    AccessGrant = apps.get_model("wagtail_customers", "AccessGrant")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("auth", "User")
    Permission = apps.get_model("auth", "Permission")
    see = Permission.objects.get(content_type__app_label="wagtail_customers", codename="view_personal_data")
    assert AccessGrant.objects.get(user__username="granted").can_see_personal_data is True
    assert see in Group.objects.get(name="Viewers").permissions.all()
    assert see not in Group.objects.get(name="Exporters only").permissions.all()
    assert see in User.objects.get(username="direct").user_permissions.all()

    # A grant made after the upgrade is private by default.
    later = User.objects.create(username="later", password=make_password("pw"))
    account = apps.get_model("wagtail_customers", "SellerAccount").objects.get(name="Shop")
    assert AccessGrant.objects.create(user=later, account=account).can_see_personal_data is False

    # And back: the permission goes, the grants lose the field.
    apps = migrate(BEFORE)
    assert not apps.get_model("auth", "Permission").objects.filter(codename="view_personal_data").exists()
