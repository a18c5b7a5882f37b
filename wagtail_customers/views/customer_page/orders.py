"""The Orders tab: the customer's orders in a sortable, paged Wagtail table with a "..." menu per order.

Two queries per page whatever the number of orders: the count and the page (items are a subquery on it,
units the order's own figure).
"""

from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import ButtonsColumnMixin, Column, TitleColumn
from wagtail.admin.widgets.button import Button, ButtonWithDropdown

from ...local_time import local_datetime
from ...models import OrderLine, OrderStatus
from ...money import format_money
from ...services.contact import contact_url
from ..listing import cells
from ..listing.table import BuiltRowsTable, StatusColumn, TextColumn
from .conversion import conversion_of

#: Sort keys offered in the URL (``?ordering=-total``) and the fields they sort by; anything else is ignored.
ORDERINGS = {
    "order": "external_id",
    "date": "placed_at",
    "items": "items_count",
    "units": "units_count",
    # In the account's currency: orders in several currencies compare by what they are worth; those without an
    # exchange rate go last either way.
    "total": "account_total",
    "status": "status",
    "channel": "channel",
    "sync": "sync_status",
    "fulfilment": "fulfilment_status",
}
DEFAULT_ORDERING = "-date"
HEADER_TEMPLATE = "wagtail_customers/customer_page/orders_column_header.html"
#: Statuses shown as a filled badge.
PRIMARY_STATUSES = {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED}


def _line_figure(aggregate):
    lines = OrderLine.objects.filter(order=OuterRef("pk")).order_by().values("order")
    return Coalesce(Subquery(lines.annotate(figure=aggregate).values("figure")), Value(0))


#: Items per order as a correlated subquery: computed for the page's rows only, unless the table is sorted by
#: them (a join with GROUP BY would aggregate every order of the customer). Units are the order's own figure;
#: summed from its lines only for an order an earlier release recorded without it (services/order_figures.py).
LINE_FIGURES = {
    "items_count": _line_figure(Count("pk")),
    "units_count": Coalesce(F("units"), _line_figure(Sum("quantity"))),
}


def clean_ordering(value):
    """The requested ordering if it is one of ours, else the default."""
    value = value if isinstance(value, str) else ""
    return value if value.removeprefix("-") in ORDERINGS else DEFAULT_ORDERING


def _sortable(column):
    # Sort links keep the Orders tab open (the header template adds the tab's anchor).
    column.header_template_name = HEADER_TEMPLATE
    return column


class OrderTitleColumn(ButtonsColumnMixin, TitleColumn):
    """The order id, linking to the order page, with the "..." menu Wagtail listings have."""

    def __init__(self, *args, can_email=False, **kwargs):
        self.can_email = can_email
        super().__init__(*args, **kwargs)

    def get_buttons(self, instance, parent_context):
        more = []
        if self.can_email:
            more.append(email_button(instance.customer, instance))
        more.append(
            Button(
                _("View order"),
                reverse("wagtail_customers_customer:order", args=[instance.pk]),
                icon_name="view",
                priority=20,
            )
        )
        return [
            ButtonWithDropdown(
                buttons=more,
                icon_name="dots-horizontal",
                attrs={"aria-label": _("More options for order %(order)s") % {"order": instance.external_id}},
            )
        ]

    def render_cell_html(self, instance, parent_context):
        return cells.title_cell_html(self.get_cell_context_data(instance, parent_context))


class OrderTotalColumn(Column):
    """The order's total in its own currency and, when that is not the account's, in the account's currency
    with where the rate came from (or "no exchange rate")."""

    cell_template_name = "wagtail_customers/customer_page/order_total_cell.html"

    def __init__(self, *args, account_currency, **kwargs):
        self.account_currency = account_currency
        super().__init__(*args, **kwargs)

    def get_value(self, instance):
        return format_money(instance.total, instance.currency)

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["conversion"] = conversion_of(instance, self.account_currency)
        return context

    def render_cell_html(self, instance, parent_context):
        # ``order_total_cell.html`` built in Python, as the table's other cells are.
        context = self.get_cell_context_data(instance, parent_context)
        amount = cells.html_format(
            "{}{}", cells.value_html(context["value"]), converted_amount_html(context["conversion"])
        )
        return cells.td_html(self.classname, amount)


