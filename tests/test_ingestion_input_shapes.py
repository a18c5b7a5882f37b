"""A site's own code hands ``record_order`` values of the wrong kind: each is refused with an ``IngestionError`` naming
the order and the field (they were a ``TypeError`` or ``AttributeError`` from deep inside the service), nothing is
written, and the forgiving cases (``None`` for text, a number as a string, a status in capitals) are read as meant."""

import datetime
import uuid
from decimal import Decimal

import pytest

from wagtail_customers.models import Customer, Order, OrderStatus
from wagtail_customers.services.ingestion import IngestionError, record_order
from wagtail_customers.services.inputs import (
    AddressData,
    CustomerData,
    FeedbackData,
    LineData,
    OrderData,
    PromoCodeData,
)

pytestmark = pytest.mark.django_db

PLACED = datetime.datetime(2025, 6, 1, 10, 0, tzinfo=datetime.UTC)


def an_order(**changes):
    values = {
        "external_id": "S1",
        "placed_at": PLACED,
        "customer": CustomerData(email="nia@example.com", name="Nia Ray"),
        "lines": [LineData(sku="MUG", quantity=2, unit_price=Decimal("12.00"))],
    }
    values.update(changes)
    return OrderData(**values)


def with_line(**changes):
    return an_order(lines=[LineData(**{"sku": "MUG", "quantity": 2, "unit_price": Decimal("12.00"), **changes})])


@pytest.mark.parametrize(
    "order, message",
    [
        (
            an_order(placed_at="2025-06-01"),
            "Order S1: placed_at must be a date and time (datetime), not str '2025-06-01'.",
        ),
        (
            an_order(placed_at=datetime.date(2025, 6, 1)),
            "Order S1: placed_at must be a date and time (datetime), not date.",
        ),
        (
            an_order(shipped_at="yesterday"),
            "Order S1: shipped_at must be a date and time (datetime), not str 'yesterday'.",
        ),
        (with_line(quantity="2"), "Order S1: lines[0].quantity must be a whole number, not str '2'."),
        (with_line(quantity=2.5), "Order S1: lines[0].quantity must be a whole number, not float 2.5."),
        (with_line(quantity=True), "Order S1: lines[0].quantity must be a whole number, not bool True."),
        (with_line(returned_quantity=None), "Order S1: lines[0].returned_quantity must be a whole number, not None."),
        (with_line(sku=["MUG"]), "Order S1: lines[0].sku must be text, not list."),
        (with_line(product_name=True), "Order S1: lines[0].product_name must be text, not bool True."),
        (with_line(unit_price="12,50"), "Order S1: the unit price of line 1 (MUG) is not a number (12,50)."),
        (an_order(shipping="1_000"), "Order S1: the shipping is not a number (1_000)."),
        (an_order(shipping=[4]), "Order S1: the shipping is not a number ([4])."),
        (an_order(tax=True), "Order S1: the tax is not a number (True)."),
        (an_order(channel="bol.com"), "Order S1: channel 'bol.com' is not one of amazon, shopify, "),
        (an_order(customer={"email": "nia@example.com"}), "Order S1: customer must be CustomerData, not dict."),
        (
            an_order(customer=CustomerData(email=["nia@example.com"])),
            "Order S1: customer.email must be text, not list.",
        ),
        (an_order(lines=LineData()), "Order S1: lines must be a list of LineData, not LineData."),
        (an_order(lines=[{"sku": "MUG"}]), "Order S1: lines[0] must be LineData, not dict."),
        (an_order(promo_codes=["SAVE5"]), "Order S1: promo_codes[0] must be PromoCodeData, not str 'SAVE5'."),
        (an_order(promo_codes=[PromoCodeData(None)]), "Order S1: promo_codes[0].code must be text, not None."),
        (an_order(feedback=2), "Order S1: feedback must be FeedbackData, not int 2."),
        (an_order(feedback=FeedbackData(rating="1")), "Order S1: feedback.rating must be a whole number, not str '1'."),
        (an_order(status="canceled"), "Order S1: status 'canceled' is not one of pending, paid, shipped, delivered, "),
        (an_order(fulfilment_status="done"), "Order S1: fulfilment_status 'done' is not one of "),
        (an_order(sync_status=None), "Order S1: sync_status must be text, not None."),
        (an_order(currency=978), "Order S1: currency '978' is not a 3-letter ISO 4217 code."),
        (an_order(external_id=None), "An order has no order id."),
        (an_order(external_id=[1]), "An order has no order id."),
        ({"external_id": "S1"}, "An order must be given as an OrderData, not as dict."),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_naming_the_order_and_the_field(account, order, message):
    with pytest.raises(IngestionError) as refused:
        record_order(account, order)
    assert str(refused.value).startswith(message)
    assert (Order.objects.count(), Customer.objects.count()) == (0, 0)


class CountryLike:
    """A country object as django-countries gives one: not a string, its text the code."""

    def __str__(self):
        return "DE"


def test_the_forgiving_cases_are_read_as_meant(account):
    order = record_order(
        account,
        an_order(
            customer=CustomerData(email="nia@example.com", name=None, phone=None, external_id=4711),
            lines=[LineData(sku="MUG", product_name=None, quantity=2, unit_price="12.50", discount=1)],
            shipping=" 4.00 ",
            exchange_rate="1",
            external_id=1001,
            ship_to=AddressData(city="Berlin", country=CountryLike()),
            currency=" eur ",
            channel=" Website ",
            status=" Cancelled ",
            fulfilment_status="FULFILLED",
        ),
    )
    assert (order.external_id, order.status, order.fulfilment_status) == ("1001", OrderStatus.CANCELLED, "fulfilled")
    assert (order.channel, order.currency, order.ship_country) == ("website", "EUR", "DE")
    assert (order.shipping, order.subtotal, order.total) == (Decimal("4.00"), Decimal("25.00"), Decimal("29.00"))
    line = order.lines.get()
    assert (line.unit_price, line.discount, line.product_name) == (Decimal("12.50"), Decimal("1.00"), "")
    customer = order.customer
    assert (customer.name, customer.phone, customer.units, customer.orders_count) == ("", "", 0, 1)
    assert customer.external_id == "4711"


def test_an_order_id_of_another_kind_is_recorded_as_its_text(account):
    order_id = uuid.UUID("5d27a1f0-1c2b-4d3e-8f90-123456789abc")
    assert record_order(account, an_order(external_id=order_id)).external_id == str(order_id)
    assert record_order(account, an_order(external_id=Decimal("17"))).external_id == "17"
