"""The UCI "Online Retail" and "Online Retail II" layouts: one row per invoice line.

* An invoice is an order; a customer is its ``CustomerID`` (``17850.0`` is read as ``17850``). Rows
  without one (empty, ``NA``, ``0``, ``0.0``) make the invoice a guest order, its own customer.
* Invoices starting with ``C`` are cancellations: each of their lines returns units of an earlier
  purchase. The units are matched, in the same file, to the same customer's latest earlier lines with
  the same ``StockCode`` (then the one before, and so on): those lines get a ``returned_quantity`` and
  their order is refunded the cancelled amount. Units with no earlier purchase in the file (bought
  before the file starts, or a guest's) become a returned order of their own under the ``C`` invoice.
* Rows with a zero or negative quantity outside a ``C`` invoice are stock adjustments ("damages",
  "check"), and invoices starting with ``A`` are bad-debt adjustments: not sales, so they are skipped
  and counted.
* A few stock codes are no goods (``NON_PRODUCT_CODES``): postage is the order's shipping, a discount the
  order's discount; on a ``C`` invoice either is money paid back, a refund without returned units on the
  customer's order it cancels. Fees, commissions, samples and manual adjustments are skipped and counted.
* An order is refunded its total at most: money paid back beyond it is left out, and the report names the
  invoice and the amount (``MAX_LISTED_OVER_REFUNDS`` of them, then a count).
"""

from collections import defaultdict
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..models import FulfilmentStatus, OrderStatus
from ..services.inputs import AddressData, CustomerData, LineData, OrderData
from .base import (
    ImportFileError,
    check_columns,
    group_rows,
    money,
    note_row,
    parse_exact_decimal,
    parse_int,
    parse_moment,
    product_amount,
    strip_float_suffix,
)

#: Column names of the first dataset; Online Retail II renames three of them.
RENAMED = {"Invoice": "InvoiceNo", "Price": "UnitPrice", "Customer ID": "CustomerID"}
REQUIRED = [("InvoiceNo", "Invoice"), ("InvoiceDate",), ("StockCode",), ("Quantity",), ("UnitPrice", "Price")]
KNOWN = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")
KNOWN += tuple(RENAMED)
#: Slash dates: month first as the dataset writes them, or day first (a UK Excel's "Save as CSV"), one or the other
#: for a whole file (``date_formats``).
MONTH_FIRST = ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%y %H:%M")
DAY_FIRST = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%y %H:%M")
NO_CUSTOMER = {"", "na", "nan", "none", "null", "0"}
ZERO = Decimal("0")
#: The report names at most this many invoices refunded more than their total (and counts the rest).
MAX_LISTED_OVER_REFUNDS = 20

#: The dataset's stock codes that are no goods, read in capitals (the file writes ``M`` and ``m``).
SHIPPING = "shipping"
DISCOUNT = "discount"
SKIPPED = "skipped"
NON_PRODUCT_CODES = {
    "POST": SHIPPING,  # "POSTAGE"
    "DOT": SHIPPING,  # "DOTCOM POSTAGE"
    "C2": SHIPPING,  # "CARRIAGE"
    "D": DISCOUNT,  # "Discount"
    "M": SKIPPED,  # "Manual": a price correction with no product named
    "BANK CHARGES": SKIPPED,
    "AMAZONFEE": SKIPPED,  # "AMAZON FEE", the marketplace's fee
    "CRUK": SKIPPED,  # "CRUK Commission", a charity's commission
    "PADS": SKIPPED,  # "PADS TO MATCH ALL CUSHIONS" at 0.001, a stock-keeping line
    "B": SKIPPED,  # "Adjust bad debt"
    "S": SKIPPED,  # "SAMPLES": credit for samples, not goods sold
}


def date_formats(texts):
    """``DAY_FIRST`` when a date of the file can only be read day first (a first number above 12), else
    ``MONTH_FIRST``: one order for the whole file, as the file was written with one (``01/12/2010`` read month first
    beside ``13/12/2010`` read day first put eleven months between two days)."""
    for text in texts:
        first, slash, _rest = text.partition("/")
        if slash and first.isascii() and first.isdigit() and len(first) <= 2 and int(first) > 12:
            return DAY_FIRST
    return MONTH_FIRST


