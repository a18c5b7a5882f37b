"""The Share access screen: who has access to which seller accounts, and the forms to share, change, revoke.

Everything here is scoped to the seller accounts the requesting user may share (superusers: all);
ids from the URL outside that scope answer 404, and the user search answers 403 to anyone who may
share nothing (no user enumeration).
"""

from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django.views.generic import FormView, TemplateView
from wagtail.admin import messages
from wagtail.admin.ui.tables import ButtonsColumnMixin, Column, DateColumn, TitleColumn
from wagtail.admin.views.generic import IndexView, WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import Button

from ...compat import get_permission_policy
from ...models import AccessGrant
from ...permissions import PERMISSION_CODENAMES, Action, actions_by_account, can, plugin_permissions, scope
from ...services.access import (
    AccessError,
    can_revoke,
    change_access,
    grant_actions,
    revoke_access,
    share_access,
)
from ...services.admin_access import can_sign_in, let_sign_in, may_let_sign_in
from ..search import BoundedSearchMixin
from .forms import MIN_SEARCH_LENGTH, ChangeAccessForm, ShareAccessForm, describe_user, find_users

INDEX_URL = "wagtail_customers_sharing:index"


def _breadcrumbs(*items):
    return [
        {"url": reverse("wagtailadmin_home"), "label": _("Home")},
        {"url": reverse("wagtail_customers:index"), "label": _("Customers")},
        *items,
    ]


class ActionsColumn(Column):
    cell_template_name = "wagtail_customers/sharing/actions_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["actions"] = [action.label for action in grant_actions(instance)]
        return context


class UserColumn(ButtonsColumnMixin, TitleColumn):
    """The user's name and e-mail, marked when their user account is deactivated, with the row's Change / Revoke
    menu."""

    cell_template_name = "wagtail_customers/sharing/user_cell.html"

    def __init__(self, *args, get_buttons, **kwargs):
        super().__init__(*args, **kwargs)
        self._get_buttons = get_buttons

    def get_buttons(self, instance, parent_context):
        return self._get_buttons(instance)

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["deactivated"] = not instance.user.is_active
        return context

    def get_value(self, instance):
        user = instance.user
        name = user.get_full_name() if hasattr(user, "get_full_name") else ""
        return f"{name} ({user.email or user.get_username()})" if name else (user.email or user.get_username())


