"""The alerts a user sees in the admin: their own, listed in the admin, about seller accounts they may still view
and have not muted since."""

from ...alerts.recipients import alerted_accounts
from ...models import AlertNotification


def shown_alerts(user):
    return AlertNotification.objects.filter(user=user, in_admin=True, event__account__in=alerted_accounts(user))


def unread_count(user):
    return shown_alerts(user).filter(read_at__isnull=True).count()
