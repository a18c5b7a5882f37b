"""The customer page: header actions and three tabs (Timeline, Details, Orders)."""

from django.forms.utils import flatatt
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ...compat import TAB_NAV_LINK_TEMPLATE, tabs_attrs
from ...insight.display import percent_text
from ...permissions import Action
from ...services.personal_data import mask_customer
from . import details
from .access import allowed_actions, scoped_customer
from .buttons import HeaderActionsMenu, customer_header_buttons, watchlist_entry
from .orders import orders_table
from .paging import pagination
from .timeline import timeline_page

#: Query parameters of the Orders tab: when present, the page opens on that tab.
ORDERS_PARAMS = ("ordering", "orders_page")


class CustomerDetailView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_customers/customer_page/detail.html"
    header_icon = "user"
    #: Orders per page on the Timeline tab (each with its milestones and events).
    timeline_per_page = 10
    #: Orders per page on the Orders tab.
    orders_per_page = 25

    def get(self, request, *args, **kwargs):
        customer = scoped_customer(request.user, kwargs["pk"])
        self.actions = allowed_actions(request.user, customer.account)
        # Masked unless the user may see this account's personal data (services/personal_data.py).
        self.customer = customer if Action.SEE_PERSONAL_DATA in self.actions else mask_customer(customer)
        self.buttons, self.more_buttons = customer_header_buttons(request, self.customer, self.actions)
        return super().get(request, *args, **kwargs)

    def get_page_title(self):
        return str(self.customer)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtail_customers:index"), "label": _("Customers")},
            {"url": "", "label": str(self.customer)},
        ]

    def get_header_buttons(self):
        self.header_buttons = self.buttons
        buttons = super().get_header_buttons()
        if buttons:
            # The same actions again, as one menu for a narrow window (buttons.HeaderActionsMenu).
            buttons.append(HeaderActionsMenu(self.buttons, self.get_header_more_buttons()))
        return buttons

    def get_header_more_buttons(self):
        return sorted(self.more_buttons)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer, query = self.customer, self.request.GET
        active_tab = "orders" if any(name in query for name in ORDERS_PARAMS) else "timeline"
        page, blocks = timeline_page(customer, query.get("timeline_page"), self.timeline_per_page)
        table, orders_page = orders_table(
            customer,
            ordering=query.get("ordering"),
            page_number=query.get("orders_page"),
            per_page=self.orders_per_page,
            # An erased customer is not contacted: the page says so rather than offering it (customer_page/email).
            can_email=Action.EMAIL in self.actions and not customer.erased_at,
        )
        addresses, more_addresses = details.other_addresses(customer)
        codes, more_codes = details.promo_codes(customer)
        context.update(
            customer=customer,
            account=customer.account,
            tabs_attrs=flatatt(tabs_attrs(f"tab-{active_tab}")),
            tab_nav_link_template=TAB_NAV_LINK_TEMPLATE,
            active_tab=active_tab,
            timeline_blocks=blocks,
            timeline_pagination=pagination(self.request, page, "timeline_page", "tab-timeline"),
            orders_table=table,
            orders_count=orders_page.paginator.count,
            orders_pagination=pagination(self.request, orders_page, "orders_page", "tab-orders"),
            address=details.customer_address(customer),
            other_addresses=addresses,
            more_addresses=more_addresses,
            promo_codes=codes,
            more_promo_codes=more_codes,
            return_rate=details.return_rate(customer),
            return_rate_text=percent_text(details.return_rate(customer)),
            insight=details.insight(customer),
            chart=details.spend_chart(customer),
            watchlist_entry=watchlist_entry(customer),
            can_manage_watchlist=Action.MANAGE_WATCHLIST in self.actions,
        )
        return context
