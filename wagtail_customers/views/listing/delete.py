"""Deleting customers: what goes with them, and the confirmation page (the deletion itself: services/deletion.py)."""

from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ...models import Order, OrderEvent, WatchlistEntry
from ...permissions import Action, can
from ...services.deletion import delete_customers
from ...services.personal_data import shown_copy
from .access import customer_or_404, forbidden, next_url


def deletion_summary(customers):
    """What deleting ``customers`` (a queryset) also deletes: three counting queries."""
    customer_ids = customers.order_by().values("pk")
    return {
        "customers": customers.order_by().aggregate(n=Count("pk"))["n"],
        "orders": Order.objects.filter(customer__in=customer_ids).count(),
        "watchlist_entries": WatchlistEntry.objects.filter(customer__in=customer_ids).count(),
        "events": OrderEvent.objects.filter(customer__in=customer_ids).count(),
    }


class CustomerConfirmView(WagtailAdminTemplateMixin, TemplateView):
    """A confirmation page (GET) for an action on one customer, done by ``post``; other methods answer 405.

    A customer the user may not view answers 404; one they may view but not do ``action`` on, 403 with
    ``refusal``. Subclasses set both and define ``post``.
    """

    action = None
    refusal = None

    def dispatch(self, request, pk):
        self.object = customer_or_404(request.user, pk)
        if not can(request.user, self.action, self.object.account_id):
            return forbidden(request, str(self.refusal))
        return super().dispatch(request, pk)

    @cached_property
    def shown(self):
        """The customer as the page names them: masked unless the user may see their personal data
        (services/personal_data.py). ``object`` stays whole for the action itself."""
        return shown_copy(self.request.user, self.object)

    def get_page_subtitle(self):
        return str(self.shown)

    def get_breadcrumbs_items(self):
        return []


class CustomerDeleteView(CustomerConfirmView):
    """Confirm (GET) and delete (POST) one customer; needs ``Action.DELETE`` on its seller account."""

    template_name = "wagtail_customers/listing/confirm_delete.html"
    page_title = gettext_lazy("Delete customer")
    header_icon = "bin"
    action = Action.DELETE
    refusal = gettext_lazy("You may not delete customers of this seller account.")

    @cached_property
    def summary(self):
        return deletion_summary(self.object._meta.model.objects.filter(pk=self.object.pk))

    def get_delete_url(self):
        return reverse("wagtail_customers:delete", args=(self.object.pk,))

    def get_success_url(self):
        url = next_url(self.request)
        # After deleting, never go back to the customer's own page.
        customer_url = reverse("wagtail_customers_customer:detail", args=(self.object.pk,))
        return reverse("wagtail_customers:index") if url.startswith(customer_url) else url

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            customer=self.shown, summary=self.summary, next=next_url(self.request), **kwargs
        )

    def post(self, request, pk):
        name = str(self.shown)
        success_url = self.get_success_url()
        delete_customers(self.object._meta.model.objects.filter(pk=self.object.pk), request.user)
        messages.success(request, _("Customer '%(customer)s' deleted.") % {"customer": name})
        return redirect(success_url)