def converted_amount_html(conversion):
    """``_converted_amount.html``: the amount in the account's currency and where it comes from, or that no rate
    is known; nothing without a conversion."""
    if not conversion:
        return ""
    if conversion.is_known:
        inner = cells.html_format(
            '{} <span class="wc-converted__source">({})</span>', conversion.formatted_total(), conversion.short_note()
        )
    else:
        inner = cells.html_format('<span class="wc-not-known">{}</span>', conversion.short_note())
    return cells.html_format('<span class="wc-converted" data-wc-converted="{}">{}</span>', conversion.source, inner)


def email_button(customer, order=None, *, about_order=True, cls=Button, **kwargs):
    """ "E-mail customer (about this order)": the channel's contact page in a new tab, or the e-mail form.

    ``order`` fills the channel's per-order contact page; ``about_order`` says whether the e-mail is about it.
    """
    label = _("E-mail customer about this order") if order is not None and about_order else _("E-mail customer")
    url = contact_url(customer.account, order)
    if url:
        attrs = {"target": "_blank", "rel": "noopener noreferrer"}
        return cls(label, url, icon_name="link-external", attrs=attrs, priority=10, **kwargs)
    url = reverse("wagtail_customers_customer:email", args=[customer.pk])
    if order is not None and about_order:
        url += f"?order={order.pk}"
    return cls(label, url, icon_name="mail", priority=10, **kwargs)


def placed_at_display(order):
    # An absolute date: "2 years ago" on every row of an old customer says nothing. The month in words, as the
    # rest of the customer page writes dates: "01/03/2024" is 1 March to half the world and 3 January to the rest.
    return date_format(local_datetime(order.placed_at), "DATETIME_FORMAT")


def sync_display(order):
    """The sync status, with when the order last came from its channel's connection (if it did)."""
    status = order.get_sync_status_display()
    if order.synced_at is None:
        return status
    return _("%(status)s, %(moment)s") % {
        "status": status,
        "moment": date_format(local_datetime(order.synced_at), "DATETIME_FORMAT"),
    }


def orders_table(customer, *, ordering, page_number, per_page, can_email):
    """``(table, page)`` for the customer's orders."""
    ordering = clean_ordering(ordering)
    field = ORDERINGS[ordering.removeprefix("-")]
    direction = "-" if ordering.startswith("-") else ""
    base = customer.orders.order_by()
    page = Paginator(base.order_by("pk"), per_page).get_page(page_number)
    start = (page.number - 1) * per_page
    orders = list(
        base.annotate(**LINE_FIGURES).order_by(
            F(field).desc(nulls_last=True) if direction else F(field).asc(nulls_last=True), f"{direction}pk"
        )[start : start + per_page]
    )

    columns = [
        _sortable(
            OrderTitleColumn(
                "external_id",
                label=_("Order"),
                sort_key="order",
                # Kept on one line (customer-page.css).
                classname="wc-order-id",
                get_url=lambda order: reverse("wagtail_customers_customer:order", args=[order.pk]),
                can_email=can_email,
            )
        ),
        _sortable(TextColumn("placed_at", label=_("Date"), sort_key="date", accessor=placed_at_display)),
        _sortable(TextColumn("items_count", label=_("Items"), sort_key="items")),
        _sortable(TextColumn("units_count", label=_("Units"), sort_key="units")),
        _sortable(OrderTotalColumn("total", label=_("Total"), sort_key="total", account_currency=customer.currency)),
        _sortable(
            StatusColumn(
                "status",
                label=_("Status"),
                sort_key="status",
                accessor="get_status_display",
                primary=lambda order: order.status in PRIMARY_STATUSES,
            )
        ),
        _sortable(TextColumn("channel", label=_("Channel"), sort_key="channel", accessor="get_channel_display")),
        _sortable(TextColumn("sync_status", label=_("Sync"), sort_key="sync", accessor=sync_display)),
        _sortable(
            TextColumn(
                "fulfilment_status",
                label=_("Fulfilment"),
                sort_key="fulfilment",
                accessor="get_fulfilment_status_display",
            )
        ),
    ]
    # The rows in one pass, the cells in Python (views/listing/table.py): most of the page's time was this table's
    # cell templates (22 of 51 ms at 25 orders).
    table = BuiltRowsTable(columns, orders, ordering=ordering, classname="listing", caption=_("Orders of the customer"))
    return table, page