def _slash_numbers(text):
    """The first two numbers of a slash date (``1/3/2011 9:00``: 1 and 3), None for any other text."""
    first, slash, rest = text.partition("/")
    second, slash_again, _rest = rest.partition("/")
    if not (slash and slash_again):
        return None
    if not all(part.isascii() and part.isdigit() and len(part) <= 2 for part in (first, second)):
        return None
    return int(first), int(second)


def date_order_unknown(texts):
    """True when the file has slash dates and none of them tells the order: no number above 12 in first or second
    place (``01/03/2011`` is 3 January month first, 1 March day first). ``date_formats`` then reads month first."""
    pairs = [numbers for numbers in map(_slash_numbers, texts) if numbers]
    return bool(pairs) and all(first <= 12 and second <= 12 for first, second in pairs)


class OnlineRetailFormat:
    name = "online_retail"
    label = gettext_lazy("UCI Online Retail / Online Retail II (CSV or Excel)")
    delimiter = None
    #: The columns this layout knows (a text file's separator is guessed by them).
    known = KNOWN

    def parse(self, table, report):
        check_columns(table, REQUIRED, KNOWN, report)
        if any(header in RENAMED for header in table.headers):
            table.rows = [(number, {RENAMED.get(k, k): v for k, v in cells.items()}) for number, cells in table.rows]
        self.moments = {}
        dates = [cells.get("InvoiceDate", "") for _number, cells in table.rows]
        self.date_formats = date_formats(dates)
        if date_order_unknown(dates):
            report.warnings.append(
                _(
                    "Dates were read as month/day: no date in the file has a day or month above 12, so the order "
                    "could not be told from the data. If the file writes the day first (01/03/2011 for 1 March), "
                    "its orders are imported on the wrong dates."
                )
            )
        self.adjustments = 0
        self.charges = defaultdict(int)  # skipped non-product code -> rows
        self.no_goods = 0  # rows of sale invoices with no product line
        sales, cancellations = [], []
        for invoice, rows in group_rows(table, "InvoiceNo", report).items():
            with report.collecting_errors():
                if invoice[:1].upper() == "A":
                    report.rows_skipped += len(rows)
                    report.warnings.append(
                        _("Invoice %(invoice)s is an adjustment, not a sale: skipped.") % {"invoice": invoice}
                    )
                elif invoice[:1].upper() == "C":
                    cancellations.append(self._invoice(invoice, rows, cancellation=True))
                else:
                    order = self._invoice(invoice, rows, cancellation=False)
                    if order.lines:
                        sales.append(order)
                    else:
                        self.no_goods += order.money_rows
        report.rows_skipped += self.adjustments + sum(self.charges.values()) + self.no_goods
        if self.adjustments:
            report.warnings.append(
                ngettext(
                    "%(count)d row with a zero or negative quantity outside a C invoice skipped (stock adjustment).",
                    "%(count)d rows with a zero or negative quantity outside a C invoice skipped (stock adjustments).",
                    self.adjustments,
                )
                % {"count": self.adjustments}
            )
        if self.charges:
            count = sum(self.charges.values())
            report.warnings.append(
                ngettext(
                    "%(count)d row with a stock code that is no goods (%(codes)s) skipped: fees, commissions, "
                    "samples and manual adjustments are not sales.",
                    "%(count)d rows with a stock code that is no goods (%(codes)s) skipped: fees, commissions, "
                    "samples and manual adjustments are not sales.",
                    count,
                )
                % {"count": count, "codes": ", ".join(sorted(self.charges))}
            )
        if self.no_goods:
            report.warnings.append(
                ngettext(
                    "%(count)d postage or discount row of an invoice with no goods in the file skipped.",
                    "%(count)d postage or discount rows of invoices with no goods in the file skipped.",
                    self.no_goods,
                )
                % {"count": self.no_goods}
            )
        returned_orders = apply_cancellations(sales, cancellations, report)
        return sales + returned_orders

    def _moment(self, text, row):
        # Every line of an invoice repeats its date: parse each distinct text once.
        moment = self.moments.get(text)
        if moment is None:
            moment = self.moments[text] = parse_moment(text, row, "InvoiceDate", self.date_formats)
        return moment

    def _invoice(self, invoice, rows, cancellation):
        placed_at = min(self._moment(cells.get("InvoiceDate", ""), number) for number, cells in rows)
        customer_id = next((c for c in (customer_key(cells) for _n, cells in rows) if c), "")
        country = next((cells["Country"] for _n, cells in rows if cells.get("Country")), "")
        lines = []
        shipping = discount = ZERO
        money_rows = 0
        for number, cells in rows:
            kind = NON_PRODUCT_CODES.get(cells.get("StockCode", "").strip().upper())
            if kind == SKIPPED:
                self.charges[cells["StockCode"].strip().upper()] += 1
                continue
            quantity = parse_int(cells.get("Quantity", ""), number, "Quantity", allow_negative=True)
            if cancellation and quantity > 0:
                raise ImportFileError(
                    _("Quantity %(quantity)d is positive on cancellation invoice %(invoice)s.")
                    % {"quantity": quantity, "invoice": invoice},
                    number,
                )
            if not cancellation and quantity <= 0:
                self.adjustments += 1
                continue
            price = parse_exact_decimal(cells.get("UnitPrice", ""), number, "UnitPrice")
            if price < 0:
                raise ImportFileError(_("UnitPrice is negative (%(value)s).") % {"value": cells["UnitPrice"]}, number)
            quantity = abs(quantity)
            if kind is not None:
                amount = product_amount(price, quantity, number, ("Quantity", "UnitPrice"))
                if kind == SHIPPING:
                    shipping += amount
                else:
                    discount += amount
                money_rows += 1
                continue
            line = LineData(
                sku=cells.get("StockCode", ""),
                product_name=cells.get("Description", ""),
                quantity=quantity,
                unit_price=money(price),
                line_total=product_amount(price, quantity, number, ("Quantity", "UnitPrice")),
            )
            line.exact_price = price
            lines.append(line)
        order = OrderData(
            external_id=invoice,
            placed_at=placed_at,
            customer=CustomerData(external_id=customer_id),
            ship_to=AddressData(country=country),
            lines=lines,
        )
        if cancellation:
            # Postage or a discount paid back after the sale: money refunded without units.
            order.money_back = shipping + discount
        else:
            order.shipping, order.discount = shipping, discount
        order.money_rows = money_rows
        return note_row(order, rows[0][0])


