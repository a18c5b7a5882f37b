"""The customers listing's figures per seller account, kept current by the database (issue 14).

``ListingSummary`` rows per (seller account, segment) hold what the listing's statistics band sums over
that account's customers in the segment (``listing.listing_statistics``), so an unfiltered listing page
reads a handful of rows instead of aggregating over every customer. The figures of an (account,
segment) are the sum of its rows: triggers created by migration 0014 (``services/listing_summary.py``
writes their SQL) append each statement's change to the customers and the watchlist entries as a row
of deltas, whatever wrote it (ingestion, rebuild, delete, merge, erasure, retention, raw SQL). Appending
never waits for another writer's lock (one counter row per account would serialise every import of the
account and deadlock against the customers' row locks); ``listing_summary.compact_summary`` folds the
rows back into one per (account, segment), and ``rebuild_summary`` recomputes them from scratch.
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from .accounts import SellerAccount


class SummarySegment(models.TextChoices):
    """The customers a row sums over: one per listing tab's base filter (``listing.TABS``)."""

    ALL = "all", _("All customers")
    RETURNED = "returned", _("Customers with returns")
    PROMO = "promo", _("Customers who used a promo code")
    WATCHED = "watched", _("Customers on the watchlist")


class ListingSummary(models.Model):
    # No database constraint: deleting a seller account deletes its customers, whose triggers write these
    # rows after Django's collector would have deleted them; the rows of a deleted account stay at zero.
    account = models.ForeignKey(
        SellerAccount,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("seller account"),
    )
    segment = models.CharField(_("segment"), max_length=16, choices=SummarySegment.choices)
    customers = models.BigIntegerField(_("customers"), default=0)
    repeat_customers = models.BigIntegerField(_("repeat customers"), default=0)
    orders = models.BigIntegerField(_("orders"), default=0)
    units = models.BigIntegerField(_("units"), default=0)
    returned_units = models.BigIntegerField(_("returned units"), default=0)
    promo_customers = models.BigIntegerField(_("customers who used a promo code"), default=0)
    negative_feedbacks = models.BigIntegerField(_("negative feedbacks"), default=0)
    watched = models.BigIntegerField(_("customers on the watchlist"), default=0)
    #: In the seller account's currency.
    amount_spent = models.DecimalField(_("amount spent"), max_digits=20, decimal_places=2, default=Decimal("0"))
    unconverted_orders = models.BigIntegerField(_("orders not converted"), default=0)

    #: The figures, in the order the triggers write them.
    FIGURES = (
        "customers",
        "repeat_customers",
        "orders",
        "units",
        "returned_units",
        "promo_customers",
        "negative_feedbacks",
        "watched",
        "amount_spent",
        "unconverted_orders",
    )

    class Meta:
        verbose_name = _("listing summary")
        verbose_name_plural = _("listing summaries")
        indexes = [models.Index(fields=["account", "segment"], name="wc_summary_account_segment")]

    def __str__(self):
        return f"{self.account_id}/{self.segment}"
