"""Who may do what: the one place that scopes seller accounts, customers and orders to a user.

A user may act on a seller account for an action when any of these holds:

* they are an active superuser;
* they hold the plugin's Wagtail permission for the action (module-wide: every seller account),
  given through a group in Settings > Groups;
* they have an ``AccessGrant`` on that account with the action's flag.

Every action other than View works on the customers one can see: a grant gives View with any action
(``services/access.with_view``), and an action's permission held without View's applies on the accounts
where a grant lets the user view, not on every account.

Disabled seller accounts are out of every scope. Every listing, statistic, export, import, toggle,
bulk action, detail page and download asks this module; the Wagtail permission policies in
``permission_policies.py`` and the view mixins in ``views/scoping.py`` are built on it.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import (
    AccessGrant,
    Customer,
    Feedback,
    ImportJob,
    Order,
    OrderEvent,
    OrderLine,
    PromoCodeUsage,
    SellerAccount,
    WatchlistEntry,
)


class Action(models.TextChoices):
    VIEW = "view", _("View customers")
    #: Names, e-mails, phones and addresses; without it they are masked (services/personal_data.py).
    SEE_PERSONAL_DATA = "see_personal_data", _("See personal data")
    EXPORT = "export", _("Export")
    MANAGE_WATCHLIST = "manage_watchlist", _("Manage the watchlist")
    EMAIL = "email", _("E-mail customers")
    DELETE = "delete", _("Delete customers")
    ERASE = "erase", _("Erase personal data")
    IMPORT = "import", _("Import orders")
    SHARE = "share", _("Share access")


#: The Django permission (app label ``wagtail_customers``) that grants an action on every account.
PERMISSION_CODENAMES = {
    Action.VIEW: "view_customer",
    Action.SEE_PERSONAL_DATA: "view_personal_data",
    Action.EXPORT: "export_customer",
    Action.MANAGE_WATCHLIST: "manage_watchlist",
    Action.EMAIL: "email_customer",
    Action.DELETE: "delete_customer",
    Action.ERASE: "erase_customer",
    Action.IMPORT: "import_orders",
    Action.SHARE: "share_access",
}

#: The ``AccessGrant`` flag for each action.
GRANT_FLAGS = {
    Action.VIEW: "can_view",
    Action.SEE_PERSONAL_DATA: "can_see_personal_data",
    Action.EXPORT: "can_export",
    Action.MANAGE_WATCHLIST: "can_manage_watchlist",
    Action.EMAIL: "can_email",
    Action.DELETE: "can_delete",
    Action.ERASE: "can_erase",
    Action.IMPORT: "can_import",
    Action.SHARE: "can_share",
}


def _is_known_user(user):
    return user is not None and user.is_authenticated and user.is_active


def _holds_permission(user, action):
    return user.has_perm(f"wagtail_customers.{PERMISSION_CODENAMES[Action(action)]}")


def has_module_permission(user, action):
    """True when the user may do ``action`` on every seller account: a superuser, or the action's permission (a
    group's or the user's own) with View's."""
    if not _is_known_user(user):
        return False
    if user.is_superuser:
        return True
    action = Action(action)
    return _holds_permission(user, action) and (action == Action.VIEW or _holds_permission(user, Action.VIEW))


def _grant_flags(user):
    """``{action: the AccessGrant flag that gives it to this user on an account}``: the action's own flag, or View's
    for an action whose permission the user holds without View's (it applies where they may view)."""
    viewing_everywhere = _holds_permission(user, Action.VIEW)
    return {
        action: GRANT_FLAGS[Action.VIEW]
        if action != Action.VIEW and not viewing_everywhere and _holds_permission(user, action)
        else flag
        for action, flag in GRANT_FLAGS.items()
    }


def accounts_for(user, action=Action.VIEW):
    """The enabled seller accounts the user may act on for ``action``."""
    accounts = SellerAccount.objects.enabled()
    if not _is_known_user(user):
        return accounts.none()
    if has_module_permission(user, action):
        return accounts
    flag = _grant_flags(user)[Action(action)]
    granted = AccessGrant.objects.filter(user=user, **{flag: True}).values("account_id")
    return accounts.filter(pk__in=granted)


