"""Merging duplicate customers of one seller account (the same buyer under two e-mails or buyer ids), and undoing it.

``merge_customers(kept, merged, user)`` moves everything of ``merged`` to ``kept`` and deletes ``merged``:

* its orders (with their lines, promo codes and feedback), its timeline entries and its alerts (every user's
  notification of them stays as it was: read or unread, due in an e-mail digest or not);
* its watchlist entry: moved when ``kept`` has none, else its note is appended to ``kept``'s note;
* its watchlist dismissal (a user took it off the watchlist): moved when ``kept`` has none and is not on the
  watchlist, else kept in the merge record only;
* its entries in Wagtail's history (re-pointed to ``kept``; their labels keep the name they were logged under);
* its identity key becomes a ``CustomerAlias`` of ``kept``: the ingestion service looks it up when no customer has
  that key, so a later import of the merged buyer lands on ``kept`` (services/ingestion.py);
* ``kept`` keeps its own details (name, e-mail, address); its statistics are refreshed.

A ``CustomerMerge`` records all of that: every column of the deleted row (pk and identity key included) and the
ids of what moved. ``undo_merge(merge, user)`` re-creates the merged customer with its pk and columns, moves back
the moved orders and the orders recorded since under its identity (through the alias), its timeline and history
entries and alerts (with those about the orders moved back), restores its watchlist entry, ``kept``'s note and its
dismissal, removes the alias and refreshes both customers' figures.

The rules (``MergeError`` says which one refused, in words for the user):

* both customers belong to the same seller account, and they are two customers;
* their figures together fit the customer's columns (an amount spent or discount received below 10^12, units below
  2^31: ``statistics.StatisticsOverflow``): the merge screen checks the figures it shows
  (``check_combined_figures``) before anyone presses "Yes, merge", and the merge checks them again when it
  refreshes the statistics, so nothing is changed;
* both or neither have had their personal data erased: merging an erased buyer into one with personal data would
  let a later import of the erased buyer bring data back to a named customer;
* a customer that others were merged into is not merged away itself (merge the other way round, or undo first):
  so an alias always points at a customer that exists, and an undo never depends on a later merge elsewhere;
* merges into one customer are undone in reverse order (the latest first); a merge into a customer whose
  personal data was erased since cannot be undone (it would bring the merged customer's personal data back).

Callers check permissions (``Action.DELETE`` on the account: a merge deletes a customer row); these functions do not.
"""

import json
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from ..models import (
    AlertEvent,
    Customer,
    CustomerAlias,
    CustomerMerge,
    Order,
    OrderEvent,
    WatchlistDismissal,
    WatchlistEntry,
)
from .deadlocks import atomic_with_retries
from .personal_data import shown_copy
from .statistics import EMPTY, StatisticsOverflow, check_fits, compute_statistics, refresh_statistics

MERGE_ACTION = "wagtail_customers.customer.merge"
UNDO_ACTION = "wagtail_customers.customer.unmerge"
#: What separates the kept customer's watchlist note from the merged customer's appended one.
NOTE_SEPARATOR = "\n\n"

#: Statistics that add up over two customers' orders; the others are the earliest / latest date.
ADDED_STATISTICS = tuple(name for name in Customer.STATISTICS_FIELDS if name not in ("first_order_at", "last_order_at"))


class MergeError(Exception):
    """A merge or undo the rules refuse; the message says why, for the user."""


# --- What a merge would give --------------------------------------------------------------------------


def combined_statistics(*customers):
    """The statistics of one customer holding all of ``customers``' orders (the merge screen's "after" column).

    Computed from the orders (not the stored figures), with the same definitions as ``refresh_statistics``:
    each figure is a sum or count over the orders (each carrying its lines', promo codes' and feedback's figures), or
    the earliest / latest order date.
    """
    figures = compute_statistics({"in": [customer.pk for customer in customers]})
    combined = dict(EMPTY)
    for stats in figures.values():
        for name in ADDED_STATISTICS:
            combined[name] += stats[name]
        for name, pick in (("first_order_at", min), ("last_order_at", max)):
            values = [value for value in (combined[name], stats[name]) if value is not None]
            combined[name] = pick(values) if values else None
    return combined


