"""Template filters shared by the plugin's admin screens."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from ..insight.display import percent_text
from ..money import format_money, unconverted_note

register = template.Library()


@register.filter
def money(amount, currency):
    """``{{ order.total|money:order.currency }}``: the amount in the admin user's language (``1.234,50 €`` in
    German, ``€1,234.50`` in English); empty for ``None``."""
    return format_money(amount, currency)


@register.filter
def signed_money(amount, currency):
    """``money``, with a negative amount written with the minus sign the P&L's deductions use (``−$9.80``), not the
    locale's hyphen: a loss reads like the lines above it."""
    if amount is not None and amount < 0:
        return "\u2212" + format_money(-amount, currency)
    return format_money(amount, currency)


@register.filter
def percent(rate):
    """``{{ rate|percent }}``: a percentage as the admin user's language writes it (``percent_text``), kept on one
    line, a negative one with the minus sign of the P&L's deductions; empty for ``None``."""
    if rate is None:
        return ""
    text = "\u2212" + percent_text(-rate) if rate < 0 else percent_text(rate)
    return text.replace(" ", "\N{NO-BREAK SPACE}")


@register.inclusion_tag("wagtail_customers/_incomplete_marker.html")
def incomplete_marker(unconverted_orders, visible=False):
    """After an amount that leaves out orders with no exchange rate: a warning sign and the reason, as a
    tooltip and text for screen readers (a table cell), or written out (``visible=True``, where there is
    room); nothing when ``unconverted_orders`` is 0."""
    return {"note": unconverted_note(unconverted_orders) if unconverted_orders else "", "visible": visible}


@register.filter
def name_search_landmark(html, label):
    """Give the slim header's search form (``role="search"``) an accessible name.

    Wagtail's sidebar has an unnamed search landmark too; two unnamed ones fail axe's
    ``landmark-unique``. Wagtail's template offers no block for the form's attributes, so the name is
    added to its rendered tag rather than copying the whole form (which differs between versions).
    """
    if not label:
        return html
    return mark_safe(str(html).replace('role="search"', format_html('role="search" aria-label="{}"', label), 1))
