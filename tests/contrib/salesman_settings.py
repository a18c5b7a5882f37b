"""The test settings plus django-salesman 1.3 and the salesman integration (``make test-contrib``)."""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [
    *INSTALLED_APPS,  # noqa: F405
    "rest_framework",
    "salesman.core",
    "salesman.basket",
    "salesman.checkout",
    "salesman.orders",
    "salesman.admin",
    "tests.contrib.salesman_shop",
    "wagtail_customers.contrib.salesman",
]
ROOT_URLCONF = "tests.contrib.salesman_urls"

SALESMAN_PRODUCT_TYPES = {"salesman_shop.Product": "tests.contrib.salesman_shop.serializers.ProductSerializer"}
SALESMAN_BASKET_MODIFIERS = [
    "tests.contrib.salesman_shop.modifiers.CouponModifier",
    "tests.contrib.salesman_shop.modifiers.ShippingModifier",
    "tests.contrib.salesman_shop.modifiers.TaxModifier",
]
SALESMAN_PAYMENT_METHODS = ["tests.contrib.salesman_shop.payment.PayOnPlacement"]

WAGTAIL_CUSTOMERS = {**WAGTAIL_CUSTOMERS, "SALESMAN_SELLER_ACCOUNT": "Salesman shop"}  # noqa: F405
