from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from tests.factories import order_data
from wagtail_customers.models import Channel, SellerAccount
from wagtail_customers.services.ingestion import record_order
from wagtail_customers.services.inputs import LineData
from wagtail_customers.services.profit import profit_and_loss

pytestmark = pytest.mark.django_db

D = Decimal


def line(quantity, price, cost=None, discount="0", returned=0):
    return LineData(
        sku="S",
        quantity=quantity,
        unit_price=D(price),
        unit_cost=None if cost is None else D(cost),
        discount=D(discount),
        returned_quantity=returned,
    )


def order_with(account, lines, **extra):
    data = order_data("P1", **extra)
    data.lines = lines
    return record_order(account, data)


def test_complete_order_adds_up(account):
    order = order_with(
        account,
        [line(2, "10.00", cost="4.00", discount="1.00"), line(1, "5.00", cost="1.50")],
        shipping=D("5.00"),
        discount="2.00",
        channel_fees=D("3.00"),
        fulfilment_cost=D("2.50"),
    )
    pl = profit_and_loss(order)
    assert pl.revenue.amount == D("30.00")  # 20 + 5 of goods, 5 of shipping
    assert pl.discounts.amount == D("3.00")  # order discount 2 + line discount 1
    assert pl.refunds.amount == D("0.00")
    assert pl.net_revenue == D("27.00")
    assert pl.channel_fees.amount == D("3.00")
    assert pl.fulfilment_costs.amount == D("2.50")
    assert pl.cost_of_goods.amount == D("9.50")
    assert pl.is_complete and pl.missing == []
    assert pl.gross_profit == D("12.00")
    assert pl.margin == D("44.4")
    assert pl.profit_ceiling == pl.gross_profit
    assert pl.currency == "USD"


def test_missing_channel_fees_make_profit_not_known(account):
    order = order_with(account, [line(1, "50.00", cost="20.00")], fulfilment_cost=D("5.00"))
    pl = profit_and_loss(order)
    assert pl.channel_fees.amount is None and not pl.channel_fees.is_known
    assert pl.channel_fees.note
    assert pl.gross_profit is None and pl.margin is None
    assert not pl.is_complete
    assert [str(label) for label in pl.missing] == ["Channel fees"]
    # What is known: 50 - 5 - 20; the real profit is at most that.
    assert pl.profit_ceiling == D("25.00")


def test_reported_zero_cost_is_not_missing(account):
    order = order_with(account, [line(1, "50.00", cost="0")], channel_fees=D("0"), fulfilment_cost=D("0"))
    pl = profit_and_loss(order)
    assert pl.is_complete
    assert pl.gross_profit == D("50.00")
    assert pl.margin == D("100.0")


def test_a_line_without_unit_cost_makes_cost_of_goods_not_known(account):
    order = order_with(
        account,
        [line(1, "10.00", cost="3.00"), line(2, "10.00"), line(1, "8.00")],
        channel_fees=D("1.00"),
        fulfilment_cost=D("1.00"),
    )
    pl = profit_and_loss(order)
    assert pl.cost_of_goods.amount is None
    assert "2" in str(pl.cost_of_goods.note)
    assert [str(label) for label in pl.missing] == ["Cost of goods"]
    assert pl.gross_profit is None
    # 38 - 1 - 1 - 3 (the one known line)
    assert pl.profit_ceiling == D("33.00")


def test_returned_units_carry_no_cost_and_need_none(account):
    order = order_with(
        account,
        [line(3, "10.00", cost="4.00", returned=1), line(1, "10.00", returned=1)],
        refunded="20.00",
        channel_fees=D("2.00"),
        fulfilment_cost=D("3.00"),
    )
    pl = profit_and_loss(order)
    # The fully returned line has no cost and needs none; 2 kept units at 4.00.
    assert pl.cost_of_goods.amount == D("8.00")
    assert pl.refunds.amount == D("20.00")
    assert pl.gross_profit == D("40.00") - D("20.00") - D("2.00") - D("3.00") - D("8.00")


def test_cancelled_order_has_no_cost_of_goods(account):
    order = order_with(
        account, [line(2, "10.00")], status="cancelled", refunded="20.00", channel_fees=D("0"), fulfilment_cost=D("0")
    )
    pl = profit_and_loss(order)
    assert pl.cost_of_goods.amount == D("0.00")
    assert pl.net_revenue == D("0.00")
    assert pl.gross_profit == D("0.00")
    assert pl.margin is None  # no margin on no revenue


def test_uses_given_lines_without_querying(account, django_assert_num_queries):
    order = order_with(account, [line(1, "10.00", cost="1.00")], channel_fees=D("1"), fulfilment_cost=D("1"))
    lines = list(order.lines.all())
    with django_assert_num_queries(0):
        pl = profit_and_loss(order, lines)
    assert pl.gross_profit == D("7.00")


