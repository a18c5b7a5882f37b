from wagtail_modeladmin.options import ModelAdmin, modeladmin_register

from .models import ShopOrder


class ShopOrderAdmin(ModelAdmin):
    model = ShopOrder
    menu_label = "Shop orders"
    menu_icon = "list-ul"
    menu_order = 300
    list_display = ("number", "placed_at", "customer_name", "customer_email", "status")
    list_filter = ("status",)
    search_fields = ("number", "customer_name", "customer_email")


modeladmin_register(ShopOrderAdmin)
