"""Shopify's orders export (the 73-, 78- and 79-column layouts, and copies cut down to fewer columns).

One row per line item; the rows of a multi-line order share ``Name`` and the continuation rows carry
only a few fields (``Name``, ``Email``, ``Created at``, ``Lineitem *``), so order-level values are
taken from the first row of the order that has them. The mapping is in docs/howto/import-orders.md.
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from ..models import Channel, FulfilmentStatus, OrderStatus
from ..services.inputs import AddressData, CustomerData, LineData, OrderData, PromoCodeData
from .base import (
    ImportFileError,
    check_columns,
    group_rows,
    merged_cells,
    money,
    note_row,
    parse_decimal,
    parse_exact_decimal,
    parse_int,
    parse_moment,
    product_amount,
)

REQUIRED = [("Name",), ("Created at",)]
#: Every column of the 79-column layout (the 73 and 78 are subsets): mapped, or known and not needed.
KNOWN = (
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Shipping Method",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price",
    "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status",
    "Billing Name", "Billing Street", "Billing Address1", "Billing Address2", "Billing Company", "Billing City",
    "Billing Zip", "Billing Province", "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
    "Shipping Address1", "Shipping Address2", "Shipping Company", "Shipping City", "Shipping Zip",
    "Shipping Province", "Shipping Country", "Shipping Phone", "Notes", "Note Attributes", "Cancelled at",
    "Payment Method", "Payment Reference", "Refunded Amount", "Vendor", "Outstanding Balance", "Employee",
    "Location", "Device ID", "Id", "Tags", "Risk Level", "Source", "Lineitem discount", "Tax 1 Name",
    "Tax 1 Value", "Tax 2 Name", "Tax 2 Value", "Tax 3 Name", "Tax 3 Value", "Tax 4 Name", "Tax 4 Value",
    "Tax 5 Name", "Tax 5 Value", "Phone", "Receipt Number", "Duties", "Billing Province Name",
    "Shipping Province Name", "Payment ID", "Payment Terms Name", "Next Payment Due At", "Payment References",
)  # fmt: skip
LINE_COLUMNS = ("Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku")
ZERO = Decimal("0.00")
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")

#: Shopify's financial status -> the ledger's order status (before cancellation and fulfilment).
FINANCIAL_STATUS = {
    "pending": OrderStatus.PENDING,
    "authorized": OrderStatus.PENDING,
    "partially_paid": OrderStatus.PENDING,
    "paid": OrderStatus.PAID,
    "partially_refunded": OrderStatus.PARTIALLY_REFUNDED,
    "refunded": OrderStatus.REFUNDED,
    "voided": OrderStatus.CANCELLED,
    "expired": OrderStatus.CANCELLED,
}
FULFILLMENT_STATUS = {
    "": FulfilmentStatus.UNFULFILLED,
    "unfulfilled": FulfilmentStatus.UNFULFILLED,
    "pending": FulfilmentStatus.UNFULFILLED,
    "partial": FulfilmentStatus.PARTIAL,
    "fulfilled": FulfilmentStatus.FULFILLED,
    "restocked": FulfilmentStatus.RETURNED,
}


class ShopifyFormat:
    name = "shopify"
    label = _("Shopify orders export (CSV)")
    delimiter = None
    #: The columns this layout knows (a text file's separator is guessed by them).
    known = KNOWN

    def parse(self, table, report):
        check_columns(table, REQUIRED, KNOWN, report)
        has_lines = any(column in table.headers for column in LINE_COLUMNS)
        orders = []
        for name, rows in group_rows(table, "Name", report).items():
            with report.collecting_errors():
                orders.append(note_row(self._order(name, rows, has_lines, report), rows[0][0]))
        return orders

    def _order(self, name, rows, has_lines, report):
        first_row = rows[0][0]
        cells = merged_cells(rows)

        def amount(column, default=None):
            return parse_decimal(cells.get(column, ""), first_row, column, default=default)

        def moment(column):
            text = cells.get(column, "")
            return parse_moment(text, first_row, column, DATE_FORMATS) if text else None

        placed_at = parse_moment(cells.get("Created at", ""), first_row, "Created at", DATE_FORMATS)
        financial = cells.get("Financial Status", "").lower()
        if financial and financial not in FINANCIAL_STATUS:
            raise ImportFileError(
                _("Financial Status '%(value)s' is not one of %(choices)s.")
                % {"value": cells["Financial Status"], "choices": ", ".join(FINANCIAL_STATUS)},
                first_row,
            )
        fulfilment_text = cells.get("Fulfillment Status", "").lower()
        if fulfilment_text not in FULFILLMENT_STATUS:
            raise ImportFileError(
                _("Fulfillment Status '%(value)s' is not one of %(choices)s.")
                % {"value": cells["Fulfillment Status"], "choices": ", ".join(filter(None, FULFILLMENT_STATUS))},
                first_row,
            )
        fulfilment = FULFILLMENT_STATUS[fulfilment_text]
        cancelled_at = moment("Cancelled at")
        shipped_at = moment("Fulfilled at")
        status = order_status(financial, fulfilment, cancelled_at)
        if status == OrderStatus.CANCELLED and fulfilment == FulfilmentStatus.UNFULFILLED:
            fulfilment = FulfilmentStatus.CANCELLED

        lines = []
        if has_lines:
            for row_number, row in rows:
                if not row.keys().isdisjoint(LINE_COLUMNS):  # empty cells are absent
                    try:  # (not report.collecting_errors(): this loop runs once per line of a big file)
                        lines.append(_line(row_number, row))
                    except ImportFileError as error:
                        report.add_error(error)
        discount = amount("Discount Amount", default=ZERO)
        codes = [code.strip() for code in cells.get("Discount Code", "").replace("+", ",").split(",")]
        promo_codes = [
            PromoCodeData(code=code, discount=discount if index == 0 else ZERO)
            for index, code in enumerate(code for code in codes if code)
        ]
        ship_to = _address(cells, "Shipping") if _has_address(cells, "Shipping") else _address(cells, "Billing")
        return OrderData(
            external_id=name,
            placed_at=placed_at,
            customer=CustomerData(
                email=cells.get("Email", ""),
                name=cells.get("Billing Name") or cells.get("Shipping Name", ""),
                phone=cells.get("Phone") or cells.get("Billing Phone") or cells.get("Shipping Phone", ""),
            ),
            status=status,
            fulfilment_status=fulfilment,
            channel=Channel.SHOPIFY,
            currency=cells.get("Currency", "").upper() or None,
            # Without line columns (a cut-down export) the order's own subtotal is all there is: Shopify's is after
            # the discounts, the ledger's before them (as the connected store's is made).
            subtotal=None if lines else _goods_before_discount(amount("Subtotal"), discount),
            discount=split_discount(discount, lines),
            shipping=amount("Shipping", default=ZERO),
            tax=amount("Taxes", default=ZERO),
            total=charged(amount("Total"), status, financial, amount("Refunded Amount", default=ZERO)),
            refunded=amount("Refunded Amount", default=ZERO),
            ship_to=ship_to,
            lines=lines,
            promo_codes=promo_codes,
            paid_at=moment("Paid at"),
            shipped_at=shipped_at if fulfilment in (FulfilmentStatus.FULFILLED, FulfilmentStatus.PARTIAL) else None,
            cancelled_at=cancelled_at,
        )


#: Financial statuses of an order whose buyer was never charged (nothing captured): cancelled so, the order counts
#: nothing spent. "partially_paid" took money: it keeps its total.
NEVER_CHARGED = frozenset({"", "pending", "authorized", "voided", "expired"})


def charged(total, status, financial, refunded):
    """``total``, or 0 for a cancelled order whose buyer was never charged (voided, expired, or cancelled while
    pending or authorized): only money taken counts as spent, as with the other channels. ``None`` stays None."""
    if total is not None and status == OrderStatus.CANCELLED and financial in NEVER_CHARGED and not refunded:
        return total * 0
    return total


def _goods_before_discount(subtotal, discount):
    return None if subtotal is None else subtotal + discount


def split_discount(total_discount, lines):
    """The order-level part of Shopify's total discounts: what the lines' own discounts do not account for (the
    CSV's ``Discount Amount`` and the API's total discounts include them; counted once)."""
    return max(total_discount - sum((line.discount for line in lines), ZERO), ZERO)


def order_status(financial, fulfilment, cancelled_at):
    """Cancellation wins; then refunds; a paid order that is fulfilled has shipped."""
    if cancelled_at is not None:
        return OrderStatus.CANCELLED
    status = FINANCIAL_STATUS.get(financial, OrderStatus.PAID)
    if status == OrderStatus.PAID and fulfilment == FulfilmentStatus.FULFILLED:
        return OrderStatus.SHIPPED
    return status


def _line(row, cells):
    quantity = parse_int(cells.get("Lineitem quantity", ""), row, "Lineitem quantity", default=1)
    unit_price = parse_exact_decimal(cells.get("Lineitem price", ""), row, "Lineitem price")
    return LineData(
        sku=cells.get("Lineitem sku", ""),
        product_name=cells.get("Lineitem name", ""),
        quantity=quantity,
        unit_price=money(unit_price),
        line_total=product_amount(unit_price, quantity, row, ("Lineitem quantity", "Lineitem price")),
        discount=parse_decimal(cells.get("Lineitem discount", ""), row, "Lineitem discount"),
    )


def _has_address(cells, prefix):
    return any(cells.get(f"{prefix} {part}") for part in ("Address1", "City", "Zip", "Country"))


def _address(cells, prefix):
    def get(part):
        return cells.get(f"{prefix} {part}", "")

    return AddressData(
        name=get("Name"),
        line1=get("Address1") or get("Street"),
        line2=get("Address2"),
        # Spreadsheets keep leading zeros with a leading apostrophe ('0812): it is not part of the ZIP.
        postal_code=get("Zip").lstrip("'"),
        city=get("City"),
        state=get("Province"),
        country=get("Country"),
        phone=get("Phone"),
    )
