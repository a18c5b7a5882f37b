"""Alerts about watched customers: what happened (``AlertEvent``), who is told (``AlertNotification``) and how
each user wants to be told (``AlertPreference``). docs/howto/alerts.md explains who receives them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .accounts import SellerAccount
from .customers import Customer
from .orders import Order


class AlertKind(models.TextChoices):
    ORDER = "order", _("New order")
    RETURN = "return", _("Return")
    NEGATIVE_FEEDBACK = "negative_feedback", _("Negative feedback")


class EmailFrequency(models.TextChoices):
    NEVER = "never", _("Never")
    IMMEDIATELY = "immediately", _("Immediately")
    DAILY = "daily", _("Daily digest")
    WEEKLY = "weekly", _("Weekly digest")


class AlertPreference(models.Model):
    """How one user wants alerts; a user without a row has the defaults (in the admin, no e-mail)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="customer_alert_preference",
        verbose_name=_("user"),
    )
    in_admin = models.BooleanField(_("show alerts in the admin"), default=True)
    email_frequency = models.CharField(
        _("e-mail"), max_length=12, choices=EmailFrequency.choices, default=EmailFrequency.NEVER
    )
    #: Seller accounts the user wants no alerts about (neither in the admin nor by e-mail).
    muted_accounts = models.ManyToManyField(
        SellerAccount, blank=True, related_name="+", verbose_name=_("no alerts about these seller accounts")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("alert preference")
        verbose_name_plural = _("alert preferences")

    def __str__(self):
        return f"{self.user}"


class AlertEvent(models.Model):
    """Something a watched customer did, recorded once whoever is told about it."""

    account = models.ForeignKey(
        SellerAccount, on_delete=models.CASCADE, related_name="+", verbose_name=_("seller account")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="alert_events", verbose_name=_("customer")
    )
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)

    class Meta:
        verbose_name = _("alert event")
        verbose_name_plural = _("alert events")
        ordering = ["-occurred_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.order or self.customer_id}"


class AlertNotification(models.Model):
    """One user's copy of an ``AlertEvent``: listed in the admin (``in_admin``) and/or waiting for their next
    e-mail digest (``email_due``, cleared when the digest is sent, so no event is e-mailed twice)."""

    event = models.ForeignKey(
        AlertEvent, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("event")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="customer_alerts",
        verbose_name=_("user"),
    )
    in_admin = models.BooleanField(_("shown in the admin"), default=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    email_due = models.BooleanField(_("e-mail due"), default=False)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="wc_alert_event_user_unique"),
        ]
        indexes = [
            models.Index(fields=["user", "in_admin", "read_at"], name="wc_alert_user_unread"),
            models.Index(fields=["user", "email_due"], name="wc_alert_user_email_due"),
        ]

    def __str__(self):
        return f"{self.event} → {self.user}"