def account_ids_by_action(user, actions, *, enabled_ids=None):
    """``{action: ids of the enabled accounts accounts_for(user, action) gives}`` for several actions in one or two
    queries, not one each: what a page reads once to decide every row's menu and masking. ``enabled_ids``: the
    enabled accounts' ids where the caller has read them already (no query for them then)."""
    actions = [Action(action) for action in actions]
    if not _is_known_user(user):
        return {action: set() for action in actions}
    everywhere = [action for action in actions if has_module_permission(user, action)]
    by_grant = [action for action in actions if action not in everywhere]
    result = {}
    if everywhere:
        if enabled_ids is None:
            enabled_ids = SellerAccount.objects.enabled().values_list("pk", flat=True)
        enabled = set(enabled_ids)
        result.update({action: set(enabled) for action in everywhere})
    if by_grant:
        grant_flags = _grant_flags(user)
        # Each flag once: several actions may read View's, and Django 5.2 reads a field named twice once.
        flags = list(dict.fromkeys(grant_flags[action] for action in by_grant))
        rows = [
            (row[0], dict(zip(flags, row[1:], strict=True)))
            for row in AccessGrant.objects.filter(user=user, account__is_enabled=True).values_list("account_id", *flags)
        ]
        for action in by_grant:
            result[action] = {account_id for account_id, held in rows if held[grant_flags[action]]}
    return result


def customers_for(user, action=Action.VIEW):
    """The customers the user may act on for ``action``."""
    return Customer.objects.filter(account__in=accounts_for(user, action))


def orders_for(user, action=Action.VIEW):
    """The orders the user may act on for ``action``."""
    return Order.objects.filter(account__in=accounts_for(user, action))


def can(user, action, account=None):
    """May the user do ``action`` on ``account`` (a ``SellerAccount`` or its id), or on any account?

    With no ``account``: true for module-wide holders (superusers, group permissions) even before the
    first seller account exists, so they can open the screens; else true when some account allows it.
    """
    if account is None:
        return has_module_permission(user, action) or accounts_for(user, action).exists()
    accounts = accounts_for(user, action)
    account_id = account.pk if isinstance(account, SellerAccount) else account
    return accounts.filter(pk=account_id).exists()


def actions_allowed_somewhere(user):
    """The actions ``can(user, action)`` allows with no account given, all read at once: no query for a user with
    module-wide permissions for every action, else one (the user's grants on enabled accounts)."""
    allowed = set(module_actions(user))
    by_grant = [action for action in Action if action not in allowed]
    if by_grant and _is_known_user(user):
        grant_flags = _grant_flags(user)
        flags = list(dict.fromkeys(grant_flags[action] for action in by_grant))  # each once, as above
        for row in AccessGrant.objects.filter(user=user, account__is_enabled=True).values_list(*flags):
            held = dict(zip(flags, row, strict=True))
            allowed.update(action for action in by_grant if held[grant_flags[action]])
    return frozenset(allowed)


def actions_for_request(request):
    """``actions_allowed_somewhere(request.user)``, read once a request. Wagtail asks every entry of the Customers
    menu whether to show itself on every admin page (twice: to draw the submenu and to decide whether it is
    shown), and the page's header and toolbar ask too: one query each was 14 to 16 a page for a user with
    grants. Read again if ``request.user`` is another (a login or logout)."""
    user = request.user
    cached = getattr(request, "_wagtail_customers_actions", None)
    if cached is None or cached[0] is not user:
        cached = request._wagtail_customers_actions = (user, actions_allowed_somewhere(user))
    return cached[1]


def has_any_access(user):
    """May the user do anything in the plugin (see the Customers menu)?"""
    return bool(module_actions(user)) or bool(actions_allowed_somewhere(user))


def plugin_permissions():
    """The plugin's Django permissions, one per action (shown in Settings > Groups)."""
    return Permission.objects.filter(
        content_type__app_label="wagtail_customers",
        content_type__model="customer",
        codename__in=PERMISSION_CODENAMES.values(),
    )


# --- Scoping any of the plugin's models -------------------------------------------------------

#: How rows of each plugin model reach their seller account (a ``__`` path; ``pk`` for the account itself).
ACCOUNT_PATHS = {
    SellerAccount: "pk",
    Customer: "account",
    Order: "account",
    OrderLine: "order__account",
    PromoCodeUsage: "order__account",
    Feedback: "order__account",
    OrderEvent: "customer__account",
    WatchlistEntry: "customer__account",
    AccessGrant: "account",
    ImportJob: "account",
}