def customer_key(cells):
    text = strip_float_suffix(cells.get("CustomerID", ""))
    return "" if text.lower() in NO_CUSTOMER else text


def apply_cancellations(sales, cancellations, report):
    """Turn cancellation invoices into returns; returns the orders made of units with no earlier purchase.

    Money paid back on a cancellation without units (postage, a discount) is refunded on the latest order its
    units were returned on, else on the customer's latest order placed before it; with neither (a guest, or a
    purchase before the file starts) it is skipped and counted. What an order is refunded beyond its total is
    left out, and said so (``report_over_refunds``)."""
    earlier = defaultdict(list)  # (customer, stock code) -> [(placed_at, order, line)], oldest first
    orders_of = defaultdict(list)  # customer -> their orders, oldest first
    for order in sorted(sales, key=lambda order: order.placed_at):
        if order.customer.external_id:
            orders_of[order.customer.external_id].append(order)
            for line in order.lines:
                earlier[order.customer.external_id, line.sku].append((order.placed_at, order, line))
    refunds = defaultdict(lambda: ZERO)
    refunded_at = {}
    refunded_by = defaultdict(list)  # id(order) -> the cancellation invoices refunding it, in date order
    returned_orders = []
    matched_units = 0
    money_skipped = 0
    for cancellation in sorted(cancellations, key=lambda order: (order.placed_at, order.external_id)):
        unmatched = []
        returned_on = []
        for cancelled in cancellation.lines:
            remaining = cancelled.quantity
            candidates = earlier.get((cancellation.customer.external_id, cancelled.sku), [])
            for placed_at, order, line in reversed(candidates):
                if remaining == 0:
                    break
                taken = min(remaining, line.quantity - line.returned_quantity)
                if placed_at > cancellation.placed_at or taken <= 0:
                    continue
                line.returned_quantity += taken
                remaining -= taken
                matched_units += taken
                refunds[id(order)] += cancelled.exact_price * taken
                order.returned_at = max(order.returned_at or placed_at, cancellation.placed_at)
                refunded_at[id(order)] = order.returned_at
                returned_on.append(order)
                _add_once(refunded_by[id(order)], cancellation.external_id)
            if remaining:
                cancelled.quantity = cancelled.returned_quantity = remaining
                cancelled.line_total = money(cancelled.exact_price * remaining)
                unmatched.append(cancelled)
        if unmatched:
            returned_orders.append(_returned_order(cancellation, unmatched))
        if cancellation.money_back:
            before = [
                o for o in orders_of.get(cancellation.customer.external_id, ()) if o.placed_at <= cancellation.placed_at
            ]
            target = max(returned_on, key=lambda o: o.placed_at) if returned_on else (before[-1] if before else None)
            if target is None:
                money_skipped += cancellation.money_rows
            else:
                refunds[id(target)] += cancellation.money_back
                refunded_at[id(target)] = max(refunded_at.get(id(target), target.placed_at), cancellation.placed_at)
                _add_once(refunded_by[id(target)], cancellation.external_id)
    over_refunds = []
    for order in sales:
        if id(order) in refunds:
            amount = refunds[id(order)]
            _refund(order, amount, refunded_at[id(order)])
            if money(amount) > order.refunded:
                over_refunds.append((order, money(amount), refunded_by[id(order)]))
    report_over_refunds(over_refunds, report)
    report.rows_skipped += money_skipped
    if money_skipped:
        report.warnings.append(
            ngettext(
                "%(count)d postage or discount row of a cancellation with no earlier order of its customer in the "
                "file skipped.",
                "%(count)d postage or discount rows of cancellations with no earlier order of their customer in the "
                "file skipped.",
                money_skipped,
            )
            % {"count": money_skipped}
        )
    if cancellations:
        # One count chooses the plural form; the other two follow a label, needing none.
        report.warnings.append(
            ngettext(
                "%(invoices)d cancellation invoice. Units returned on earlier purchases in the file: %(units)d; "
                "returned orders made of units with no earlier purchase in the file: %(orders)d.",
                "%(invoices)d cancellation invoices. Units returned on earlier purchases in the file: %(units)d; "
                "returned orders made of units with no earlier purchase in the file: %(orders)d.",
                len(cancellations),
            )
            % {"invoices": len(cancellations), "units": matched_units, "orders": len(returned_orders)}
        )
    return returned_orders


