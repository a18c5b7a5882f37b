"""Helpers shared by the customer page, order page and e-mail tests."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from wagtail_customers.models import AccessGrant


def staff_user(username, grants=None):
    """A Wagtail admin user (not a superuser) with ``AccessGrant``s: ``{account: {"can_email": True, ...}}``."""
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for account, flags in (grants or {}).items():
        AccessGrant.objects.create(user=user, account=account, **flags)
    return user
