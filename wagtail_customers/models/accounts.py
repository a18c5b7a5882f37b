import re

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choice_labels import ChoiceLabels

#: The settings that name a seller account (the in-site shops' accounts, contrib/shops.py): such an account keeps its
#: name while a setting names it.
SELLER_ACCOUNT_SETTINGS = ("SALESMAN_SELLER_ACCOUNT", "OSCAR_SELLER_ACCOUNT")


class Channel(models.TextChoices):
    AMAZON = "amazon", _("Amazon")
    SHOPIFY = "shopify", _("Shopify")
    EBAY = "ebay", _("eBay")
    WOOCOMMERCE = "woocommerce", _("WooCommerce")
    ETSY = "etsy", _("Etsy")
    WEBSITE = "website", _("Website")
    OTHER = "other", _("Other")


class SellerAccountQuerySet(models.QuerySet):
    def enabled(self):
        return self.filter(is_enabled=True)


class SellerAccount(ChoiceLabels, models.Model):
    """A store or seller account on one sales channel. Customers and orders belong to exactly one.

    Disabled accounts (``is_enabled=False``) drop out of every listing, statistic and export.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.WEBSITE)
    marketplace = models.CharField(
        _("marketplace / region"), max_length=50, blank=True, help_text=_("For example amazon.de or US.")
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="USD",
        help_text=_("ISO 4217 code. Customer amounts are kept in this currency only."),
    )
    is_enabled = models.BooleanField(_("enabled"), default=True)
    contact_url_template = models.CharField(
        _("contact buyer URL template"),
        max_length=500,
        blank=True,
        help_text=_(
            "Optional. A channel page for contacting a buyer, with {order_id} and {marketplace} placeholders, "
            "for example https://sellercentral.amazon.com/messaging/contact?orderID={order_id}"
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = SellerAccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("seller account")
        verbose_name_plural = _("seller accounts")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Order currencies are upper-cased on the way in; "usd" here would zero every amount.
        self.currency = (self.currency or "").strip().upper()
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self.currency = (self.currency or "").strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise ValidationError({"currency": _("Use a 3-letter ISO 4217 code, such as USD or EUR.")})
        # Each order keeps its amounts converted into the account's currency at its date; another currency
        # would add up amounts of two currencies under one code.
        if self.pk and self.orders.exists():
            stored = SellerAccount.objects.filter(pk=self.pk).values_list("currency", flat=True).first()
            if stored and stored != self.currency:
                raise ValidationError(
                    {
                        "currency": _(
                            "The currency cannot change once the account has orders: their amounts are kept "
                            "converted into %(currency)s. Create another seller account for the new currency."
                        )
                        % {"currency": stored}
                    }
                )
        self._check_channel_kept_with_a_connection()
        self._check_name_kept_while_a_setting_names_it()

    def _check_name_kept_while_a_setting_names_it(self):
        # The in-site shops (contrib/shops.py) look their account up by this name on every save of an order:
        # renamed, the account no longer matched and every order of the shop went unrecorded without a word.
        if not self.pk:
            return
        stored = SellerAccount.objects.filter(pk=self.pk).values_list("name", flat=True).first()
        if stored is None or stored == self.name:
            return
        from ..conf import get_setting

        for setting in SELLER_ACCOUNT_SETTINGS:
            try:
                named = get_setting(setting)
            except ImproperlyConfigured:
                return  # WAGTAIL_CUSTOMERS is not a dict: wagtail_customers.E001 says so
            if isinstance(named, str) and named.strip() == stored:
                raise ValidationError(
                    {
                        "name": _(
                            'This account is named by WAGTAIL_CUSTOMERS["%(setting)s"], which finds the account '
                            "by its name: renamed, the shop's orders would no longer be recorded. Change the "
                            "setting to the new name first, then rename the account."
                        )
                        % {"setting": setting}
                    }
                )

    def _check_channel_kept_with_a_connection(self):
        # A store connection's credentials, sync position and webhooks are its channel's: under another channel the
        # connection fails for good (no adapter), or another channel's adapter is handed them.
        if not self.pk:
            return
        stored = SellerAccount.objects.filter(pk=self.pk).values_list("channel", flat=True).first()
        if stored is None or stored == self.channel:
            return
        from .connections import ChannelConnection

        if ChannelConnection.objects.filter(account_id=self.pk).exclude(encrypted_credentials="").exists():
            raise ValidationError(
                {
                    "channel": _(
                        "The channel cannot change while the account has a store connection: its credentials, "
                        "sync position and webhooks are %(channel)s's. Create another seller account for the other "
                        "channel."
                    )
                    % {"channel": Channel(stored).label if stored in Channel.values else stored}
                }
            )
