"""Merged duplicate customers: what a merge moved (so that it can be undone) and the identities it keeps.

The service is services/merge.py; the rules are in docs/howto/merge-customers.md.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .accounts import SellerAccount
from .customers import Customer


class CustomerMerge(models.Model):
    """One customer (the *merged* one) merged into another of the same seller account (the *kept* one).

    The merged customer's row is deleted; ``snapshot`` holds every column of it (primary key and identity key
    included) so that an undo re-creates it exactly. The id lists say what moved to the kept customer, so an
    undo moves back exactly that. An undone merge stays as a record (``undone_at``) without the snapshot.
    """

    account = models.ForeignKey(
        SellerAccount, on_delete=models.CASCADE, related_name="customer_merges", verbose_name=_("seller account")
    )
    kept = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges", verbose_name=_("kept customer"))
    #: The merged customer's primary key (its row is gone while the merge stands; an undo re-creates it).
    merged_customer_id = models.BigIntegerField(_("merged customer id"))
    #: Every column of the merged customer's row, as JSON (``Customer`` field attnames -> values).
    snapshot = models.JSONField(_("merged customer"), default=dict, blank=True)
    #: The merged customer's watchlist entry, if it had one: ``{"pk", "note", "added_by_id", "created_at"}``,
    #: and how it was combined (``"moved"``: it became the kept customer's; else its note was appended to
    #: the kept customer's entry, whose note before the merge is ``"kept_note"``).
    watchlist = models.JSONField(_("watchlist entry"), null=True, blank=True)
    #: Orders moved to the kept customer by the merge.
    order_ids = models.JSONField(_("moved orders"), default=list, blank=True)
    #: Orders recorded later under the merged customer's identity (through the alias): an undo moves them back too.
    later_order_ids = models.JSONField(_("orders recorded since"), default=list, blank=True)
    #: Timeline entries (``OrderEvent``) moved to the kept customer.
    event_ids = models.JSONField(_("moved timeline entries"), default=list, blank=True)
    #: Wagtail history entries (``ModelLogEntry``) re-pointed to the kept customer.
    log_entry_ids = models.JSONField(_("moved history entries"), default=list, blank=True)
    #: Alert events (``AlertEvent``, with every user's notification of them) moved to the kept customer.
    alert_event_ids = models.JSONField(_("moved alerts"), default=list, blank=True)
    #: The merged customer's watchlist dismissal, if it had one: its columns (``"pk"``, ``"dismissed_at"``, ...),
    #: and ``"moved"``: it became the kept customer's (else it was deleted with the merged row).
    watchlist_dismissal = models.JSONField(_("watchlist dismissal"), null=True, blank=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged by"),
    )
    merged_at = models.DateTimeField(_("merged at"))
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        ordering = ["-merged_at", "-pk"]
        indexes = [models.Index(fields=["kept", "-merged_at"], name="wc_merge_kept_time")]

    def __str__(self):
        return f"{self.merged_customer_id} -> {self.kept_id}"

    @property
    def is_undone(self):
        return self.undone_at is not None


class CustomerAlias(models.Model):
    """An identity key that now means another customer: the merged customer's, pointing at the kept one.

    The ingestion service looks an incoming order's identity key up here when no customer has it, so a later
    import of the merged buyer lands on the kept customer. Erasing the kept customer replaces the key by its
    keyed hash (services/erasure.py), as for the customer's own key.
    """

    account = models.ForeignKey(
        SellerAccount, on_delete=models.CASCADE, related_name="customer_aliases", verbose_name=_("seller account")
    )
    identity_key = models.CharField(_("identity key"), max_length=300)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="aliases", verbose_name=_("customer"))
    merge = models.OneToOneField(CustomerMerge, on_delete=models.CASCADE, related_name="alias", verbose_name=_("merge"))

    class Meta:
        verbose_name = _("customer alias")
        verbose_name_plural = _("customer aliases")
        constraints = [
            models.UniqueConstraint(fields=["account", "identity_key"], name="wc_alias_identity_unique"),
        ]

    def __str__(self):
        return f"{self.identity_key} -> {self.customer_id}"
