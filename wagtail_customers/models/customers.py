from decimal import Decimal

from django.db import models
from django.db.models import F
from django.db.models.functions import NullIf, Round
from django.utils.translation import gettext_lazy as _

from .accounts import SellerAccount
from .expressions import Fractional

MONEY = {"max_digits": 14, "decimal_places": 2, "default": Decimal("0")}


#: ``identity_key`` prefix of a customer known only by one order (no buyer id, no e-mail).
ORDER_KEY_PREFIX = "order:"

#: The readable label of such a customer; translated, and searchable (see ``customer_search.order_label_filter``).
BUYER_OF_ORDER = _("Buyer of order #%(order)s")


def customer_label(name, email, external_id, identity_key, pk):
    """What a customer is called on screen: the name, else the e-mail, else the channel's buyer id,
    else "Buyer of order #<order id>" for a customer known only by an order (no query: the order id
    is in ``identity_key``); ``Customer #<pk>`` only if none of these exists. A value masked for the user
    (``services.personal_data.HiddenValue``) counts as absent: a masked customer is "Customer #<pk>"."""
    name, email, external_id = ("" if getattr(v, "hidden", False) else v for v in (name, email, external_id))
    if name:
        return name
    if email:
        return email
    if external_id:
        return external_id
    if identity_key and identity_key.startswith(ORDER_KEY_PREFIX):
        # Shopify's order names start with "#" already ("#1058").
        return BUYER_OF_ORDER % {"order": identity_key[len(ORDER_KEY_PREFIX) :].removeprefix("#")}
    return _("Customer #%(id)s") % {"id": pk}


class CustomerQuerySet(models.QuerySet):
    def enabled(self):
        return self.filter(account__is_enabled=True)


