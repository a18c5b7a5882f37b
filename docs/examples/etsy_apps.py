from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"

    def ready(self):
        from wagtail_customers.importers.registry import FORMATS

        from .etsy_format import EtsySoldOrdersFormat

        FORMATS[EtsySoldOrdersFormat.name] = EtsySoldOrdersFormat
