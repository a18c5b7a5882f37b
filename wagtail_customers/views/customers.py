"""The customers listing (the foundation's minimal version; the listing issue grows it)."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.model import ModelViewSet

from ..models import Customer


class CustomerViewSet(ModelViewSet):
    model = Customer
    icon = "group"
    menu_label = _("Customers")
    menu_order = 250
    add_to_admin_menu = False
    url_prefix = "customers"
    name = "wagtail_customers"
    list_display = ["name", "email", "country", "orders_count", "amount_spent", "last_order_at"]
    list_filter = ["account"]
    search_fields = ["name", "email"]
    ordering = ["-last_order_at", "pk"]
    inspect_view_enabled = True
    copy_view_enabled = False
    form_fields = ["name", "email", "phone"]


customer_viewset = CustomerViewSet()
