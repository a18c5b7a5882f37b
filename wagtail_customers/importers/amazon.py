"""What Amazon's order reports have in common: their statuses, and orders without a buyer.

Amazon's reports carry no buyer id and no e-mail, so every order is its own customer (the ledger's
identity rule ``order:<order id>``). Both report layouts are in ``amazon_orders`` and
``amazon_sale_report``; the mapping is in docs/howto/import-orders.md.
"""

from django.utils.translation import gettext as _

from ..models import FulfilmentStatus, OrderStatus
from ..services.inputs import AddressData, PromoCodeData
from .base import ImportFileError, strip_float_suffix

RETURNED = (OrderStatus.RETURNED, FulfilmentStatus.RETURNED)
#: Amazon's order status (lower case) -> (order status, fulfilment status).
STATUSES = {
    "pending": (OrderStatus.PENDING, FulfilmentStatus.UNFULFILLED),
    "pending - waiting for pick up": (OrderStatus.PENDING, FulfilmentStatus.UNFULFILLED),
    "unshipped": (OrderStatus.PAID, FulfilmentStatus.UNFULFILLED),
    "shipping": (OrderStatus.PAID, FulfilmentStatus.PARTIAL),
    "partiallyshipped": (OrderStatus.PAID, FulfilmentStatus.PARTIAL),
    "shipped": (OrderStatus.SHIPPED, FulfilmentStatus.FULFILLED),
    "shipped - picked up": (OrderStatus.SHIPPED, FulfilmentStatus.FULFILLED),
    "shipped - out for delivery": (OrderStatus.SHIPPED, FulfilmentStatus.FULFILLED),
    "shipped - lost in transit": (OrderStatus.SHIPPED, FulfilmentStatus.FULFILLED),
    "shipped - damaged": (OrderStatus.SHIPPED, FulfilmentStatus.FULFILLED),
    "complete": (OrderStatus.DELIVERED, FulfilmentStatus.FULFILLED),
    "shipped - delivered to buyer": (OrderStatus.DELIVERED, FulfilmentStatus.FULFILLED),
    "cancelled": (OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED),
    "canceled": (OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED),
    # The parcel came back: every unit is returned and the buyer refunded.
    "shipped - returned to seller": RETURNED,
    "shipped - returning to seller": RETURNED,
    "shipped - rejected by buyer": RETURNED,
}


def order_statuses(text, row, column):
    """``(order status, fulfilment status)`` for Amazon's status text; unknown text is an error."""
    key = " ".join(text.lower().split())
    if not key:
        return OrderStatus.PAID, FulfilmentStatus.UNFULFILLED
    try:
        return STATUSES[key]
    except KeyError:
        raise ImportFileError(
            _("%(column)s '%(value)s' is not an Amazon order status this importer knows.")
            % {"column": column, "value": text},
            row,
        ) from None


def charged_total(status, total):
    """Amazon charges the buyer when it ships: a cancelled order's total is 0 (its lines keep their value)."""
    return total * 0 if status == OrderStatus.CANCELLED else total


def mark_returned(order_data):
    """A returned Amazon order (its ``total`` set): every unit came back and the whole order was refunded."""
    for line in order_data.lines:
        line.returned_quantity = line.quantity
    order_data.refunded = order_data.total
    return order_data


def promotion_codes(text):
    """Amazon's comma-separated promotion ids, each once, in the order given."""
    return list(dict.fromkeys(code.strip() for code in text.split(",") if code.strip()))


def ship_to(cells):
    """The ship-to columns both Amazon layouts share (no name or street: Amazon does not give them)."""
    return AddressData(
        city=cells.get("ship-city", ""),
        state=cells.get("ship-state", ""),
        postal_code=strip_float_suffix(cells.get("ship-postal-code", "")),
        country=cells.get("ship-country", ""),
    )


def promo_codes(cells):
    return [PromoCodeData(code=code) for code in promotion_codes(cells.get("promotion-ids", ""))]
