"""The data the ingestion service takes: plain dataclasses, independent of any channel's format."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..models import FulfilmentStatus, OrderStatus, SyncStatus

ZERO = Decimal("0")


@dataclass
class CustomerData:
    """Who placed the order. ``external_id`` is the channel's buyer id, if the channel has one."""

    external_id: str = ""
    email: str = ""
    name: str = ""
    phone: str = ""


@dataclass
class AddressData:
    name: str = ""
    line1: str = ""
    line2: str = ""
    postal_code: str = ""
    city: str = ""
    state: str = ""
    country: str = ""
    phone: str = ""

    def is_empty(self):
        return not any((self.line1, self.line2, self.postal_code, self.city, self.state, self.country))


@dataclass
class LineData:
    sku: str = ""
    product_name: str = ""
    quantity: int = 1
    unit_price: Decimal = ZERO
    #: Defaults to quantity x unit price.
    line_total: Decimal | None = None
    discount: Decimal = ZERO
    #: Cost of goods per unit; ``None`` means not known.
    unit_cost: Decimal | None = None
    returned_quantity: int = 0


@dataclass
class PromoCodeData:
    code: str
    discount: Decimal = ZERO


@dataclass
class FeedbackData:
    rating: int
    comment: str = ""
    left_at: datetime | None = None


@dataclass
class OrderData:
    """One order as a channel reports it. Recording it again with the same ``external_id`` updates it."""

    external_id: str
    placed_at: datetime
    customer: CustomerData = field(default_factory=CustomerData)
    status: str = OrderStatus.PAID
    fulfilment_status: str = FulfilmentStatus.UNFULFILLED
    sync_status: str = SyncStatus.SYNCED
    #: Defaults to the seller account's channel and currency.
    channel: str | None = None
    currency: str | None = None
    #: Defaults to the sum of the line totals.
    subtotal: Decimal | None = None
    discount: Decimal = ZERO
    shipping: Decimal = ZERO
    tax: Decimal = ZERO
    #: Defaults to subtotal - discount + shipping + tax.
    total: Decimal | None = None
    refunded: Decimal = ZERO
    #: The channel's own figures in the seller account's currency, when it gives them (Shopify's "shop
    #: money"): the total, the refunded amount, the order and line discounts together. Or its rate, in
    #: account-currency units per 1 unit of ``currency``. A figure left ``None`` is converted at the
    #: channel's rate (given, or implied by ``account_total``), else at the site's table rate.
    #: Without any of them, the amounts are converted from the site's exchange-rate table.
    account_total: Decimal | None = None
    account_refunded: Decimal | None = None
    account_discount: Decimal | None = None
    exchange_rate: Decimal | None = None
    channel_fees: Decimal | None = None
    fulfilment_cost: Decimal | None = None
    ship_to: AddressData = field(default_factory=AddressData)
    lines: list[LineData] = field(default_factory=list)
    promo_codes: list[PromoCodeData] = field(default_factory=list)
    feedback: FeedbackData | None = None
    # Dates of the order's milestones, for the timeline; those not known are left out of it.
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    refunded_at: datetime | None = None
    returned_at: datetime | None = None
    #: The channel's copy does not say what came back, or what the buyer rated: an adapter that reads returns and
    #: feedback apart from the orders (Amazon's and eBay's reports) and no longer holds those of this order (read
    #: too long ago, or a history import started afresh). Recorded again, the order keeps the stored returned
    #: quantities and return date, or the stored feedback, rather than losing them.
    keep_stored_returns: bool = False
    keep_stored_feedback: bool = False
