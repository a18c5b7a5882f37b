"""Evaluating watchlist rules: the customers of a rule's seller account matching all its conditions are put on the
watchlist (``services/watchlist.add_to_watchlist``, with the rule as the note and no user).

One query per rule selects the matching customers (``watchlist_rules/metrics.py`` turns each condition into
database expressions), restricted to the customers of a batch of orders when ``orders_recorded`` asks
(``watchlist_rules/receivers.py``), or over the whole account on the daily schedule (``watchlist_rules/tasks.py``).

Left out of every match:

* customers already on the watchlist, so running a rule twice adds and logs nothing twice;
* customers a user took off the watchlist (``WatchlistDismissal``) with no new activity since: new activity is a
  last order placed later than the last order they had then, or more returned units, or more negative feedbacks
  than then. With new activity, a customer matching the rule goes back on the watchlist (and the dismissal is
  deleted); the next removal records a new one.

Rules of disabled seller accounts, disabled rules and rules with no condition add no one.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.db.models import DateTimeField, Exists, F, OuterRef, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from ..models import Customer, WatchlistDismissal, WatchlistEntry, WatchlistRule
from ..watchlist_rules.metrics import condition_filters
from .watchlist import LABEL_FIELDS, add_to_watchlist

#: History of the rules, on the seller account (log_actions.py).
CREATE_ACTION = "wagtail_customers.watchlist_rule.create"
CHANGE_ACTION = "wagtail_customers.watchlist_rule.change"
DELETE_ACTION = "wagtail_customers.watchlist_rule.delete"

#: Customers per query when a batch of orders names them (SQLite allows 999 parameters on old builds).
CHUNK = 500


def _never():
    """Stands for "no order" when comparing last orders (a customer with no order yet has none)."""
    moment = datetime(1900, 1, 1, tzinfo=UTC) if settings.USE_TZ else datetime(1900, 1, 1)
    return Value(moment, output_field=DateTimeField())


def rule_note(rule):
    """The watchlist entry's note for a customer a rule added."""
    return _("Rule: %(name)s") % {"name": rule.name}


def unchanged_since_dismissal():
    """A dismissal of the customer (``OuterRef``) with no new activity since: it keeps rules from re-adding them."""
    return (
        WatchlistDismissal.objects.filter(customer=OuterRef("pk"))
        .alias(then=Coalesce("last_order_at", _never()), now=Coalesce(OuterRef("last_order_at"), _never()))
        .filter(
            then__gte=F("now"),
            returned_units__gte=OuterRef("returned_units"),
            negative_feedbacks__gte=OuterRef("negative_feedbacks"),
        )
    )


def matching_customers(rule, customer_ids=None, now=None):
    """The customers the rule would put on the watchlist now (a queryset; no condition: none)."""
    conditions = list(rule.conditions.all())
    if not conditions:
        return Customer.objects.none()
    now = now or timezone.now()
    customers = Customer.objects.filter(account_id=rule.account_id)
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
    for condition in conditions:
        customers = customers.filter(*condition_filters(condition, now))
    return customers.filter(
        ~Exists(WatchlistEntry.objects.filter(customer=OuterRef("pk"))),
        ~Exists(unchanged_since_dismissal()),
    )


def apply_rule(rule, customer_ids=None, now=None):
    """Put the rule's matching customers on the watchlist; returns how many were added.

    A count, not the customers: a rule matching a whole account keeps only one chunk's customers in memory at a
    time (kept all, 200,000 matches took 760 MB and the worker was killed before the daily task's later rules)."""
    if not rule.is_enabled or not rule.account.is_enabled:
        return 0
    added = 0
    for chunk in _id_chunks(rule, customer_ids, now):
        added += len(add_matching(rule, matching_customers(rule, chunk, now).only("pk").order_by("pk"), now))
    return added


def add_matching(rule, customers, now=None):
    """Put those of ``customers`` (read as matching the rule) that still match once locked on the watchlist: a user
    who took one off meanwhile (its dismissal committed after the read) is not overruled. One transaction per call
    (add_to_watchlist's): a rule matching a whole account never holds thousands of row locks, nor ingestion
    waiting on them, at once. The customers added are read again, with only the fields their history label needs
    (``LABEL_FIELDS``)."""
    customers = list(customers)
    if not customers:
        return []

    def still_matching(locked):
        return matching_customers(rule, [customer.pk for customer in locked], now).only(*LABEL_FIELDS).order_by("pk")

    return add_to_watchlist(customers, None, note=rule_note(rule), rule=rule, still_to_add=still_matching)


def _id_chunks(rule, customer_ids, now):
    """Lists of at most ``CHUNK`` customer ids to evaluate: the given ones, or the account's matching ones read
    chunk by chunk in id order (a chunk's customers no longer match once added, so the walk always moves on)."""
    if customer_ids is not None:
        ids = sorted(set(customer_ids))
        yield from (ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK))
        return
    last = 0
    while True:
        ids = list(
            matching_customers(rule, None, now).filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK]
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def apply_rules(account=None, customer_ids=None, now=None):
    """Apply the enabled rules of one seller account (or of every account); returns ``{rule id: customers added}``."""
    rules = WatchlistRule.objects.filter(is_enabled=True, account__is_enabled=True).select_related("account")
    if account is not None:
        rules = rules.filter(account=account)
    return {rule.pk: apply_rule(rule, customer_ids, now) for rule in rules.order_by("pk")}


def log_rule(rule, action, user):
    """A rule's creation, change or deletion in the history of its seller account."""
    log(
        rule.account,
        action,
        user=user,
        data={
            "rule": rule.name,
            "enabled": rule.is_enabled,
            "conditions": [condition.describe() for condition in rule.conditions.all()] if rule.pk else [],
        },
    )
