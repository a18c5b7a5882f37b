from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from .accounts import Channel, SellerAccount
from .choice_labels import ChoiceLabels
from .customers import MONEY, Customer


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")


class FulfilmentStatus(models.TextChoices):
    UNFULFILLED = "unfulfilled", _("Unfulfilled")
    PARTIAL = "partial", _("Partially fulfilled")
    FULFILLED = "fulfilled", _("Fulfilled")
    RETURNED = "returned", _("Returned")
    CANCELLED = "cancelled", _("Cancelled")

    @classmethod
    def implied_by(cls, status):
        """The fulfilment an order's status implies, for a source that gives the status alone (a shipped order was
        fulfilled: "Delivered" beside "Unfulfilled" on the order contradicts itself)."""
        return _IMPLIED_FULFILMENT.get(status, cls.UNFULFILLED)


_IMPLIED_FULFILMENT = {
    OrderStatus.SHIPPED: FulfilmentStatus.FULFILLED,
    OrderStatus.DELIVERED: FulfilmentStatus.FULFILLED,
    OrderStatus.CANCELLED: FulfilmentStatus.CANCELLED,
    OrderStatus.RETURNED: FulfilmentStatus.RETURNED,
}


class SyncStatus(models.TextChoices):
    SYNCED = "synced", _("Synced")
    PENDING = "pending", _("Pending")
    ERROR = "error", _("Error")


class RateSource(models.TextChoices):
    """Where an order's amounts in its seller account's currency come from."""

    SAME = "same", _("Same currency")
    CHANNEL = "channel", _("Channel's converted amounts")
    TABLE = "table", _("Exchange-rate table")
    UNKNOWN = "unknown", _("No rate known")


class EventKind(models.TextChoices):
    PLACED = "placed", _("Placed")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")
    REFUNDED = "refunded", _("Refunded")
    FEEDBACK = "feedback", _("Feedback left")
    NOTE = "note", _("Note")
    EMAIL = "email", _("E-mail sent")
    WATCHLIST = "watchlist", _("Watchlist changed")


#: The order columns a customer's statistics are summed from besides its customer, id and date
#: (services/statistics.py, ``_orders_aggregate``; tests/test_order_figures.py checks the aggregate reads no other).
STATISTICS_COLUMNS = (
    "status",
    "account_total",
    "account_refunded",
    "account_discount",
    "units",
    "returned_units",
    "promo_codes_count",
    "feedback_rating",
)


