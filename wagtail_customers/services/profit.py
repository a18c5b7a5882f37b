"""An order's profit and loss (P&L), with unknown costs kept unknown.

Every line is defined in docs/concepts/profit-and-loss.md. A cost the channel did not report
(``Order.channel_fees``, ``Order.fulfilment_cost`` or a line's ``unit_cost`` left empty) is "not
known": it is never counted as zero. When any cost is not known the gross profit and the margin are
not known either; ``profit_ceiling`` then gives what the profit would be before the missing costs,
which is the most it can be (costs are never negative).
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from ..models import OrderStatus, RateSource
from .conversion import in_account_currency, minor_unit

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ProfitLine:
    """One line of the P&L. ``amount`` is ``None`` when not known; ``sign`` is +1 or -1 for the sum."""

    key: str
    label: str
    amount: Decimal | None
    sign: int = -1
    #: Why the amount is not known, for the page.
    note: str = ""
    #: The part that is known when ``amount`` is not (the cost of the lines that have a unit cost).
    known_part: Decimal = ZERO

    @property
    def is_known(self):
        return self.amount is not None

    @property
    def signed_amount(self):
        """What the line adds to the sum: a deduction negative (a negative refund, then, adds to it)."""
        return self.amount * self.sign if self.amount else self.amount  # never "-0.00"


@dataclass(frozen=True)
class ProfitAndLoss:
    currency: str
    revenue: ProfitLine
    discounts: ProfitLine
    refunds: ProfitLine
    net_revenue: Decimal
    channel_fees: ProfitLine
    fulfilment_costs: ProfitLine
    cost_of_goods: ProfitLine
    #: ``None`` when a cost is not known.
    gross_profit: Decimal | None
    #: Gross profit / net revenue, in percent; ``None`` when not known or when net revenue is not positive.
    margin: Decimal | None
    #: Net revenue minus the known costs: the gross profit when complete, else the most it can be.
    profit_ceiling: Decimal
    #: Labels of the costs that are not known.
    missing: list = field(default_factory=list)
    #: The same P&L in the seller account's currency when the order is in another currency and its rate is
    #: known (amounts converted at the order's rate; discounts and refunds as the order stores them there).
    in_account_currency: "ProfitAndLoss | None" = None
    #: The seller account's currency when it is not the order's, else "".
    account_currency: str = ""

    @property
    def is_complete(self):
        return not self.missing

    @property
    def account_currency_unknown(self):
        """The order is in another currency than its account's and has no exchange rate."""
        return bool(self.account_currency) and self.in_account_currency is None

    @property
    def income_lines(self):
        return [self.revenue, self.discounts, self.refunds]

    @property
    def cost_lines(self):
        return [self.channel_fees, self.fulfilment_costs, self.cost_of_goods]

    @property
    def income_rows(self):
        """``(line, the same line in the account's currency or None)`` for the page's two columns."""
        return self._rows("income_lines")

    @property
    def cost_rows(self):
        return self._rows("cost_lines")

    def _rows(self, name):
        lines = getattr(self, name)
        converted = getattr(self.in_account_currency, name) if self.in_account_currency else [None] * len(lines)
        return list(zip(lines, converted, strict=True))


def _money(value):
    return Decimal(value).quantize(CENT)


def units_kept(order, line):
    """Units the buyer kept: none on a cancelled order, else the quantity less the returned quantity."""
    if order.status == OrderStatus.CANCELLED:
        return 0
    return max(line.quantity - line.returned_quantity, 0)


def _cost_of_goods(order, lines, convert=_money):
    label = _("Cost of goods")
    if not lines:
        # An order recorded without its lines (a Shopify CSV without the line columns): its goods are not known.
        return ProfitLine("cost_of_goods", label, None, note=_("The order was recorded without its lines."))
    total, unknown = ZERO, 0
    for line in lines:
        units = units_kept(order, line)
        if not units:
            continue
        if line.unit_cost is None:
            unknown += 1
        else:
            total += line.unit_cost * units
    if unknown:
        note = _("Unit cost not known for %(count)s of the order's lines.") % {"count": unknown}
        return ProfitLine("cost_of_goods", label, None, note=note, known_part=convert(total))
    return ProfitLine("cost_of_goods", label, convert(total))


def _reported_cost(key, label, value, convert=_money):
    if value is None:
        return ProfitLine(key, label, None, note=_("Not reported by the channel."))
    return ProfitLine(key, label, convert(value))


