"""Basket modifiers as a salesman shop writes them: a coupon, flat shipping and sales tax."""

from decimal import Decimal

from salesman.basket.modifiers import BasketModifier

CENT = Decimal("0.01")
COUPONS = {"SAVE10": Decimal("0.10")}


class CouponModifier(BasketModifier):
    """10 % off the basket with the coupon code the checkout put in the basket's extra."""

    identifier = "coupon"

    def process_basket(self, basket, request):
        code = (basket.extra or {}).get("coupon", "")
        if code in COUPONS:
            amount = -(basket.subtotal * COUPONS[code]).quantize(CENT)
            self.add_extra_row(basket, request, label=f"Coupon {code}", amount=amount, extra={"code": code})


class ShippingModifier(BasketModifier):
    identifier = "shipping"

    def process_basket(self, basket, request):
        self.add_extra_row(basket, request, label="Shipping", amount=Decimal("5.00"))


class TaxModifier(BasketModifier):
    """20 % sales tax on the discounted basket, shipping included."""

    identifier = "tax"

    def process_basket(self, basket, request):
        self.add_extra_row(basket, request, label="Tax", amount=(basket.total * Decimal("0.20")).quantize(CENT))
