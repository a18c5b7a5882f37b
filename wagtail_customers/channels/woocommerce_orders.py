"""A WooCommerce order (REST API v3, ``wc/v3``) as ``OrderData``.

The same JSON comes from ``GET orders`` and from the ``order.created`` / ``order.updated`` webhooks, so
one mapping serves both. Amounts are strings in the order's currency ("29.35"); dates ending in ``_gmt``
are UTC without an offset. What WooCommerce does not give (channel fees, payment gateway fees, feedback)
is left unknown, never zero; see docs/howto/channels/woocommerce.md.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from ..models import FulfilmentStatus, OrderStatus, SyncStatus
from ..services.inputs import ZERO, AddressData, CustomerData, LineData, OrderData, PromoCodeData
from .base import MalformedResponse, parse_datetime_utc

CENT = Decimal("0.01")

#: WooCommerce's order status -> (order status, fulfilment status). ``on-hold`` waits for a payment to be
#: confirmed (a bank transfer), so it is pending like ``pending``; ``completed`` is WooCommerce's
#: "fulfilled and complete" (it has no delivered state); a ``failed`` payment or an order in the bin
#: never became a sale. Statuses added by plugins fall back on whether the order was paid.
STATUSES = {
    "pending": (OrderStatus.PENDING, FulfilmentStatus.UNFULFILLED),
    "checkout-draft": (OrderStatus.PENDING, FulfilmentStatus.UNFULFILLED),
    "on-hold": (OrderStatus.PENDING, FulfilmentStatus.UNFULFILLED),
    "processing": (OrderStatus.PAID, FulfilmentStatus.UNFULFILLED),
    "completed": (OrderStatus.SHIPPED, FulfilmentStatus.FULFILLED),
    "cancelled": (OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED),
    "failed": (OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED),
    "trash": (OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED),
    "refunded": (OrderStatus.REFUNDED, FulfilmentStatus.UNFULFILLED),
}


def order_from_json(data, *, refunds=None, sync_status=SyncStatus.SYNCED):
    """``OrderData`` from one order object; ``refunds`` is ``GET orders/<id>/refunds`` when it was fetched.

    Raises ``MalformedResponse`` when the object is not an order of the documented shape.
    """
    if not isinstance(data, dict):
        raise MalformedResponse(_("WooCommerce sent an order that is not an object."))
    order_id = data.get("id")
    if not isinstance(order_id, int) or isinstance(order_id, bool) or order_id <= 0:
        raise MalformedResponse(_("WooCommerce sent an order without a numeric id."))
    try:
        return _order(data, refunds, sync_status)
    except MalformedResponse as error:
        raise MalformedResponse(
            _("WooCommerce order %(id)s: %(problem)s") % {"id": order_id, "problem": error.message}
        ) from None
    except (TypeError, AttributeError, KeyError, ValueError, ArithmeticError):
        raise MalformedResponse(
            _("WooCommerce order %(id)s is not in the documented shape.") % {"id": order_id}
        ) from None


def _order(data, refunds, sync_status):
    placed_at = _date(data, "date_created_gmt")
    if placed_at is None:
        raise MalformedResponse(_("it has no date_created_gmt."))
    currency = str(data.get("currency") or "").upper() or None
    billing = _object(data, "billing")
    shipping = _object(data, "shipping")
    lines = [_line(item) for item in _list(data, "line_items")]
    refunded = sum((abs(_amount(refund, "total")) for refund in _list(data, "refunds")), ZERO)
    refund_details = refunds or []
    _add_refunded_quantities(lines, _list(data, "line_items"), refund_details)

    # WooCommerce spreads each coupon over the lines (a line's subtotal - total), and its discount_total is
    # the sum of those: what is left after the lines' discounts is order-level (normally nothing), so the
    # customer's "discount received" counts each discount once.
    line_discounts = sum((line.discount for line in lines), ZERO)
    order_discount = max(_amount(data, "discount_total") - line_discounts, ZERO)

    total = _amount(data, "total")
    status, fulfilment = STATUSES.get(str(data.get("status") or ""), (None, FulfilmentStatus.UNFULFILLED))
    paid_at = _date(data, "date_paid_gmt")
    completed_at = _date(data, "date_completed_gmt")
    if status is None:  # A plugin's own status: paid or not is what WooCommerce knows.
        status = OrderStatus.PAID if paid_at else OrderStatus.PENDING
    if status == OrderStatus.REFUNDED and completed_at is not None:
        fulfilment = FulfilmentStatus.FULFILLED
    if status == OrderStatus.REFUNDED and refunded == ZERO:
        # Marked refunded by hand, without a refund recorded in WooCommerce: the status is all there is.
        refunded = total
    if refunded > ZERO and status in (OrderStatus.PAID, OrderStatus.SHIPPED):
        status = OrderStatus.REFUNDED if refunded >= total else OrderStatus.PARTIALLY_REFUNDED
    if status == OrderStatus.CANCELLED and paid_at is None and refunded == ZERO:
        # A cancelled or failed order that was never paid took no money (WooCommerce cancels unpaid orders
        # when their stock hold runs out): the buyer spent nothing, as with Amazon's cancelled orders.
        total = ZERO

    refund_dates = [_date(refund, "date_created_gmt") for refund in refund_details]
    refund_dates = [moment for moment in refund_dates if moment is not None]
    returned = any(line.returned_quantity for line in lines)
    return OrderData(
        external_id=str(data.get("number") or data["id"]),
        placed_at=placed_at,
        customer=_customer(data, billing),
        status=status,
        fulfilment_status=fulfilment,
        sync_status=sync_status,
        currency=currency,
        subtotal=sum((line.line_total for line in lines), ZERO),
        discount=order_discount,
        shipping=_amount(data, "shipping_total"),
        tax=_amount(data, "total_tax"),
        total=total,
        refunded=refunded,
        # Not in WooCommerce's core API: what the store pays its payment gateway or marketplace.
        channel_fees=None,
        ship_to=_ship_to(shipping, billing),
        lines=lines,
        promo_codes=[
            PromoCodeData(code=str(coupon.get("code") or "").strip(), discount=_amount(coupon, "discount"))
            for coupon in _list(data, "coupon_lines")
            if str(coupon.get("code") or "").strip()
        ],
        paid_at=paid_at,
        shipped_at=completed_at if fulfilment == FulfilmentStatus.FULFILLED else None,
        refunded_at=max(refund_dates) if refunded > ZERO and refund_dates else None,
        returned_at=max(refund_dates) if returned and refund_dates else None,
    )


def _customer(data, billing):
    # customer_id 0 is a guest checkout: the ingestion service then matches the buyer by e-mail.
    customer_id = str(data.get("customer_id") or "").strip()
    if customer_id == "0":
        customer_id = ""
    name = " ".join(part for part in (_text(billing, "first_name"), _text(billing, "last_name")) if part)
    return CustomerData(
        external_id=customer_id,
        email=_text(billing, "email"),
        name=name or _text(billing, "company"),
        phone=_text(billing, "phone"),
    )


def _ship_to(shipping, billing):
    """The shipping address; an order with none (a download, a local pickup) takes the billing one."""
    address = _address(shipping)
    if address.is_empty():
        address = _address(billing)
    address.phone = address.phone or _text(billing, "phone")
    return address


def _address(fields):
    name = " ".join(part for part in (_text(fields, "first_name"), _text(fields, "last_name")) if part)
    return AddressData(
        name=name or _text(fields, "company"),
        line1=_text(fields, "address_1"),
        line2=_text(fields, "address_2"),
        postal_code=_text(fields, "postcode"),
        city=_text(fields, "city"),
        state=_text(fields, "state"),
        country=_text(fields, "country"),
        phone=_text(fields, "phone"),  # shipping.phone exists from WooCommerce 5.6
    )


def _line(item):
    if not isinstance(item, dict):
        raise MalformedResponse(_("a line item is not an object."))
    quantity = item.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        raise MalformedResponse(_("line item quantity %(value)r is not a whole number.") % {"value": quantity})
    # subtotal is before coupons, total after, both without tax.
    subtotal = _amount(item, "subtotal")
    total = _amount(item, "total")
    unit_price = (subtotal / quantity).quantize(CENT, ROUND_HALF_UP) if quantity else subtotal
    return LineData(
        sku=_text(item, "sku"),
        product_name=_text(item, "name"),
        quantity=quantity,
        unit_price=unit_price,
        line_total=subtotal,
        discount=max(subtotal - total, ZERO),
    )


def _add_refunded_quantities(lines, items, refunds):
    """Units refunded per line, from the refunds' own line items (each names its order line)."""
    by_item_id = {item.get("id"): line for item, line in zip(items, lines, strict=True)}
    for refund in refunds:
        if not isinstance(refund, dict):
            raise MalformedResponse(_("a refund is not an object."))
        for refund_item in _list(refund, "line_items"):
            line = by_item_id.get(_refunded_item_id(refund_item))
            quantity = refund_item.get("quantity")
            if line is None or not isinstance(quantity, int):
                continue
            # Refund quantities are negative; never more than the line's own quantity.
            line.returned_quantity = min(line.quantity, line.returned_quantity + abs(quantity))


