"""The documented generic template: one row per order line; rows sharing ``order_id`` are one order.

Order-level values are taken from the first row of the order that has them. Columns and defaults
are listed in docs/reference/import-template.md.
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from ..models import Channel, FulfilmentStatus, OrderStatus
from ..services.inputs import AddressData, CustomerData, FeedbackData, LineData, OrderData, PromoCodeData
from ..services.order_checks import CURRENCY_CODE
from .base import (
    ImportFileError,
    _cell,
    check_columns,
    note_row,
    parse_decimal,
    parse_int,
    parse_moment,
    product_amount,
)

REQUIRED = [("order_id",), ("placed_at",), ("customer_id", "customer_email")]
ORDER_COLUMNS = (
    "order_id", "placed_at", "customer_id", "customer_email", "customer_name", "phone",
    "address_line1", "address_line2", "city", "state", "postal_code", "country", "status", "channel",
    "currency", "order_discount", "promo_code", "shipping", "tax", "order_total", "refunded",
    "fulfillment_status", "feedback_rating",
)  # fmt: skip
LINE_COLUMNS = (
    "sku", "product_name", "quantity", "unit_price", "line_total", "line_discount", "unit_cost",
    "returned_quantity",
)  # fmt: skip
COLUMNS = ORDER_COLUMNS + LINE_COLUMNS
ZERO = Decimal("0.00")
#: "placed" is accepted as a synonym of "pending".
STATUS_VALUES = {choice.value for choice in OrderStatus} | {"placed"}
FULFILMENT_VALUES = {choice.value for choice in FulfilmentStatus}
#: Statuses whose buyer paid nothing in the end: without a ``refunded`` cell, the whole total is refunded.
WHOLLY_REFUNDED = {OrderStatus.REFUNDED, OrderStatus.RETURNED, OrderStatus.CANCELLED}
#: Order columns the rows of one order must not disagree on (when two give them), compared as the ledger reads them:
#: a line from another buyer or in another currency would otherwise be summed into the order.
AGREEING_COLUMNS = {
    "customer_id": str,
    "customer_email": str.lower,
    "currency": str.upper,
    "status": str.lower,
    "placed_at": str,
}


class GenericFormat:
    name = "generic"
    label = _("Generic template (CSV or Excel)")
    delimiter = None
    #: The columns this layout reads (a text file's separator is guessed by them).
    known = COLUMNS

    def parse(self, table, report):
        check_columns(table, REQUIRED, COLUMNS, report)
        orders = {}
        order_rows = {}
        for row_number, cells in table.rows:
            order_id = cells.get("order_id", "")
            if not order_id:
                report.add_error(ImportFileError(_("order_id is empty."), row_number))
                continue
            if order_id not in orders:
                orders[order_id] = {}
                order_rows[order_id] = []
            first_values = orders[order_id]
            for column in ORDER_COLUMNS:
                if not cells.get(column):
                    continue
                if column not in first_values:
                    first_values[column] = (cells[column], row_number)
                elif column in AGREEING_COLUMNS:
                    _check_agrees(order_id, column, first_values[column], cells[column], row_number, report)
            order_rows[order_id].append((row_number, cells))
        parsed = []
        for order_id in orders:
            with report.collecting_errors():
                order = self._order(order_id, orders[order_id], order_rows[order_id], report)
                parsed.append(note_row(order, order_rows[order_id][0][0]))
        return parsed

    def _order(self, order_id, values, rows, report):
        def text(column):
            return values.get(column, ("", None))[0]

        def number(column, default):
            value, row = values.get(column, ("", rows[0][0]))
            return parse_decimal(value, row, column, default=default)

        def amount(column):
            value, row = values.get(column, ("", rows[0][0]))
            return not_negative(parse_decimal(value, row, column, default=ZERO), row, column)

        placed_text, placed_row = values.get("placed_at", ("", rows[0][0]))
        placed_at = parse_moment(placed_text, placed_row, "placed_at")
        if not text("customer_id") and not text("customer_email"):
            raise ImportFileError(_("customer_id and customer_email are both empty."), rows[0][0])
        status = text("status").lower() or OrderStatus.PAID
        if status not in STATUS_VALUES:
            raise ImportFileError(
                _("status '%(value)s' is not one of %(choices)s.")
                % {"value": status, "choices": ", ".join(sorted(STATUS_VALUES))},
                values["status"][1],
            )
        fulfilment = text("fulfillment_status").lower() or FulfilmentStatus.implied_by(status)
        if fulfilment not in FULFILMENT_VALUES:
            raise ImportFileError(
                _("fulfillment_status '%(value)s' is not one of %(choices)s.")
                % {"value": fulfilment, "choices": ", ".join(sorted(FULFILMENT_VALUES))},
                values["fulfillment_status"][1],
            )
        currency = self._currency(text("currency").upper(), values)
        channel = self._channel(text("channel").lower(), values)
        lines = []
        for row_number, cells in rows:
            if self._has_line(cells):
                with report.collecting_errors():
                    lines.append(self._line(row_number, cells, all_returned=status == OrderStatus.RETURNED))
        rating = None
        if text("feedback_rating"):
            rating = parse_int(text("feedback_rating"), values["feedback_rating"][1], "feedback_rating")
            if not 1 <= rating <= 5:
                raise ImportFileError(_("feedback_rating must be from 1 to 5."), values["feedback_rating"][1])
        order_discount = amount("order_discount")
        shipping, tax = amount("shipping"), amount("tax")
        total = number("order_total", default=None)
        if total is None:
            # The lines' discounts are taken off too: what the buyer paid (the service's own default leaves them on).
            goods = sum((line.line_total - line.discount for line in lines), ZERO)
            total = goods - order_discount + shipping + tax
        refunded = amount("refunded")
        if not text("refunded") and status in WHOLLY_REFUNDED:
            refunded = total
        promo_codes = [
            PromoCodeData(code=code.strip(), discount=order_discount if index == 0 else ZERO)
            for index, code in enumerate(text("promo_code").split(","))
            if code.strip()
        ]
        return OrderData(
            external_id=order_id,
            placed_at=placed_at,
            customer=CustomerData(
                external_id=text("customer_id"),
                email=text("customer_email"),
                name=text("customer_name"),
                phone=text("phone"),
            ),
            status=OrderStatus.PENDING if status == "placed" else status,
            fulfilment_status=fulfilment,
            channel=channel or None,
            currency=currency or None,
            discount=order_discount,
            shipping=shipping,
            tax=tax,
            total=total,
            refunded=refunded,
            ship_to=AddressData(
                name=text("customer_name"),
                line1=text("address_line1"),
                line2=text("address_line2"),
                postal_code=text("postal_code"),
                city=text("city"),
                state=text("state"),
                country=text("country"),
                phone=text("phone"),
            ),
            lines=lines,
            promo_codes=promo_codes,
            feedback=FeedbackData(rating=rating) if rating else None,
        )

    @staticmethod
    def _has_line(cells):
        return any(cells.get(column) for column in LINE_COLUMNS)

    @staticmethod
    def _currency(code, values):
        """The order's currency, checked as the ledger checks it (``CURRENCY_CODE``) but on the row that gives it."""
        if code and not CURRENCY_CODE.fullmatch(code):
            raise ImportFileError(
                _("currency '%(value)s' is not a 3-letter ISO 4217 code.") % {"value": _cell(code)},
                values["currency"][1],
            )
        return code

    @staticmethod
    def _channel(code, values):
        """The order's channel, checked on the row that gives it."""
        if code and code not in Channel.values:
            raise ImportFileError(
                _("channel '%(value)s' is not one of %(choices)s.")
                % {"value": _cell(code), "choices": ", ".join(Channel.values)},
                values["channel"][1],
            )
        return code

    @staticmethod
    def _line(row, cells, all_returned=False):
        quantity = parse_int(cells.get("quantity", ""), row, "quantity", default=1)
        unit_price = parse_decimal(cells.get("unit_price", ""), row, "unit_price")
        returned_text = cells.get("returned_quantity", "")
        # A returned order's line without a returned quantity came back whole.
        returned = (
            quantity if all_returned and not returned_text else parse_int(returned_text, row, "returned_quantity")
        )
        if returned > quantity:
            raise ImportFileError(
                _("returned_quantity (%(returned)d) is more than quantity (%(quantity)d).")
                % {"returned": returned, "quantity": quantity},
                row,
            )
        line_total = parse_decimal(cells.get("line_total", ""), row, "line_total", default=None)
        if line_total is None:
            line_total = product_amount(unit_price, quantity, row, ("quantity", "unit_price"))
        return LineData(
            sku=cells.get("sku", ""),
            product_name=cells.get("product_name", ""),
            quantity=quantity,
            unit_price=unit_price,
            line_total=line_total,
            discount=not_negative(
                parse_decimal(cells.get("line_discount", ""), row, "line_discount"), row, "line_discount"
            ),
            unit_cost=not_negative(
                parse_decimal(cells.get("unit_cost", ""), row, "unit_cost", default=None), row, "unit_cost"
            ),
            returned_quantity=returned,
        )


def not_negative(value, row, column):
    """``value`` (an amount, or None), refused below zero: a negative discount, refund or cost would add to what the
    buyer spent or to the profit instead of taking from it."""
    if value is not None and value < 0:
        raise ImportFileError(_("%(column)s must not be negative.") % {"column": column}, row)
    return value


def _check_agrees(order_id, column, first, value, row, report):
    """An error on ``row`` when it gives ``column`` another value than the order's first row that gave it."""
    (first_value, first_row), same = first, AGREEING_COLUMNS[column]
    if same(first_value.strip()) != same(value.strip()):
        report.add_error(
            ImportFileError(
                _(
                    "Order %(order)s: %(column)s is '%(value)s' here and '%(first)s' on row %(first_row)s; the rows "
                    "of one order must agree."
                )
                % {
                    "order": _cell(order_id),
                    "column": column,
                    "value": _cell(value),
                    "first": _cell(first_value),
                    "first_row": first_row,
                },
                row,
            )
        )
