"""Amazon's "All Orders" report (flat file, tab-separated, 32 columns; one row per order item).

Rows sharing ``amazon-order-id`` are one order. ``item-price`` is the amount for the row's whole
quantity, not a unit price. Promotion discounts may be written negative; their size is what counts.
The report has no buyer id and no e-mail: each order is its own customer.
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from ..models import Channel, OrderStatus
from ..services.inputs import LineData, OrderData
from .amazon import charged_total, mark_returned, order_statuses, promo_codes, ship_to
from .base import (
    LinePerRowFormat,
    merged_cells,
    money,
    parse_decimal,
    parse_exact_decimal,
    parse_int,
    parse_moment,
)

REQUIRED = [("amazon-order-id",), ("purchase-date",)]
KNOWN = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "url", "ship-service-level", "product-name", "sku",
    "asin", "item-status", "quantity", "quantity-purchased", "currency", "item-price", "item-tax",
    "shipping-price", "shipping-tax", "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount",
    "ship-promotion-discount", "ship-city", "ship-state", "ship-postal-code", "ship-country", "promotion-ids",
    "is-business-order", "purchase-order-number", "price-designation",
)  # fmt: skip
ZERO = Decimal("0.00")


class AmazonOrdersFormat(LinePerRowFormat):
    name = "amazon_orders"
    label = _("Amazon All Orders report (tab-separated flat file)")
    delimiter = "\t"

    required = REQUIRED
    known = KNOWN
    order_id_column = "amazon-order-id"

    def _order(self, order_id, rows, report):
        first_row = rows[0][0]
        cells = merged_cells(rows)
        placed_at = parse_moment(cells.get("purchase-date", ""), first_row, "purchase-date")
        status, fulfilment = order_statuses(cells.get("order-status", ""), first_row, "order-status")
        lines = []
        shipping = tax = discount = ZERO
        for row_number, row in rows:
            with report.collecting_errors():
                line = _line(row_number, row)
                row_shipping, row_tax, row_discount = _charges(row_number, row)
                lines.append(line)
                shipping, tax, discount = shipping + row_shipping, tax + row_tax, discount + row_discount
        subtotal = sum((line.line_total for line in lines), ZERO)
        order = OrderData(
            external_id=order_id,
            placed_at=placed_at,
            status=status,
            fulfilment_status=fulfilment,
            channel=Channel.AMAZON,
            currency=cells.get("currency", "").upper() or None,
            subtotal=subtotal,
            discount=discount,
            shipping=shipping,
            tax=tax,
            total=charged_total(status, subtotal - discount + shipping + tax),
            ship_to=ship_to(cells),
            lines=lines,
            promo_codes=promo_codes(cells),
        )
        return mark_returned(order) if status == OrderStatus.RETURNED else order


def _charges(row, cells):
    """(shipping, tax, discount) of one row."""

    def amount(column):
        return parse_decimal(cells.get(column, ""), row, column)

    shipping = amount("shipping-price") + amount("gift-wrap-price")
    tax = amount("item-tax") + amount("shipping-tax") + amount("gift-wrap-tax")
    discount = abs(amount("item-promotion-discount")) + abs(amount("ship-promotion-discount"))
    return shipping, tax, discount


def _line(row, cells):
    quantity_column = "quantity" if "quantity" in cells else "quantity-purchased"
    quantity = parse_int(cells.get(quantity_column, ""), row, quantity_column, default=1)
    price = parse_exact_decimal(cells.get("item-price", ""), row, "item-price")
    return LineData(
        sku=cells.get("sku", "") or cells.get("asin", ""),
        product_name=cells.get("product-name", ""),
        quantity=quantity,
        unit_price=money(price / quantity) if quantity else money(price),
        line_total=money(price),
    )
