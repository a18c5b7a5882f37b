"""Watchlist rules: conditions on a customer's figures that put the customers matching all of them on the watchlist.

A rule belongs to one seller account and has one or more conditions ("return rate above 30", "orders at least 3");
``services/watchlist_rules.py`` evaluates the enabled rules when orders arrive and on a daily schedule, and adds the
matching customers through ``services/watchlist.add_to_watchlist`` with the rule as the note. A user who takes a
customer off the watchlist leaves a ``WatchlistDismissal``: no rule puts that customer back until they have new
activity (docs/howto/watchlist-rules.md).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..insight.display import decimal_text
from .accounts import SellerAccount
from .customers import Customer


class WatchlistMetric(models.TextChoices):
    """The figures a condition can test (their expressions: ``watchlist_rules/metrics.py``)."""

    ORDERS = "orders", _("Orders")
    UNITS = "units", _("Units")
    AMOUNT_SPENT = "amount_spent", _("Amount spent")
    RETURNED_UNITS = "returned_units", _("Returned units")
    RETURN_RATE = "return_rate", _("Return rate (%)")
    NEGATIVE_FEEDBACKS = "negative_feedbacks", _("Negative feedbacks")
    RECENT_NEGATIVE_FEEDBACKS = "recent_negative_feedbacks", _("Negative feedbacks in the last days")
    PROMO_CODES_USED = "promo_codes_used", _("Promo codes used")
    DAYS_SINCE_LAST_ORDER = "days_since_last_order", _("Days since the last order")
    AVERAGE_ORDER_VALUE = "average_order_value", _("Average order value")


class WatchlistOperator(models.TextChoices):
    GTE = "gte", _("at least (≥)")
    LTE = "lte", _("at most (≤)")
    GT = "gt", _("more than (>)")
    LT = "lt", _("less than (<)")


#: The operators' signs, for a rule's summary.
OPERATOR_SIGNS = {"gte": "≥", "lte": "≤", "gt": ">", "lt": "<"}

#: The longest period of "negative feedbacks in the last N days" (ten years).
MAX_DAYS = 3650


class WatchlistRule(models.Model):
    """A named set of conditions on the customers of one seller account; a customer matching all is watched."""

    account = models.ForeignKey(
        SellerAccount, on_delete=models.CASCADE, related_name="watchlist_rules", verbose_name=_("seller account")
    )
    name = models.CharField(_("name"), max_length=100)
    is_enabled = models.BooleanField(
        _("enabled"), default=True, help_text=_("Only enabled rules put customers on the watchlist.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("watchlist rule")
        verbose_name_plural = _("watchlist rules")
        ordering = ["account__name", "name", "pk"]
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="wc_watchlist_rule_name_unique")]

    def __str__(self):
        return self.name

    def describe(self):
        """The conditions in words: "Return rate (%) > 30 and Orders ≥ 3"."""
        return _(" and ").join(condition.describe() for condition in self.conditions.all())


class WatchlistRuleCondition(models.Model):
    """One condition of a rule: ``metric operator value`` (``days``: the period of a "last N days" metric)."""

    rule = models.ForeignKey(WatchlistRule, on_delete=models.CASCADE, related_name="conditions", verbose_name=_("rule"))
    metric = models.CharField(_("figure"), max_length=32, choices=WatchlistMetric.choices)
    operator = models.CharField(_("operator"), max_length=3, choices=WatchlistOperator.choices)
    value = models.DecimalField(
        _("value"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    days = models.PositiveIntegerField(
        _("days"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DAYS)],
        help_text=_("The period of “Negative feedbacks in the last days”."),
    )

    class Meta:
        verbose_name = _("watchlist rule condition")
        verbose_name_plural = _("watchlist rule conditions")
        ordering = ["pk"]

    def __str__(self):
        return self.describe()

    def describe(self):
        """The condition in the active language's number format: in German "Amount spent ≥ 99,5"."""
        # As many places as the value has (trailing zeros dropped): 30.00 reads 30, 1.50 reads 1.5.
        places = max(-Decimal(self.value).normalize().as_tuple().exponent, 0)
        value = decimal_text(self.value, places)
        text = f"{self.get_metric_display()} {OPERATOR_SIGNS.get(self.operator, self.operator)} {value}"
        if self.metric == WatchlistMetric.RECENT_NEGATIVE_FEEDBACKS and self.days:
            text = ngettext("%(condition)s (last %(days)s day)", "%(condition)s (last %(days)s days)", self.days) % {
                "condition": text,
                "days": self.days,
            }
        return text


class WatchlistDismissal(models.Model):
    """A user took the customer off the watchlist: their activity figures at that moment.

    While it exists, no rule puts the customer back unless one of these figures has moved since (a later last
    order, more returned units, more negative feedbacks). It is deleted when the customer goes back on the
    watchlist, and replaced by the next removal.
    """

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="watchlist_dismissal", verbose_name=_("customer")
    )
    dismissed_at = models.DateTimeField(_("removed at"))
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("removed by"),
    )
    last_order_at = models.DateTimeField(_("last order then"), null=True, blank=True)
    returned_units = models.PositiveIntegerField(_("returned units then"), default=0)
    negative_feedbacks = models.PositiveIntegerField(_("negative feedbacks then"), default=0)

    class Meta:
        verbose_name = _("watchlist dismissal")
        verbose_name_plural = _("watchlist dismissals")

    def __str__(self):
        return str(self.customer_id)
