"""How the example shop's orders become ledger orders: the adapter a host shop writes."""

from decimal import Decimal

from wagtail_customers.models import Channel, SellerAccount
from wagtail_customers.services.inputs import AddressData, CustomerData, LineData, OrderData, PromoCodeData

SHOP_ACCOUNT_NAME = "Example shop"


def seller_account(shop_order=None):
    account, _ = SellerAccount.objects.get_or_create(
        name=SHOP_ACCOUNT_NAME, defaults={"channel": Channel.WEBSITE, "currency": "EUR", "marketplace": "EU"}
    )
    return account


def to_order_data(shop_order):
    lines = [
        LineData(sku=line.sku, product_name=line.product, quantity=line.quantity, unit_price=line.unit_price)
        for line in shop_order.lines.all()
    ]
    order_data = OrderData(
        external_id=shop_order.number,
        placed_at=shop_order.placed_at,
        status=shop_order.status,
        customer=CustomerData(email=shop_order.customer_email, name=shop_order.customer_name),
        ship_to=AddressData(
            name=shop_order.customer_name,
            line1=shop_order.address,
            postal_code=shop_order.postal_code,
            city=shop_order.city,
            country=shop_order.country,
        ),
        shipping=shop_order.shipping,
        discount=shop_order.discount,
        promo_codes=[PromoCodeData(shop_order.promo_code, shop_order.discount)] if shop_order.promo_code else [],
        lines=lines,
    )
    if shop_order.status == "refunded":
        # The status alone moves no money: a refunded order gives its whole amount back (the ledger's total, which
        # it computes from the lines, shipping and discount).
        subtotal = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
        order_data.refunded = subtotal - order_data.discount + order_data.shipping
    return order_data
