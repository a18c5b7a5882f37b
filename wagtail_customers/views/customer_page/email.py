"""E-mail the customer: the channel's contact page when the seller account has one, else a form."""

import logging

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ...ids import parse_id
from ...models import Customer
from ...permissions import Action
from ...services.contact import (
    AlreadySent,
    ContactReason,
    contact_url,
    send_customer_email,
    send_failure_reason,
    sender_address,
)
from ...services.personal_data import shown_copy
from ..transactions import outside_request_transaction
from .access import require, scoped_customer
from .buttons import latest_order

logger = logging.getLogger(__name__)


class EmailCustomerForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason for contacting"),
        choices=[("", _("Choose a reason")), *ContactReason.choices],
        help_text=_("The subject starts with it, so the customer sees at once what the e-mail is about."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(
        label=_("Message"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Sent as plain text."),
    )
    order = forms.CharField(
        label=_("Order reference"),
        max_length=100,
        required=False,
        help_text=_("Optional: the order id this e-mail is about. It is recorded with the e-mail on the timeline."),
    )

    def __init__(self, *args, customer, **kwargs):
        self.customer = customer
        super().__init__(*args, **kwargs)

    def clean_subject(self):
        subject = self.cleaned_data["subject"]
        # A line break in a header would let the text add headers of its own; Python's e-mail package refuses
        # every character str.splitlines() breaks on (vertical tab, form feed, U+2028...), not only \r and \n.
        if len(f"{subject}.".splitlines()) > 1:
            raise ValidationError(_("The subject must be on one line."))
        return subject.strip()

    def clean_order(self):
        reference = self.cleaned_data["order"].strip()
        if not reference:
            return None
        order = self.customer.orders.filter(external_id=reference).first()
        if order is None:
            raise ValidationError(_("This customer has no order with this id."))
        return order


class EmailCustomerView(WagtailAdminTemplateMixin, FormView):
    template_name = "wagtail_customers/customer_page/email.html"
    form_class = EmailCustomerForm
    header_icon = "mail"

    @classmethod
    def as_view(cls, **initkwargs):
        # The e-mail's record commits before the send (services/contact.py): under ATOMIC_REQUESTS' transaction it
        # and its lock of the customer's row would last until the answer, across the send.
        return outside_request_transaction(super().as_view(**initkwargs))

    def dispatch(self, request, *args, **kwargs):
        self.customer = scoped_customer(request.user, kwargs["pk"], related=("account",))
        require(request.user, Action.EMAIL, self.customer.account)
        # What the page shows: masked unless the user may see personal data (the e-mail still goes to the
        # real address, which the user then never sees).
        self.shown_customer = shown_copy(request.user, self.customer)
        self.order = self._order_from_query()
        self.channel_url = contact_url(self.customer.account, self.order or latest_order(self.customer))
        return super().dispatch(request, *args, **kwargs)

    def _order_from_query(self):
        """``?order=<pk>``: one of this customer's orders (404 for anything else)."""
        value = self.request.GET.get("order")
        if value in (None, ""):
            return None
        pk = parse_id(value)
        if pk is None:
            raise Http404
        try:
            return self.customer.orders.get(pk=pk)
        except self.customer.orders.model.DoesNotExist as error:
            raise Http404 from error

    @property
    def can_send(self):
        return not self.channel_url and bool(self.customer.email) and not self.customer.erased_at

    def customer_url(self):
        return reverse("wagtail_customers_customer:detail", args=[self.customer.pk])

    def get_page_title(self):
        return _("E-mail %(customer)s") % {"customer": self.shown_customer}

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtail_customers:index"), "label": _("Customers")},
            {"url": self.customer_url(), "label": str(self.shown_customer)},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["customer"] = self.customer
        return kwargs

    def get_initial(self):
        return {"order": self.order.external_id} if self.order else {}

    def post(self, request, *args, **kwargs):
        if not self.can_send:
            # Nothing to send to (or the channel takes the messages): show the page again, send nothing.
            return self.render_to_response(self.get_context_data(), status=400)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            send_customer_email(
                self.customer,
                subject=form.cleaned_data["subject"],
                message=form.cleaned_data["message"],
                user=self.request.user,
                order=form.cleaned_data["order"],
                reason=form.cleaned_data["reason"],
            )
        except Customer.DoesNotExist as error:
            # Deleted, or merged into another, since the page read them: as for a customer already gone.
            raise Http404 from error
        except AlreadySent as refused:
            # A double click: the first request sent it (and shows it on the timeline), this one sends nothing.
            messages.warning(self.request, str(refused))
            return redirect(self.customer_url())
        except (OSError, ValueError) as error:
            # The details (which may quote the address) go to the log only: the user may not see the address.
            logger.warning("E-mail to customer %s failed: %r", self.customer.pk, error)
            messages.error(self.request, send_failure_reason(self.customer, error))
            return self.render_to_response(self.get_context_data(form=form), status=502)
        messages.success(self.request, gettext("E-mail sent to %(email)s.") % {"email": self.shown_customer.email})
        # The Timeline tab opens first; no anchor, so the page stays at the top with its message.
        return redirect(self.customer_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.can_send:
            context.pop("form", None)
        context.update(
            customer=self.shown_customer,
            order=self.order,
            channel_url=self.channel_url,
            can_send=self.can_send,
            sender=sender_address(),
            customer_url=self.customer_url(),
        )
        return context
