"""Scoped look-ups for the customer and order pages; every id from the URL goes through here."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import NoReverseMatch, reverse

from ...ids import parse_id
from ...models import Customer, Order
from ...permissions import Action, can, customers_for, orders_for

#: The header actions, in the order they appear.
#: With "See personal data": it decides what the page masks and whether the access request is offered.
HEADER_ACTIONS = (
    Action.MANAGE_WATCHLIST,
    Action.EMAIL,
    Action.EXPORT,
    Action.DELETE,
    Action.ERASE,
    Action.SEE_PERSONAL_DATA,
)


def scoped_customer(user, pk, *, related=("account", "watchlist_entry")):
    """The customer ``pk`` if the user may view it; 404 otherwise (also for another account's customer)."""
    pk = parse_id(pk)
    if pk is None:
        raise Http404
    try:
        return customers_for(user, Action.VIEW).select_related(*related).get(pk=pk)
    except Customer.DoesNotExist as error:
        raise Http404 from error


def scoped_order(user, pk):
    """The order ``pk`` with its account, customer and feedback, if the user may view it; 404 otherwise."""
    queryset = orders_for(user, Action.VIEW).select_related("account", "customer", "feedback")
    pk = parse_id(pk)
    if pk is None:
        raise Http404
    try:
        return queryset.get(pk=pk)
    except Order.DoesNotExist as error:
        raise Http404 from error


def require(user, action, account):
    """403 when the user may see the account's customers but not do ``action`` on them."""
    if not can(user, action, account):
        raise PermissionDenied


def allowed_actions(user, account):
    """The header actions the user may do on ``account``."""
    return {action for action in HEADER_ACTIONS if can(user, action, account)}


def optional_url(name, *args):
    """``reverse(name, args)``, or ``None`` while the feature that owns the URL is not installed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None
