"""Retention rules: erase a seller account's customers' personal data some days after their last order.

A rule belongs to one seller account (at most one rule per account). ``services/retention.py`` applies every
enabled rule (a daily Celery beat task, or ``manage.py customers_apply_retention``) and records what it erased
in a ``RetentionRun``, shown on the seller accounts listing and the rule's page.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .accounts import SellerAccount


class RetentionBasis(models.TextChoices):
    """Which date of an order its retention period counts from."""

    SHIPMENT = "shipment", _("after the order's shipment")
    ORDER = "order", _("after the order was placed")
    DELIVERY = "delivery", _("after the order's delivery")


#: The date each basis counts from, per order. An order with no shipment (or delivery) date counts from the
#: latest date it has before that (delivery falls back to shipment, both fall back to the order's placed date):
#: many channels' reports carry no shipment date, and such an order's buyer must not be kept for ever.
BASIS_DATES = {
    RetentionBasis.SHIPMENT: ("shipped_at", "placed_at"),
    RetentionBasis.ORDER: ("placed_at",),
    RetentionBasis.DELIVERY: ("delivered_at", "shipped_at", "placed_at"),
}


def basis_date(basis, prefix=""):
    """The expression of an order's date a rule with ``basis`` counts from (``prefix`` for a related lookup)."""
    fields = [prefix + name for name in BASIS_DATES[RetentionBasis(basis)]]
    return Coalesce(*fields) if len(fields) > 1 else models.F(fields[0])


#: A rule longer than a century is a typing error (and past ``datetime``'s range for large values).
MAX_DAYS = 36500


class RetentionRule(models.Model):
    """Erase the personal data of a seller account's customers ``days`` days after their last order's date."""

    account = models.OneToOneField(
        SellerAccount, on_delete=models.CASCADE, related_name="retention_rule", verbose_name=_("seller account")
    )
    basis = models.CharField(
        _("counted from"), max_length=10, choices=RetentionBasis.choices, default=RetentionBasis.SHIPMENT
    )
    days = models.PositiveIntegerField(
        _("days"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DAYS)],
        help_text=_(
            "A customer's personal data is erased once every one of their orders is more than this many days "
            "past its date. Amazon's data protection policy asks for 30 days after shipment."
        ),
    )
    is_enabled = models.BooleanField(
        _("enabled"), default=True, help_text=_("Applied every day while enabled; a disabled rule erases nothing.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=1, days__lte=MAX_DAYS), name="wc_retention_days_range")
        ]

    def __str__(self):
        return self.describe()

    def describe(self):
        """The rule in words: "Erase personal data 30 days after the order's shipment"."""
        return ngettext(
            "Erase personal data %(days)s day %(basis)s",
            "Erase personal data %(days)s days %(basis)s",
            self.days,
        ) % {"days": self.days, "basis": self.get_basis_display()}


class RetentionRun(models.Model):
    """What one application of a rule erased: a count, the first ids, and errors if a batch failed."""

    #: Ids kept on the run (the count is always complete).
    MAX_IDS = 100

    account = models.ForeignKey(
        SellerAccount, on_delete=models.CASCADE, related_name="retention_runs", verbose_name=_("seller account")
    )
    rule = models.ForeignKey(
        RetentionRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs", verbose_name=_("rule")
    )
    #: The rule as it was applied (the rule may change or be deleted afterwards).
    basis = models.CharField(_("counted from"), max_length=10, choices=RetentionBasis.choices)
    days = models.PositiveIntegerField(_("days"))
    ran_at = models.DateTimeField(_("ran at"))
    #: Orders dated before this were past the rule.
    cutoff = models.DateTimeField(_("cut-off"))
    customers_erased = models.PositiveIntegerField(_("customers erased"), default=0)
    customer_ids = models.JSONField(_("ids of customers erased (the first 100)"), default=list, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-ran_at", "-pk"]
        indexes = [models.Index(fields=["account", "-ran_at"], name="wc_retention_run_account")]

    def __str__(self):
        return f"{self.account} {self.ran_at:%Y-%m-%d %H:%M}"
