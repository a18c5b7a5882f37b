"""The listing's entries in the Customers submenu (registered in ``wagtail_hooks.py``)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ...menu import CustomersMenuItem
from ...permissions import Action


class ModelPermissionMenuItem(CustomersMenuItem):
    """Shown to users the viewset's own permission policy lets in (so the link never leads to a refusal)."""

    def __init__(self, label, url, *, viewset, **kwargs):
        self.viewset = viewset
        super().__init__(label, url, **kwargs)

    def is_shown(self, request):
        policy = self.viewset.permission_policy
        actions = ("view", "add", "change", "delete")
        if hasattr(policy, "request_has_any_permission"):  # the plugin's policy (a site may register its own)
            return policy.request_has_any_permission(request, actions)
        return policy.user_has_any_permission(request.user, set(actions))


def watchlist_menu_item(watchlist_entry_viewset):
    """The watchlist snippet's own menu item (its ``get_menu_item``), in the Customers menu."""
    return ModelPermissionMenuItem(
        _("Watchlist"),
        reverse(watchlist_entry_viewset.get_url_name("list")),
        viewset=watchlist_entry_viewset,
        action=Action.VIEW,
        icon_name="view",
        order=200,
    )


class SellerAccountsMenuItem(CustomersMenuItem):
    def is_shown(self, request):
        from .accounts import may_manage_accounts

        return may_manage_accounts(request.user)


def seller_accounts_menu_item():
    return SellerAccountsMenuItem(
        _("Seller accounts"), reverse("wagtail_customers_accounts:index"), icon_name="site", order=300
    )