def account_path(model):
    """The lookup from ``model`` to its seller account, or ``None`` when its rows belong to no account."""
    for candidate in model.__mro__:
        if candidate in ACCOUNT_PATHS:
            return ACCOUNT_PATHS[candidate]
    return None


def scope(queryset, user, action=Action.VIEW):
    """``queryset`` narrowed to the rows of the seller accounts the user may act on for ``action``."""
    path = account_path(queryset.model)
    if path is None:
        raise ValueError(f"{queryset.model.__name__} rows belong to no seller account; scope them by owner.")
    return queryset.filter(**{f"{path}__in": accounts_for(user, action)})


def account_id_of(instance):
    """The seller account id of a plugin model instance (``None`` for rows that belong to no account)."""
    path = account_path(type(instance))
    if path is None:
        return None
    if path == "pk":
        return instance.pk
    *hops, last = path.split("__")
    obj = instance
    for hop in hops:
        obj = getattr(obj, hop, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)


# --- What a user holds, per account (the Share access screen, hiding buttons) ---------------------


def module_actions(user):
    """The actions the user holds on every seller account (superuser or group permissions)."""
    if not _is_known_user(user):
        return frozenset()
    return frozenset(action for action in Action if has_module_permission(user, action))


def actions_by_account(user, accounts=None):
    """``{account_id: frozenset(actions)}`` for the enabled accounts (or ``accounts``) the user holds any action on.

    Two queries whatever the number of accounts.
    """
    if not _is_known_user(user):
        return {}
    candidates = SellerAccount.objects.enabled()
    if accounts is not None:
        candidates = candidates.filter(pk__in=[getattr(account, "pk", account) for account in accounts])
    everywhere = module_actions(user)
    held = {}
    if everywhere:
        held = {account_id: set(everywhere) for account_id in candidates.values_list("pk", flat=True)}
    grants = AccessGrant.objects.filter(user=user, account__in=candidates).values("account_id", *GRANT_FLAGS.values())
    grant_flags = _grant_flags(user)
    for grant in grants:
        actions = held.setdefault(grant["account_id"], set(everywhere))
        actions.update(action for action, flag in grant_flags.items() if grant[flag])
    return {account_id: frozenset(actions) for account_id, actions in held.items() if actions}


def actions_on(user, account):
    """The actions the user may do on one seller account (a ``SellerAccount`` or its id)."""
    account_id = getattr(account, "pk", account)
    return actions_by_account(user, [account_id]).get(account_id, frozenset())


def users_with_access(actions, account=None):
    """Active users who may do any of ``actions`` on ``account`` (or on some account when ``account`` is None)."""
    actions = [Action(action) for action in actions]
    grant_filter = Q()
    for action in actions:
        grant_filter |= Q(**{GRANT_FLAGS[action]: True})
    grants = AccessGrant.objects.filter(account__is_enabled=True)
    if account is not None:
        grants = grants.filter(account=account)
        if not SellerAccount.objects.enabled().filter(pk=getattr(account, "pk", account)).exists():
            return get_user_model().objects.none()
    # A permission other than View's counts where its holder may view: everywhere with View's, else by a grant.
    viewing = _holding_permissions([Action.VIEW]) | Q(pk__in=grants.filter(can_view=True).values("user_id"))
    others = [action for action in actions if action != Action.VIEW]
    by_permission = (_holding_permissions(others) & viewing) if others else Q(pk__in=[])
    if Action.VIEW in actions:
        by_permission |= _holding_permissions([Action.VIEW])
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(pk__in=grants.filter(grant_filter).values("user_id")) | by_permission)
        .distinct()
    )


def _holding_permissions(actions):
    """Users who hold the permission of any of ``actions``, through a group or their own (a ``Q`` on users)."""
    permissions = Permission.objects.filter(
        content_type__app_label="wagtail_customers",
        codename__in=[PERMISSION_CODENAMES[action] for action in actions],
    )
    holders = get_user_model().objects.filter(
        Q(groups__permissions__in=permissions) | Q(user_permissions__in=permissions)
    )
    return Q(pk__in=holders.values("pk"))
