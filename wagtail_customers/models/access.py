from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .accounts import SellerAccount
from .customers import Customer


class WatchlistEntry(models.Model):
    """A customer the seller keeps an eye on (registered as a Wagtail snippet)."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="watchlist_entry", verbose_name=_("customer")
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    note = models.TextField(_("note"), blank=True)
    #: The watchlist rule that added the customer (models/watchlist_rules.py); None when a user did.
    rule = models.ForeignKey(
        "wagtail_customers.WatchlistRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("added by the rule"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("watchlist entry")
        verbose_name_plural = _("watchlist entries")
        ordering = ["-created_at"]

    def __str__(self):
        return str(self.customer)


class AccessGrant(models.Model):
    """What one user may do with the customers and orders of one seller account.

    Grants add to Wagtail group permissions (module-wide) and to superuser status.
    """

    #: The action flags, in the order the Share access screen shows them.
    ACTIONS = (
        "can_view",
        "can_see_personal_data",
        "can_export",
        "can_manage_watchlist",
        "can_email",
        "can_delete",
        "can_erase",
        "can_import",
        "can_share",
    )

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="customer_access_grants",
        verbose_name=_("user"),
    )
    account = models.ForeignKey(
        SellerAccount, on_delete=models.CASCADE, related_name="access_grants", verbose_name=_("seller account")
    )
    can_view = models.BooleanField(_("view"), default=True)
    #: Off for a new grant (personal data is private by default); migration 0011 turned it on for the
    #: grants that existed before it, so upgrading changed nothing for their users.
    can_see_personal_data = models.BooleanField(_("see personal data"), default=False)
    can_export = models.BooleanField(_("export"), default=False)
    can_manage_watchlist = models.BooleanField(_("manage watchlist"), default=False)
    can_email = models.BooleanField(_("e-mail customers"), default=False)
    can_delete = models.BooleanField(_("delete customers"), default=False)
    can_erase = models.BooleanField(_("erase personal data"), default=False)
    can_import = models.BooleanField(_("import orders"), default=False)
    can_share = models.BooleanField(_("share access"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("access grant")
        verbose_name_plural = _("access grants")
        constraints = [models.UniqueConstraint(fields=["user", "account"], name="wc_grant_user_account_unique")]

    def __str__(self):
        return f"{self.user} → {self.account}"


class ListingPreference(models.Model):
    """Per-user listing settings: visible columns in order, rows per page, seller-account selection."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_listing_preference"
    )
    #: Column names in display order; empty means the plugin's default columns.
    columns = models.JSONField(default=list, blank=True)
    per_page = models.PositiveSmallIntegerField(null=True, blank=True)
    #: Selected seller account ids; empty means all the user may see.
    account_ids = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("customer listing preference")
        verbose_name_plural = _("customer listing preferences")

    def __str__(self):
        return f"{self.user}"
