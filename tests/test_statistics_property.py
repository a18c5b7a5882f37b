"""Random sequences of orders, updates, cancellations, returns, refunds and feedback through the
service; the kept statistics must equal an independent computation in plain Python.

Orders come in the account's currency (USD), in currencies the ECB table converts (EUR, GBP), sometimes
with the channel's own converted total, and in one no table knows (XTS, ISO 4217's code for testing). The
expected money is computed with currencyconverter directly, from the same ECB table the plugin embeds.
"""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from currency_converter import CurrencyConverter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import moment
from wagtail_customers.models import Customer, SellerAccount
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.inputs import CustomerData, FeedbackData, LineData, OrderData, PromoCodeData
from wagtail_customers.services.statistics import rebuild_statistics

STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled", "returned", "refunded", "partially_refunded"]
cents = st.integers(min_value=0, max_value=50_000).map(lambda c: Decimal(c) / 100)
CENT = Decimal("0.01")
ECB = CurrencyConverter(decimal=True, fallback_on_missing_rate=True, fallback_on_missing_rate_method="last_known")


@st.composite
def lines(draw):
    quantity = draw(st.integers(min_value=0, max_value=4))
    return LineData(
        quantity=quantity,
        unit_price=draw(cents),
        discount=draw(st.sampled_from([Decimal("0"), Decimal("1.25")])),
        returned_quantity=draw(st.integers(min_value=0, max_value=quantity)),
    )


@st.composite
def orders(draw):
    return OrderData(
        external_id=f"O{draw(st.integers(min_value=0, max_value=7))}",
        placed_at=moment(draw(st.integers(min_value=0, max_value=60)), hour=draw(st.integers(0, 23))),
        customer=CustomerData(email=f"c{draw(st.integers(min_value=0, max_value=3))}@example.com"),
        status=draw(st.sampled_from(STATUSES)),
        currency=draw(st.sampled_from(["USD", "USD", "EUR", "GBP", "XTS"])),
        account_total=draw(st.none() | st.none() | cents),
        discount=draw(st.sampled_from([Decimal("0"), Decimal("3.00")])),
        refunded=draw(st.sampled_from([Decimal("0"), Decimal("5.00")])),
        lines=draw(st.lists(lines(), max_size=3)),
        promo_codes=[PromoCodeData(f"P{i}") for i in range(draw(st.integers(min_value=0, max_value=2)))],
        feedback=draw(st.none() | st.integers(min_value=1, max_value=5).map(lambda r: FeedbackData(rating=r))),
    )


def _cents(amount):
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def expected_statistics(recorded):
    """The statistics' definitions, written again independently of the service."""
    stats = defaultdict(
        lambda: dict(
            orders=0, units=0, spent=Decimal(0), discount=Decimal(0), unconverted=0, promos=0, negative=0, returned=0
        )
    )
    dates = defaultdict(list)
    for data in recorded.values():
        figures = stats[data.customer.email]
        dates[data.customer.email].append(data.placed_at)
        subtotal = sum((line.unit_price * line.quantity for line in data.lines), Decimal(0))
        total = subtotal - data.discount + data.shipping + data.tax
        figures["orders"] += 1
        if data.status != "cancelled":
            figures["units"] += sum(line.quantity for line in data.lines)
        discount = data.discount + sum((line.discount for line in data.lines), Decimal(0))
        if data.currency == "USD":
            figures["spent"] += total - data.refunded
            figures["discount"] += discount
            continue_with_rate = None
        elif data.account_total is not None and total > 0 and data.account_total > 0:
            # The channel's converted total, and its implied rate for the rest.
            continue_with_rate = data.account_total / total
        elif data.currency == "XTS":
            continue_with_rate = None
            if data.account_total is None or data.refunded or discount:
                figures["unconverted"] += 1
            else:  # a zero order with the channel's total: nothing to convert
                figures["spent"] += data.account_total
        else:
            continue_with_rate = ECB.convert(Decimal(1), data.currency, "USD", date=data.placed_at.date())
        if continue_with_rate is not None:
            given = data.account_total if data.account_total is not None else total * continue_with_rate
            figures["spent"] += _cents(given) - _cents(data.refunded * continue_with_rate)
            figures["discount"] += _cents(discount * continue_with_rate)
        figures["promos"] += len(data.promo_codes)
        figures["negative"] += bool(data.feedback and data.feedback.rating <= 2)
        figures["returned"] += sum(line.returned_quantity for line in data.lines)
    return {email: dict(figures, first=min(dates[email]), last=max(dates[email])) for email, figures in stats.items()}


# version_neutral: the statistics' own arithmetic over generated histories; the ledger's tests run it at the floors.
@pytest.mark.version_neutral
@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.lists(orders(), min_size=1, max_size=4), min_size=1, max_size=8))
def test_kept_statistics_equal_a_fresh_recomputation(steps):
    SellerAccount.objects.all().delete()
    account = SellerAccount.objects.create(name="P", currency="USD")
    recorded = {}
    for batch in steps:
        record_orders(account, batch, batch_size=3)
        for data in batch:
            recorded[data.external_id] = data
    expected = expected_statistics(recorded)
    for customer in Customer.objects.filter(account=account):
        figures = expected.get(customer.email)
        if figures is None:  # all their orders moved to other customers
            assert (customer.orders_count, customer.units, customer.amount_spent) == (0, 0, 0)
            assert customer.last_order_at is None
            continue
        assert customer.orders_count == figures["orders"]
        assert customer.units == figures["units"]
        assert customer.amount_spent == figures["spent"]
        assert customer.discount_total == figures["discount"]
        assert customer.unconverted_orders == figures["unconverted"]
        assert customer.promo_codes_used == figures["promos"]
        assert customer.negative_feedbacks == figures["negative"]
        assert customer.returned_units == figures["returned"]
        assert customer.first_order_at == figures["first"]
        assert customer.last_order_at == figures["last"]
    assert set(expected) <= set(Customer.objects.values_list("email", flat=True))
    assert rebuild_statistics() == 0
