"""Finding customers by what the screens call them (``models.customers.customer_label``) and by what a
seller has at hand when a buyer writes in: a phone number, a postal code, an order id.

A search term matches

* the name, the e-mail and the channel's buyer id (anywhere in the text);
* for a customer known only by an order, the readable label "Buyer of order #<order id>": a part of
  the order id, a part of the label's words, or both across the "#" (``order #12`` finds order 123-...);
* the phone, ignoring spaces, dashes, dots, slashes, brackets and "+" (``555-0123`` finds
  ``+1 (555) 0123``), when the term looks like a phone number (4 digits or more);
* the postal code, ignoring spaces (``sw1a1aa`` finds ``SW1A 1AA``), when the term has a digit;
* the id of one of the customer's orders, exactly but case-insensitively, with or without the "#"
  Shopify's order names start with (``1046`` and ``#1046`` both find order ``#1046``), when the term has
  a digit (every channel's order ids have; a name search then never reads the orders table).

Double quotes, straight or typographic, group: ``"Mary Kelly"`` finds what ``Mary Kelly`` finds (the term is one
text matched as a whole, a phrase already), and stray or unbalanced quotes are left out (``search_term``). A term
with quotes also finds the names, e-mails and buyer ids holding it as typed (``Bob "The Builder"``), and the search
box holding nothing but quotes is no search (``search_box_term``).

One ``Q``: the customer's own columns plus one subquery on the orders (no join, no query per row). A term that
can only match inside the texts ``services.search_index`` indexes is narrowed by that index, so a term matching
nobody does not read every customer. Scoping is the caller's: the listing filters its scoped queryset with it, so
an order of an account the user may not view never brings its customer in.
"""

import re

from django.db.models import F, Func, Q, Value
from django.db.models.functions import Replace, Upper
from django.db.models.lookups import Contains, IContains

from .models.customers import BUYER_OF_ORDER, ORDER_KEY_PREFIX
from .models.orders import Order
from .services import search_index

#: What people type between a phone number's digits; left out on both sides when comparing phones.
PHONE_SEPARATORS = (" ", "-", ".", "/", "(", ")", "+")
#: A term is compared with phones when, without those separators, it is this many digits or more.
PHONE_MIN_DIGITS = 4
PHONE_LIKE = re.compile(r"[\d\s\-./()+]+")

#: Double quotes people type around a name or a phrase from habit: straight, typographic (as phones and word
#: processors write them) and guillemets.
QUOTES = '"\u201c\u201d\u201e\u201f\u00ab\u00bb'
#: A run of quotes with the spaces around it.
QUOTED = re.compile(rf"\s*[{QUOTES}]+\s*")

#: The longest term the search compares; a longer one matches nothing. Far past every text it is compared with (a
#: customer's identity key, the longest, holds 300 characters), and its LIKE patterns stay far below the 50,000
#: bytes SQLite takes (a longer pattern is an error, "LIKE or GLOB pattern too complex": a 500).
MAX_TERM_LENGTH = 1000

#: A SQL function lowering a text as Python does, registered on each SQLite connection (``register_sqlite_lower``):
#: SQLite's own ``lower()`` and ``LIKE`` fold ASCII letters only ('Élodie' LIKE '%élodie%' is false).
SQLITE_LOWER = "wc_lower"


def _lower(text):
    return text.lower() if isinstance(text, str) else text


