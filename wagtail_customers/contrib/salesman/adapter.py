"""A django-salesman order as the ledger's ``OrderData``.

Salesman has no fields for shipping, tax or discounts: they are *extra rows* that the site's basket modifiers
add to the basket and to its items (``{"modifier": identifier, "label", "amount", "extra"}``), copied onto the
order at checkout. ``SALESMAN_EXTRA_ROWS`` says which modifier's rows are shipping, tax or a discount; any other
row with a negative amount is a discount too, and a discount row whose ``extra`` has a ``"code"`` is a promo
code. Salesman has no currency either: the amounts are in the seller account's currency.
"""

import re
from decimal import Decimal, InvalidOperation

from salesman.core.utils import get_salesman_model

from ...conf import get_setting
from ...models import OrderStatus
from ...services.inputs import AddressData, CustomerData, LineData, OrderData, PromoCodeData
from ..shops import fulfilment_status, truncated
from ..shops import seller_account as named_seller_account

ZERO = Decimal("0")

#: The ledger status of each status of salesman's own ``OrderStatus``; SALESMAN_STATUSES adds to it.
STATUSES = {
    "CREATED": OrderStatus.PENDING,
    "HOLD": OrderStatus.PENDING,
    # A payment that failed took no money: cancelled, as WooCommerce's failed, so without a payment it spent nothing.
    "FAILED": OrderStatus.CANCELLED,
    "PROCESSING": OrderStatus.PAID,
    "SHIPPED": OrderStatus.SHIPPED,
    "COMPLETED": OrderStatus.DELIVERED,
    "CANCELLED": OrderStatus.CANCELLED,
    "REFUNDED": OrderStatus.REFUNDED,
}


SHIPPING, TAX, DISCOUNT = "shipping", "tax", "discount"


def order_model():
    return get_salesman_model("Order")


def payment_model():
    return get_salesman_model("OrderPayment")


def seller_account(order=None):
    """The seller account salesman's orders go to (``WAGTAIL_CUSTOMERS["SALESMAN_SELLER_ACCOUNT"]``)."""
    return named_seller_account("SALESMAN_SELLER_ACCOUNT")


def ledger_status(order):
    statuses = {**STATUSES, **get_setting("SALESMAN_STATUSES")}
    if order.status in statuses:
        return statuses[order.status]
    # A site's own status with no mapping: what the payments say.
    return OrderStatus.PAID if order.total and order.is_paid else OrderStatus.PENDING


def row_amount(value):
    """An extra row's amount. Salesman stores it as SALESMAN_PRICE_FORMATTER wrote it: "-3.30" by default, but
    a site's formatter may write "-€3.30" or "3,30 € -"; the last "." or "," before one or two final digits
    is then the decimal separator."""
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        pass
    text = str(value)
    digits = re.sub(r"[^\d.,]", "", text)
    decimal = re.fullmatch(r"([\d.,]*?)[.,](\d{1,2})", digits)
    whole, cents = (decimal[1], decimal[2]) if decimal else (digits, "0")
    number = Decimal((re.sub(r"\D", "", whole) or "0") + "." + cents)
    return -number if re.search(r"[-\u2212(]", text) else number


class ExtraRows:
    """Shipping, tax, discount and promo codes summed over a list of salesman extra rows."""

    def __init__(self, rows):
        kinds = get_setting("SALESMAN_EXTRA_ROWS")
        self.shipping = self.tax = self.discount = ZERO
        self.promo_codes = []
        for row in rows or []:
            amount = row_amount(row.get("amount"))
            kind = kinds.get(row.get("modifier"))
            if kind is None and amount < 0:
                kind = DISCOUNT
            if kind == SHIPPING:
                self.shipping += amount
            elif kind == TAX:
                self.tax += amount
            elif kind == DISCOUNT:
                self.discount += abs(amount)
                code = (row.get("extra") or {}).get("code")
                if code:
                    self.promo_codes.append(PromoCodeData(truncated(code, 100), abs(amount)))


def address(text, name, country):
    """Salesman keeps an address as free text: its first line and the rest as the two address lines."""
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    return AddressData(
        name=truncated(name, 255),
        line1=truncated(lines[0] if lines else "", 255),
        line2=truncated(", ".join(lines[1:]), 255),
        country=truncated(country, 64),
    )


def cancelled_total(order, payments):
    """What a cancelled or failed order spent: what its payments took, never more than its total. Salesman cancels
    orders not paid in full (created, on hold, failed): one without a payment spent nothing, one on hold after a
    deposit spent the deposit. A payment of a negative amount (money given back, entered in the payments panel)
    takes its amount off; salesman keeps no other record of a refund before the status ``REFUNDED``."""
    paid = sum((payment.amount for payment in payments), ZERO)
    return min(max(paid, ZERO), order.total)


def to_order_data(order):
    """``OrderData`` for a salesman order; ``None`` for one still being created (status NEW, no items yet)."""
    if order.status == order.Status.NEW:
        return None
    items = list(order.items.all())
    order_rows = ExtraRows(order.extra_rows)
    shipping, tax = order_rows.shipping, order_rows.tax
    promo_codes = list(order_rows.promo_codes)
    lines = []
    for item in items:
        item_rows = ExtraRows(item.extra_rows)
        shipping += item_rows.shipping
        tax += item_rows.tax
        promo_codes += item_rows.promo_codes
        lines.append(
            LineData(
                sku=truncated(item.code, 100),
                product_name=truncated(item.name, 500),
                quantity=item.quantity,
                unit_price=item.unit_price,
                line_total=item.subtotal,
                discount=item_rows.discount,
            )
        )
    extra = order.extra or {}
    user = order.user
    name = extra.get("name") or (user.get_full_name() if user is not None else "")
    status = ledger_status(order)
    payments = sorted(order.payments.all(), key=lambda payment: payment.date_created)
    return OrderData(
        external_id=order.ref,
        placed_at=order.date_created,
        customer=CustomerData(
            email=truncated(order.email or (user.email if user is not None else ""), 254),
            name=truncated(name, 255),
            phone=truncated(extra.get("phone"), 64),
        ),
        status=status,
        fulfilment_status=fulfilment_status(status),
        discount=order_rows.discount,
        shipping=shipping,
        tax=tax,
        total=cancelled_total(order, payments) if status == OrderStatus.CANCELLED else order.total,
        # Salesman refunds an order whole (every payment, then the status REFUNDED).
        refunded=order.total if status == OrderStatus.REFUNDED else ZERO,
        ship_to=address(order.shipping_address, name, extra.get("country")),
        lines=lines,
        promo_codes=promo_codes,
        # Salesman keeps no history of its statuses: the payment's date is known, the others only as the date
        # of the order's last change, which is the refund or the cancellation when that is its status.
        paid_at=payments[0].date_created if payments else None,
        cancelled_at=order.date_updated if status == OrderStatus.CANCELLED else None,
        refunded_at=order.date_updated if status == OrderStatus.REFUNDED else None,
    )


def payment_to_order_data(payment):
    """A saved or deleted payment records its order again: ``Order.pay()`` adds one without saving the order,
    and the admin's payments panel deletes one without a change to the order."""
    # Read again, not from the payment's cache: a payment deleted with its order has no order left to record.
    order = order_model()._default_manager.filter(pk=payment.order_id).first()
    return None if order is None else to_order_data(order)
