"""Who may see customers' personal data, and how it is masked for everyone else: the one place that decides.

Personal data is the customer's name, e-mail, phone, buyer id on the channel and address (lines, postal
code, city, state), the same on their orders' ship-to, and the free text written by or about the buyer (a
watchlist note, a feedback comment, a timeline message). The country is kept, as erasure keeps it: it names
nobody and statistics by country keep working. Figures (orders, amounts, units, dates) are never masked.

A user sees it on a seller account when they hold ``Action.SEE_PERSONAL_DATA`` there (a grant's "See personal
data", or the ``view_personal_data`` permission through a group, or superuser status). Every screen and export
asks this module: the pages and listings mask the instances they render (``mask_customer``, ``mask_order``,
``mask_customers``), so every renderer of those instances (columns, templates, ``str(customer)``, exports)
shows the masked values without knowing about masking; search leaves the personal fields out for the
accounts the user may not see them on (``personal_search_scope``, or ``personal_search_scope_of_ids`` where the
accounts' ids are read already).

A masked value is a ``HiddenValue``: in plain text (CSV and XLSX cells, page titles) it reads "[hidden]"; in
HTML it is a row of dots with "hidden" for screen readers, so nobody mistakes it for an empty field. A masked
customer is called "Customer #<id>" (or "Buyer of order #<order id>"), as a customer with no name is.

Masked instances must never be saved: ``pre_save`` refuses them (``connect``), so a masked value can never
overwrite the real one.
"""

import copy

from django.db.models import Q
from django.db.models.signals import pre_save
from django.utils.html import format_html
from django.utils.translation import gettext as _

from ..models import Customer, Order
from ..models.customers import customer_label
from ..permissions import Action, accounts_for, can, has_module_permission

#: Customer fields masked (the country stays).
CUSTOMER_FIELDS = tuple(name for name in Customer.DETAIL_FIELDS if name != "country")
#: Order fields masked (the ship-to country stays).
ORDER_FIELDS = tuple(name for name in Order.SHIP_TO_FIELDS if name != "ship_country")
#: Listing columns (``columns.COLUMNS``) whose order would rank masked values: not sortable while masked.
PERSONAL_SORTS = frozenset({"name", "email", "postal_code", "city", "state"})
#: The attribute that marks a masked instance.
MASKED = "_wc_personal_data_masked"


class HiddenValue(str):
    """A personal value the user may not see: "[hidden]" as text, dots plus "hidden" for screen readers in HTML."""

    hidden = True

    def __new__(cls):
        return super().__new__(cls, _("[hidden]"))

    def __html__(self):
        return format_html(
            '<span class="wc-hidden-value" title="{title}"><span aria-hidden="true">•••••</span>'
            '<span class="w-sr-only">{label}</span></span>',
            title=_("Hidden: you may not see this customer's personal data"),
            label=_("hidden"),
        )


def is_hidden(value):
    return getattr(value, "hidden", False) is True


def may_see_personal_data(user, account):
    """May ``user`` see the personal data of ``account``'s customers (a ``SellerAccount`` or its id)?"""
    return can(user, Action.SEE_PERSONAL_DATA, account)


def personal_account_ids(user):
    """The ids of the enabled seller accounts whose personal data ``user`` may see (one query)."""
    return set(accounts_for(user, Action.SEE_PERSONAL_DATA).values_list("pk", flat=True))


def is_masked(instance):
    return getattr(instance, MASKED, False)


def _mask_fields(instance, fields):
    for name in fields:
        if getattr(instance, name):
            setattr(instance, name, HiddenValue())
    setattr(instance, MASKED, True)
    return instance


def mask_text(text):
    """Free text about the buyer (a note, a comment, a message), masked; empty stays empty."""
    return HiddenValue() if text else text


def mask_customer(customer):
    """``customer`` with its personal data masked, in place (and its watchlist note, when loaded)."""
    if is_masked(customer):
        return customer
    _mask_fields(customer, CUSTOMER_FIELDS)
    # The label is "Customer #<id>" (or "Buyer of order #..."), not "[hidden]" (models.customers.customer_label).
    entry = customer._state.fields_cache.get("watchlist_entry")
    if entry is not None:
        entry.note = mask_text(entry.note)
        setattr(entry, MASKED, True)
    return customer