def test_an_order_in_another_currency_has_its_pl_in_the_accounts_currency_too(account):
    # The channel's rate: 1 EUR = 1.25 USD; it reported the refund in USD itself.
    order = order_with(
        account,
        [line(2, "10.00", cost="4.00", discount="1.00"), line(1, "5.00")],
        currency="EUR",
        exchange_rate=D("1.25"),
        account_refunded=D("3.00"),
        shipping=D("5.00"),
        refunded="2.50",
        channel_fees=D("3.00"),
        fulfilment_cost=None,
    )
    pl = profit_and_loss(order)
    assert (pl.currency, pl.account_currency) == ("EUR", "USD")
    usd = pl.in_account_currency
    assert usd.currency == "USD"
    assert usd.revenue.amount == D("37.50")  # 30.00 EUR x 1.25
    assert usd.discounts.amount == order.account_discount == D("1.25")
    assert usd.refunds.amount == D("3.00")  # the channel's own figure, not 2.50 x 1.25
    assert usd.net_revenue == D("33.25")
    assert usd.channel_fees.amount == D("3.75")
    assert usd.fulfilment_costs.amount is None and usd.missing == pl.missing  # unknown stays unknown
    # Cost of goods: 2 x 4.00 known, the other line has none; its known part is converted.
    assert usd.cost_of_goods.known_part == D("10.00")
    assert usd.profit_ceiling == D("33.25") - D("3.75") - D("10.00")
    assert [(line.key, converted.key) for line, converted in pl.income_rows] == [
        ("revenue", "revenue"),
        ("discounts", "discounts"),
        ("refunds", "refunds"),
    ]


def test_an_order_with_no_rate_has_no_pl_in_the_accounts_currency(account):
    order = order_with(account, [line(1, "10.00", cost="1.00")], currency="XTS")
    pl = profit_and_loss(order)
    assert pl.account_currency == "USD" and pl.in_account_currency is None and pl.account_currency_unknown
    assert [converted for _line, converted in pl.cost_rows] == [None, None, None]
    assert pl.revenue.amount == D("10.00")  # the order's own P&L is whole


def test_an_order_in_the_accounts_currency_has_one_pl(account):
    pl = profit_and_loss(order_with(account, [line(1, "10.00")]))
    assert pl.account_currency == "" and pl.in_account_currency is None and not pl.account_currency_unknown


def test_an_order_recorded_without_lines_counts_its_subtotal_and_its_goods_cost_is_not_known(account):
    # A Shopify CSV without the line columns: the order has a subtotal and no lines.
    order = order_with(
        account,
        [],
        subtotal=D("100.00"),
        shipping=D("5.00"),
        tax=D("8.00"),
        channel_fees=D("2.00"),
        fulfilment_cost=D("0"),
    )
    pl = profit_and_loss(order)
    assert order.total == D("113.00")
    assert pl.revenue.amount == D("105.00")
    assert pl.net_revenue == D("105.00")
    assert pl.cost_of_goods.amount is None and "without its lines" in str(pl.cost_of_goods.note)
    assert pl.missing == ["Cost of goods"] and pl.gross_profit is None
    assert pl.profit_ceiling == D("103.00")


def test_a_refund_gives_back_no_revenue_for_the_tax_it_returns(account):
    # 100 of goods, 8 of tax: a whole refund of 108 leaves nothing, not a loss of the tax.
    whole = order_with(account, [line(1, "100.00", cost="60.00")], tax=D("8.00"), refunded="108.00")
    pl = profit_and_loss(whole)
    assert pl.refunds.amount == D("100.00") and pl.refunds.note
    assert pl.net_revenue == D("0.00")
    # Half of it back: half of the tax is in the refund.
    data = order_data("P2", tax=D("8.00"), refunded="54.00")
    data.lines = [line(1, "100.00", cost="60.00")]
    half = profit_and_loss(record_order(account, data))
    assert (half.refunds.amount, half.net_revenue) == (D("50.00"), D("50.00"))
    # No tax: the refund is taken as it is, without a note.
    data = order_data("P3", refunded="30.00")
    data.lines = [line(1, "100.00")]
    untaxed = profit_and_loss(record_order(account, data))
    assert (untaxed.refunds.amount, untaxed.refunds.note) == (D("30.00"), "")


