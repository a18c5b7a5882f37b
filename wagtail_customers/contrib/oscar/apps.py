from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OscarSourceConfig(AppConfig):
    name = "wagtail_customers.contrib.oscar"
    label = "wagtail_customers_oscar"
    verbose_name = _("Customers: django-oscar orders")

    def ready(self):
        from ..shops import require_shop_package

        require_shop_package(self.name, "oscar", "django-oscar", "oscar")
        from ...sources import register_order_source
        from . import checks  # noqa: F401  (registers the system check)
        from .adapter import (
            order_model,
            seller_account,
            source_model,
            source_to_order_data,
            status_change_model,
            status_change_to_order_data,
            to_order_data,
            transaction_model,
            transaction_to_order_data,
        )

        # OrderCreator.place_order saves the order, its lines and discounts in one transaction. set_status()
        # saves the order and then adds its status change, outside any transaction in the dashboard, so the
        # order's save is recorded before the change (the milestone's date) exists: the change records it again.
        # Payments and refunds change the payment sources and add transactions, not the order, so their saves
        # record the order too.
        register_order_source(order_model(), to_order_data=to_order_data, account=seller_account)
        register_order_source(status_change_model(), to_order_data=status_change_to_order_data, account=seller_account)
        register_order_source(source_model(), to_order_data=source_to_order_data, account=seller_account)
        register_order_source(transaction_model(), to_order_data=transaction_to_order_data, account=seller_account)
