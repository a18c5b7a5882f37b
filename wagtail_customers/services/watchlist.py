"""Putting customers on and off the watchlist: the one place that also writes the history.

Every change is logged in Wagtail's history on the customer (``wagtail_customers.watchlist.add`` /
``.remove``) and added to the customer's timeline as an ``OrderEvent`` of kind ``watchlist``.
Callers check permissions first (``Action.MANAGE_WATCHLIST``); these functions do not.

History is written only for a real change: the customers' rows are locked (``select_for_update``) before
reading who is on the watchlist, so of parallel requests for one customer only the first adds (or removes)
and logs; the others find the change made. SQLite has no row locks: it serializes writing transactions, and
needs a busy timeout (and ``transaction_mode`` IMMEDIATE) to wait for each other instead of failing; see
the example site's ``SQLITE_OPTIONS``.

Watchlist rules (services/watchlist_rules.py) add through ``add_to_watchlist`` too, with no user and their
``rule``. Every removal by a user leaves a ``WatchlistDismissal`` (the customer's activity figures then), which
keeps the rules from putting the customer back until they have new activity; going back on the watchlist
deletes it.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..log_actions import log_each
from ..models import Customer, EventKind, OrderEvent, WatchlistDismissal, WatchlistEntry

ADD_ACTION = "wagtail_customers.watchlist.add"
REMOVE_ACTION = "wagtail_customers.watchlist.remove"
#: What adding a customer reads of them: the id, and what Wagtail labels their history entry by (``str(customer)``,
#: ``models.customers.customer_label``). Rules add customers by the thousand (services/watchlist_rules.py).
LABEL_FIELDS = ("pk", "name", "email", "external_id", "identity_key")


def _record(customers, user, action, message):
    now = timezone.now()
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(customer=customer, kind=EventKind.WATCHLIST, occurred_at=now, message=message, user=user)
            for customer in customers
        ]
    )
    log_each(customers, action, user=user)


def _lock(customers):
    """Lock the customers' rows until the transaction ends (in pk order, so two callers never deadlock); returns the
    pks of those still there. One deleted, or merged into another, while the lock waited for it is not: nothing may
    be written for it (its rows would fail the customer's foreign key when the transaction commits)."""
    return _lock_ids([c.pk for c in customers])


def _lock_ids(customer_ids):
    """``_lock`` by the customers' ids."""
    locked = Customer.objects.select_for_update().filter(pk__in=customer_ids).order_by("pk")
    return {row["pk"] for row in locked.values("pk")}


def _still_there(customers):
    """``customers`` locked (``_lock``), less those gone meanwhile."""
    locked = _lock(customers)
    return [customer for customer in customers if customer.pk in locked]


def _dismiss(customer_ids, user):
    """Remember that a user took these customers off the watchlist, with their activity figures now."""
    now = timezone.now()
    WatchlistDismissal.objects.filter(customer_id__in=customer_ids).delete()
    figures = Customer.objects.filter(pk__in=customer_ids).values_list(
        "pk", "last_order_at", "returned_units", "negative_feedbacks"
    )
    WatchlistDismissal.objects.bulk_create(
        [
            WatchlistDismissal(
                customer_id=pk,
                dismissed_at=now,
                dismissed_by=user,
                last_order_at=last_order_at,
                returned_units=returned_units,
                negative_feedbacks=negative_feedbacks,
            )
            for pk, last_order_at, returned_units, negative_feedbacks in figures
        ]
    )


def _watched_ids(customers):
    """The ids of those of ``customers`` on the watchlist (read under their lock: ``_lock``)."""
    return set(WatchlistEntry.objects.filter(customer__in=customers).values_list("customer_id", flat=True))


def add_to_watchlist(customers, user, note="", rule=None, still_to_add=None):
    """Put the customers on the watchlist; returns those that were not on it yet (and still there: one deleted or
    merged away while this waited for it is left out).

    ``rule``: the watchlist rule adding them (``user`` is then None). ``still_to_add``: given the customers once
    locked, those still to add (a rule reads its matches again: a user's removal committed since is seen)."""
    customers = list(customers)
    with transaction.atomic():
        customers = _still_there(customers)
        if still_to_add is not None:
            customers = list(still_to_add(customers))
        return _add(customers, _watched_ids(customers), user, note, rule)


def _add(customers, watched, user, note="", rule=None):
    """``add_to_watchlist`` once the customers are locked and ``watched`` (their ids on the watchlist) read."""
    added = [customer for customer in customers if customer.pk not in watched]
    WatchlistEntry.objects.bulk_create(
        [WatchlistEntry(customer=customer, added_by=user, note=note, rule=rule) for customer in added],
        # Only a writer outside these functions can conflict now; never a 500 for it.
        ignore_conflicts=True,
    )
    WatchlistDismissal.objects.filter(customer__in=added).delete()
    if rule is None:
        message = _("Added to the watchlist")
    else:
        message = _("Added to the watchlist by the rule “%(rule)s”") % {"rule": rule.name}
    _record(added, user, ADD_ACTION, message)
    return added


def remove_from_watchlist(customers, user):
    """Take the customers off the watchlist; returns those that were on it."""
    customers = list(customers)
    with transaction.atomic():
        customers = _still_there(customers)
        return _remove(customers, _watched_ids(customers), user)


def _remove(customers, watched, user):
    """``remove_from_watchlist`` once the customers are locked and ``watched`` (their ids on the watchlist) read."""
    # The entries read, not every entry of these customers: one a writer outside these functions adds meanwhile
    # stays, rather than going without a history event or a dismissal.
    WatchlistEntry.objects.filter(customer_id__in=watched).delete()
    removed = [customer for customer in customers if customer.pk in watched]
    _dismiss(watched, user)
    _record(removed, user, REMOVE_ACTION, _("Removed from the watchlist"))
    return removed


def delete_entries(entries, user, delete):
    """Delete watchlist entries elsewhere (the snippet's delete views: ``delete()`` deletes them) as a removal: their
    customers locked first, as the eye and the bulk actions lock them, then the history and the timeline written,
    all in one transaction. Returns what ``delete()`` returns.

    Without the lock, the deletion's update of the customer's watched flag (a trigger) waited for an order being
    recorded for the customer, then counted the customer's figures out of the Watchlist tab's statistics as they
    were before that order, while the order's batch counted them in as it saw them (still watched): the band
    drifted until its next rebuild."""
    entries = list(entries)
    with transaction.atomic():
        _lock_ids([entry.customer_id for entry in entries])
        result = delete()
        record_entries_removed(entries, user)
    return result


def record_entries_removed(entries, user):
    """History and timeline for watchlist entries deleted elsewhere (``delete_entries``)."""
    customer_ids = [entry.customer_id for entry in entries]
    _dismiss(customer_ids, user)
    _record(list(Customer.objects.filter(pk__in=customer_ids)), user, REMOVE_ACTION, _("Removed from the watchlist"))


def toggle_watchlist(customer, user, watch=None):
    """Add or remove one customer (``watch`` True/False), or flip it (``None``); returns the new state.

    A flip reads the state under the customer's row lock: read outside it, two flips at once both saw "not
    watched" and both added, and one of them was lost (the load test's 20 users, 2026-12-04). The one lock and
    the one read serve the change too (a quarter of the load test's requests are toggles).

    Raises ``Customer.DoesNotExist`` when the customer was deleted, or merged into another, before the lock (a
    deletion committing meanwhile is waited for): nothing changes then."""
    with transaction.atomic():
        if not _lock([customer]):
            raise Customer.DoesNotExist("The customer was deleted or merged into another meanwhile.")
        watched = _watched_ids([customer])
        if watch is None:
            watch = customer.pk not in watched
        if watch:
            _add([customer], watched, user)
        else:
            _remove([customer], watched, user)
    return watch
