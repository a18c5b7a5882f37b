"""A django-oscar order as the ledger's ``OrderData``.

Lines are taken before discounts and without tax, each with its discount; the order's tax is
``total_incl_tax - total_excl_tax`` (goods and shipping), so that subtotal - discounts + shipping + tax is
Oscar's ``total_incl_tax`` (the total is passed as Oscar charged it, surcharges included). Refunds are what the
payment sources say (``Source.refund()``); milestones come from Oscar's status history.
"""

from decimal import ROUND_HALF_UP, Decimal

from oscar.core.loading import get_model

from ...conf import get_setting
from ...models import Order as LedgerOrder
from ...models import OrderStatus
from ...services.ingestion import normalise_email
from ...services.inputs import AddressData, CustomerData, LineData, OrderData, PromoCodeData
from ..shops import fulfilment_status, truncated
from ..shops import seller_account as named_seller_account

ZERO = Decimal("0")

#: The ledger status of each status of Oscar's sandbox pipeline; OSCAR_STATUSES adds to it. Oscar places an
#: order once it is paid (its checkout takes the payment first), so its initial status means paid.
STATUSES = {
    "Pending": OrderStatus.PAID,
    "Being processed": OrderStatus.PAID,
    "Complete": OrderStatus.SHIPPED,
    "Cancelled": OrderStatus.CANCELLED,
}


#: Which milestone date each ledger status gives, taken from Oscar's OrderStatusChange history.
MILESTONES = {
    OrderStatus.SHIPPED: "shipped_at",
    OrderStatus.DELIVERED: "delivered_at",
    OrderStatus.CANCELLED: "cancelled_at",
    OrderStatus.RETURNED: "returned_at",
}


def order_model():
    return get_model("order", "Order")


def status_change_model():
    return get_model("order", "OrderStatusChange")


def source_model():
    return get_model("payment", "Source")


def transaction_model():
    return get_model("payment", "Transaction")


def seller_account(instance=None):
    """The seller account Oscar's orders go to (``WAGTAIL_CUSTOMERS["OSCAR_SELLER_ACCOUNT"]``)."""
    return named_seller_account("OSCAR_SELLER_ACCOUNT")


def statuses():
    return {**STATUSES, **get_setting("OSCAR_STATUSES")}


def refunds(order):
    """The amount refunded through the order's payment sources, and the date of the last refund."""
    refunded, refunded_at = ZERO, None
    for source in order.sources.all():
        refunded += source.amount_refunded
        for transaction in source.transactions.all():
            if transaction.txn_type == transaction.REFUND and (
                refunded_at is None or transaction.date_created > refunded_at
            ):
                refunded_at = transaction.date_created
    return refunded, refunded_at


def charged(order):
    """Whether any payment source of the order took money (``amount_debited``): a source may only hold an
    allocation (an authorisation) that was never debited."""
    return any(source.amount_debited > 0 for source in order.sources.all())


def ledger_status(order, mapped, refunded):
    if mapped != OrderStatus.CANCELLED and refunded > 0:
        return OrderStatus.REFUNDED if refunded >= order.total_incl_tax else OrderStatus.PARTIALLY_REFUNDED
    return mapped


def milestones(order):
    """The date each milestone was first reached, from the order's status changes."""
    by_status = statuses()
    dates = {}
    for change in sorted(order.status_changes.all(), key=lambda change: change.date_created):
        field = MILESTONES.get(by_status.get(change.new_status, OrderStatus.PAID))
        if field and field not in dates:
            dates[field] = change.date_created
    return dates


def line_data(line):
    before_discounts = line.line_price_before_discounts_excl_tax
    # Oscar 4 keeps no cost price; a site whose forked partner app adds ``cost_price`` gets its P&L from it.
    unit_cost = getattr(line.stockrecord, "cost_price", None) if line.stockrecord_id else None
    return LineData(
        sku=truncated(line.partner_sku or line.upc, 100),
        product_name=truncated(line.title, 500),
        quantity=line.quantity,
        unit_price=(before_discounts / line.quantity).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if line.quantity
        else ZERO,
        line_total=before_discounts,
        discount=before_discounts - line.line_price_excl_tax,
        unit_cost=unit_cost,
    )


