"""The seller account listing's "Connection" column: the state, linked to the Connection page for users who may
change accounts."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column

from ...channels.registry import get_adapter_class
from ...models import ChannelConnection, ConnectionState


class ConnectionColumn(Column):
    cell_template_name = "wagtail_customers/connections/_account_cell.html"

    def __init__(self, name="connection", **kwargs):
        kwargs.setdefault("label", _("Connection"))
        super().__init__(name, **kwargs)

    def get_cell_context_data(self, instance, parent_context):
        from ..listing.accounts import may_change_accounts

        context = super().get_cell_context_data(instance, parent_context)
        request = parent_context.get("request")
        try:
            connection = instance.connection
        except ChannelConnection.DoesNotExist:
            connection = None
        connectable = get_adapter_class(instance.channel) is not None
        context["state"] = connection.get_state_display() if connection else ConnectionState.NEVER_CONNECTED.label
        context["failing"] = bool(connection and connection.state == ConnectionState.FAILING)
        context["connectable"] = connectable
        context["url"] = (
            reverse("wagtail_customers_connections:connection", args=[instance.pk])
            if connectable and request is not None and may_change_accounts(request.user)
            else None
        )
        return context
