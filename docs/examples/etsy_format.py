"""An import format for Etsy's "Sold orders" CSV (EtsySoldOrders<year>.csv): one row per order, no lines."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from wagtail_customers.importers.base import (
    ImportFileError,
    check_columns,
    group_rows,
    note_row,
    parse_decimal,
    parse_int,
    parse_moment,
)
from wagtail_customers.models import OrderStatus
from wagtail_customers.services.inputs import (
    AddressData,
    CustomerData,
    LineData,
    OrderData,
    PromoCodeData,
)

#: At least one column of each tuple must be present.
REQUIRED = [("Order ID",), ("Sale Date",), ("Buyer User ID",), ("Order Total",)]
#: The columns this format reads; any other column is reported as ignored.
KNOWN = (
    "Sale Date", "Order ID", "Buyer User ID", "Full Name", "Number of Items", "Street 1", "Street 2",
    "Ship City", "Ship State", "Ship Zipcode", "Ship Country", "Currency", "Order Value", "Coupon Code",
    "Discount Amount", "Shipping", "Sales Tax", "Order Total", "Status", "Card Processing Fees",
)  # fmt: skip
DATE_FORMATS = ("%m/%d/%y", "%m/%d/%Y")


class EtsySoldOrdersFormat:
    #: The value of ``--format`` and of the Import screen's format choice.
    name = "etsy_sold_orders"
    label = _("Etsy sold orders (CSV)")
    #: ``None`` guesses comma, semicolon or tab from the header row (by the names in a ``known`` attribute).
    delimiter = ","

    def parse(self, table, report):
        """Turn the file's rows into ``OrderData``; collect every row error, raise none."""
        check_columns(table, REQUIRED, KNOWN, report)
        orders = []
        for order_id, rows in group_rows(table, "Order ID", report).items():
            with report.collecting_errors():
                row_number, cells = rows[0]  # one row per order in this layout
                # note_row: an order the ingestion service refuses is reported with this row's number.
                orders.append(note_row(self.order(order_id, row_number, cells), row_number))
        return orders

    def order(self, order_id, row, cells):
        def amount(column):
            return parse_decimal(cells.get(column, ""), row, column)

        status = cells.get("Status", "").lower()
        if status not in ("", "completed", "canceled"):
            raise ImportFileError(_("Status '%(value)s' is not Completed or Canceled.") % {"value": status}, row)
        discount = amount("Discount Amount")
        total = amount("Order Total")
        cancelled = status == "canceled"
        return OrderData(
            external_id=order_id,
            placed_at=parse_moment(cells.get("Sale Date", ""), row, "Sale Date", DATE_FORMATS),
            # A row without a buyer id (and Etsy gives no e-mail here): the order is a customer of its own.
            customer=CustomerData(external_id=cells.get("Buyer User ID", ""), name=cells.get("Full Name", "")),
            status=OrderStatus.CANCELLED if cancelled else OrderStatus.PAID,
            currency=cells.get("Currency") or None,
            discount=discount,
            shipping=amount("Shipping"),
            tax=amount("Sales Tax"),
            total=total,
            # A cancelled order's payment went back to the buyer: it adds nothing to the amount spent.
            refunded=total if cancelled else Decimal("0"),
            channel_fees=parse_decimal(cells.get("Card Processing Fees", ""), row, "Card Processing Fees", None),
            ship_to=AddressData(
                name=cells.get("Full Name", ""),
                line1=cells.get("Street 1", ""),
                line2=cells.get("Street 2", ""),
                city=cells.get("Ship City", ""),
                state=cells.get("Ship State", ""),
                postal_code=cells.get("Ship Zipcode", ""),
                country=cells.get("Ship Country", ""),
            ),
            # The file has no item rows: one line carries the order's units and value.
            lines=[
                LineData(
                    product_name=str(_("Etsy order items")),
                    quantity=parse_int(cells.get("Number of Items", ""), row, "Number of Items", default=1),
                    line_total=amount("Order Value"),
                )
            ],
            promo_codes=[PromoCodeData(cells["Coupon Code"], discount)] if cells.get("Coupon Code") else [],
        )
