"""Erasing a customer's personal data (GDPR art. 17) while keeping the seller's books.

An erased customer keeps its row, its orders, their amounts and lines, and every statistic, so the
listing's totals do not change. What identifies the person goes:

* the customer's name becomes a pseudonym ("Erased customer 7F3A09C2"); buyer id, e-mail, phone and
  address are emptied (the country stays: statistics by country keep working, and a country names nobody);
* on their orders the ship-to name becomes the pseudonym and the other ship-to fields are emptied (the
  country stays); a feedback comment, a timeline message and a watchlist note become the pseudonym;
* their entries in Wagtail's history are labelled by id ("Customer #12", as new entries are; history_labels.py),
  and the personal values some of them hold (an e-mail's recipient and subject) are removed;
* ``identity_key`` (``id:<buyer id>``, ``email:<address>`` or ``order:<order id>``) is replaced by a keyed
  hash of it, ``erased:<HMAC-SHA256 hex>``. The ingestion service hashes each incoming order's identity
  the same way, so a later import of the same buyer finds the erased customer and writes none of its
  personal data (services/ingestion.py); nobody can get the buyer id or e-mail back from the hash without
  the key.

The key is the ``ERASURE_KEY`` setting, else one derived from ``SECRET_KEY``. The pseudonym comes from the
same hash, so the same customer always gets the same one.
"""

import hashlib
import hmac

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from wagtail.models import ModelLogEntry

from ..conf import get_setting
from ..history_labels import customer_history_label_expression
from ..log_actions import log_each
from ..models import Customer, Feedback, Order, OrderEvent, WatchlistEntry
from . import search_index
from .deadlocks import atomic_with_retries
from .merge import forget_merged_identities

#: ``identity_key`` prefix of an erased customer; the rest is the keyed hash of the former identity key.
ERASED_KEY_PREFIX = "erased:"
ERASE_ACTION = "wagtail_customers.customer.erase"
#: Customers erased per transaction (each with its history entry).
ERASE_BATCH_SIZE = 200

#: Customer fields emptied (``name`` gets the pseudonym; ``country`` stays).
ERASED_CUSTOMER_FIELDS = tuple(name for name in Customer.DETAIL_FIELDS if name not in ("name", "country"))
#: Order fields emptied (``ship_name`` gets the pseudonym; ``ship_country`` stays).
ERASED_ORDER_FIELDS = tuple(name for name in Order.SHIP_TO_FIELDS if name not in ("ship_name", "ship_country"))
#: Keys of history entries' data that hold personal values (``wagtail_customers.email.sent``).
PERSONAL_LOG_KEYS = ("to", "subject")


def erasure_key():
    """The HMAC key: ``ERASURE_KEY`` when set, else a key derived from ``SECRET_KEY`` (never SECRET_KEY itself)."""
    key = get_setting("ERASURE_KEY")
    if isinstance(key, str | bytes) and key:
        return key.encode() if isinstance(key, str) else key
    if key is not None:
        raise ImproperlyConfigured("WAGTAIL_CUSTOMERS['ERASURE_KEY'] must be a non-empty string (check E040).")
    return hmac.new(settings.SECRET_KEY.encode(), b"wagtail_customers.erasure", hashlib.sha256).digest()


def hashed_identity_key(account_id, identity_key, key=None):
    """The ``identity_key`` an erased customer keeps: a keyed hash of the seller account and former key.

    The account is in the hash so that the same buyer erased in two accounts cannot be linked.
    """
    message = f"{account_id}\x00{identity_key}".encode()
    return ERASED_KEY_PREFIX + hmac.new(key or erasure_key(), message, hashlib.sha256).hexdigest()


def is_erased_key(identity_key):
    return identity_key.startswith(ERASED_KEY_PREFIX)


def pseudonym(erased_key):
    """The name an erased customer is shown by: stable, from its hashed identity key, in the site's language."""
    code = erased_key.removeprefix(ERASED_KEY_PREFIX)[:8].upper()
    with translation.override(settings.LANGUAGE_CODE):
        return _("Erased customer %(code)s") % {"code": code}