def ship_to(address):
    if address is None:
        return AddressData()
    return AddressData(
        name=truncated(address.name, 255),
        line1=truncated(address.line1, 255),
        line2=truncated(", ".join(part for part in (address.line2, address.line3) if part), 255),
        postal_code=truncated(address.postcode, 32),
        city=truncated(address.line4, 128),
        state=truncated(address.state, 128),
        country=truncated(address.country_id, 64),
        phone=truncated(address.phone_number or "", 64),
    )


def recorded_buyer(order):
    """``(recorded, CustomerData)``: whether the ledger has the order already, and the identity of the customer it
    is recorded under (``None`` when that cannot be handed back: an erased customer's key is a hash).

    Oscar keeps no e-mail on a signed-in buyer's order (``Order.email`` is the user's current one) and none once the
    user is deleted, so an order recorded before stays with the customer it was recorded under: an e-mail change
    or a deleted user does not move it to another customer, or to a nameless one of its own.
    """
    row = (
        LedgerOrder.objects.filter(
            account__name=str(get_setting("OSCAR_SELLER_ACCOUNT") or "").strip(), external_id=str(order.number)
        )
        .values_list("customer__identity_key", "customer__email")
        .first()
    )
    if row is None:
        return False, None
    identity_key, email = row
    kind, _, value = identity_key.partition(":")
    if kind == "id":
        return True, CustomerData(external_id=value, email=email)
    if kind == "email":
        return True, CustomerData(email=email if normalise_email(email) == value else value)
    if kind == "order" and value == str(order.number):
        return True, CustomerData()
    return True, None


def buyer(order, address_data):
    """Who placed the order: a guest by the e-mail the order keeps; a signed-in buyer (or one whose user was
    deleted since) as the ledger recorded the order before, else by the user's e-mail (see ``recorded_buyer``).
    ``None``: an order of a deleted user whose customer cannot be named again is left as it is."""
    user = order.user
    name = truncated((user.get_full_name() if user is not None else "") or address_data.name, 255)
    customer = CustomerData(email=truncated(order.email, 254), name=name, phone=address_data.phone)
    if user is None and order.guest_email.strip():
        return customer
    recorded, kept = recorded_buyer(order)
    if kept is not None:
        kept.name, kept.phone = name, address_data.phone
        return kept
    if recorded and user is None:
        return None
    return customer


def to_order_data(order):
    """``OrderData`` for an Oscar order; ``None`` for one the ledger keeps as it is (``buyer``)."""
    address = order.shipping_address
    address_data = ship_to(address)
    customer = buyer(order, address_data)
    if customer is None:
        return None
    mapped = statuses().get(order.status, OrderStatus.PAID)
    refunded, refunded_at = refunds(order)
    status = ledger_status(order, mapped, refunded)
    # A cancelled order that no payment source was charged for spent nothing.
    never_charged = status == OrderStatus.CANCELLED and not charged(order)
    return OrderData(
        external_id=str(order.number),
        placed_at=order.date_placed,
        customer=customer,
        status=status,
        fulfilment_status=fulfilment_status(mapped),
        currency=order.currency,
        shipping=order.shipping_excl_tax,
        tax=order.total_incl_tax - order.total_excl_tax,
        total=ZERO if never_charged else order.total_incl_tax,
        refunded=refunded,
        refunded_at=refunded_at,
        ship_to=address_data,
        lines=[line_data(line) for line in order.lines.all()],
        promo_codes=[
            PromoCodeData(truncated(discount.voucher_code, 100), discount.amount)
            for discount in order.discounts.all()
            if discount.voucher_code
        ],
        paid_at=order.date_placed if mapped != OrderStatus.PENDING and not never_charged else None,
        **milestones(order),
    )


def status_change_to_order_data(status_change):
    """A saved status change records its order again: ``set_status()`` saves the order before the change."""
    return to_order_data(status_change.order)


def source_to_order_data(source):
    """A saved payment source (a debit, a refund) records its order again."""
    return to_order_data(source.order)


def transaction_to_order_data(transaction):
    return to_order_data(transaction.source.order)
