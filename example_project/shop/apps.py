from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from wagtail_customers.sources import register_order_source

        from .ledger import seller_account, to_order_data
        from .models import ShopOrder

        register_order_source(ShopOrder, to_order_data=to_order_data, account=seller_account)