def _refunded_item_id(refund_item):
    """The order line a refund line refunds: its ``_refunded_item_id`` meta (WooCommerce's own link)."""
    for meta in refund_item.get("meta_data") or []:
        if isinstance(meta, dict) and meta.get("key") == "_refunded_item_id":
            try:
                return int(meta.get("value"))
            except (TypeError, ValueError):
                return None
    return None


def _amount(fields, key):
    value = fields.get(key)
    if value in (None, ""):
        return ZERO
    if isinstance(value, bool):
        raise _not_an_amount(key, value)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise _not_an_amount(key, value) from None
    if not amount.is_finite():
        raise _not_an_amount(key, value)
    try:
        return amount.quantize(CENT, ROUND_HALF_UP)
    except InvalidOperation:  # past decimal arithmetic's precision ("1e40"): no cents to round to
        raise _not_an_amount(key, value) from None


def _not_an_amount(key, value):
    return MalformedResponse(_("%(field)s %(value)r is not an amount.") % {"field": key, "value": value})


def _date(fields, key):
    value = fields.get(key)
    try:
        return parse_datetime_utc(value)
    except (TypeError, ValueError):
        raise MalformedResponse(_("%(field)s %(value)r is not a date.") % {"field": key, "value": value}) from None


def _text(fields, key):
    value = fields.get(key)
    return str(value).strip() if value not in (None, False) else ""


def _object(fields, key):
    value = fields.get(key) or {}
    if not isinstance(value, dict):
        raise MalformedResponse(_("%(field)s is not an object.") % {"field": key})
    return value


def _list(fields, key):
    value = fields.get(key) or []
    if not isinstance(value, list):
        raise MalformedResponse(_("%(field)s is not a list.") % {"field": key})
    return value
