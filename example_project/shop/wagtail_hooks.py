from django.db import transaction
from wagtail_modeladmin.options import ModelAdmin, modeladmin_register
from wagtail_modeladmin.views import CreateView, EditView

from wagtail_customers.contrib.modeladmin import CustomerColumnMixin
from wagtail_customers.models import SellerAccount

from .ledger import SHOP_ACCOUNT_NAME
from .models import ShopOrder


class AtomicPostMixin:
    """The order and its inline lines saved in one transaction: the ledger records the order once it commits
    (``register_order_source``), lines included; saved one by one, the order was recorded before its lines."""

    def post(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().post(request, *args, **kwargs)


class ShopOrderCreateView(AtomicPostMixin, CreateView):
    pass


class ShopOrderEditView(AtomicPostMixin, EditView):
    pass


class ShopOrderAdmin(CustomerColumnMixin, ModelAdmin):
    model = ShopOrder
    menu_label = "Shop orders"
    menu_icon = "list-ul"
    menu_order = 300
    list_display = ("number", "placed_at", "customer_name", "customer_email", "status")
    list_filter = ("status",)
    search_fields = ("number", "customer_name", "customer_email")
    # The "Customer" column: shop orders are recorded in the ledger under their number.
    customer_order_number_field = "number"
    create_view_class = ShopOrderCreateView
    edit_view_class = ShopOrderEditView

    def get_customer_seller_accounts(self, request):
        return SellerAccount.objects.filter(name=SHOP_ACCOUNT_NAME)


modeladmin_register(ShopOrderAdmin)