def erasure_summary(customers):
    """What erasing ``customers`` (a queryset) touches: customers not erased yet, and their orders."""
    pending = customers.filter(erased_at__isnull=True).order_by().values("pk")
    return {
        "customers": pending.count(),
        "already_erased": customers.filter(erased_at__isnull=False).count(),
        "orders": Order.objects.filter(customer__in=pending).count(),
    }


def erase_customers(customers, user=None, compact=True):
    """Erase the personal data of ``customers`` (a queryset); returns how many were erased.

    Customers erased before are left alone. Each erasure is logged as ``wagtail_customers.customer.erase``
    with counts only, never an erased value. ``user`` is ``None`` for the management command.

    The search index is compacted once at the end (``search_index.compact``, SQLite). ``compact=False`` leaves that
    to a caller that erases in many calls (a retention rule's batches: ``services/retention.py``), which then calls
    it once when it is done: a full compaction per batch of 200 took most of a broad rule's first run.
    """
    pks = list(customers.filter(erased_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    key = erasure_key()
    erased = 0
    for start in range(0, len(pks), ERASE_BATCH_SIZE):
        chunk = pks[start : start + ERASE_BATCH_SIZE]
        # Run again if stopped in a deadlock (services/deadlocks.py); inside a caller's transaction, not retried.
        erased += atomic_with_retries(lambda chunk=chunk: _erase_batch(chunk, user, key))
    if erased and compact:
        search_index.compact()
    return erased


def _erase_batch(pks, user, key):
    """Erase the customers of ``pks`` not erased yet, locked until the caller's transaction ends.

    Set-based: a batch costs the same few statements whatever its size, plus its history entries (one each). The
    orders' ship-to name, the feedback comments, timeline messages and watchlist notes become the pseudonym their
    customer has by then, read from the customer's row in the same statement; the other ship-to fields are emptied."""
    customers = list(Customer.objects.select_for_update().filter(pk__in=pks, erased_at__isnull=True).order_by("pk"))
    if not customers:
        return 0
    # First, while the customers still go by the labels their watchlist entries were logged under.
    scrub_history(customers)
    ids = [customer.pk for customer in customers]
    # Counted before the writes, for the history: how much each erasure changed (counts, never a value).
    counts = _personal_value_counts(ids)
    erased_at = timezone.now()
    for customer in customers:
        customer.identity_key = hashed_identity_key(customer.account_id, customer.identity_key, key)
        customer.name = pseudonym(customer.identity_key)
        # The instances as the rows now are (the history entries read them), none of the erased values kept.
        for field in ERASED_CUSTOMER_FIELDS:
            setattr(customer, field, "")
        customer.erased_at = erased_at
    # The values every customer gets in one statement; bulk_update's CASE per row only for the two of their own.
    Customer.objects.filter(pk__in=ids).update(erased_at=erased_at, **dict.fromkeys(ERASED_CUSTOMER_FIELDS, ""))
    Customer.objects.bulk_update(customers, ["identity_key", "name"])
    # Buyers merged into these customers (services/merge.py): their identity keys are hashed too.
    forget_merged_identities(customers, lambda account_id, identity: hashed_identity_key(account_id, identity, key))

    Order.objects.filter(customer__in=ids).update(
        ship_name=_pseudonym_of("customer_id"), **dict.fromkeys(ERASED_ORDER_FIELDS, "")
    )
    Feedback.objects.filter(order__customer__in=ids).exclude(comment="").update(
        comment=Subquery(Customer.objects.filter(orders=OuterRef("order_id")).order_by().values("name")[:1])
    )
    OrderEvent.objects.filter(customer__in=ids).exclude(message="").update(message=_pseudonym_of("customer_id"))
    WatchlistEntry.objects.filter(customer__in=ids).exclude(note="").update(note=_pseudonym_of("customer_id"))
    for customer in customers:
        # An entry of its own for each customer (log_each), with its own counts.
        log_each([customer], ERASE_ACTION, user=user, data=counts[customer.pk])
    return len(customers)


def _pseudonym_of(customer_column):
    """The erased name of the customer ``customer_column`` (of the row being updated) points at."""
    return Subquery(Customer.objects.filter(pk=OuterRef(customer_column)).order_by().values("name")[:1])


def _personal_value_counts(ids):
    """``{customer id: {"orders", "feedback_comments", "timeline_messages", "watchlist_notes"}}``: what erasing
    each of the customers ``ids`` rewrites."""
    counted = {
        "orders": Order.objects.filter(customer__in=ids).values_list("customer_id"),
        "feedback_comments": Feedback.objects.filter(order__customer__in=ids)
        .exclude(comment="")
        .values_list("order__customer_id"),
        "timeline_messages": OrderEvent.objects.filter(customer__in=ids).exclude(message="").values_list("customer_id"),
        "watchlist_notes": WatchlistEntry.objects.filter(customer__in=ids).exclude(note="").values_list("customer_id"),
    }
    counts = {pk: dict.fromkeys(counted, 0) for pk in ids}
    for name, customer_ids in counted.items():
        for customer_id, count in customer_ids.annotate(count=Count("pk")).order_by():
            counts[customer_id][name] = count
    return counts


def erase_customer(customer, user=None):
    """Erase one customer (see ``erase_customers``); returns True if it was not erased before."""
    return bool(erase_customers(Customer.objects.filter(pk=customer.pk), user))


def scrub_history(customers):
    """Label the entries of ``customers`` (a list) in Wagtail's history by id, and those of their watchlist
    entries, and drop the personal values their data holds (an e-mail's recipient and subject).

    Erasing and deleting customers both call it (services/deletion.py), before changing or deleting them: their
    watchlist entries, and the label they go by now, are matched. New entries are labelled by id already
    (history_labels.py); those logged before that carry a name."""
    if not customers:
        return
    customer_ids = [str(customer.pk) for customer in customers]
    entries = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id__in=customer_ids
    )
    _relabel(entries, customer_history_label_expression("object_id"))
    _scrub_watchlist_history(customers)


def _scrub_watchlist_history(customers):
    """Watchlist entries are snippets labelled with the customer's name (``str(entry)``): Wagtail's snippet
    views log them under that label. Relabel the entries the customers have, and those already deleted that
    carry one of their labels (no longer linked to anyone; a namesake's deleted entry loses its name too, which
    errs on the side of privacy)."""
    watchlist_type = ContentType.objects.get_for_model(WatchlistEntry)
    logged = ModelLogEntry.objects.filter(content_type=watchlist_type)
    customer_pks = [customer.pk for customer in customers]
    own = {str(pk) for pk in WatchlistEntry.objects.filter(customer__in=customer_pks).values_list("pk", flat=True)}
    labels = {str(customer) for customer in customers}
    same_label = set(logged.filter(label__in=labels).values_list("object_id", flat=True))
    # Of the entries logged under those labels, those still on someone else's watchlist are a namesake's.
    still_others = {
        str(pk)
        for pk in WatchlistEntry.objects.exclude(customer__in=customer_pks)
        .filter(pk__in=[int(i) for i in same_label if i.isdigit()])
        .values_list("pk", flat=True)
    }
    _relabel(
        logged.filter(object_id__in=own | (same_label - still_others)), Concat(Value("Watchlist entry #"), "object_id")
    )


#: History entries whose data is rewritten per query (a seller account's deletion scrubs all its customers').
RELABEL_BATCH_SIZE = 1000


def _relabel(entries, label):
    entries.update(label=label)
    # Read by pk ranges, each written before the next is read: no cursor stays open on the table while it is
    # written (SQLite does not keep the two apart within one connection).
    with_data = entries.exclude(data={}).only("pk", "data").order_by("pk")
    last = 0
    while batch := list(with_data.filter(pk__gt=last)[:RELABEL_BATCH_SIZE]):
        last = batch[-1].pk
        scrubbed = []
        for entry in batch:
            data = entry.data
            if isinstance(data, dict) and any(data.get(k) for k in PERSONAL_LOG_KEYS):
                entry.data = {k: v for k, v in data.items() if k not in PERSONAL_LOG_KEYS}
                scrubbed.append(entry)
        if scrubbed:
            ModelLogEntry.objects.bulk_update(scrubbed, ["data"])
