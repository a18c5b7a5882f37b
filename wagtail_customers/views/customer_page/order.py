"""The order page: summary, lines, promo codes, totals and the P&L."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import HeaderButton

from ...permissions import Action, can
from ...services.personal_data import order_for_user
from ...services.profit import profit_and_loss
from .access import scoped_order
from .buttons import HeaderActionsMenu
from .conversion import conversion_of
from .details import ADDRESS_FIELDS, address_lines
from .orders import PRIMARY_STATUSES, email_button


class OrderDetailView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_customers/customer_page/order.html"
    header_icon = "doc-full"

    def get(self, request, *args, **kwargs):
        # Ship-to, feedback comment and customer masked unless the user may see them (services/personal_data.py).
        self.order = order_for_user(request.user, scoped_order(request.user, kwargs["pk"]))
        self.can_email = can(request.user, Action.EMAIL, self.order.account_id)
        return super().get(request, *args, **kwargs)

    def get_page_title(self):
        return _("Order %(order_id)s") % {"order_id": self.order.external_id}

    def customer_url(self):
        return reverse("wagtail_customers_customer:detail", args=[self.order.customer_id])

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtail_customers:index"), "label": _("Customers")},
            {"url": self.customer_url(), "label": str(self.order.customer)},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_header_buttons(self):
        buttons = [HeaderButton(_("Customer"), self.customer_url(), icon_name="user", priority=20)]
        if self.can_email and not self.order.customer.erased_at:
            buttons.append(email_button(self.order.customer, self.order, cls=HeaderButton))
        self.header_buttons = buttons
        # The same actions again, as one menu for a narrow window (buttons.HeaderActionsMenu): the buttons took a
        # second line of the pinned header there.
        return [*super().get_header_buttons(), HeaderActionsMenu(buttons)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        order = self.order
        # The customer's account is the order's: spare a query when building the e-mail link.
        order.customer.account = order.account
        lines = list(order.lines.all())
        for line in lines:
            line.net_total = line.line_total - line.discount
        context.update(
            order=order,
            customer=order.customer,
            lines=lines,
            promo_codes=list(order.promo_codes.all()),
            ship_to=address_lines(*(getattr(order, name) for name in ADDRESS_FIELDS)),
            milestones=order.milestones(),
            status_is_primary=order.status in PRIMARY_STATUSES,
            pl=profit_and_loss(order, lines, account_currency=order.account.currency),
            conversion=conversion_of(order, order.account.currency),
        )
        return context