def test_prices_that_include_the_tax_count_revenue_and_refunds_without_it(account):
    # A shop whose prices include VAT: 120.00 with 20.00 of VAT in it, 5.00 shipping (its VAT in it too), 12.00 off.
    order = order_with(
        account, [line(1, "120.00")], shipping=D("5.00"), discount="12.00", tax=D("18.83"), total=D("113.00")
    )
    pl = profit_and_loss(order)
    assert (pl.revenue.amount, pl.discounts.amount) == (D("106.17"), D("12.00")) and pl.revenue.note
    assert pl.net_revenue == order.total - order.tax
    # All of it refunded: nothing left, as with the tax on top.
    data = order_data("P2", tax=D("20.00"), total=D("120.00"), refunded="120.00")
    data.lines = [line(1, "120.00")]
    whole = profit_and_loss(record_order(account, data))
    assert (whole.revenue.amount, whole.refunds.amount, whole.net_revenue) == (D("100.00"), D("100.00"), D("0.00"))
    # Tax on top: the revenue is the prices, without a note.
    assert not profit_and_loss(order_with(account, [line(1, "100.00")], tax=D("8.00"))).revenue.note


def test_a_cancelled_order_never_charged_has_no_revenue(account):
    # Recorded with a total of 0 (the channels' way), its lines, shipping and tax kept.
    order = order_with(
        account,
        [line(1, "100.00", cost="40.00")],
        status="cancelled",
        shipping=D("5.00"),
        discount="3.00",
        tax=D("8.00"),
        total=D("0.00"),
        channel_fees=D("0"),
        fulfilment_cost=D("0"),
    )
    pl = profit_and_loss(order)
    assert (pl.revenue.amount, pl.revenue.note, pl.discounts.amount, pl.net_revenue) == (D("0"), "", D("0"), D("0"))
    assert pl.gross_profit == D("0.00")  # no units kept: no cost of goods either


def test_a_negative_refund_of_a_taxed_order_keeps_its_sign(account):
    order = order_with(account, [line(1, "100.00")], tax=D("8.00"), refunded="-20.00")
    assert profit_and_loss(order).refunds.amount == D("-18.52")  # -20 less its 8/108 of tax


def test_the_refund_without_its_tax_is_rounded_half_up(account):
    # 6.00 of goods and 2.00 of tax: 6.30 back holds 1.575 of tax, so 4.725 of revenue, written 4.73.
    order = order_with(account, [line(1, "6.00")], tax=D("2.00"), refunded="6.30")
    assert profit_and_loss(order).refunds.amount == D("4.73")


def test_the_tax_in_a_refund_is_left_out_in_the_accounts_currency_too(account):
    order = order_with(
        account,
        [line(1, "100.00")],
        currency="EUR",
        exchange_rate=D("1.25"),
        tax=D("8.00"),
        refunded="108.00",
        account_refunded=D("135.00"),
    )
    usd = profit_and_loss(order).in_account_currency
    assert usd.revenue.amount == usd.refunds.amount == D("125.00")
    assert usd.net_revenue == D("0.00")


money = st.decimals(min_value=0, max_value=1000, places=2)
optional_money = st.none() | money
lines_strategy = st.lists(
    st.tuples(st.integers(1, 5), money, optional_money, st.integers(0, 5)).map(
        lambda t: line(t[0], t[1], cost=t[2], returned=min(t[3], t[0]))
    ),
    min_size=1,
    max_size=4,
)


class ProfitProperties(HypothesisTestCase):
    @settings(max_examples=40, deadline=None)
    @given(lines=lines_strategy, fees=optional_money, fulfilment=optional_money, shipping=money)
    def test_unknown_costs_never_count_as_zero(self, lines, fees, fulfilment, shipping):
        account = SellerAccount.objects.create(name="Prop", channel=Channel.SHOPIFY, currency="USD")
        order = order_with(account, lines, channel_fees=fees, fulfilment_cost=fulfilment, shipping=shipping)
        pl = profit_and_loss(order)
        cost_unknown = any(data.unit_cost is None and data.quantity > data.returned_quantity for data in lines)
        expect_complete = fees is not None and fulfilment is not None and not cost_unknown
        assert pl.is_complete == expect_complete
        assert (pl.gross_profit is None) == (not expect_complete)
        if expect_complete:
            assert pl.gross_profit == pl.profit_ceiling
        known_costs = sum((c.amount if c.is_known else c.known_part for c in pl.cost_lines), D("0"))
        assert pl.profit_ceiling == pl.net_revenue - known_costs


def test_the_order_page_writes_each_deduction_with_one_minus_sign(admin_client, account):
    order = order_with(account, [line(1, "100.00")], refunded="-20.00", discount="5.00")
    html = admin_client.get(reverse("wagtail_customers_customer:order", args=[order.pk])).content.decode()

    def amount(key):
        row = html.split(f'data-wc-pl-line="{key}"', 1)[1]
        return row.split('<td class="wc-money">', 1)[1].split("</td>", 1)[0].strip()

    # A negative refund adds to the sum: no "−-$20.00".
    assert (amount("refunds"), amount("discounts"), amount("revenue")) == ("$20.00", "\u2212$5.00", "$100.00")