class SharingIndexView(BoundedSearchMixin, IndexView):
    """Every grant on the seller accounts the user may share, with Change and Revoke."""

    model = AccessGrant
    template_name = "wagtail_customers/sharing/index.html"
    results_template_name = "wagtail_customers/sharing/index_results.html"
    index_url_name = INDEX_URL
    index_results_url_name = "wagtail_customers_sharing:index_results"
    add_url_name = "wagtail_customers_sharing:share"
    edit_url_name = "wagtail_customers_sharing:change"
    delete_url_name = "wagtail_customers_sharing:revoke"
    add_item_label = gettext_lazy("Share access")
    page_title = gettext_lazy("Sharing")
    header_icon = "key"
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email", "account__name"]
    default_ordering = ["user__username", "account__name"]
    paginate_by = 50

    @cached_property
    def permission_policy(self):
        return get_permission_policy(AccessGrant)

    def get_breadcrumbs_items(self):
        return _breadcrumbs({"url": "", "label": self.page_title})

    def get_base_queryset(self):
        return scope(AccessGrant.objects.all(), self.request.user, Action.SHARE).select_related(
            "user", "account", "created_by"
        )

    def get_valid_orderings(self):
        return ["user__username", "-user__username", "account__name", "-account__name", "updated_at", "-updated_at"]

    @cached_property
    def columns(self):
        return [
            UserColumn(
                "user",
                label=_("User"),
                sort_key="user__username",
                get_url=self.get_edit_url,
                get_buttons=self.get_list_buttons,
            ),
            TitleColumn(
                "account",
                label=_("Seller account"),
                accessor="account.name",
                sort_key="account__name",
                get_url=lambda grant: None,
            ),
            ActionsColumn("actions", label=_("Actions")),
            Column("created_by", label=_("Shared by"), accessor="created_by"),
            DateColumn("updated_at", label=_("Updated"), sort_key="updated_at"),
        ]

    @cached_property
    def _giveable(self):
        """The actions the user may give, per account: two queries for the whole page."""
        held = actions_by_account(self.request.user)
        return {account_id: actions for account_id, actions in held.items() if Action.SHARE in actions}

    def get_edit_url(self, instance):
        giveable = self._giveable.get(instance.account_id, frozenset())
        if not instance.user.is_active:
            # A deactivated user's grant can only be reduced: Change needs one of its actions to take away.
            giveable = giveable & set(grant_actions(instance))
        if instance.user_id != self.request.user.pk and giveable:
            return reverse(self.edit_url_name, args=(quote(instance.pk),))

    def get_delete_url(self, instance):
        giveable = self._giveable.get(instance.account_id, frozenset())
        if instance.user_id != self.request.user.pk and set(grant_actions(instance)) <= giveable and giveable:
            return reverse(self.delete_url_name, args=(quote(instance.pk),))

    def get_list_more_buttons(self, instance):
        buttons = []
        if edit_url := self.get_edit_url(instance):
            buttons.append(
                Button(
                    _("Change"),
                    url=edit_url,
                    icon_name="edit",
                    attrs={"aria-label": _("Change the access of %(grant)s") % {"grant": instance}},
                    priority=10,
                )
            )
        if delete_url := self.get_delete_url(instance):
            buttons.append(
                Button(
                    _("Revoke"),
                    url=delete_url,
                    icon_name="bin",
                    attrs={"aria-label": _("Revoke the access of %(grant)s") % {"grant": instance}},
                    priority=20,
                )
            )
        return buttons

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["module_groups"] = self.groups_with_module_access()
        context["action_labels"] = {action.value: action.label for action in Action}
        return context

    def groups_with_module_access(self):
        """Groups holding the plugin's permissions: access on every seller account."""
        codename_to_action = {codename: action for action, codename in PERMISSION_CODENAMES.items()}
        groups = (
            Group.objects.filter(permissions__in=plugin_permissions())
            .distinct()
            .order_by("name")
            .prefetch_related("permissions")
        )
        rows = []
        can_edit_groups = self.request.user.has_perm("auth.change_group")
        for group in groups:
            actions = [
                codename_to_action[permission.codename]
                for permission in group.permissions.all()
                if permission.content_type.app_label == "wagtail_customers"
                and permission.codename in codename_to_action
            ]
            rows.append(
                {
                    "group": group,
                    "actions": [action.label for action in Action if action in actions],
                    # Every other action works on the customers one may see (permissions.py): without View's
                    # permission the group's actions apply where a member may view, not on every account.
                    "without_view": Action.VIEW not in actions,
                    "edit_url": reverse("wagtailusers_groups:edit", args=(group.pk,)) if can_edit_groups else None,
                }
            )
        return rows


class SharingFormMixin(WagtailAdminTemplateMixin):
    header_icon = "key"

    def dispatch(self, request, *args, **kwargs):
        if not can(request.user, Action.SHARE):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ShareView(SharingFormMixin, FormView):
    form_class = ShareAccessForm
    template_name = "wagtail_customers/sharing/share.html"
    page_title = gettext_lazy("Share access")

    def get_breadcrumbs_items(self):
        return _breadcrumbs({"url": reverse(INDEX_URL), "label": _("Sharing")}, {"url": "", "label": self.page_title})

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "sharer": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["action_url"] = reverse("wagtail_customers_sharing:share")
        context["search_url"] = reverse("wagtail_customers_sharing:users")
        context["search_min_length"] = MIN_SEARCH_LENGTH
        return context

    def form_valid(self, form):
        user = form.cleaned_data["user"]
        try:
            changed = share_access(self.request.user, user, form.cleaned_data["accounts"], form.cleaned_data["actions"])
        except AccessError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        if changed:
            messages.success(
                self.request,
                _("Access shared with %(user)s on %(accounts)s.")
                % {"user": user.get_username(), "accounts": ", ".join(grant.account.name for grant in changed)},
            )
        else:
            messages.info(self.request, _("%(user)s already had this access.") % {"user": user.get_username()})
        self.give_admin_access(user, form.cleaned_data.get("admin_access"))
        return redirect(INDEX_URL)

    def give_admin_access(self, user, wanted):
        """Add the user to the admin access group if asked (and allowed); else say what they still need."""
        name = user.get_username()
        if wanted and may_let_sign_in(self.request.user):
            group = let_sign_in(self.request.user, user)
            if group is not None:
                messages.success(
                    self.request,
                    _("%(user)s can now sign in to the Wagtail admin (added to the group “%(group)s”).")
                    % {"user": name, "group": group.name},
                )
            return
        if can_sign_in(user):
            return
        if self.request.user.has_perm("auth.change_user"):
            message = _(
                "%(user)s cannot sign in to the Wagtail admin yet, so this access does nothing for now: add them "
                "to a group with “Can access Wagtail admin” in Settings › Users or Settings › Groups."
            )
        else:
            message = _(
                "%(user)s cannot sign in to the Wagtail admin yet, so this access does nothing for now: ask an "
                "administrator of this site to add them to a group with “Can access Wagtail admin”."
            )
        messages.warning(self.request, message % {"user": name})


