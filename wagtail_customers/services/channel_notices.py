"""Telling the site's admins a connection is failing: an e-mail to the superusers (once per failing
episode, ``ChannelConnection.failure_notified_at``) and a panel on the admin dashboard for everyone
who may change seller accounts (``views/connections/panels.py``) while it lasts."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..exports.notices import absolute_url
from ..models import ChannelConnection

logger = logging.getLogger("wagtail_customers.channels")


def connection_path(connection):
    return reverse("wagtail_customers_connections:connection", args=[connection.account_id])


def notify_failing(connection_id):
    """E-mail the active superusers that the connection is failing, with the channel's message.

    A mail error is logged, never raised: the sync's outcome does not depend on it."""
    connection = ChannelConnection.objects.select_related("account").filter(pk=connection_id).first()
    if connection is None:
        return 0
    recipients = list(
        get_user_model()
        .objects.filter(is_superuser=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return 0
    link = absolute_url(connection_path(connection))
    subject = _("Seller account %(account)s: its store connection is failing") % {"account": connection.account}
    lines = [
        _("The connection of the seller account %(account)s to %(channel)s is failing; its orders are not synced.")
        % {"account": connection.account, "channel": connection.account.get_channel_display()},
        "",
        _("The channel's last message: %(error)s") % {"error": connection.last_error or "-"},
        _("Failures in a row: %(count)s") % {"count": connection.consecutive_failures},
    ]
    if link:
        lines += ["", _("Open the connection: %(link)s") % {"link": link}]
    try:
        send_mail(
            subject, "\n".join(lines) + "\n", get_setting("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL, recipients
        )
    except Exception:  # noqa: BLE001
        logger.exception("Could not e-mail the admins that connection %s is failing", connection_id)
        return 0
    return len(recipients)
