"""Template filters of the customer and order pages."""

from django import template

from ..views.customer_page.format import money as format_money

register = template.Library()


@register.filter
def money(amount, currency):
    """``{{ order.total|money:order.currency }}`` → ``1,234.50 USD``."""
    return format_money(amount, currency)