class GrantMixin(SharingFormMixin):
    """One grant from the URL, on an account the user may share (else 404); never the user's own (403)."""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        grants = scope(AccessGrant.objects.select_related("user", "account"), request.user, Action.SHARE)
        self.grant = get_object_or_404(grants, pk=kwargs["pk"])

    def dispatch(self, request, *args, **kwargs):
        if self.grant.user_id == request.user.pk:
            raise PermissionDenied(_("You cannot change your own access."))
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return f"{self.grant.user.get_username()} · {self.grant.account.name}"

    def get_breadcrumbs_items(self):
        return _breadcrumbs(
            {"url": reverse(INDEX_URL), "label": _("Sharing")}, {"url": "", "label": self.get_page_subtitle()}
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["grant"] = self.grant
        context["can_revoke"] = can_revoke(self.request.user, self.grant)
        return context


class ChangeView(GrantMixin, FormView):
    form_class = ChangeAccessForm
    template_name = "wagtail_customers/sharing/change.html"
    page_title = gettext_lazy("Change access")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "sharer": self.request.user, "grant": self.grant}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["action_url"] = reverse("wagtail_customers_sharing:change", args=(self.grant.pk,))
        return context

    def form_valid(self, form):
        try:
            grant = change_access(self.request.user, self.grant, form.cleaned_data["actions"])
        except AccessError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        # The user may keep access to other seller accounts: the message names the one this grant was on.
        names = {"user": self.grant.user.get_username(), "account": self.grant.account.name}
        if grant is None:  # every action taken away: the grant was removed
            messages.success(self.request, _("Access of %(user)s to %(account)s revoked.") % names)
        else:
            messages.success(self.request, _("Access of %(user)s to %(account)s changed.") % names)
        return redirect(INDEX_URL)


class RevokeView(GrantMixin, TemplateView):
    template_name = "wagtail_customers/sharing/revoke.html"
    page_title = gettext_lazy("Revoke access")

    def get(self, request, *args, **kwargs):
        if not can_revoke(request.user, self.grant):
            raise PermissionDenied(_("This access includes actions you do not hold, so you cannot revoke all of it."))
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            revoke_access(request.user, self.grant)
        except AccessError as error:
            raise PermissionDenied(str(error)) from error
        messages.success(
            request,
            _("Access of %(user)s to %(account)s revoked.")
            % {"user": self.grant.user.get_username(), "account": self.grant.account.name},
        )
        return redirect(INDEX_URL)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["actions"] = [action.label for action in grant_actions(self.grant)]
        return context


@require_GET
def user_search(request):
    """JSON for the user field's autocomplete: ``{"results": [{username, name}]}`` (``email`` too when the
    query was that whole address).

    Only for users who may share some account; a name or user name prefix of ``MIN_SEARCH_LENGTH``
    characters or a whole e-mail address (see ``find_users``); ten results at most.
    """
    if not can(request.user, Action.SHARE):
        raise PermissionDenied
    query = request.GET.get("q", "")[:254].strip()
    users = find_users(query, exclude=request.user)
    return JsonResponse({"results": [describe_user(user, query) for user in users]})
