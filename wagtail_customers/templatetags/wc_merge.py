"""``{% customer_merges customer as merges %}``: the merges into a customer, for its page (see merge views)."""

from django import template

from ..views.customer_page.merge import merge_history

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_merges(context, customer):
    return merge_history(context["request"].user, customer)