def _assemble(currency, revenue, discounts, refunds, costs, **extra):
    """The P&L from its revenue and refunds lines, its discounts and its three cost lines (the same arithmetic in
    either currency)."""
    net_revenue = revenue.amount - discounts - refunds.amount
    channel_fees, fulfilment_costs, cost_of_goods = costs
    profit_ceiling = net_revenue - sum((cost.amount if cost.is_known else cost.known_part for cost in costs), ZERO)
    missing = [cost.label for cost in costs if not cost.is_known]
    gross_profit = None if missing else profit_ceiling
    margin = None
    if gross_profit is not None and net_revenue > 0:
        margin = (gross_profit * 100 / net_revenue).quantize(Decimal("0.1"))
    return ProfitAndLoss(
        currency=currency,
        revenue=revenue,
        discounts=ProfitLine("discounts", _("Discounts"), discounts),
        refunds=refunds,
        net_revenue=net_revenue,
        channel_fees=channel_fees,
        fulfilment_costs=fulfilment_costs,
        cost_of_goods=cost_of_goods,
        gross_profit=gross_profit,
        margin=margin,
        profit_ceiling=profit_ceiling,
        missing=missing,
        **extra,
    )


def _costs(order, lines, convert=_money):
    return [
        _reported_cost("channel_fees", _("Channel fees"), order.channel_fees, convert),
        _reported_cost("fulfilment_costs", _("Fulfilment and shipping costs"), order.fulfilment_cost, convert),
        _cost_of_goods(order, lines, convert),
    ]


def _goods(order, lines):
    """The goods at their prices: the lines' totals, or the order's subtotal when it was recorded without lines."""
    if not lines:
        return order.subtotal
    return sum((line.line_total for line in lines), ZERO)


def _tax_included(order, goods, discounts):
    """Whether the order's prices include its tax (a shop whose prices include VAT: its total is goods - discounts +
    shipping) rather than have it added on top (goods - discounts + shipping + tax)."""
    before_tax = goods - discounts + order.shipping
    return (
        order.tax > 0 and order.total > 0 and abs(order.total - before_tax) < abs(order.total - before_tax - order.tax)
    )


def _never_charged(order):
    return order.status == OrderStatus.CANCELLED and order.total == 0


def _revenue_line(amount, tax_included):
    note = _("Without the tax included in the prices.") if tax_included else ""
    return ProfitLine("revenue", _("Revenue"), amount, sign=1, note=note)


def _without_tax(refunded, order):
    """``refunded`` less the tax in it, pro rata to the total: revenue is counted without tax, so a refund gives
    back no revenue for the tax it returns (a whole refund of a taxed order left a loss of its tax)."""
    if not refunded or order.tax <= 0 or order.total <= 0:
        return refunded
    without = refunded - refunded * order.tax / order.total
    return max(without, ZERO) if refunded > 0 else without  # a tax above the total takes no refund below 0


def _half_up(places):
    def exact(amount):
        return Decimal(amount).quantize(places, rounding=ROUND_HALF_UP)

    return exact


def _refunds_line(refunded, order, exact):
    amount = exact(_without_tax(refunded, order))
    note = ""
    if refunded and amount != exact(refunded):
        note = _("Without the tax in the refund.")
    return ProfitLine("refunds", _("Refunds"), amount, note=note)


def _in_account_currency(order, lines, revenue, account_currency):
    """The P&L in the account's currency, or ``None`` when the order has no exchange rate."""
    rate = order.exchange_rate
    if rate is None or order.account_discount is None or order.account_refunded is None:
        return None

    def convert(amount):
        return in_account_currency(amount, rate, account_currency)

    return _assemble(
        account_currency,
        _revenue_line(convert(revenue.amount), bool(revenue.note)),
        # As the order keeps them in the account's currency: the channel's own figures where it gave them.
        ZERO if _never_charged(order) else order.account_discount,
        _refunds_line(order.account_refunded, order, _half_up(minor_unit(account_currency))),
        _costs(order, lines, convert),
    )


def profit_and_loss(order, lines=None, account_currency=None):
    """The P&L of ``order``, in its currency. ``lines`` defaults to ``order.lines.all()`` (prefetch it for
    listings). When the order's seller account keeps another currency (``account_currency``, read from
    ``order.account`` if not given), the P&L also carries its figures in that currency."""
    lines = list(order.lines.all() if lines is None else lines)
    goods = _goods(order, lines)
    discounts = _money(order.discount + sum((line.discount for line in lines), ZERO))
    if _never_charged(order):
        # Cancelled before the buyer paid (the channels record its total as 0): no revenue, nothing taken off it.
        revenue, discounts = _revenue_line(ZERO, tax_included=False), ZERO
    else:
        # Revenue without tax: where the prices include it, the order's tax is taken out of them (the discounts keep
        # their share of it, so net revenue is the total less the tax either way).
        tax_included = _tax_included(order, goods, discounts)
        revenue = _revenue_line(_money(goods + order.shipping - (order.tax if tax_included else ZERO)), tax_included)
    refunds = _refunds_line(order.refunded, order, _half_up(CENT))
    extra = {}
    if order.rate_source != RateSource.SAME:
        account_currency = account_currency or order.account.currency
        if account_currency != order.currency:
            extra = {
                "account_currency": account_currency,
                "in_account_currency": _in_account_currency(order, lines, revenue, account_currency),
            }
    return _assemble(order.currency, revenue, discounts, refunds, _costs(order, lines), **extra)
