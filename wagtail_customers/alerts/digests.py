"""E-mail digests of alerts: every alert waiting for a user's e-mail (``email_due``), in one message, which lists
the first ``DIGEST_MAX_ITEMS`` and says how many more there are.

Sending claims the alerts first (``email_due`` cleared under row locks) and commits the claim before the e-mail
is sent, so two deliveries of the same task, or the daily run meeting an "immediately" one, never e-mail an event
twice, and neither does a run stopped after its send (the soft time limit, a killed worker): nothing of it is left
to commit. A send that fails (a mail error, the soft time limit during the send) gives the claim back: the alerts
wait for the next run. An alert about a seller account the user may no longer view, or has muted since, is
dropped, never sent.
"""

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from ..conf import get_setting
from ..exports.notices import absolute_url
from ..local_time import users_language_and_zone
from ..models import AlertNotification, AlertPreference, EmailFrequency
from .display import alert_items, with_details
from .recipients import alerted_accounts

logger = logging.getLogger("wagtail_customers.alerts")

#: Which users each scheduled run sends to. The daily run also sends what an "immediately" delivery left
#: behind (its task could not be queued, or the mail server failed).
SCHEDULED_FREQUENCIES = {
    EmailFrequency.DAILY: (EmailFrequency.DAILY, EmailFrequency.IMMEDIATELY),
    EmailFrequency.WEEKLY: (EmailFrequency.WEEKLY,),
}

#: Alerts listed in one digest at most; the e-mail says how many more there are and links to the alerts page. A
#: broad watchlist rule and a day's sync of tens of thousands of orders made a digest of hundreds of megabytes.
DIGEST_MAX_ITEMS = 200


def send_digest(user_id):
    """Send the user's digest if anything is due; returns the number of alerts e-mailed (listed or counted)."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        # Nothing claimed: the alerts stay due until the user has an address to send them to.
        return 0
    now = timezone.now()
    # Committed before the send (the way the customer e-mail is, services/contact.py): a run stopped between the
    # send and a commit after it would leave the alerts due, and the next run would send them again.
    with transaction.atomic():
        # The claim, one statement however many are due: only rows still due are taken (another delivery may have
        # taken them meanwhile; its row locks make this one wait, then skip them).
        if not AlertNotification.objects.filter(user=user, email_due=True).update(email_due=False, emailed_at=now):
            return 0
        claimed = AlertNotification.objects.filter(user=user, email_due=False, emailed_at=now)
        # Those about accounts the user no longer hears about stay claimed: dropped, never sent.
        sent = claimed.filter(event__account__in=alerted_accounts(user).values("pk"))
        total = sent.count()
        listed = list(with_details(sent).order_by("event__occurred_at", "pk")[:DIGEST_MAX_ITEMS]) if total else []
        if total > len(listed):
            # The e-mail sends the user to the alerts page for the ones it does not list: there they must be, also
            # for a user who reads alerts by e-mail only (else they were on no page and in no e-mail).
            sent.filter(in_admin=False).exclude(pk__in=[n.pk for n in listed]).update(in_admin=True)
    if not total:
        return 0
    try:
        _send(user, listed, total)
    except BaseException:
        # Not sent: due again, for the next run (what this run claimed, unless another run took it back since).
        sent.update(email_due=True, emailed_at=None)
        raise
    return total


def _send(user, notifications, total):
    with users_language_and_zone(user):
        items = alert_items(user, notifications)
        context = {
            "user": user,
            "items": items,
            "total": total,
            # Claimed and counted, not listed: on the alerts page.
            "more": total - len(items),
            "alerts_url": absolute_url(reverse("wagtail_customers_alerts:index")),
            "preferences_url": absolute_url(reverse("wagtailadmin_account")),
        }
        subject = render_to_string("wagtail_customers/alerts/email/digest_subject.txt", context).strip()
        text = render_to_string("wagtail_customers/alerts/email/digest_body.txt", context)
        html = render_to_string("wagtail_customers/alerts/email/digest_body.html", context)
    message = EmailMultiAlternatives(
        subject, text, get_setting("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL, [user.email]
    )
    message.attach_alternative(html, "text/html")
    # An error propagates: the caller makes the alerts due again for the next run.
    message.send()


def users_due(frequency):
    """Ids of the users a scheduled run (``daily`` or ``weekly``) sends to who have alerts due."""
    preferred = AlertPreference.objects.filter(email_frequency__in=SCHEDULED_FREQUENCIES[frequency]).values("user_id")
    return list(
        AlertNotification.objects.filter(email_due=True, user_id__in=preferred)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )


def send_scheduled_digests(frequency):
    """Send every digest of a scheduled run; returns ``{user id: alerts e-mailed}``. One user's mail error is
    logged and leaves their alerts due; the others are still sent. The task's soft time limit stops the run (the
    users not reached yet are sent to by the next one)."""
    sent = {}
    for user_id in users_due(frequency):
        try:
            sent[user_id] = send_digest(user_id)
        except SoftTimeLimitExceeded:
            # The task's time is up: stop here (the users left are sent to by the next run) rather than go on
            # until the hard limit kills the worker between a mail sent and its commit (sent again next run).
            raise
        except Exception:  # noqa: BLE001
            logger.exception("Could not send the alert digest of user %s", user_id)
    return sent
