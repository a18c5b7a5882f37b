"""Buyer insight kept per customer: RFM scores and groups, and the predicted value of the next 12 months.

``CustomerScore`` is a narrow table of its own (one row per customer with an order), not more columns on the
customers: its figures are relative to the other buyers of the seller account (quintiles) or come from a fitted
model, so they are refreshed for a whole account at once (``services/scores.py``, daily and after a statistics
rebuild) rather than by each order, and rewriting them leaves the customers' rows and indexes alone.
``LifetimeValueFit`` records each account's latest model fit (``services/lifetime_value_fit.py``). The exact
definitions are in docs/concepts/buyer-insight.md.
"""

from django.db import models
from django.db.models import F
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..counts import grouped
from .accounts import SellerAccount
from .choice_labels import ChoiceLabels
from .customers import Customer


class RfmGroup(models.TextChoices):
    """Named groups from the recency and frequency scores (``services/scores.RFM_GROUPS`` maps them)."""

    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALISTS = "potential_loyalists", _("Potential loyalists")
    NEW = "new", _("New customers")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANNOT_LOSE = "cannot_lose", _("Can't lose them")
    HIBERNATING = "hibernating", _("Hibernating")


class CustomerScore(ChoiceLabels, models.Model):
    """One customer's scores within their seller account, as of ``scored_at``."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="score", verbose_name=_("customer")
    )
    # The customer's account, repeated so an account's scores are read and ranked without a join.
    account = models.ForeignKey(
        SellerAccount, on_delete=models.CASCADE, related_name="+", verbose_name=_("seller account")
    )
    recency_score = models.PositiveSmallIntegerField(_("recency score"))
    frequency_score = models.PositiveSmallIntegerField(_("frequency score"))
    monetary_score = models.PositiveSmallIntegerField(_("monetary score"))
    rfm_group = models.CharField(_("RFM group"), max_length=24, choices=RfmGroup.choices)
    #: The three scores as one number (545 for R5 F4 M5): what the listing sorts the RFM columns by.
    rfm_code = models.GeneratedField(
        expression=F("recency_score") * 100 + F("frequency_score") * 10 + F("monetary_score"),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
        verbose_name=_("RFM score"),
    )
    scored_at = models.DateTimeField(_("scored at"))
    #: From the account's model (``LifetimeValueFit``); empty until a fit succeeds for the account.
    expected_orders = models.DecimalField(
        _("expected orders, next 12 months"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    expected_spend = models.DecimalField(
        _("expected spend, next 12 months"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    probability_active = models.DecimalField(
        _("probability of being active"), max_digits=5, decimal_places=4, null=True, blank=True
    )

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        indexes = [
            models.Index(fields=["account", "rfm_group"], name="wc_score_account_group"),
            models.Index(fields=["account", "-expected_spend", "customer"], name="wc_score_account_spend"),
            models.Index(fields=["account", "-rfm_code", "customer"], name="wc_score_account_rfm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    recency_score__gte=1,
                    recency_score__lte=5,
                    frequency_score__gte=1,
                    frequency_score__lte=5,
                    monetary_score__gte=1,
                    monetary_score__lte=5,
                ),
                name="wc_score_range",
            )
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.recency_score}{self.frequency_score}{self.monetary_score}"

    @property
    def rfm(self):
        """The three scores as the usual three-digit code ("545")."""
        return f"{self.recency_score}{self.frequency_score}{self.monetary_score}"


class FitStatus(models.TextChoices):
    FITTED = "fitted", _("Fitted")
    NOT_ENOUGH_DATA = "not_enough_data", _("Not enough purchase history")


class LifetimeValueFit(models.Model):
    """A seller account's latest fit of the predicted-value model (BG/NBD + Gamma-Gamma, days as the unit)."""

    account = models.OneToOneField(
        SellerAccount, on_delete=models.CASCADE, related_name="lifetime_value_fit", verbose_name=_("seller account")
    )
    fitted_at = models.DateTimeField(_("fitted at"))
    status = models.CharField(_("status"), max_length=24, choices=FitStatus.choices)
    #: Why there was no fit (``NotEnoughData``'s message), empty when fitted.
    message = models.CharField(_("message"), max_length=255, blank=True)
    customers = models.PositiveIntegerField(_("customers"), default=0)
    repeat_buyers = models.PositiveIntegerField(_("repeat buyers"), default=0)
    #: r, alpha, a, b, p, q, gamma and the log-likelihoods (``insight.lifetime_value.LifetimeValueModel``).
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    converged = models.BooleanField(_("converged"), default=False)

    class Meta:
        verbose_name = _("predicted value model")
        verbose_name_plural = _("predicted value models")

    def __str__(self):
        return f"{self.account}: {self.get_status_display()} ({self.fitted_at:%Y-%m-%d})"

    @property
    def reason_text(self):
        """Why there was no fit, in the active language; ``message`` (English) for a fit recorded without its reason
        (an earlier release) or with one this release cannot fill in."""
        parameters = self.parameters if isinstance(self.parameters, dict) else {}
        reason, values = parameters.get("reason"), parameters.get("values")
        if self.status == FitStatus.FITTED or not isinstance(reason, str) or not isinstance(values, dict):
            return self.message
        try:
            return gettext(reason) % {name: grouped(value) for name, value in values.items()}
        except (KeyError, TypeError, ValueError):
            return self.message
