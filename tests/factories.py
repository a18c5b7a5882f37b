"""Small builders of ``OrderData`` for tests."""

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from wagtail_customers.services.inputs import (
    AddressData,
    CustomerData,
    FeedbackData,
    LineData,
    OrderData,
    PromoCodeData,
)


def moment(day, hour=12):
    return timezone.make_aware(datetime(2024, 1, 1, hour)) + timezone.timedelta(days=day)


def order_data(
    external_id="1001",
    *,
    email="ada@example.com",
    buyer_id="",
    name="Ada Lovelace",
    day=0,
    lines=((2, "10.00"),),
    status="paid",
    refunded="0",
    discount="0",
    promo_codes=(),
    rating=None,
    currency=None,
    city="London",
    **extra,
):
    return OrderData(
        external_id=external_id,
        placed_at=moment(day),
        customer=CustomerData(external_id=buyer_id, email=email, name=name),
        status=status,
        refunded=Decimal(refunded),
        discount=Decimal(discount),
        currency=currency,
        ship_to=AddressData(name=name, line1="1 Main St", city=city, country="GB") if city else AddressData(),
        lines=[LineData(sku=f"SKU{i}", quantity=q, unit_price=Decimal(p)) for i, (q, p) in enumerate(lines)],
        promo_codes=[PromoCodeData(code, Decimal("1.00")) for code in promo_codes],
        feedback=FeedbackData(rating=rating) if rating else None,
        **extra,
    )
