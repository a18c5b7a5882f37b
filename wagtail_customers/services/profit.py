"""An order's profit and loss (P&L), with unknown costs kept unknown.

Every line is defined in docs/concepts/profit-and-loss.md. A cost the channel did not report
(``Order.channel_fees``, ``Order.fulfilment_cost`` or a line's ``unit_cost`` left empty) is "not
known": it is never counted as zero. When any cost is not known the gross profit and the margin are
not known either; ``profit_ceiling`` then gives what the profit would be before the missing costs,
which is the most it can be (costs are never negative).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from ..models import OrderStatus

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

    @property
    def is_complete(self):
        return not self.missing

    @property
    def income_lines(self):
        return [self.revenue, self.discounts, self.refunds]

    @property
    def cost_lines(self):
        return [self.channel_fees, self.fulfilment_costs, self.cost_of_goods]


def _money(value):
    return Decimal(value).quantize(CENT)


def units_kept(order, line):
    """Units the buyer kept: none on a cancelled order, else the quantity less the returned quantity."""
    if order.status == OrderStatus.CANCELLED:
        return 0
    return max(line.quantity - line.returned_quantity, 0)


def _cost_of_goods(order, lines):
    total, unknown = ZERO, 0
    for line in lines:
        units = units_kept(order, line)
        if not units:
            continue
        if line.unit_cost is None:
            unknown += 1
        else:
            total += line.unit_cost * units
    label = _("Cost of goods")
    if unknown:
        note = _("Unit cost not known for %(count)s of the order's lines.") % {"count": unknown}
        return ProfitLine("cost_of_goods", label, None, note=note, known_part=_money(total))
    return ProfitLine("cost_of_goods", label, _money(total))


def _reported_cost(key, label, value):
    if value is None:
        return ProfitLine(key, label, None, note=_("Not reported by the channel."))
    return ProfitLine(key, label, _money(value))


def profit_and_loss(order, lines=None):
    """The P&L of ``order``. ``lines`` defaults to ``order.lines.all()`` (prefetch it for listings)."""
    lines = list(order.lines.all() if lines is None else lines)
    revenue = _money(sum((line.line_total for line in lines), ZERO) + order.shipping)
    discounts = _money(order.discount + sum((line.discount for line in lines), ZERO))
    refunds = _money(order.refunded)
    net_revenue = revenue - discounts - refunds

    channel_fees = _reported_cost("channel_fees", _("Channel fees"), order.channel_fees)
    fulfilment_costs = _reported_cost("fulfilment_costs", _("Fulfilment and shipping costs"), order.fulfilment_cost)
    cost_of_goods = _cost_of_goods(order, lines)
    costs = [channel_fees, fulfilment_costs, cost_of_goods]

    profit_ceiling = net_revenue - sum((cost.amount if cost.is_known else cost.known_part for cost in costs), ZERO)
    missing = [cost.label for cost in costs if not cost.is_known]
    gross_profit = None if missing else profit_ceiling
    margin = None
    if gross_profit is not None and net_revenue > 0:
        margin = (gross_profit * 100 / net_revenue).quantize(Decimal("0.1"))
    return ProfitAndLoss(
        currency=order.currency,
        revenue=ProfitLine("revenue", _("Revenue"), revenue, sign=1),
        discounts=ProfitLine("discounts", _("Discounts"), discounts),
        refunds=ProfitLine("refunds", _("Refunds"), refunds),
        net_revenue=net_revenue,
        channel_fees=channel_fees,
        fulfilment_costs=fulfilment_costs,
        cost_of_goods=cost_of_goods,
        gross_profit=gross_profit,
        margin=margin,
        profit_ceiling=profit_ceiling,
        missing=missing,
    )
