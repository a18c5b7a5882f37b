"""The Customers admin menu: one submenu that each feature adds its entry to.

A feature registers an entry with the plugin's own hook::

    @hooks.register(CUSTOMERS_MENU_HOOK)
    def register_exports_menu_item():
        return CustomersMenuItem(_("Exports"), reverse("..."), action=Action.EXPORT, icon_name="download", order=400)
"""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from .permissions import Action, actions_for_request

CUSTOMERS_MENU_HOOK = "register_wagtail_customers_menu_item"
CONSTRUCT_CUSTOMERS_MENU_HOOK = "construct_wagtail_customers_menu"


class CustomersMenuItem(MenuItem):
    """A submenu entry shown to users who may do ``action`` on at least one seller account."""

    def __init__(self, label, url, *, action=Action.VIEW, superuser_only=False, **kwargs):
        self.action = Action(action)  # a misspelt action fails here, not by hiding the entry
        self.superuser_only = superuser_only
        super().__init__(label, url, **kwargs)

    def is_shown(self, request):
        if self.superuser_only:
            return request.user.is_superuser
        # Module-wide permission shows the entry even before any seller account exists (empty state).
        return self.action in actions_for_request(request)


class CustomersSubmenuMenuItem(SubmenuMenuItem):
    """Shown when one of its entries is (Wagtail's rule), not only to users holding a customer action: a user who
    may only manage seller accounts reaches Seller accounts, and their retention rules and connections, here."""


customers_menu = Menu(register_hook_name=CUSTOMERS_MENU_HOOK, construct_hook_name=CONSTRUCT_CUSTOMERS_MENU_HOOK)


def customers_menu_item():
    return CustomersSubmenuMenuItem(_("Customers"), customers_menu, icon_name="group", name="customers", order=250)
