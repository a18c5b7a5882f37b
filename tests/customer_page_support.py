"""Helpers shared by the customer page, order page and e-mail tests."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from wagtail_customers.models import AccessGrant


def staff_user(username, grants=None):
    """A Wagtail admin user (not a superuser) with ``AccessGrant``s: ``{account: {"can_email": True, ...}}``."""
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for account, flags in (grants or {}).items():
        # These tests are about other actions: the user sees personal data (as every grant made before the
        # "See personal data" action does) unless a test says otherwise.
        AccessGrant.objects.create(user=user, account=account, **{"can_see_personal_data": True, **flags})
    return user
