from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.widgets.button import Button

from ...channels.registry import get_adapter_class


class ConnectionButtonMixin:
    """The seller account's edit page: "Store connection" in its header's "More" menu, for channels that connect."""

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if get_adapter_class(self.object.channel) is not None:
            url = reverse("wagtail_customers_connections:connection", args=(self.object.pk,))
            buttons.append(Button(_("Store connection"), url=url, icon_name="site", priority=20))
        return buttons
