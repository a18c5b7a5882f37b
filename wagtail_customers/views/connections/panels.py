"""The admin dashboard's notice of failing store connections, for users who may change seller accounts
(its links open the Connection pages)."""

from wagtail.admin.ui.components import Component

from ...models import ChannelConnection, ConnectionState
from ..listing.accounts import may_change_accounts

MAX_LISTED = 10


class FailingConnectionsPanel(Component):
    name = "wagtail_customers_failing_connections"
    template_name = "wagtail_customers/connections/_failing_panel.html"
    order = 50

    def __init__(self, connections):
        self.connections = connections

    def get_context_data(self, parent_context=None):
        return {"connections": self.connections}


def add_failing_connections_panel(request, panels):
    """``construct_homepage_panels`` hook: one indexed query, a panel only when something is failing."""
    if not may_change_accounts(request.user):
        return
    failing = list(
        ChannelConnection.objects.filter(state=ConnectionState.FAILING).select_related("account")[:MAX_LISTED]
    )
    if failing:
        panels.append(FailingConnectionsPanel(failing))