def check_merge(kept, merged, user=None):
    """Raise ``MergeError`` if ``merged`` may not be merged into ``kept`` (see the module's rules). ``user``: the
    customers are named in the message as that user may see them ("Customer #<id>" without the personal-data
    grant); None: by their own names."""
    if kept.pk == merged.pk:
        raise MergeError(_("Choose another customer: a customer cannot be merged with itself."))
    if kept.account_id != merged.account_id:
        raise MergeError(_("Only customers of the same seller account can be merged."))
    if (kept.erased_at is None) != (merged.erased_at is None):
        erased, other = (kept, merged) if kept.erased_at else (merged, kept)
        raise MergeError(
            _(
                "The personal data of %(erased)s was erased and that of %(other)s was not: erase %(other)s's "
                "personal data first, or keep them apart."
            )
            % {"erased": _named(erased, user), "other": _named(other, user)}
        )
    if CustomerMerge.objects.filter(kept=merged, undone_at__isnull=True).exists():
        raise MergeError(
            _(
                "Other customers were merged into %(merged)s: keep %(merged)s instead (merge %(kept)s into it), "
                "or undo those merges first."
            )
            % {"merged": _named(merged, user), "kept": _named(kept, user)}
        )


def check_combined_figures(kept, merged, figures, user=None):
    """Raise ``MergeError`` if ``figures`` (``combined_statistics(kept, merged)``) would not fit the customer's
    columns, as the merge itself would find when it refreshes ``kept``'s statistics."""
    try:
        check_fits(kept, figures)
    except StatisticsOverflow:
        raise _too_large(kept, merged, user) from None


def _too_large(kept, merged, user):
    return MergeError(
        _(
            "The merged customers' figures together would be too large to store (amount spent, discount "
            "received or units of %(kept)s and %(merged)s): keep them apart."
        )
        % {"kept": _named(kept, user), "merged": _named(merged, user)}
    )


def _named(customer, user):
    """``customer``'s name in a message to ``user`` (None: anyone who may see it)."""
    return str(customer if user is None else shown_copy(user, customer))


# --- Merge ----------------------------------------------------------------------------------------------


def merge_customers(kept, merged, user=None):
    """Merge ``merged`` into ``kept`` (see the module docstring); returns the ``CustomerMerge``."""
    # Run again if stopped in a deadlock (services/deadlocks.py).
    return atomic_with_retries(lambda: _merge(kept.pk, merged.pk, user))


def _merge(kept_pk, merged_pk, user):
    kept, merged = _locked(kept_pk, merged_pk)
    check_merge(kept, merged, user)
    now = timezone.now()
    record = CustomerMerge(
        account_id=kept.account_id,
        kept=kept,
        merged_customer_id=merged.pk,
        snapshot=_row_snapshot(merged),
        merged_by=user,
        merged_at=now,
    )
    orders = Order.objects.filter(customer=merged)
    record.order_ids = sorted(orders.values_list("pk", flat=True))
    orders.update(customer=kept)
    events = OrderEvent.objects.filter(customer=merged)
    record.event_ids = sorted(events.values_list("pk", flat=True))
    events.update(customer=kept)
    entries = _history(merged.pk)
    record.log_entry_ids = sorted(entries.values_list("pk", flat=True))
    entries.update(object_id=str(kept.pk))
    alerts = AlertEvent.objects.filter(customer=merged)
    record.alert_event_ids = sorted(alerts.values_list("pk", flat=True))
    alerts.update(customer=kept)
    record.watchlist = _combine_watchlist(kept, merged)
    record.watchlist_dismissal = _combine_dismissal(kept, merged)
    record.save()
    CustomerAlias.objects.create(
        account_id=kept.account_id, identity_key=merged.identity_key, customer=kept, merge=record
    )
    Customer.objects.filter(pk=merged.pk).delete()
    try:
        refresh_statistics([kept.pk])
    except StatisticsOverflow:
        # Raised in the merge's transaction: everything above rolls back.
        raise _too_large(kept, merged, user) from None
    # Ids and counts only: the history must not keep the merged customer's personal data (erasure relabels
    # the kept customer's entries, not what their data says).
    log(
        kept,
        MERGE_ACTION,
        user=user,
        data={
            "merge": record.pk,
            "merged_customer": merged.pk,
            "orders": len(record.order_ids),
            "timeline": len(record.event_ids),
            "history": len(record.log_entry_ids),
            "alerts": len(record.alert_event_ids),
        },
    )
    return record


