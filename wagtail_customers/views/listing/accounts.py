"""Seller accounts: a Wagtail ``ModelViewSet`` under ``/admin/customers/accounts/``.

Adding, changing and deleting accounts needs the seller account permissions (superusers, or groups
given them in Settings > Groups). Those users see every account, disabled ones included, so they
can enable them again; anyone else who may view customers sees only the accounts they may view.
Disabling an account takes its customers out of every listing, statistic and export without
deleting anything.
"""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from ...compat import PermissionPolicyViewSetMixin
from ...models import SellerAccount
from ...permissions import Action, accounts_for

MANAGE_PERMISSIONS = ("add_selleraccount", "change_selleraccount", "delete_selleraccount")


def may_manage_accounts(user):
    return user.is_active and (
        user.is_superuser or any(user.has_perm(f"wagtail_customers.{name}") for name in MANAGE_PERMISSIONS)
    )


class SellerAccountIndexView(generic.IndexView):
    def get_base_queryset(self):
        queryset = super().get_base_queryset()
        if may_manage_accounts(self.request.user):
            return queryset
        return queryset.filter(pk__in=accounts_for(self.request.user, Action.VIEW))


class SellerAccountViewSet(PermissionPolicyViewSetMixin, ModelViewSet):
    model = SellerAccount
    icon = "site"
    menu_label = _("Seller accounts")
    add_to_admin_menu = False
    url_prefix = "customers/accounts"
    name = "wagtail_customers_accounts"
    index_view_class = SellerAccountIndexView
    list_display = ["name", "channel", "marketplace", "currency", "is_enabled"]
    list_filter = ["channel", "is_enabled"]
    search_fields = ["name", "marketplace"]
    ordering = ["name"]
    form_fields = ["name", "channel", "marketplace", "currency", "is_enabled", "contact_url_template"]
    copy_view_enabled = False
    inspect_view_enabled = False


seller_account_viewset = SellerAccountViewSet()