def register_sqlite_lower(sender, connection, **kwargs):
    """``connection_created`` receiver: give each new SQLite connection ``SQLITE_LOWER``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_LOWER, 1, _lower, deterministic=True)


class TextContains(IContains):
    """``icontains``, case-insensitive beyond ASCII on SQLite too: a term with a non-ASCII character is compared
    with the text both lowered by ``SQLITE_LOWER``. An ASCII term keeps SQLite's ``LIKE`` (a Python call per row
    costs more, and ASCII is what ``LIKE`` folds), and PostgreSQL keeps ``icontains``' SQL, which its trigram
    indexes serve."""

    def as_sqlite(self, compiler, connection):
        if isinstance(self.rhs, str) and not self.rhs.isascii():
            lowered = Func(self.lhs, function=SQLITE_LOWER, output_field=self.lhs.output_field)
            return Contains(lowered, self.rhs.lower()).as_sql(compiler, connection)
        return super().as_sql(compiler, connection)


def text_contains(field, term):
    """Customers whose ``field`` contains ``term``, in any case (``TextContains``)."""
    return Q(TextContains(F(field), term))


def search_term(text):
    """What the search compares for ``text``: stripped, its double quotes left out (``QUOTES``). A run of quotes
    between words leaves one space where it had space around it (``"Mary" "Kelly"``, ``Mary " Kelly``: ``Mary
    Kelly``), none inside a word (``Kel"ly``: ``Kelly``); quotes only give an empty term."""
    return QUOTED.sub(lambda quotes: " " if quotes.group().strip(QUOTES) else "", text).strip()


def search_box_term(text):
    """The search box's ``text`` stripped, or ``""`` (no search) when it holds nothing but double quotes."""
    return text.strip() if search_term(text) else ""


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


def _without(expression, characters):
    for character in characters:
        expression = Replace(expression, Value(character), Value(""))
    return expression


def phone_filter(term):
    """Customers whose phone contains the term's digits, or nothing when the term is no phone number."""
    digits = "".join(character for character in term if character.isdigit())
    if not PHONE_LIKE.fullmatch(term) or len(digits) < PHONE_MIN_DIGITS:
        return Q(pk__in=[])
    return Q(Contains(_without(F("phone"), PHONE_SEPARATORS), digits))


def postal_code_filter(term):
    """Customers whose postal code contains the term, spaces left out; nothing for a term without a digit
    (every postal code format the plugin meets has one, and names are searched far more often)."""
    compact = term.replace(" ", "")
    if not any(character.isdigit() for character in compact):
        return Q(pk__in=[])
    return Q(Contains(Upper(_without(F("postal_code"), " ")), compact.upper()))


def order_id_variants(term):
    """The order ids ``term`` may mean, upper-cased: as typed, and with or without Shopify's "#"; none
    for a term without a digit."""
    if not any(character.isdigit() for character in term):
        return []
    bare = term.upper().removeprefix("#")
    return [bare, f"#{bare}"]


def orders_with_id(term):
    """Orders (of every account: scope them) whose id is ``term``, case-insensitively, "#" or not."""
    return Order.objects.annotate(upper_id=Upper("external_id")).filter(upper_id__in=order_id_variants(term))


def order_id_filter(term):
    """Customers with an order whose id is ``term`` (one subquery on the orders), or nothing."""
    if not order_id_variants(term):
        return Q(pk__in=[])
    return Q(pk__in=orders_with_id(term).values("customer_id"))


def order_found_by(term, customers):
    """The order ``term`` names when it is an order of exactly one customer among ``customers`` (the
    listing's scoped, filtered rows) and that customer is not already known by that order; else ``None``.

    The listing says "Order #1046 is from <customer>" above the rows with it. One query, none for a term
    that cannot be an order id. Double quotes around the id are left out (``search_term``)."""
    term = search_term(term)
    if not order_id_variants(term):
        return None
    orders = list(
        orders_with_id(term).filter(customer__in=customers.values("pk")).select_related("customer").order_by("pk")[:2]
    )
    if len({order.customer_id for order in orders}) != 1:
        return None
    buyer = orders[0].customer
    # A buyer known only by this order is called "Buyer of order #..." on its row already.
    known_by_the_order = buyer.identity_key.startswith(ORDER_KEY_PREFIX) and not (buyer.name or buyer.email)
    return None if known_by_the_order else orders[0]


def found_only_in_indexed_texts(term):
    """Whether every customer ``search_filter(term)`` matches has ``term`` inside its name, e-mail, buyer id or
    order key: the term has no digit (no phone, postal code or order id match) and is no part of the order label's
    words (which match customers known by an order whatever their key)."""
    if any(character.isdigit() for character in term):
        return False
    head, lowered = label_head(), term.lower()
    return lowered not in head and not any(head.endswith(lowered[:split]) for split in range(1, len(term)))


def search_filter(term, personal_scope=None):
    """The ``Q`` for the listing's search box (``term`` is stripped and non-empty: ``search_box_term``).

    ``personal_scope``: a ``Q`` narrowing the matches by personal data (name, e-mail, buyer id, phone, postal
    code) to the customers whose personal data the user may see (``services.personal_data``); ``None`` for
    no narrowing. The order label and order ids name nobody and match everywhere.

    A term with double quotes is searched without them (``search_term``) and, for the names, e-mails and buyer
    ids that hold quotes themselves, as typed."""
    # No stored text holds a NUL (PostgreSQL refuses one in a query's text, FTS5 ends its query text there).
    term = term.replace("\x00", "")
    if len(term) > MAX_TERM_LENGTH:
        return Q(pk__in=[])
    unquoted = search_term(term)
    matches = _unquoted_filter(unquoted, personal_scope) if unquoted else Q(pk__in=[])
    if term and term != unquoted:
        as_typed = _texts_filter(term)
        if personal_scope is not None:
            as_typed = personal_scope & as_typed
        if (indexed := search_index.candidates(term)) is not None:
            as_typed = indexed & as_typed
        matches |= as_typed
    return matches


def _texts_filter(term):
    """Customers whose name, e-mail or buyer id contains ``term``."""
    return text_contains("name", term) | text_contains("email", term) | text_contains("external_id", term)


def _unquoted_filter(term, personal_scope):
    personal = _texts_filter(term) | phone_filter(term) | postal_code_filter(term)
    if personal_scope is not None:
        personal = personal_scope & personal
    matches = personal | order_label_filter(term) | order_id_filter(term)
    if found_only_in_indexed_texts(term) and (indexed := search_index.candidates(term)) is not None:
        matches = indexed & matches
    return matches