class Customer(models.Model):
    """A buyer of one seller account, generated from that account's orders.

    Identity: within its seller account a customer is identified by the channel's buyer id when the
    channel gives one, else by the normalised e-mail address, else (no buyer id, no e-mail, as in
    Amazon reports) by the order itself. ``identity_key`` holds that choice (``id:…``, ``email:…``
    or ``order:…``) and is unique per account.

    Statistics (kept on the row, updated by the ingestion service in the order's transaction and
    rebuildable with ``manage.py customers_rebuild_stats``):

    * ``orders_count``: every order of the customer, cancelled ones included (Shopify's "Total Orders").
    * ``units``: quantities on the lines of orders that were not cancelled.
    * ``amount_spent``: sum of (order total - refunded) (Shopify's "Total Spent"), in the seller
      account's currency: each order's ``account_total - account_refunded``.
    * ``discount_total``: order-level discounts plus line discounts, in the account's currency (each
      order's ``account_discount``).
    * ``unconverted_orders``: orders whose amounts could not be converted into the account's currency
      (no rate known for their currency and date); while it is above 0, ``amount_spent`` and
      ``discount_total`` leave those orders out and are incomplete (``amount_spent_is_complete``).
    * ``promo_codes_used``: number of promo code usages.
    * ``negative_feedbacks``: orders with feedback rated 1 or 2.
    * ``returned_units``: returned quantities on the lines.
    * ``first_order_at`` / ``last_order_at``: placed date of the first and the latest order.

    Amounts are never summed across currencies: an order in another currency counts with its amounts
    converted into the account's currency at the order's date (docs/concepts/currencies.md), or, when
    no rate is known, in ``unconverted_orders`` only.
    """

    account = models.ForeignKey(
        SellerAccount, on_delete=models.CASCADE, related_name="customers", verbose_name=_("seller account")
    )
    identity_key = models.CharField(_("identity key"), max_length=300, editable=False)
    external_id = models.CharField(_("buyer id on the channel"), max_length=255, blank=True)
    name = models.CharField(_("name"), max_length=255, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=64, blank=True)
    address_line1 = models.CharField(_("address line 1"), max_length=255, blank=True)
    address_line2 = models.CharField(_("address line 2"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=32, blank=True)
    city = models.CharField(_("city"), max_length=128, blank=True)
    state = models.CharField(_("state / province"), max_length=128, blank=True)
    country = models.CharField(_("country"), max_length=64, blank=True)

    orders_count = models.PositiveIntegerField(_("orders"), default=0)
    units = models.IntegerField(_("units"), default=0)
    amount_spent = models.DecimalField(_("amount spent"), **MONEY)
    discount_total = models.DecimalField(_("discount received"), **MONEY)
    unconverted_orders = models.PositiveIntegerField(_("orders not converted"), default=0)
    promo_codes_used = models.PositiveIntegerField(_("promo codes used"), default=0)
    negative_feedbacks = models.PositiveIntegerField(_("negative feedbacks"), default=0)
    returned_units = models.PositiveIntegerField(_("returned units"), default=0)
    first_order_at = models.DateTimeField(_("first order"), null=True, blank=True)
    last_order_at = models.DateTimeField(_("last order"), null=True, blank=True)
    # Figures derived from the statistics, computed by the database whenever the statistics change (so they are
    # always current and rebuilt with them) and stored so that the listing sorts them through an index.
    average_order_value = models.GeneratedField(
        expression=Round(Fractional(F("amount_spent")) / NullIf(F("orders_count") - F("unconverted_orders"), 0), 2),
        output_field=models.DecimalField(max_digits=16, decimal_places=2),
        db_persist=True,
        null=True,
        verbose_name=_("average order value"),
    )
    return_rate = models.GeneratedField(
        expression=Round(Fractional(F("returned_units") * 100) / NullIf(F("units"), 0), 1),
        output_field=models.DecimalField(max_digits=12, decimal_places=1),
        db_persist=True,
        null=True,
        verbose_name=_("return rate (%)"),
    )

    #: Whether the customer is on the watchlist (has a ``WatchlistEntry``). The database keeps it, whatever writes
    #: the entries (services/watched_flag.py), so the Watchlist tab reads a partial index of its own customers.
    watched = models.BooleanField(_("on the watchlist"), default=False, editable=False)

    #: Moved on by each ``refresh_statistics`` (the ingestion service, a merge, its undo, a rate refresh) that wrote the
    #: customer's orders or changed its figures; None until the first since migration 0025. The statistics rebuild
    #: writes a customer's figures only while the row is at the version read with them, so it never writes over an
    #: order recorded meanwhile (services/statistics.py).
    statistics_version = models.BigIntegerField(null=True, editable=False)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    #: When the customer's personal data was erased (services/erasure.py); ``None`` for a customer never erased.
    #: An erased customer keeps its orders and statistics under a pseudonym, and imports never write its details.
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True, editable=False)

    objects = CustomerQuerySet.as_manager()

    #: The contact details imports take from the latest order (services/ingestion.py) and erasure empties
    #: (services/erasure.py), in the order the docs list them.
    DETAIL_FIELDS = (
        "external_id",
        "name",
        "email",
        "phone",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
        "state",
        "country",
    )

    #: The statistics fields, in the order the docs list them.
    STATISTICS_FIELDS = (
        "orders_count",
        "units",
        "amount_spent",
        "discount_total",
        "unconverted_orders",
        "promo_codes_used",
        "negative_feedbacks",
        "returned_units",
        "first_order_at",
        "last_order_at",
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-last_order_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "identity_key"], name="wc_customer_identity_unique"),
        ]
        indexes = [
            # Sort keys of the listing tabs; each ends with pk so pagination is stable.
            models.Index(fields=["account", "-amount_spent", "id"], name="wc_cust_acc_spent"),
            models.Index(fields=["account", "-orders_count", "id"], name="wc_cust_acc_orders"),
            models.Index(fields=["account", "-returned_units", "id"], name="wc_cust_acc_returned"),
            models.Index(fields=["account", "-last_order_at", "id"], name="wc_cust_acc_last"),
            models.Index(fields=["-amount_spent", "id"], name="wc_cust_spent"),
            models.Index(fields=["-orders_count", "id"], name="wc_cust_orders"),
            models.Index(fields=["-returned_units", "id"], name="wc_cust_returned"),
            models.Index(fields=["-last_order_at", "id"], name="wc_cust_last"),
            models.Index(fields=["account", "-average_order_value", "id"], name="wc_cust_acc_aov"),
            models.Index(fields=["-average_order_value", "id"], name="wc_cust_aov"),
            models.Index(fields=["account", "-return_rate", "id"], name="wc_cust_acc_return_rate"),
            models.Index(fields=["-return_rate", "id"], name="wc_cust_return_rate"),
            # The discount order (any tab), and the Promo codes tab's own: only its customers, so its last pages
            # do not walk past the customers without a promo code (at the end of the discount order too). No
            # per-account copy: SQLite took it for the scoped query (account IN ...) and sorted every promo
            # customer of the accounts, 325 ms for page 1 at 200,000 customers against 70 ms.
            models.Index(fields=["-discount_total", "id"], name="wc_cust_discount"),
            models.Index(
                fields=["-discount_total", "id"], condition=models.Q(promo_codes_used__gt=0), name="wc_cust_promo"
            ),
            # The Watchlist tab's own customers in its order: a page reads its rows, not every customer's. The
            # account's copy is how SQLite finds them in any other order (it took the accounts' country index and
            # tested every customer: 81 ms for a page by name at 200,000 customers, 33 with it).
            models.Index(fields=["-last_order_at", "id"], condition=models.Q(watched=True), name="wc_cust_watched"),
            models.Index(
                fields=["account", "-last_order_at", "id"], condition=models.Q(watched=True), name="wc_cust_acc_watched"
            ),
            models.Index(fields=["email"], name="wc_cust_email"),
            models.Index(fields=["name"], name="wc_cust_name"),
            # "New customers" of the statistics band, counted live: bounded by the new customers, not all.
            models.Index(fields=["account", "first_order_at"], name="wc_cust_acc_first"),
            # The country filter and its choices: a rare country is found here, not by walking every customer
            # (318 to 28 ms a page at 200,000 customers on SQLite); the choices are counted from it alone.
            models.Index(fields=["account", "country"], name="wc_cust_acc_country"),
            # The erased customers only: whether an export file made earlier may still be handed back
            # (exports/jobs.py) and the erasure's own counts read these few rows, not every customer of the accounts.
            models.Index(
                fields=["account", "erased_at"], condition=models.Q(erased_at__isnull=False), name="wc_cust_acc_erased"
            ),
        ]
        permissions = [
            ("export_customer", _("Can export customers")),
            ("manage_watchlist", _("Can manage the customer watchlist")),
            ("email_customer", _("Can e-mail customers")),
            ("import_orders", _("Can import orders")),
            ("share_access", _("Can share customer access")),
            ("erase_customer", _("Can erase customers' personal data")),
            ("view_personal_data", _("Can see customers' personal data")),
        ]

    def __str__(self):
        return str(customer_label(self.name, self.email, self.external_id, self.identity_key, self.pk))

    @property
    def is_erased(self):
        return self.erased_at is not None

    @property
    def currency(self):
        return self.account.currency

    @property
    def amount_spent_is_complete(self):
        """False when some orders' amounts could not be converted into the account's currency."""
        return not self.unconverted_orders

    @property
    def is_repeat_buyer(self):
        return self.orders_count >= 2
