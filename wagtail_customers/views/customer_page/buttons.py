"""The customer page's header actions, each shown only when the user may do it."""

import copy
from urllib.parse import urlencode

from django.forms.utils import flatatt
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.components import Component
from wagtail.admin.widgets.button import Button, HeaderButton

from ...permissions import Action
from ...services.merge import latest_merge
from .access import optional_url
from .orders import email_button


class WatchlistToggleButton(Button):
    """A header button that POSTs to the watchlist toggle: a state change is a form, not a link.

    Wagtail renders header buttons with only its own variables in context, so the request's CSRF
    token and the page to come back to are taken when the button is made.
    """

    template_name = "wagtail_customers/customer_page/watchlist_toggle_button.html"

    def __init__(self, customer, url, request, *, priority=10, classname="w-header-button button"):
        self.customer = customer
        self.on_watchlist = watchlist_entry(customer) is not None
        self.next_url = request.get_full_path()
        self.csrf_token = get_token(request)
        label = _("Remove from watchlist") if self.on_watchlist else _("Add to watchlist")
        icon_name = "no-view" if self.on_watchlist else "view"
        super().__init__(label, url, classname=classname, icon_name=icon_name, priority=priority)


class HeaderActionsMenu(Component):
    """Every action of the header in one "Actions" menu: the header's only action in a narrow window.

    Below Wagtail's 50em breakpoint (a phone) the header's buttons and its "..." menu would take more lines of the
    pinned header; this menu takes their place there, on the title's line, and is hidden from 50em up
    (customer-page.css, which the page must load). It is made from the header's own buttons, in the same order (the
    buttons, then the "..." menu's items, if the header has one), each drawn by its own template as an item of
    Wagtail's dropdown (``{% dropdown %}``, the ``w-dropdown`` controller): links stay links, the watchlist toggle
    stays a form that POSTs. Used by the customer page and the order page: add it after the header's buttons
    (``get_header_buttons``).
    """

    template_name = "wagtail_customers/customer_page/header_actions_menu.html"
    #: Close the menu when the breadcrumbs open or close (its place would be off from its button), as Wagtail's
    #: "..." menu does.
    attrs = {
        "data-action": "w-breadcrumbs:opened@document->w-dropdown#hide w-breadcrumbs:closed@document->w-dropdown#hide"
    }

    def __init__(self, buttons, more_buttons=()):
        self.items = [as_menu_item(button) for button in (*sorted(buttons), *sorted(more_buttons))]

    def get_context_data(self, parent_context):
        return {"items": self.items, "attrs": flatatt(self.attrs)}


def as_menu_item(button):
    """The button as an item of a dropdown menu: the same label, URL, icon and attributes, without the header
    button's classes (Wagtail styles the links and buttons in a dropdown)."""
    item = copy.copy(button)
    item.classname = ""
    return item


def watchlist_entry(customer):
    """The customer's ``WatchlistEntry`` or ``None`` (select_related ``watchlist_entry`` to spare a query)."""
    try:
        return customer.watchlist_entry
    except customer._meta.get_field("watchlist_entry").related_model.DoesNotExist:
        return None


def customer_header_buttons(request, customer, actions):
    """``(buttons, more_buttons)`` for the slim header of the customer page."""
    buttons, more = [], []
    toggle_url = optional_url("wagtail_customers:watchlist_toggle", customer.pk)
    if Action.MANAGE_WATCHLIST in actions and toggle_url:
        buttons.append(WatchlistToggleButton(customer, toggle_url, request, priority=10))
    if Action.EMAIL in actions and not customer.erased_at:
        buttons.append(email_button(customer, latest_order(customer), about_order=False, cls=HeaderButton))
    export_url = optional_url("wagtail_customers_exports:customer_orders", customer.pk)
    if Action.EXPORT in actions and export_url:
        buttons.append(HeaderButton(_("Export orders"), export_url, icon_name="download", priority=30))
    if Action.EXPORT in actions and Action.SEE_PERSONAL_DATA in actions:
        # An access request (GDPR art. 15) is rare and is about the person, not the orders: in the "More" menu.
        # It is nothing but personal data: offered to those who may see it (views/customer_page/access_request.py).
        more.append(
            Button(
                _("Download personal data (access request)"),
                reverse("wagtail_customers_customer:personal_data", args=[customer.pk]),
                icon_name="download",
                priority=90,
            )
        )
    delete_url = optional_url("wagtail_customers:delete", customer.pk)
    if Action.DELETE in actions and delete_url:
        # "No, don't delete" comes back here; after deleting, the delete view goes to the listing.
        query = urlencode({"next": request.get_full_path()})
        more.append(Button(_("Delete"), f"{delete_url}?{query}", icon_name="bin", priority=100))
    erase_url = optional_url("wagtail_customers:erase", customer.pk)
    if Action.ERASE in actions and erase_url and not customer.erased_at:
        # After erasing, the erase view comes back here: the page then shows the pseudonym.
        query = urlencode({"next": request.get_full_path()})
        more.append(Button(_("Erase personal data"), f"{erase_url}?{query}", icon_name="user", priority=95))
    merge_url = optional_url("wagtail_customers_customer:merge", customer.pk)
    if Action.DELETE in actions and merge_url:
        # Merging deletes the duplicate's row: the delete action, like Delete (services/merge.py).
        more.append(Button(_("Merge with…"), merge_url, icon_name="group", priority=97))
        if latest_merge(customer) is not None:
            undo_url = optional_url("wagtail_customers_customer:merge_undo", customer.pk)
            more.append(Button(_("Undo the latest merge"), undo_url, icon_name="undo", priority=98))
    return buttons, more


def latest_order(customer):
    """The latest order, for channels whose contact page is per order; one query, only for those."""
    if not customer.account.contact_url_template:
        return None
    return customer.orders.order_by("-placed_at", "-pk").first()
