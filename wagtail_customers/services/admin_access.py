"""Letting a user sign in to the Wagtail admin from the Share access form.

A grant on a seller account does nothing for someone who cannot sign in to the admin. Users who may
manage users (``auth.change_user``, who could do the same in Settings › Users) may add the person to
the group named by the ``ADMIN_ACCESS_GROUP`` setting, which must have Wagtail's "Can access Wagtail
admin" permission. The system checks ``wagtail_customers.E020`` / ``W021`` report a missing group or a
group without that permission.
"""

from django.contrib.auth.models import Group
from wagtail.log_actions import log

from ..conf import get_setting

ACCESS_ADMIN = ("wagtailadmin", "access_admin")


def can_sign_in(user):
    return user.is_active and user.has_perm("wagtailadmin.access_admin")


def group_gives_admin_access(group):
    app_label, codename = ACCESS_ADMIN
    return group.permissions.filter(content_type__app_label=app_label, codename=codename).exists()


def admin_access_group():
    """The configured group, when it exists and lets its members sign in; else ``None``."""
    name = get_setting("ADMIN_ACCESS_GROUP")
    if not name or not isinstance(name, str):
        return None
    group = Group.objects.filter(name=name).first()
    return group if group is not None and group_gives_admin_access(group) else None


def may_let_sign_in(sharer):
    """May ``sharer`` add people to the admin access group (and is there one)?"""
    return sharer.is_active and sharer.has_perm("auth.change_user") and admin_access_group() is not None


def let_sign_in(sharer, user):
    """Add ``user`` to the admin access group; the group, or ``None`` if they could sign in already.

    Callers check :func:`may_let_sign_in` first.
    """
    if can_sign_in(user):
        return None
    group = admin_access_group()
    user.groups.add(group)
    # A change of who may sign in: in the site history, with who made it.
    log(
        instance=user,
        action="wagtail_customers.access.admin_sign_in",
        user=sharer,
        data={"user_id": user.pk, "user": user.get_username(), "group": group.name},
    )
    return group
