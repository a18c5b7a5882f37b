"""Placeholder customer page; the customer-page issue replaces it with the full page."""

from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from ...permissions import Action, customers_for


def customer_detail(request, pk):
    customer = get_object_or_404(customers_for(request.user, Action.VIEW).select_related("account"), pk=pk)
    return TemplateResponse(
        request, "wagtail_customers/customer_page/detail.html", {"customer": customer, "page_title": str(customer)}
    )
