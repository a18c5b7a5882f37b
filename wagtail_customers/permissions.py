"""Who may do what: the one place that scopes seller accounts, customers and orders to a user.

A user may act on a seller account for an action when any of these holds:

* they are an active superuser;
* they hold the plugin's Wagtail permission for the action (module-wide: every seller account),
  given through a group in Settings > Groups;
* they have an ``AccessGrant`` on that account with the action's flag.

Disabled seller accounts are out of every scope. Every listing, statistic, export, import, toggle,
bulk action, detail page and download asks this module.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import AccessGrant, Customer, Order, SellerAccount


class Action(models.TextChoices):
    VIEW = "view", _("View customers")
    EXPORT = "export", _("Export")
    MANAGE_WATCHLIST = "manage_watchlist", _("Manage the watchlist")
    EMAIL = "email", _("E-mail customers")
    DELETE = "delete", _("Delete customers")
    IMPORT = "import", _("Import orders")
    SHARE = "share", _("Share access")


#: The Django permission (app label ``wagtail_customers``) that grants an action on every account.
PERMISSION_CODENAMES = {
    Action.VIEW: "view_customer",
    Action.EXPORT: "export_customer",
    Action.MANAGE_WATCHLIST: "manage_watchlist",
    Action.EMAIL: "email_customer",
    Action.DELETE: "delete_customer",
    Action.IMPORT: "import_orders",
    Action.SHARE: "share_access",
}

#: The ``AccessGrant`` flag for each action.
GRANT_FLAGS = {
    Action.VIEW: "can_view",
    Action.EXPORT: "can_export",
    Action.MANAGE_WATCHLIST: "can_manage_watchlist",
    Action.EMAIL: "can_email",
    Action.DELETE: "can_delete",
    Action.IMPORT: "can_import",
    Action.SHARE: "can_share",
}


def _is_known_user(user):
    return user is not None and user.is_authenticated and user.is_active


def has_module_permission(user, action):
    """True when the user may do ``action`` on every seller account (superuser or group permission)."""
    if not _is_known_user(user):
        return False
    return user.is_superuser or user.has_perm(f"wagtail_customers.{PERMISSION_CODENAMES[Action(action)]}")


def accounts_for(user, action=Action.VIEW):
    """The enabled seller accounts the user may act on for ``action``."""
    accounts = SellerAccount.objects.enabled()
    if not _is_known_user(user):
        return accounts.none()
    if has_module_permission(user, action):
        return accounts
    flag = GRANT_FLAGS[Action(action)]
    granted = AccessGrant.objects.filter(user=user, **{flag: True}).values("account_id")
    return accounts.filter(pk__in=granted)


def customers_for(user, action=Action.VIEW):
    """The customers the user may act on for ``action``."""
    return Customer.objects.filter(account__in=accounts_for(user, action))


def orders_for(user, action=Action.VIEW):
    """The orders the user may act on for ``action``."""
    return Order.objects.filter(account__in=accounts_for(user, action))


def can(user, action, account=None):
    """May the user do ``action`` on ``account`` (a ``SellerAccount`` or its id), or on any account?"""
    accounts = accounts_for(user, action)
    if account is None:
        return accounts.exists()
    account_id = account.pk if isinstance(account, SellerAccount) else account
    return accounts.filter(pk=account_id).exists()


def has_any_access(user):
    """Should the user see the Customers menu at all?"""
    if not _is_known_user(user):
        return False
    if user.is_superuser or any(has_module_permission(user, action) for action in Action):
        return True
    grant_filter = Q()
    for flag in GRANT_FLAGS.values():
        grant_filter |= Q(**{flag: True})
    return AccessGrant.objects.filter(grant_filter, user=user, account__is_enabled=True).exists()
