from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesmanSourceConfig(AppConfig):
    name = "wagtail_customers.contrib.salesman"
    label = "wagtail_customers_salesman"
    verbose_name = _("Customers: django-salesman orders")

    def ready(self):
        from ..shops import require_shop_package

        require_shop_package(
            self.name,
            "salesman",
            "django-salesman",
            "salesman",
            requires="django-salesman 1.3 installs only beside Django 5.x (it declares Django<6.0).",
        )
        from ...sources import register_order_source
        from . import checks  # noqa: F401  (registers the system check)
        from .adapter import order_model, payment_model, payment_to_order_data, seller_account, to_order_data

        # Placing an order saves it inside salesman's populate_from_basket transaction, items included; a
        # status change or a refund saves it again. Each save is recorded once that transaction commits, or at
        # once outside a transaction. Order.pay() adds a payment without saving the order, and salesman's order
        # admin saves the order before the payments of its inline panel, outside a transaction: the payment's
        # save records its order again, and so does a payment's deletion. (Salesman keeps no refund rows: a refund
        # saves the order's status.)
        register_order_source(order_model(), to_order_data=to_order_data, account=seller_account)
        register_order_source(
            payment_model(), to_order_data=payment_to_order_data, account=seller_account, record_deletes=True
        )
