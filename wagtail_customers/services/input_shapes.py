"""The ingestion service's first check of an order from a site's own code: each field of the right kind.

Channel adapters and the import formats build their ``OrderData`` from parsed text, but a site calling
``record_order`` may hand over a string where a datetime belongs, a dict for the customer, a misspelt status. Each
such value is refused here with an ``IngestionError`` naming the order and the field, before the checks of
``order_checks`` do arithmetic on it (where it was a ``TypeError`` or ``AttributeError`` from deep inside).
Text left ``None`` is read as empty, another plain value (a UUID order id, a country object) as its text, and the
statuses without regard to case or surrounding spaces.
"""

import numbers
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ..models import FulfilmentStatus, OrderStatus, SyncStatus
from .inputs import AddressData, CustomerData, FeedbackData, LineData, OrderData, PromoCodeData

STATUSES = (
    ("status", OrderStatus, frozenset(OrderStatus.values)),
    ("fulfilment_status", FulfilmentStatus, frozenset(FulfilmentStatus.values)),
    ("sync_status", SyncStatus, frozenset(SyncStatus.values)),
)
MILESTONES = ("paid_at", "shipped_at", "delivered_at", "cancelled_at", "refunded_at", "returned_at")
CUSTOMER_TEXTS = ("external_id", "email", "name", "phone")
ADDRESS_TEXTS = ("name", "line1", "line2", "postal_code", "city", "state", "country", "phone")
LINE_TEXTS = ("sku", "product_name")
#: What a field takes, as the message says it: marked here, translated only when a message is built (the checks run
#: for every order, and a translation lookup per field was most of their cost).
TEXT = gettext_noop("text")
DATETIME = gettext_noop("a date and time (datetime)")
WHOLE_NUMBER = gettext_noop("a whole number")
LIST_OF = gettext_noop("a list of %(kind)s")


class WrongShape(Exception):
    """A field of the wrong kind: ``field`` names it as the message shows it, ``expected`` says what it takes
    (untranslated; ``kind`` fills its ``%(kind)s``, if any)."""

    def __init__(self, field, expected, value, kind=None):
        super().__init__(field)
        self.field = field
        self.expected = expected
        self.value = value
        self.kind = kind

    def expected_text(self):
        text = _(self.expected)
        return text % {"kind": self.kind} if self.kind else text


def check_shapes(order_data, error):
    """Raise ``error(message, order_id=...)`` (the ``IngestionError`` class) when a field of ``order_data`` is not of
    the kind the service takes; reads text fields left ``None`` as "" and other plain values (a UUID order id, a
    django-countries ``Country``) as their text, and statuses in lower case."""
    if not isinstance(order_data, OrderData):
        raise error(
            _("An order must be given as an OrderData, not as %(kind)s.") % {"kind": _kind(order_data)}, order_id=None
        )
    try:
        order_data.external_id = _as_text(order_data.external_id).strip()
    except WrongShape:
        order_data.external_id = ""
    order = order_data.external_id
    if not order:
        raise error(_("An order has no order id."))
    try:
        _check(order_data)
    except WrongShape as wrong:
        raise error(
            _("Order %(order)s: %(field)s must be %(expected)s, not %(kind)s.")
            % {
                "order": order[:40],
                "field": wrong.field,
                "expected": wrong.expected_text(),
                "kind": _kind(wrong.value),
            },
            order_id=order,
        ) from None
    for name, choices, values in STATUSES:
        value = getattr(order_data, name)
        written = value if value in values else value.strip().lower()
        if written not in values:
            raise error(
                _("Order %(order)s: %(field)s %(value)s is not one of %(values)s.")
                % {"order": order[:40], "field": name, "value": repr(value[:40]), "values": ", ".join(choices.values)},
                order_id=order,
            )
        setattr(order_data, name, written)


def _check(order_data):
    _require(order_data, "placed_at", datetime, DATETIME, optional=True)
    for name in MILESTONES:
        _require(order_data, name, datetime, DATETIME, optional=True)
    for name, _choices, _values in STATUSES:
        _require(order_data, name, str, TEXT)
    for name in ("channel", "currency"):
        if getattr(order_data, name) is not None:
            _texts(order_data, (name,), "")
    _require(order_data, "customer", CustomerData, "CustomerData")
    _texts(order_data.customer, CUSTOMER_TEXTS, "customer.")
    _require(order_data, "ship_to", AddressData, "AddressData")
    _texts(order_data.ship_to, ADDRESS_TEXTS, "ship_to.")
    _sequence(order_data, "lines", LineData, "LineData")
    for number, line in enumerate(order_data.lines):
        _texts(line, LINE_TEXTS, f"lines[{number}].")
        for name in ("quantity", "returned_quantity"):
            _whole(line, name, f"lines[{number}].{name}")
    _sequence(order_data, "promo_codes", PromoCodeData, "PromoCodeData")
    for number, promo in enumerate(order_data.promo_codes):
        if promo.code is None:
            raise WrongShape(f"promo_codes[{number}].code", TEXT, None)
        _texts(promo, ("code",), f"promo_codes[{number}].")
    _require(order_data, "feedback", FeedbackData, "FeedbackData", optional=True)
    if order_data.feedback is not None:
        _whole(order_data.feedback, "rating", "feedback.rating")
        _texts(order_data.feedback, ("comment",), "feedback.")
        _require(order_data.feedback, "left_at", datetime, DATETIME, optional=True)


def _require(holder, name, kinds, expected, *, optional=False, shown=None):
    value = getattr(holder, name)
    if value is None and optional:
        return
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise WrongShape(shown or name, expected, value)


def _texts(holder, names, prefix):
    """Text fields, each read as its text (``_as_text``)."""
    for name in names:
        value = getattr(holder, name)
        if value.__class__ is not str:
            try:
                setattr(holder, name, _as_text(value))
            except WrongShape:
                raise WrongShape(prefix + name, TEXT, value) from None


#: Values no text field takes: their text would be a representation, not a value ("['a@b.c']", "b'x'", "True").
NOT_TEXT = (bool, bytes, bytearray, list, tuple, dict, set, frozenset)


def _as_text(value):
    """``value`` as text: ``None`` as "" (a site's optional value), a string as it is, a plain value (a number, a
    UUID, a country object) as ``str()`` gives it, as the service always did; a collection or a bool is refused
    (``WrongShape``, its field named by the caller)."""
    if isinstance(value, str):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, NOT_TEXT) or hasattr(value, "__dataclass_fields__"):
        raise WrongShape("", TEXT, value)
    return str(value)


def _whole(holder, name, shown):
    value = getattr(holder, name)
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise WrongShape(shown, WHOLE_NUMBER, value)
    setattr(holder, name, int(value))  # numpy's integers too


def _sequence(order_data, name, item_class, item_name):
    items = getattr(order_data, name)
    if not isinstance(items, list | tuple):
        raise WrongShape(name, LIST_OF, items, kind=item_name)
    for number, item in enumerate(items):
        if not isinstance(item, item_class):
            raise WrongShape(f"{name}[{number}]", item_name, item)
    setattr(order_data, name, list(items))


def _kind(value):
    """How a message names a value's kind: ``None``, or its type with the value when short (``str '2025-06-01'``)."""
    if value is None:
        return "None"
    text = repr(value)
    kind = type(value).__name__
    return f"{kind} {text}" if len(text) <= 40 and isinstance(value, str | numbers.Number) else kind
