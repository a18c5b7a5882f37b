"""The baselines: what a Django developer would write first, built only for the benchmarks.

* A0, the listing: a plain Wagtail ``ModelViewSet`` over customers whose index view annotates
  ``Count``/``Sum``/``Max`` over the orders on every request and pages with Wagtail's default
  paginator (``COUNT(*)`` over the grouped query, then ``LIMIT/OFFSET``). Tabs are a ``tab`` query
  parameter choosing the annotation to sort by. Its ``list_export`` is Wagtail's own CSV/XLSX export.
* B0, the export: django-import-export's standard path, ``ModelResource.export()`` into a whole
  ``tablib.Dataset``, then ``CSV``/``XLSX`` ``export_data``.
* F, the floor: a ``values_list`` cursor written straight with the ``csv`` module.
* The shell: Wagtail's own ``ModelViewSet`` index page of a one-field model (``wagtailcore.Locale``,
  whose one field is its language code, one row), nothing customised. What any Wagtail admin page
  costs on this machine; the listing's targets are ratios to it, measured in the same run.

The viewset is registered by ``benchmarks/wagtail_hooks.py``, which only the benchmark settings load.
"""

import csv

from django.db.models import Count, F, Max, Sum
from import_export import fields, resources
from import_export.formats.base_formats import CSV, XLSX
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import IndexView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.models import Locale

from wagtail_customers.models import Customer

#: The 12 columns every export case asks for (the plugin's column names, ``account`` as its name); the plugin's file
#: adds the currency and the orders without exchange rate after the first amount (``floor_fields``).
EXPORT_COLUMNS = (
    "name",
    "email",
    "postal_code",
    "city",
    "country",
    "orders_count",
    "units",
    "amount_spent",
    "discount_total",
    "returned_units",
    "account",
    "last_order_at",
)
EXPORT_FIELDS = tuple("account__name" if name == "account" else name for name in EXPORT_COLUMNS)


def _naive_orders():
    return {
        "n_orders": Count("orders"),
        "spent": Sum(F("orders__total") - F("orders__refunded")),
        "last_order": Max("orders__placed_at"),
    }


#: tab -> (how to build its queryset from customers, ordering). The sums come from the orders on
#: every request, as they would without kept statistics.
A0_TABS = {
    "all": (lambda qs: qs.annotate(**_naive_orders()), ("-last_order", "pk")),
    "highest-value": (lambda qs: qs.annotate(**_naive_orders()), ("-spent", "pk")),
    "most-orders": (lambda qs: qs.annotate(**_naive_orders()), ("-n_orders", "pk")),
    # Lines joined in: the order count must be distinct, and the spend is left out (it would be multiplied).
    "most-returned": (
        lambda qs: qs.annotate(
            n_orders=Count("orders", distinct=True),
            last_order=Max("orders__placed_at"),
            returned=Sum("orders__lines__returned_quantity"),
        ).filter(returned__gt=0),
        ("-returned", "pk"),
    ),
    "promo-codes": (
        lambda qs: qs.annotate(
            n_orders=Count("orders", distinct=True),
            last_order=Max("orders__placed_at"),
            promo=Count("orders__promo_codes"),
        ).filter(promo__gt=0),
        ("-promo", "pk"),
    ),
    "watchlist": (
        lambda qs: qs.filter(watchlist_entry__isnull=False).annotate(**_naive_orders()),
        ("-last_order", "pk"),
    ),
}


def _annotation(name):
    return lambda customer: getattr(customer, name, "")


class NaiveCustomerIndexView(IndexView):
    """Wagtail's generic index view; the only additions are the tab and a per-page choice."""

    def get_base_queryset(self):
        tab = self.request.GET.get("tab", "all")
        build, _ordering = A0_TABS.get(tab, A0_TABS["all"])
        return build(super().get_base_queryset().select_related("account"))

    def get_ordering(self):
        return A0_TABS.get(self.request.GET.get("tab", "all"), A0_TABS["all"])[1]

    def get_paginate_by(self, queryset):
        if self.is_export:
            return None
        try:
            return max(1, min(int(self.request.GET.get("per_page", 25)), 500))
        except ValueError:
            return 25


class NaiveCustomerViewSet(ModelViewSet):
    model = Customer
    name = "bench_naive_customers"
    url_prefix = "bench-naive-customers"
    icon = "group"
    add_to_admin_menu = False
    index_view_class = NaiveCustomerIndexView
    list_display = [
        "name",
        "email",
        "country",
        "account",
        Column("n_orders", label="Orders", accessor=_annotation("n_orders")),
        Column("spent", label="Amount spent", accessor=_annotation("spent")),
        Column("last_order", label="Last order", accessor=_annotation("last_order")),
    ]
    list_filter = ["account"]
    search_fields = ["name", "email"]
    list_export = ["name", "email", "postal_code", "city", "country", "account", "n_orders", "spent", "last_order"]
    export_filename = "customers-a0"
    form_fields = ["name", "email"]
    inspect_view_enabled = False
    copy_view_enabled = False

    # The plugin's viewset stays the one Wagtail links customers to.
    def register_admin_url_finder(self):
        pass

    def register_reference_index(self):
        pass

    def register_permissions(self):
        pass


naive_customer_viewset = NaiveCustomerViewSet()
A0_INDEX_URL = "/admin/bench-naive-customers/"


class ShellViewSet(ModelViewSet):
    model = Locale
    name = "bench_shell"
    url_prefix = "bench-shell"
    icon = "site"
    add_to_admin_menu = False
    list_display = ["language_code"]
    form_fields = ["language_code"]


shell_viewset = ShellViewSet()
SHELL_INDEX_URL = "/admin/bench-shell/"


class NaiveCustomerResource(resources.ModelResource):
    """A plain ``ModelResource`` over the 12 columns the plugin's export is asked for (without the two its file
    adds after the first amount)."""

    account__name = fields.Field(attribute="account__name", column_name="account")

    class Meta:
        model = Customer
        fields = EXPORT_FIELDS
        export_order = EXPORT_FIELDS


def export_b0(path, file_format):
    """django-import-export's standard path: a whole ``Dataset``, then the format's ``export_data``."""
    queryset = Customer.objects.select_related("account").order_by("pk")
    dataset = NaiveCustomerResource().export(queryset=queryset)
    data = (CSV() if file_format == "csv" else XLSX()).export_data(dataset)
    mode = "w" if isinstance(data, str) else "wb"
    with open(path, mode, **({"newline": "", "encoding": "utf-8"} if mode == "w" else {})) as handle:
        handle.write(data)
    return len(dataset)


def floor_fields():
    """What the plugin's file of ``EXPORT_COLUMNS`` holds, one value per column, as the resource reads it: the 12
    columns, and the currency and the orders without exchange rate that follow the first amount in every export
    (since 2026-12-03; the floor read the 12 alone until 2026-12-05)."""
    from wagtail_customers.exports.resources import customer_resource_class

    resource = customer_resource_class()()
    names = resource.export_field_names(list(EXPORT_COLUMNS))
    return tuple(resource.fields[name].attribute for name in names)


def export_floor(path):
    """The physical limit: one cursor over the same columns, written straight with ``csv``."""
    rows = 0
    columns = floor_fields()
    queryset = Customer.objects.order_by("pk").values_list(*columns)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in queryset.iterator(chunk_size=5000):
            writer.writerow(row)
            rows += 1
    return rows