def _add_once(invoices, invoice):
    if invoice not in invoices:
        invoices.append(invoice)


def report_over_refunds(over_refunds, report):
    """Warn of the orders refunded more than their total (``(order, amount, cancellation invoices)``, the order's
    ``refunded`` capped at its total): each invoice named with the amount left out, up to
    ``MAX_LISTED_OVER_REFUNDS``, then how many more and how much they left out in all."""
    listed = sorted(over_refunds, key=lambda entry: (entry[0].placed_at, entry[0].external_id))
    for order, amount, cancellations in listed[:MAX_LISTED_OVER_REFUNDS]:
        report.warnings.append(
            _(
                "Invoice %(invoice)s is refunded %(amount)s by %(cancellations)s, more than its total of %(total)s: "
                "the %(left_out)s above it was left out."
            )
            % {
                "invoice": order.external_id,
                "amount": _amount(amount),
                "cancellations": ", ".join(cancellations),
                "total": _amount(order.refunded),
                "left_out": _amount(amount - order.refunded),
            }
        )
    rest = listed[MAX_LISTED_OVER_REFUNDS:]
    if rest:
        report.warnings.append(
            ngettext(
                "%(count)d more invoice is refunded more than its total: %(left_out)s above the totals was left out.",
                "%(count)d more invoices are refunded more than their totals: %(left_out)s above them was left out.",
                len(rest),
            )
            % {"count": len(rest), "left_out": _amount(sum((amount - order.refunded for order, amount, _c in rest)))}
        )


def _amount(value):
    """An amount of the file's (no currency: the file has none), written as the active language writes numbers."""
    return number_format(money(value), decimal_pos=2)


def _refund(order, amount, refunded_at):
    total = sum((line.line_total for line in order.lines), money(ZERO)) + order.shipping - order.discount
    order.refunded = min(money(amount), total)
    order.refunded_at = refunded_at
    if all(line.returned_quantity == line.quantity for line in order.lines):
        order.status, order.fulfilment_status = OrderStatus.RETURNED, FulfilmentStatus.RETURNED
    elif order.refunded == total:
        order.status = OrderStatus.REFUNDED
    else:
        order.status = OrderStatus.PARTIALLY_REFUNDED


def _returned_order(cancellation, lines):
    total = sum((line.line_total for line in lines), money(ZERO))
    cancellation.lines = lines
    cancellation.status, cancellation.fulfilment_status = OrderStatus.RETURNED, FulfilmentStatus.RETURNED
    cancellation.total = cancellation.refunded = total
    cancellation.returned_at = cancellation.refunded_at = cancellation.placed_at
    return cancellation