def mask_order(order):
    """``order`` with its ship-to, its feedback comment and its loaded customer masked, in place."""
    if is_masked(order):
        return order
    _mask_fields(order, ORDER_FIELDS)
    feedback = order._state.fields_cache.get("feedback")
    if feedback is not None:
        feedback.comment = mask_text(feedback.comment)
        setattr(feedback, MASKED, True)
    customer = order._state.fields_cache.get("customer")
    if customer is not None:
        mask_customer(customer)
    return order


def for_user(user, customer):
    """``customer`` as ``user`` may see it: masked unless they may see its account's personal data."""
    return customer if may_see_personal_data(user, customer.account_id) else mask_customer(customer)


def shown_copy(user, customer):
    """A copy of ``customer`` for display, masked as ``user`` may see it; ``customer`` itself stays whole
    (for a view that also acts on the real values, as the e-mail form sends to the real address)."""
    shown = copy.copy(customer)
    shown._state = copy.copy(customer._state)
    shown._state.fields_cache = dict(customer._state.fields_cache)
    return for_user(user, shown)


def order_for_user(user, order):
    """``order`` (with its customer) as ``user`` may see it."""
    return order if may_see_personal_data(user, order.account_id) else mask_order(order)


def mask_customers(user, customers, *, visible_ids=None):
    """Customers (any iterable; returned as a list) as ``user`` may see them, masked per seller account.

    ``visible_ids``: ``personal_account_ids(user)`` when the caller has it already (else one query)."""
    visible_ids = personal_account_ids(user) if visible_ids is None else visible_ids
    return [customer if customer.account_id in visible_ids else mask_customer(customer) for customer in list(customers)]


def mask_entries(user, entries, *, visible_ids=None):
    """Watchlist entries (with their customer loaded) as ``user`` may see them: the customer and the note
    masked for the accounts whose personal data the user may not see. Returns a list."""
    visible_ids = personal_account_ids(user) if visible_ids is None else visible_ids
    entries = list(entries)
    for entry in entries:
        if entry.customer.account_id not in visible_ids and not is_masked(entry):
            mask_customer(entry.customer)
            entry.note = mask_text(entry.note)
            setattr(entry, MASKED, True)
    return entries


def mask_row(row, *, name_keys=("name", "email", "external_id")):
    """An export row (a ``values()`` dict), masked in place: every personal key present and not empty reads
    "[hidden]" (plain text, for CSV and XLSX cells), and the name the customer's label ("Customer #<id>",
    "Buyer of order #...") when the row has what the label needs."""
    text = str(HiddenValue())
    for key in (*CUSTOMER_FIELDS, *ORDER_FIELDS):
        if row.get(key):
            row[key] = text
    if "name" in row and "id" in row and "identity_key" in row:
        row["name"] = str(customer_label("", "", "", row["identity_key"], row["id"]))
    return row


def personal_search_scope(user, account_path="account"):
    """The ``Q`` a search by personal data must add: rows of the accounts whose personal data the user may see.

    Search by name, e-mail, phone, postal code or buyer id finds only customers whose data the user could
    read, so a masked value cannot be found out by searching for it."""
    return Q(**{f"{account_path}__in": accounts_for(user, Action.SEE_PERSONAL_DATA)})


def personal_search_scope_of_ids(user, visible_ids, in_view_ids):
    """``personal_search_scope(user)`` for rows of the accounts ``in_view_ids``, with the ids written out:
    ``visible_ids`` are the accounts whose personal data the user sees (``personal_account_ids``). As a subquery
    of the grants, PostgreSQL planned the listing's search of a user without personal data on some account as a
    scan (a staff member's search at L: 94 ms, a superuser's 29 ms).

    ``None`` (no narrowing) only for a user who sees every account's personal data by permission: a grant's
    reading is not trusted to cover the rows, which are scoped again when the query runs (an account granted
    meanwhile must not match by personal data)."""
    if has_module_permission(user, Action.SEE_PERSONAL_DATA):
        return None
    return Q(account_id__in=sorted(set(visible_ids) & set(in_view_ids)))


def refuse_masked_save(sender, instance, **kwargs):
    if is_masked(instance):
        raise ValueError(f"{sender.__name__} {instance.pk} was masked for display; it cannot be saved.")


def connect():
    """Refuse to save masked instances (called from ``AppConfig.ready``)."""
    from ..models import Feedback, WatchlistEntry

    for model in (Customer, Order, Feedback, WatchlistEntry):
        pre_save.connect(refuse_masked_save, sender=model, dispatch_uid=f"wc_masked_{model.__name__}")