def _locked(*pks):
    """The customers ``pks``, locked until the transaction ends (in pk order, as the other writers lock them)."""
    found = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=pks).order_by("pk")}
    missing = [pk for pk in pks if pk not in found]
    if missing:
        raise MergeError(_("One of the customers no longer exists (merged or deleted meanwhile)."))
    return [found[pk] for pk in pks]


def _history(customer_pk):
    return ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer_pk)
    )


def _combine_watchlist(kept, merged):
    """Move or combine the merged customer's watchlist entry; returns what the undo needs, or ``None``."""
    entry = WatchlistEntry.objects.filter(customer=merged).first()
    if entry is None:
        return None
    saved = {
        "pk": entry.pk,
        "note": entry.note,
        "added_by_id": entry.added_by_id,
        "created_at": entry.created_at.isoformat(),
    }
    kept_entry = WatchlistEntry.objects.filter(customer=kept).first()
    if kept_entry is None:
        WatchlistEntry.objects.filter(pk=entry.pk).update(customer=kept)
        return {**saved, "moved": True}
    saved.update(moved=False, kept_note=kept_entry.note)
    # Whole paragraphs (the notes are joined with NOTE_SEPARATOR), never a substring test: "fraud" is news next to
    # "Not a fraud risk any more". A paragraph the kept note has already (from an earlier merge, say) is not repeated.
    kept_paragraphs = set(kept_entry.note.split(NOTE_SEPARATOR))
    new_paragraphs = [
        paragraph
        for paragraph in dict.fromkeys(entry.note.split(NOTE_SEPARATOR))
        if paragraph.strip() and paragraph not in kept_paragraphs
    ]
    if new_paragraphs:
        kept_entry.note = NOTE_SEPARATOR.join(note for note in (kept_entry.note, *new_paragraphs) if note)
        WatchlistEntry.objects.filter(pk=kept_entry.pk).update(note=kept_entry.note)
    saved["merged_note"] = kept_entry.note
    entry.delete()
    return saved


def _combine_dismissal(kept, merged):
    """Move the merged customer's watchlist dismissal to ``kept`` when that changes nothing ``kept`` had (no
    dismissal of its own, not on the watchlist); returns its columns for the undo, or ``None``."""
    dismissal = WatchlistDismissal.objects.filter(customer=merged).first()
    if dismissal is None:
        return None
    saved = _json_values(
        {field.attname: getattr(dismissal, field.attname) for field in WatchlistDismissal._meta.concrete_fields}
    )
    del saved["customer_id"]
    kept_has_its_own = (
        WatchlistDismissal.objects.filter(customer=kept).exists()
        or WatchlistEntry.objects.filter(customer=kept).exists()
    )
    if kept_has_its_own:
        # Deleted with the merged row; the undo re-creates it from these columns.
        return {**saved, "moved": False}
    WatchlistDismissal.objects.filter(pk=dismissal.pk).update(customer=kept)
    return {**saved, "moved": True}


# --- Undo -----------------------------------------------------------------------------------------------


def latest_merge(customer):
    """The merge into ``customer`` that an undo would undo (the latest one not undone), or ``None``."""
    return CustomerMerge.objects.filter(kept=customer, undone_at__isnull=True).order_by("-merged_at", "-pk").first()


