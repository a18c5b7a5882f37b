"""Finding customers by what the screens call them (``models.customers.customer_label``).

A search term matches the name, the e-mail, the channel's buyer id, and, for a customer known only
by an order, the readable label "Buyer of order #<order id>": a part of the order id, a part of the
label's words, or both across the "#" (``order #12`` finds order 123-...). One ``Q`` on the
customer's own columns: no join, no query per row.
"""

from django.db.models import Q

from .models.customers import BUYER_OF_ORDER, ORDER_KEY_PREFIX


def label_head():
    """The label's words before the order id, in the active language (``buyer of order #``)."""
    return str(BUYER_OF_ORDER % {"order": ""}).lower()


def order_label_filter(term):
    """Customers known by an order whose "Buyer of order #..." label contains ``term``."""
    head, lowered = label_head(), term.lower()
    by_order = Q(identity_key__startswith=ORDER_KEY_PREFIX)
    if lowered in head:
        return by_order
    matches = Q(identity_key__icontains=term)
    for split in range(1, len(term)):
        # The term's start ends the label's words, its rest starts the order id.
        if head.endswith(lowered[:split]):
            rest = term[split:]
            # The label drops the "#" Shopify order names start with.
            matches |= Q(identity_key__istartswith=ORDER_KEY_PREFIX + rest)
            matches |= Q(identity_key__istartswith=f"{ORDER_KEY_PREFIX}#{rest}")
    return by_order & matches


def search_filter(term):
    """The ``Q`` for the listing's search box (``term`` is stripped and non-empty)."""
    return (
        Q(name__icontains=term) | Q(email__icontains=term) | Q(external_id__icontains=term) | order_label_filter(term)
    )