class Order(ChoiceLabels, models.Model):
    """An order of one seller account, recorded by the ingestion service (never written directly).

    ``external_id`` is the channel's order number, unique per seller account; recording the same
    order again updates it. Amounts are in ``currency``. ``channel_fees`` and ``fulfilment_cost``
    feed the order's P&L; ``None`` means "not known", which is not the same as zero.

    ``units``, ``returned_units``, ``promo_codes_count`` and ``feedback_rating`` are the order's own figures from its
    lines, promo codes and feedback, written with them by the ingestion service: the customers' statistics sum the
    orders alone (services/statistics.py). ``services/order_figures.py`` fills them from the lines where they are
    missing (orders written before they existed, or by an older release during a rolling deploy) and, when asked,
    where they are wrong (lines written behind the ingestion service's back).

    ``account_total``, ``account_refunded`` and ``account_discount`` are the same money in the seller
    account's currency, converted at the order's date (docs/concepts/currencies.md): equal to the order's
    own amounts when the currencies are the same, from the channel's converted figures where it gives them,
    else at ``exchange_rate`` from the site's rate table. They are ``None`` when no rate is known
    (``rate_source`` "unknown"): such an order counts in ``Customer.unconverted_orders``, never as 0.
    """

    # Neither foreign key has an index of its own: the indexes of (account, order id) and of a customer's orders
    # lead with them and serve every lookup by either (migration 0033 dropped the two redundant ones).
    account = models.ForeignKey(
        SellerAccount,
        on_delete=models.CASCADE,
        related_name="orders",
        verbose_name=_("seller account"),
        db_index=False,
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="orders", verbose_name=_("customer"), db_index=False
    )
    external_id = models.CharField(_("order id"), max_length=100)
    placed_at = models.DateTimeField(_("placed at"))
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PAID)
    fulfilment_status = models.CharField(
        _("fulfilment status"),
        max_length=20,
        choices=FulfilmentStatus.choices,
        default=FulfilmentStatus.UNFULFILLED,
    )
    sync_status = models.CharField(
        _("sync status"), max_length=10, choices=SyncStatus.choices, default=SyncStatus.SYNCED
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.WEBSITE)
    currency = models.CharField(_("currency"), max_length=3)
    subtotal = models.DecimalField(_("subtotal"), **MONEY)
    discount = models.DecimalField(_("order discount"), **MONEY)
    shipping = models.DecimalField(_("shipping"), **MONEY)
    tax = models.DecimalField(_("tax"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    refunded = models.DecimalField(_("refunded"), **MONEY)
    #: Seller-account-currency units per 1 unit of ``currency``: 1 for the same currency, None when unknown.
    exchange_rate = models.DecimalField(_("exchange rate"), max_digits=20, decimal_places=10, null=True, blank=True)
    rate_source = models.CharField(
        _("rate source"), max_length=10, choices=RateSource.choices, default=RateSource.UNKNOWN
    )
    account_total = models.DecimalField(
        _("total in the account's currency"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    account_refunded = models.DecimalField(
        _("refunded in the account's currency"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    #: The order discount plus its lines' discounts, in the seller account's currency.
    account_discount = models.DecimalField(
        _("discount in the account's currency"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    channel_fees = models.DecimalField(_("channel fees"), max_digits=14, decimal_places=2, null=True, blank=True)
    fulfilment_cost = models.DecimalField(
        _("fulfilment / shipping cost"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    ship_name = models.CharField(_("ship-to name"), max_length=255, blank=True)
    ship_address_line1 = models.CharField(_("ship-to address line 1"), max_length=255, blank=True)
    ship_address_line2 = models.CharField(_("ship-to address line 2"), max_length=255, blank=True)
    ship_postal_code = models.CharField(_("ship-to postal code"), max_length=32, blank=True)
    ship_city = models.CharField(_("ship-to city"), max_length=128, blank=True)
    ship_state = models.CharField(_("ship-to state / province"), max_length=128, blank=True)
    ship_country = models.CharField(_("ship-to country"), max_length=64, blank=True)
    ship_phone = models.CharField(_("ship-to phone"), max_length=64, blank=True)
    # The channel's milestones; the customer timeline is built from these plus ``OrderEvent``s.
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    # The order's figures (the docstring above): nullable, without a default or a CHECK constraint, so adding them
    # neither rewrote nor scanned the orders' table (they are never negative: sums and counts of what is checked).
    units = models.BigIntegerField(_("units"), null=True, editable=False)
    returned_units = models.BigIntegerField(_("returned units"), null=True, editable=False)
    promo_codes_count = models.IntegerField(_("promo codes"), null=True, editable=False)
    feedback_rating = models.SmallIntegerField(_("feedback rating"), null=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    #: When the order was last received from its channel's connection (a pull or a webhook); None for orders
    #: from files and in-site shops. ``sync_status`` says whether that latest state is confirmed by a pull.
    synced_at = models.DateTimeField(_("synced from the channel"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="wc_order_external_id_unique"),
        ]
        indexes = [
            # A customer's orders newest first (the customer page), holding every column a customer's statistics
            # sum (services/statistics.py), so their aggregate reads this index alone, in customer order: the
            # rebuild after 1 % corruption at 1,000,000 orders took 1.7-2.2 s with it, 3.3-4.3 s reading the table
            # (PostgreSQL; SQLite 2.2 s against 5.0). Key columns, not INCLUDE, which SQLite has no use for.
            models.Index(
                fields=["customer", "-placed_at", "-id", *STATISTICS_COLUMNS], name="wc_order_customer_figures"
            ),
            # Search by order id (customer_search): ``iexact`` is UPPER(...) = UPPER(...) on PostgreSQL; without
            # it every search with a digit scans the orders (483 ms at 1M orders, 0.1 ms with it).
            models.Index(Upper("external_id"), name="wc_order_ext_id_upper"),
            # The orders whose figures are missing (services/order_figures.py): none, once filled, so the statistics
            # rebuild finds them without reading the orders.
            models.Index(fields=["id"], condition=models.Q(units__isnull=True), name="wc_order_figures_missing"),
        ]

    #: The ship-to address, in the order the screens, exports and the ingestion service use.
    SHIP_TO_FIELDS = (
        "ship_name",
        "ship_address_line1",
        "ship_address_line2",
        "ship_postal_code",
        "ship_city",
        "ship_state",
        "ship_country",
        "ship_phone",
    )
    #: The order's figures from its lines, promo codes and feedback (the docstring above).
    FIGURE_FIELDS = ("units", "returned_units", "promo_codes_count", "feedback_rating")
    #: The milestone columns after placing (``milestones()`` sorts them by date).
    MILESTONE_FIELDS = ("paid_at", "shipped_at", "delivered_at", "cancelled_at", "returned_at", "refunded_at")

    def __str__(self):
        return self.external_id

    def milestones(self):
        """``(EventKind, moment)`` for each milestone the channel reported, in time order."""
        moments = [
            (EventKind.PLACED, self.placed_at),
            (EventKind.PAID, self.paid_at),
            (EventKind.SHIPPED, self.shipped_at),
            (EventKind.DELIVERED, self.delivered_at),
            (EventKind.CANCELLED, self.cancelled_at),
            (EventKind.RETURNED, self.returned_at),
            (EventKind.REFUNDED, self.refunded_at),
        ]
        return sorted(((kind, moment) for kind, moment in moments if moment), key=lambda item: item[1])


class OrderLine(models.Model):
    """One line of an order. ``unit_cost`` is ``None`` when the cost of goods is not known."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    product_name = models.CharField(_("product"), max_length=500, blank=True)
    quantity = models.IntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    line_total = models.DecimalField(_("line total"), **MONEY)
    discount = models.DecimalField(_("line discount"), **MONEY)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=2, null=True, blank=True)
    returned_quantity = models.PositiveIntegerField(_("returned quantity"), default=0)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.quantity} x {self.product_name or self.sku}"


class PromoCodeUsage(models.Model):
    """A promo / discount code used on an order, with the discount it gave."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="promo_codes")
    code = models.CharField(_("code"), max_length=100)
    discount = models.DecimalField(_("discount"), **MONEY)

    class Meta:
        verbose_name = _("promo code usage")
        verbose_name_plural = _("promo code usages")
        ordering = ["pk"]

    def __str__(self):
        return self.code


class Feedback(models.Model):
    """The buyer's feedback on an order. Ratings 1 and 2 count as negative."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="feedback")
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="wc_feedback_rating_1_to_5")
        ]

    def __str__(self):
        return f"{self.rating}/5"

    @property
    def is_negative(self):
        from ..conf import get_setting

        return self.rating <= get_setting("NEGATIVE_FEEDBACK_MAX_RATING")


class OrderEvent(ChoiceLabels, models.Model):
    """A timeline entry made in the admin or by an integration: a note, an e-mail sent, a watchlist
    change, or a channel event with no milestone column. Order milestones (placed, paid, shipped...)
    are columns of ``Order`` and are not copied here."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    message = models.TextField(_("message"), blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["customer", "-occurred_at"], name="wc_event_customer_time")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"
