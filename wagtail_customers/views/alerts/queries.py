"""The alerts a user sees in the admin: their own, listed in the admin, about seller accounts they may still view."""

from ...models import AlertNotification
from ...permissions import accounts_for


def shown_alerts(user):
    return AlertNotification.objects.filter(user=user, in_admin=True, event__account__in=accounts_for(user))


def unread_count(user):
    return shown_alerts(user).filter(read_at__isnull=True).count()
