"""The "Alerts" entry of the Customers menu, with the number of unread alerts (one indexed count per page)."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ...menu import CustomersMenuItem
from ...permissions import Action
from .queries import unread_count


class AlertsMenuItem(CustomersMenuItem):
    def render_component(self, request):
        # Menu items are shared between requests: the count goes into this request's component only.
        component = super().render_component(request)
        count = unread_count(request.user)
        if count:
            component.label = _("Alerts (%(count)s unread)") % {"count": count}
        return component


def alerts_menu_item():
    return AlertsMenuItem(
        gettext_lazy("Alerts"),
        reverse("wagtail_customers_alerts:index"),
        action=Action.VIEW,
        icon_name="warning",
        name="customer-alerts",
        order=120,
    )
