"""Erasing one customer's personal data: confirm (GET), erase (POST). The service is services/erasure.py."""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin import messages

from ...models import Customer
from ...permissions import Action
from ...services.erasure import erase_customer, erasure_summary
from .access import next_url
from .delete import CustomerConfirmView


class CustomerEraseView(CustomerConfirmView):
    """Confirm (GET) and erase (POST) one customer's personal data; needs ``Action.ERASE`` on its account."""

    template_name = "wagtail_customers/listing/confirm_erase.html"
    page_title = gettext_lazy("Erase personal data")
    header_icon = "user"
    action = Action.ERASE
    refusal = gettext_lazy("You may not erase personal data of this seller account's customers.")

    @cached_property
    def summary(self):
        return erasure_summary(Customer.objects.filter(pk=self.object.pk))

    def get_erase_url(self):
        return reverse("wagtail_customers:erase", args=(self.object.pk,))

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            customer=self.shown, summary=self.summary, next=next_url(self.request), **kwargs
        )

    def post(self, request, pk):
        if erase_customer(self.object, request.user):
            self.object.refresh_from_db()
            # The message names the pseudonym only: it is kept in the session, which should not hold the erased name.
            messages.success(
                request, _("Personal data erased: the customer is now '%(pseudonym)s'.") % {"pseudonym": self.object}
            )
        else:
            messages.info(request, _("This customer's personal data was already erased."))
        # The customer page stays: it now shows the pseudonym.
        return redirect(next_url(request))
