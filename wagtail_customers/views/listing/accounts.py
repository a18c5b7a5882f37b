"""Seller accounts: a Wagtail ``ModelViewSet`` under ``/admin/customers/accounts/``.

Adding, changing and deleting accounts needs the seller account permissions (superusers, or groups
given them in Settings > Groups). Those users see every account, disabled ones included, so they
can enable them again; anyone else who may view customers sees only the accounts they may view.
Disabling an account takes its customers out of every listing, statistic and export without
deleting anything.
"""

from functools import update_wrapper

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, router
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from wagtail.admin import messages
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from ...compat import PermissionPolicyViewSetMixin
from ...ids import parse_id
from ...models import SellerAccount
from ...permissions import Action, accounts_for
from ...services.deadlocks import atomic_with_retries
from ..connections.buttons import ConnectionButtonMixin
from ..connections.columns import ConnectionColumn
from ..methods import OfferedMethodsViewSetMixin
from ..retention.buttons import RetentionRuleButtonMixin
from ..retention.columns import RetentionColumn, with_retention
from ..scoping import permission_denied_as_403
from ..search import BoundedSearchMixin
from ..transactions import outside_request_transaction

MANAGE_PERMISSIONS = ("add_selleraccount", "change_selleraccount", "delete_selleraccount")


def may_manage_accounts(user):
    """Any of the seller account permissions: the account index and its menu item."""
    return user.is_active and (
        user.is_superuser or any(user.has_perm(f"wagtail_customers.{name}") for name in MANAGE_PERMISSIONS)
    )


def may_change_accounts(user):
    """What the account's own edit page needs, and so every page that changes an account's setup (its retention
    rule, its store connection): adding or deleting accounts is not the right to change them."""
    return user.is_active and (user.is_superuser or user.has_perm("wagtail_customers.change_selleraccount"))


class SellerAccountIndexView(BoundedSearchMixin, generic.IndexView):
    #: Wagtail's index with a named search landmark (axe's landmark-unique).
    template_name = "wagtail_customers/shared/index.html"

    def get_base_queryset(self):
        # The Connection column reads each account's connection: one join, not a query per row.
        queryset = super().get_base_queryset().select_related("connection")
        # The Retention column reads each account's rule and last run (services/retention.py).
        queryset = with_retention(queryset)
        if may_manage_accounts(self.request.user):
            return queryset
        return queryset.filter(pk__in=accounts_for(self.request.user, Action.VIEW))


class ManagersOnlyMixin:
    """The views of one account (edit, delete, history, usage) refuse users who may not manage accounts
    before the account is looked up: an existing id and a missing one answer the same, so ids cannot
    be probed. Then an id in the URL that is not an id (``ids.parse_id``) is "no such account", a 404:
    Wagtail 7.0 routes ``<str:pk>`` and looks "²" up as it is (a 500 on Django's ``ValueError``);
    Wagtail 8 routes ``<int:pk>``, which still lets a number too big for the database through."""

    def setup(self, request, *args, **kwargs):
        if not may_manage_accounts(request.user):
            raise PermissionDenied
        if "pk" in kwargs and parse_id(unquote(str(kwargs["pk"]))) is None:
            raise Http404
        super().setup(request, *args, **kwargs)


class YesNoColumn(Column):
    """A true/false field as "Yes" or "No" (Wagtail's default shows ``True``)."""

    def get_value(self, instance):
        return _("Yes") if super().get_value(instance) else _("No")


class AccountDeletionInterrupted(Exception):
    """Orders arrived for the account while it was being deleted; nothing was deleted. ``str()`` is the message."""


class AccountDeleteScrubsHistoryMixin:
    """Deleting a seller account deletes its customers: their entries in Wagtail's history are scrubbed as
    deleting customers does, in the transaction that deletes the account (services/deletion.py, on ``pre_delete``:
    an account deleted by a site's own code is scrubbed too).

    The account's row is locked first: an ingestion batch holds it while it records (services/ingestion.py), so the
    deletion waits for the batches under way, and those that come after find the account gone. A sync page renews
    its lease before its batch, so the two can meet the other way round: PostgreSQL then stops one, and a stopped
    deletion runs again (services/deadlocks.py). Rows that still arrive meanwhile (a writer that takes no such lock)
    make the deletion fail at commit: the page says so, and nothing is deleted."""

    def delete_action(self):
        def delete():
            # Locked before the deletion gathers the rows it deletes; the history is scrubbed by the deletion's
            # pre_delete (services/deletion.py), whoever deletes the account.
            list(SellerAccount.objects.select_for_update().filter(pk=self.object.pk).values_list("pk", flat=True))
            super(AccountDeleteScrubsHistoryMixin, self).delete_action()

        pk = self.object.pk
        try:
            atomic_with_retries(delete, using=router.db_for_write(SellerAccount))
        except IntegrityError as error:
            self.object.pk = pk  # emptied by the deletion, rolled back since
            raise AccountDeletionInterrupted(
                _("Orders arrived while the account was being deleted, so nothing was deleted. Try again.")
            ) from error

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except AccountDeletionInterrupted as error:
            messages.error(self.request, str(error))
            return redirect(self.get_delete_url())


class SellerAccountViewSet(OfferedMethodsViewSetMixin, PermissionPolicyViewSetMixin, ModelViewSet):
    model = SellerAccount
    icon = "site"
    menu_label = _("Seller accounts")
    add_to_admin_menu = False
    url_prefix = "customers/accounts"
    name = "wagtail_customers_accounts"
    index_view_class = SellerAccountIndexView
    list_display = [
        "name",
        # The channel's label ("eBay"): Wagtail 7.0 shows a bare field name's stored value ("ebay").
        Column("channel", label=_("Channel"), accessor="get_channel_display", sort_key="channel"),
        "marketplace",
        "currency",
        YesNoColumn("is_enabled", label=_("Enabled")),
        RetentionColumn(),
        ConnectionColumn(),
    ]
    list_filter = ["channel", "is_enabled"]
    search_fields = ["name", "marketplace"]
    ordering = ["name"]
    form_fields = ["name", "channel", "marketplace", "currency", "is_enabled", "contact_url_template"]
    copy_view_enabled = False
    inspect_view_enabled = False

    def construct_view(self, view_class, **kwargs):
        if issubclass(view_class, generic.EditView):
            view_class = type(view_class.__name__, (ConnectionButtonMixin, RetentionRuleButtonMixin, view_class), {})
        if issubclass(view_class, generic.DeleteView):
            view_class = type(view_class.__name__, (AccountDeleteScrubsHistoryMixin, view_class), {})
        if not issubclass(view_class, generic.IndexView):
            view_class = type(view_class.__name__, (ManagersOnlyMixin, view_class), {})
        view = super().construct_view(view_class, **kwargs)
        # A refusal is the plugin's 403 page, as on every other page of the plugin (Wagtail's is a redirect).
        view = update_wrapper(permission_denied_as_403(view), view)
        if issubclass(view_class, generic.DeleteView):
            # The deletion is its own transaction (AccountDeleteScrubsHistoryMixin): inside ATOMIC_REQUESTS' it was a
            # savepoint, whose foreign keys are checked only when the request commits, after the view answered.
            view = outside_request_transaction(view)
        return view


seller_account_viewset = SellerAccountViewSet()