def check_undo(merge, user=None):
    """Raise ``MergeError`` if ``merge`` cannot be undone now (``user``: as in ``check_merge``)."""
    if merge.undone_at is not None:
        raise MergeError(_("This merge was undone already."))
    latest = latest_merge(merge.kept)
    if latest is not None and latest.pk != merge.pk:
        raise MergeError(
            _("%(customer)s was merged with another customer since: undo that later merge first.")
            % {"customer": _named(merge.kept, user)}
        )
    erased_at = merge.kept.erased_at
    if erased_at is not None and erased_at > merge.merged_at:
        raise MergeError(
            _(
                "The personal data of %(customer)s was erased after this merge: undoing it would bring the merged "
                "customer's personal data back, so it can no longer be undone."
            )
            % {"customer": _named(merge.kept, user)}
        )


def undo_merge(merge, user=None):
    """Undo ``merge`` (see the module docstring); returns the re-created customer."""
    # Run again if stopped in a deadlock (services/deadlocks.py).
    return atomic_with_retries(lambda: _undo(merge.pk, merge.kept_id, user))


def _undo(merge_pk, kept_pk, user):
    (kept,) = _locked(kept_pk)
    merge = CustomerMerge.objects.select_for_update().get(pk=merge_pk)
    merge.kept = kept
    check_undo(merge, user)
    restored = _restore_row(merge)
    orders = Order.objects.filter(customer=kept, pk__in=[*merge.order_ids, *merge.later_order_ids])
    order_ids = list(orders.values_list("pk", flat=True))
    orders.update(customer=restored)
    OrderEvent.objects.filter(customer=kept, pk__in=merge.event_ids).update(customer=restored)
    _history(kept.pk).filter(pk__in=merge.log_entry_ids).update(object_id=str(restored.pk))
    # The alerts that moved, and those recorded since about the orders going back: they are the merged buyer's.
    AlertEvent.objects.filter(customer=kept).filter(Q(pk__in=merge.alert_event_ids) | Q(order_id__in=order_ids)).update(
        customer=restored
    )
    _restore_watchlist(merge.watchlist, kept, restored)
    _restore_dismissal(merge.watchlist_dismissal, kept, restored)
    CustomerAlias.objects.filter(merge=merge).delete()
    try:
        refresh_statistics([kept.pk, restored.pk])
    except StatisticsOverflow:
        # The orders recorded through the merge since would take the merged customer's figures past what is stored.
        raise MergeError(
            _("The merged customer's figures would be too large to store once separated; the merge cannot be undone.")
        ) from None
    merge.undone_at = timezone.now()
    merge.undone_by = user
    # The re-created row holds the personal data again; the record keeps no copy of it.
    merge.snapshot = {}
    merge.save(update_fields=["undone_at", "undone_by", "snapshot"])
    log(kept, UNDO_ACTION, user=user, data={"merge": merge.pk, "restored_customer": restored.pk})
    return restored


def _restore_row(merge):
    values = _row_values(merge.snapshot)
    if Customer.objects.filter(pk=values["id"]).exists():
        raise MergeError(_("The merged customer exists again already."))
    if Customer.objects.filter(account_id=values["account_id"], identity_key=values["identity_key"]).exists():
        raise MergeError(_("Another customer has the merged customer's identity now; the merge cannot be undone."))
    customer = Customer(**values)
    customer.save(force_insert=True)
    # ``created_at`` is set on insert (auto_now_add): put the original moment back.
    Customer.objects.filter(pk=customer.pk).update(created_at=values["created_at"])
    customer.created_at = values["created_at"]
    return customer


