"""The admin dashboard's panel of the user's latest unread alerts (none shown when nothing is unread)."""

from wagtail.admin.ui.components import Component

from ...alerts.display import alert_items, with_details
from .queries import shown_alerts

MAX_LISTED = 5


class UnreadAlertsPanel(Component):
    name = "wagtail_customers_unread_alerts"
    template_name = "wagtail_customers/alerts/_dashboard_panel.html"
    order = 60

    def __init__(self, items, count):
        self.items = items
        self.count = count

    def get_context_data(self, parent_context=None):
        return {"items": self.items, "count": self.count}


def add_unread_alerts_panel(request, panels):
    """``construct_homepage_panels`` hook: two indexed queries (the latest unread, their number) for a user with
    alerts in the admin; a panel only when something is unread."""
    user = request.user
    unread = shown_alerts(user).filter(read_at__isnull=True)
    latest = list(with_details(unread).order_by("-event__occurred_at", "-pk")[:MAX_LISTED])
    if latest:
        count = len(latest) if len(latest) < MAX_LISTED else unread.count()
        panels.append(UnreadAlertsPanel(alert_items(user, latest), count))
