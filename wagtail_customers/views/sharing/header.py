"""What the Sharing feature adds to other screens: the Customers header's "..." menu entry."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.widgets.button import Button

from ...permissions import Action, actions_for_request


def sharing_header_actions(request):
    """Buttons for a header's "..." (more) menu: "Permissions", for users who may share some account.

    For a generic view: ``header_more_buttons = [*super().header_more_buttons, *sharing_header_actions(request)]``;
    in a template: ``{% include "wagtail_customers/sharing/header_actions.html" %}``.
    """
    if Action.SHARE not in actions_for_request(request):
        return []
    return [Button(_("Permissions"), url=reverse("wagtail_customers_sharing:index"), icon_name="key", priority=900)]