def _restore_watchlist(saved, kept, restored):
    if not saved:
        return
    entry = WatchlistEntry.objects.filter(pk=saved["pk"]).first()
    if saved["moved"]:
        if entry is not None and entry.customer_id == kept.pk:
            WatchlistEntry.objects.filter(pk=entry.pk).update(customer=restored)
            return
        entry = None  # removed from the watchlist since the merge: put back as it was
    else:
        # Back to the kept customer's own note, unless someone changed the combined note since.
        WatchlistEntry.objects.filter(customer=kept, note=saved["merged_note"]).update(note=saved["kept_note"])
    if entry is None:
        WatchlistEntry.objects.create(
            pk=saved["pk"], customer=restored, note=saved["note"], added_by_id=saved["added_by_id"]
        )
        WatchlistEntry.objects.filter(pk=saved["pk"]).update(created_at=datetime.fromisoformat(saved["created_at"]))


def _restore_dismissal(saved, kept, restored):
    if not saved:
        return
    values = {
        field.attname: field.to_python(saved[field.attname])
        for field in WatchlistDismissal._meta.concrete_fields
        if field.attname in saved
    }
    if saved["moved"] and WatchlistDismissal.objects.filter(pk=values["id"], customer=kept).update(customer=restored):
        return
    # Deleted with the merged row, or the kept customer's since (it went on the watchlist, or a user took it off
    # again, which replaces it): put back as it was, under its own id when that is free.
    if WatchlistDismissal.objects.filter(pk=values["id"]).exists():
        del values["id"]
    if not get_user_model().objects.filter(pk=values["dismissed_by_id"]).exists():
        values["dismissed_by_id"] = None  # the user was deleted since (the column is SET_NULL)
    WatchlistDismissal.objects.create(customer=restored, **values)


# --- Later imports and erasure --------------------------------------------------------------------------


def record_later_orders(order_ids_by_merge):
    """Note orders recorded through a merge's alias (``{merge id: order ids}``), so that an undo moves them back.

    Called by the ingestion service in the batch's transaction, with the kept customers locked.
    """
    for merge in CustomerMerge.objects.select_for_update().filter(pk__in=order_ids_by_merge).order_by("pk"):
        known = {*merge.order_ids, *merge.later_order_ids}
        new = [pk for pk in order_ids_by_merge[merge.pk] if pk not in known]
        if new:
            merge.later_order_ids = sorted({*merge.later_order_ids, *new})
            merge.save(update_fields=["later_order_ids"])


def forget_merged_identities(customers, hashed_key):
    """For the erasure of ``customers`` (a list): what their merges hold of the merged customers' identities goes.

    Alias keys become their keyed hash (``hashed_key(account_id, identity_key)``), as the customer's own key does,
    so later imports of the merged buyers still land on the erased customer; the snapshots of the merged rows are
    emptied (those merges can no longer be undone: see ``check_undo``).
    """
    from .erasure import is_erased_key  # erasure calls this function: imported here, not at the top

    account_of = {customer.pk: customer.account_id for customer in customers}
    aliases = [
        alias
        for alias in CustomerAlias.objects.filter(customer__in=account_of).order_by("pk")
        if not is_erased_key(alias.identity_key)
    ]
    for alias in aliases:
        alias.identity_key = hashed_key(account_of[alias.customer_id], alias.identity_key)
    CustomerAlias.objects.bulk_update(aliases, ["identity_key"])
    CustomerMerge.objects.filter(kept__in=account_of).exclude(snapshot={}).update(snapshot={})


# --- Snapshots ------------------------------------------------------------------------------------------


def _row_snapshot(customer):
    """Every column of ``customer`` as JSON values (exact: full-precision date-times, decimals as strings)."""
    return _json_values({field.attname: getattr(customer, field.attname) for field in Customer._meta.concrete_fields})


def _json_values(values):
    return json.loads(json.dumps(values, default=_json_value))


def _json_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} in a row a merge records")


def _row_values(snapshot):
    """The snapshot's values back as Python values, for the fields ``Customer`` has now."""
    if not snapshot:
        raise MergeError(_("This merge no longer holds the merged customer's data; it cannot be undone."))
    fields = {field.attname: field for field in Customer._meta.concrete_fields}
    return {name: fields[name].to_python(value) for name, value in snapshot.items() if name in fields}
