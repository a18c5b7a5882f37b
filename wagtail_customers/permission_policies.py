"""Wagtail permission policies for the plugin's models, built on ``permissions.py``.

Wagtail's generic views, snippets, bulk actions and menus ask a model's permission policy "may this
user add / change / delete / view?". These policies answer with the plugin's rules: each Wagtail
action maps to one of the plugin's actions (``Action``), answered per seller account by
``accounts_for``; a Wagtail action with no mapping falls back to the model's own Django permission
(module-wide, so in practice: superusers and groups given it in Settings > Groups).

Registered for every plugin model with a Wagtail screen by :func:`register_permission_policies`,
through ``compat.register_permission_policy`` (Wagtail 8's registry, Wagtail 7's viewset property).
"""

from django.contrib.auth import get_permission_codename, get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from wagtail.permission_policies.base import BasePermissionPolicy

from . import compat
from .models import AccessGrant, Customer, ExportJob, ImportJob, Order, SellerAccount, WatchlistEntry
from .permissions import (
    Action,
    account_id_of,
    account_path,
    accounts_for,
    actions_for_request,
    can,
    users_with_access,
)


class SellerAccountPermissionPolicy(BasePermissionPolicy):
    """Permissions on a model whose rows belong to a seller account (or, with ``owner_field``, to a user).

    :param actions: maps Wagtail action names (``"view"``, ``"add"``, ``"change"``, ``"delete"``,
        ``"export"``) to the plugin's ``Action``; unmapped actions need the model's Django permission.
    :param owner_field: rows are personal (export and import jobs): only their owner may act on them,
        superusers included.
    """

    def __init__(self, model, actions, *, owner_field=None):
        super().__init__(model)
        self.actions = {name: Action(action) for name, action in actions.items()}
        self.owner_field = owner_field

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _is_known(user):
        return user is not None and user.is_authenticated and user.is_active

    def _django_permission(self, action):
        opts = self.model._meta
        return f"{opts.app_label}.{get_permission_codename(action, opts)}"

    def _has_unmapped(self, user, action):
        return self._is_known(user) and (user.is_superuser or user.has_perm(self._django_permission(action)))

    def _accounts(self, user, action):
        """The enabled seller accounts on which the user may do the Wagtail ``action`` on this model."""
        if action in self.actions:
            return accounts_for(user, self.actions[action])
        if self._has_unmapped(user, action):
            # Managing seller accounts includes the disabled ones (to enable them again); rows of a
            # disabled account are out of every other scope.
            return SellerAccount.objects.all() if self.model is SellerAccount else SellerAccount.objects.enabled()
        return SellerAccount.objects.none()

    def _owns(self, user, instance):
        return self.owner_field is None or getattr(instance, f"{self.owner_field}_id", None) == user.pk

    # -- model-level ---------------------------------------------------------------------------

    def user_has_permission(self, user, action):
        if not self._is_known(user):
            return False
        if action in self.actions:
            return can(user, self.actions[action])
        return self._has_unmapped(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def request_has_any_permission(self, request, actions):
        """``user_has_any_permission(request.user, actions)``, answered from what the request has read already
        (``actions_for_request``) when every action maps to one of the plugin's: a menu asks on every page."""
        if all(action in self.actions for action in actions):
            allowed = actions_for_request(request)
            return any(self.actions[action] in allowed for action in actions)
        return self.user_has_any_permission(request.user, actions)

    def users_with_any_permission(self, actions):
        plugin_actions = {self.actions[action] for action in actions if action in self.actions}
        unmapped = [action for action in actions if action not in self.actions]
        users_filter = Q(pk__in=users_with_access(plugin_actions).values("pk")) if plugin_actions else Q(pk__in=[])
        if unmapped:
            permissions = Permission.objects.filter(
                content_type=ContentType.objects.get_for_model(self.model, for_concrete_model=False),
                codename__in=[get_permission_codename(action, self.model._meta) for action in unmapped],
            )
            users_filter |= (
                Q(is_superuser=True) | Q(groups__permissions__in=permissions) | Q(user_permissions__in=permissions)
            )
        return get_user_model().objects.filter(users_filter, is_active=True).distinct()

    # -- per instance --------------------------------------------------------------------------

    def user_has_permission_for_instance(self, user, action, instance):
        if not self._is_known(user) or not self._owns(user, instance):
            return False
        if account_path(self.model) is None:
            # Rows of no account (export jobs): their owner, while still allowed the action somewhere.
            return self.user_has_permission(user, action)
        account_id = account_id_of(instance)
        return account_id is not None and self._accounts(user, action).filter(pk=account_id).exists()

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(self.user_has_permission_for_instance(user, action, instance) for action in actions)

    def filter_queryset(self, user, actions, queryset):
        """``queryset`` narrowed to the rows on which the user may do any of the Wagtail ``actions``."""
        if not self._is_known(user):
            return queryset.none()
        if self.owner_field is not None:
            queryset = queryset.filter(**{self.owner_field: user})
        path = account_path(self.model)
        if path is None:
            return queryset if self.user_has_any_permission(user, actions) else queryset.none()
        account_ids = set()
        for action in actions:
            account_ids.update(self._accounts(user, action).values_list("pk", flat=True))
        return queryset.filter(**{f"{path}__in": account_ids})

    def instances_user_has_any_permission_for(self, user, actions):
        return self.filter_queryset(user, actions, self.model._default_manager.all())

    def users_with_any_permission_for_instance(self, actions, instance):
        if self.owner_field is not None:
            owner_id = getattr(instance, f"{self.owner_field}_id", None)
            return self.users_with_any_permission(actions).filter(pk=owner_id)
        account_id = account_id_of(instance)
        plugin_actions = {self.actions[action] for action in actions if action in self.actions}
        unmapped = [action for action in actions if action not in self.actions]
        users_filter = Q(pk__in=[])
        if plugin_actions and account_id is not None:
            users_filter |= Q(pk__in=users_with_access(plugin_actions, account=account_id).values("pk"))
        if unmapped:
            users_filter |= Q(pk__in=self.users_with_any_permission(unmapped).values("pk"))
        return get_user_model().objects.filter(users_filter)


#: The Wagtail actions of each plugin model, mapped to the plugin's actions.
POLICY_ACTIONS = {
    SellerAccount: {"view": Action.VIEW},
    Customer: {"view": Action.VIEW, "delete": Action.DELETE, "export": Action.EXPORT},
    Order: {"view": Action.VIEW, "export": Action.EXPORT},
    WatchlistEntry: {
        "view": Action.VIEW,
        "add": Action.MANAGE_WATCHLIST,
        "change": Action.MANAGE_WATCHLIST,
        "delete": Action.MANAGE_WATCHLIST,
        "export": Action.EXPORT,
    },
    AccessGrant: {"view": Action.SHARE, "add": Action.SHARE, "change": Action.SHARE, "delete": Action.SHARE},
    ExportJob: {"view": Action.EXPORT, "add": Action.EXPORT, "change": Action.EXPORT, "delete": Action.EXPORT},
    ImportJob: {"view": Action.IMPORT, "add": Action.IMPORT, "change": Action.IMPORT, "delete": Action.IMPORT},
}

#: Models whose rows are personal to the user who created them.
OWNER_FIELDS = {ExportJob: "user", ImportJob: "user"}

_policies = {}


def get_policy(model):
    """The plugin's policy for ``model`` (created once, then shared with Wagtail)."""
    if model not in _policies:
        _policies[model] = SellerAccountPermissionPolicy(
            model, POLICY_ACTIONS[model], owner_field=OWNER_FIELDS.get(model)
        )
    return _policies[model]


def register_permission_policies():
    """Hand the plugin's policies to Wagtail; safe to call more than once (``ready()`` and ``wagtail_hooks``)."""
    for model in POLICY_ACTIONS:
        compat.register_permission_policy(model, get_policy(model))
