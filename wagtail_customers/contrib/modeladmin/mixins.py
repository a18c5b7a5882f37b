"""``CustomerColumnMixin`` for a wagtail-modeladmin ``ModelAdmin`` of a shop's own orders.

A shop order is matched to its ledger order by order number (``customer_order_number_field``, the
``external_id`` the shop's adapter records) within the seller accounts ``get_customer_seller_accounts``
returns; the ledger order gives the customer. Everything the column shows comes from annotations
on the listing's one query (subqueries scoped to what the user may view), so the column adds no
query per row, and a user sees a customer only when they may view it, named as they may see them ("Customer #<id>"
without the personal-data grant)::

    from wagtail_modeladmin.options import ModelAdmin
    from wagtail_customers.contrib.modeladmin import CustomerColumnMixin

    class ShopOrderAdmin(CustomerColumnMixin, ModelAdmin):
        model = ShopOrder
        customer_order_number_field = "number"

        def get_customer_seller_accounts(self, request):
            return SellerAccount.objects.filter(name="My shop")
"""

from django.db.models import Exists, OuterRef, Subquery
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from ...models import WatchlistEntry
from ...models.customers import customer_label
from ...permissions import Action, accounts_for, orders_for
from ...services.personal_data import personal_account_ids
from ...views.listing.media import CONTROLLERS, STYLESHEET


class CustomerColumn:
    """The column itself: a callable ``list_display`` entry bound to one request."""

    short_description = _("Customer")
    empty_value_display = "–"

    #: The column's name in wagtail-modeladmin's (and Django admin's) CSS classes and headers.
    __name__ = "wagtail_customer"

    def __init__(self, request):
        self.request = request

    def __str__(self):
        # Used by wagtail-modeladmin in the column's CSS class names (``field-wagtail_customer``).
        return "wagtail_customer"

    @cached_property
    def manage_account_ids(self):
        return set(accounts_for(self.request.user, Action.MANAGE_WATCHLIST).values_list("pk", flat=True))

    @cached_property
    def personal_account_ids(self):
        return personal_account_ids(self.request.user)

    @cached_property
    def csrf_token(self):
        return get_token(self.request)

    def __call__(self, order):
        customer_id = getattr(order, "wc_customer_id", None)
        if not customer_id:
            return ""
        if order.wc_customer_account_id in self.personal_account_ids:
            label = customer_label(
                order.wc_customer_name,
                order.wc_customer_email,
                order.wc_customer_external_id,
                order.wc_customer_identity_key,
                customer_id,
            )
        else:
            # Without the personal-data grant the customer is "Customer #<id>", as everywhere
            # (services/personal_data.py).
            label = customer_label("", "", "", order.wc_customer_identity_key, customer_id)
        watched = bool(order.wc_customer_watched)
        return render_to_string(
            "wagtail_customers/contrib/modeladmin/customer_cell.html",
            {
                "customer_url": reverse("wagtail_customers_customer:detail", args=(customer_id,)),
                "customer_label": label,
                "watched": watched,
                "watch_value": "0" if watched else "1",
                "can_manage_watchlist": order.wc_customer_account_id in self.manage_account_ids,
                "watchlist_url": reverse("wagtail_customers:watchlist_toggle", args=(customer_id,)),
                "csrf_token": self.csrf_token,
                "next_url": self.request.get_full_path(),
            },
        )


class CustomerColumnMixin:
    """Adds the "Customer" column to a ``ModelAdmin`` of orders (put it before ``ModelAdmin`` in the bases)."""

    #: The field of the shop's order that holds the order number the ledger knows (``Order.external_id``).
    customer_order_number_field = "number"

    def get_customer_seller_accounts(self, request):
        """The seller accounts this admin's orders belong to (a queryset or ids); ``None``: any account."""
        return None

    def get_list_display(self, request):
        return (*super().get_list_display(request), CustomerColumn(request))

    def get_queryset(self, request):
        ledger = orders_for(request.user, Action.VIEW).filter(external_id=OuterRef(self.customer_order_number_field))
        accounts = self.get_customer_seller_accounts(request)
        if accounts is not None:
            ledger = ledger.filter(account__in=accounts)
        ledger = ledger.order_by("pk")
        queryset = (
            super()
            .get_queryset(request)
            .annotate(
                wc_customer_id=Subquery(ledger.values("customer_id")[:1]),
                wc_customer_name=Subquery(ledger.values("customer__name")[:1]),
                wc_customer_email=Subquery(ledger.values("customer__email")[:1]),
                wc_customer_external_id=Subquery(ledger.values("customer__external_id")[:1]),
                wc_customer_identity_key=Subquery(ledger.values("customer__identity_key")[:1]),
                wc_customer_account_id=Subquery(ledger.values("account_id")[:1]),
            )
        )
        return queryset.annotate(
            wc_customer_watched=Exists(WatchlistEntry.objects.filter(customer_id=OuterRef("wc_customer_id")))
        )

    def get_index_view_extra_js(self):
        return [*super().get_index_view_extra_js(), CONTROLLERS[0]]

    def get_index_view_extra_css(self):
        return [*super().get_index_view_extra_css(), STYLESHEET]
