"""Contacting a customer: the channel's contact page, or an e-mail sent from the admin.

Channels such as Amazon hide buyers' addresses and want messages sent through their own pages; a
seller account with a ``contact_url_template`` sends users there. Other accounts e-mail the customer
with Django's e-mail backend; each e-mail is recorded as an ``OrderEvent`` on the customer's
timeline and in Wagtail's history.
"""

import smtplib
import string
from datetime import timedelta
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.log_actions import log

from ..conf import get_setting
from ..models import Customer, EventKind, OrderEvent


class ContactReason(models.TextChoices):
    """Why the seller writes (as on Amazon's "Contact buyer" form): the subject starts with it, so
    the buyer, the timeline and the history all say what the e-mail is about."""

    ORDER_INFORMATION = "order_information", gettext_lazy("Order information")
    SHIPPING = "shipping", gettext_lazy("Shipping")
    RETURN_REFUND = "return_refund", gettext_lazy("Return or refund")
    FEEDBACK_REQUEST = "feedback_request", gettext_lazy("Feedback request")
    OTHER = "other", gettext_lazy("Other")


def subject_with_reason(reason, subject):
    """``Shipping: Your parcel``; the subject alone for no reason (callers of the service)."""
    if not reason:
        return subject
    return _("%(reason)s: %(subject)s") % {"reason": ContactReason(reason).label, "subject": subject}


#: A second e-mail with the same subject and message from the same user to the same customer within this many
#: seconds is not sent (``send_customer_email`` raises ``AlreadySent``): a double click, not a new message.
REPEAT_SECONDS = 60

#: The placeholders a contact URL template may use.
CONTACT_URL_FIELDS = ("order_id", "marketplace")
EMAIL_SENT_ACTION = "wagtail_customers.email.sent"


def contact_url(account, order=None):
    """The channel's contact page for ``order`` (or the account's generic one), else ``None``.

    ``None`` when the account has no template, when the template needs an order and none is given,
    when it has placeholders other than ``{order_id}`` and ``{marketplace}`` (attribute access,
    conversions and format specs included), or when the result is not an http(s) URL. Values are
    URL-encoded.
    """
    template = (account.contact_url_template or "").strip()
    if not template:
        return None
    values = {
        "order_id": quote(order.external_id, safe="") if order is not None else None,
        "marketplace": quote(account.marketplace or "", safe=""),
    }
    parts = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return None
    for literal, field_name, format_spec, conversion in parsed:
        parts.append(literal)
        if field_name is None:
            continue
        if field_name not in CONTACT_URL_FIELDS or format_spec or conversion or values[field_name] is None:
            return None
        parts.append(values[field_name])
    url = "".join(parts)
    split = urlsplit(url)
    if split.scheme.lower() not in ("http", "https") or not split.netloc:
        return None
    return url


def sender_address():
    return get_setting("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL


def send_failure_reason(customer, error):
    """What the seller is told when ``send_customer_email`` raised ``error``: the kind of failure and what to do.

    Never the error's own text: the mail server's refusal and Django's address check quote the customer's
    address, which the user may not see (the caller logs the details)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return _(
            "The e-mail could not be sent: the mail server refused the customer's e-mail address. Nothing was sent."
        )
    if isinstance(error, smtplib.SMTPSenderRefused):
        return _(
            "The e-mail could not be sent: the mail server refused the sender address. Nothing was sent; ask the "
            "site's administrators to check the sender address."
        )
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return _(
            "The e-mail could not be sent: the mail server refused the site's login. Nothing was sent; ask the "
            "site's administrators to check the e-mail settings."
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return _(
            "The e-mail could not be sent: the mail server refused it (code %(code)s). Nothing was sent; try again "
            "later, and if it keeps failing, ask the site's administrators, who find the details in the server log."
        ) % {"code": error.smtp_code}
    if isinstance(error, ValueError):
        # Django refuses an address it cannot send to (several addresses, a line break) before connecting.
        try:
            validate_email(customer.email)
        except ValidationError:
            return _(
                "The e-mail could not be sent: the customer's stored e-mail address is not a valid single address. "
                "Nothing was sent; correct the address where the customer's data comes from (the channel or the "
                "imported file)."
            )
        return _(
            "The e-mail could not be sent: the site's e-mail settings (the sender address, say) are not valid. "
            "Nothing was sent; ask the site's administrators, who find the details in the server log."
        )
    return _(
        "The e-mail could not be sent: the mail server could not be reached. Nothing was sent; try again in a "
        "moment, and if it keeps failing, ask the site's administrators to check the e-mail settings."
    )


class AlreadySent(Exception):
    """``send_customer_email`` refused an e-mail identical to one the same user sent the customer a moment ago
    (a double click on *Send e-mail*); ``str()`` is the message for the user."""


def sent_a_moment_ago(customer, user, text):
    """Whether ``user`` sent ``customer`` an e-mail reading ``text`` (subject and message, as recorded) within the
    last ``REPEAT_SECONDS``."""
    return OrderEvent.objects.filter(
        customer=customer,
        kind=EventKind.EMAIL,
        user=user,
        message=text,
        occurred_at__gte=timezone.now() - timedelta(seconds=REPEAT_SECONDS),
    ).exists()


def send_customer_email(customer, *, subject, message, user, order=None, reason=None):
    """E-mail ``customer`` (plain text), record it on the timeline and in Wagtail's history.

    ``reason`` (a ``ContactReason`` value) goes in front of the subject. Raises whatever the e-mail
    backend raises (nothing is recorded then), ``AlreadySent`` (nothing sent) when ``user`` sent the customer the
    same subject and message within the last ``REPEAT_SECONDS``, and ``Customer.DoesNotExist`` (nothing sent) when
    the customer was deleted or merged into another meanwhile. Returns the ``OrderEvent``.
    """
    if not customer.email:
        raise ValueError("The customer has no e-mail address.")
    subject = subject_with_reason(reason, subject)
    text = f"{subject}\n\n{message}"
    # The record is made before the send, under a lock of the customer's row where the database has row locks, and
    # committed: a second request for the same e-mail (a double click while the first is on its way) finds it at
    # once. Never locked across the send: every order recorded for the customer (a sync page, a webhook, an import
    # batch, and the other customers of its batch) would wait for the mail server.
    with transaction.atomic():
        still_there = Customer.objects.filter(pk=customer.pk)
        if connection.features.has_select_for_update:
            still_there = still_there.select_for_update()
        if not list(still_there.values_list("pk", flat=True)):
            # Deleted, or merged into another, while this waited for the lock (or since the page read it): nothing
            # is sent, and no record made (it would fail the customer's foreign key when the transaction commits).
            raise Customer.DoesNotExist("The customer was deleted or merged into another meanwhile.")
        if sent_a_moment_ago(customer, user, text):
            raise AlreadySent(_("This e-mail was sent to the customer a moment ago; it was not sent again."))
        event = OrderEvent.objects.create(
            customer=customer,
            order=order,
            kind=EventKind.EMAIL,
            occurred_at=timezone.now(),
            message=text,
            user=user,
        )
    try:
        EmailMessage(subject=subject, body=message, from_email=sender_address(), to=[customer.email]).send()
    except BaseException:
        OrderEvent.objects.filter(pk=event.pk).delete()  # not sent: not on the timeline
        raise
    log(
        customer,
        EMAIL_SENT_ACTION,
        user=user,
        data={
            "subject": subject,
            "to": customer.email,
            "order": order.external_id if order else None,
            "reason": reason or None,
        },
    )
    return event
