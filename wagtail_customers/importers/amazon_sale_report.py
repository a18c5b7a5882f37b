"""The "Amazon Sale Report" layout (an Amazon.in seller export, one row per order line).

Rows sharing ``Order ID`` are one order. The report has no buyer id and no e-mail: each order is its
own customer. ``Amount`` is the line's amount for its ``Qty``. Header cells are trimmed when read, so
the report's ``Sales Channel `` (with a trailing space) is matched as ``Sales Channel``.
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from ..models import Channel, OrderStatus
from ..services.inputs import LineData, OrderData
from .amazon import charged_total, mark_returned, order_statuses, promo_codes, ship_to
from .base import (
    ImportFileError,
    LinePerRowFormat,
    merged_cells,
    money,
    parse_exact_decimal,
    parse_int,
    parse_moment,
)

REQUIRED = [("Order ID",), ("Date",), ("Status",)]
KNOWN = (
    "index", "Order ID", "Date", "Status", "Fulfilment", "Sales Channel", "ship-service-level", "Style", "SKU",
    "Category", "Size", "ASIN", "Courier Status", "Qty", "currency", "Amount", "ship-city", "ship-state",
    "ship-postal-code", "ship-country", "promotion-ids", "B2B", "fulfilled-by", "Unnamed: 22",
)  # fmt: skip
#: The report writes dates as MM-DD-YY (04-30-22).
DATE_FORMATS = ("%m-%d-%y", "%m-%d-%Y", "%m/%d/%Y", "%m/%d/%y")
ZERO = Decimal("0.00")


class AmazonSaleReportFormat(LinePerRowFormat):
    name = "amazon_sale_report"
    label = _("Amazon Sale Report (CSV)")
    delimiter = None

    required = REQUIRED
    known = KNOWN
    order_id_column = "Order ID"

    def _order(self, order_id, rows, report):
        first_row = rows[0][0]
        cells = merged_cells(rows)
        placed_at = parse_moment(cells.get("Date", ""), first_row, "Date", DATE_FORMATS)
        status, fulfilment = order_statuses(cells.get("Status", ""), first_row, "Status")
        lines = []
        for row_number, row in rows:
            with report.collecting_errors():
                lines.append(_line(row_number, row))
        subtotal = sum((line.line_total for line in lines), ZERO)
        order = OrderData(
            external_id=order_id,
            placed_at=placed_at,
            status=status,
            fulfilment_status=fulfilment,
            channel=Channel.AMAZON,
            currency=cells.get("currency", "").upper() or None,
            subtotal=subtotal,
            total=charged_total(status, subtotal),
            ship_to=ship_to(cells),
            lines=lines,
            promo_codes=promo_codes(cells),
        )
        return mark_returned(order) if status == OrderStatus.RETURNED else order


def _line(row, cells):
    quantity = parse_int(cells.get("Qty", ""), row, "Qty", default=1)
    amount = parse_exact_decimal(cells.get("Amount", ""), row, "Amount")
    if amount < 0:
        raise ImportFileError(_("Amount is negative (%(value)s).") % {"value": cells["Amount"]}, row)
    name = " ".join(filter(None, (cells.get("Category", ""), cells.get("Style", ""), cells.get("Size", ""))))
    return LineData(
        sku=cells.get("SKU", "") or cells.get("ASIN", ""),
        product_name=name,
        quantity=quantity,
        unit_price=money(amount / quantity) if quantity else money(amount),
        line_total=money(amount),
    )
