"""Applying the seller accounts' retention rules: erase the personal data of customers past their rule.

A customer of an account with an enabled ``RetentionRule`` is past it when they have orders and **every one** of
their orders is dated before the cut-off, ``now - days``: one order inside the period keeps the whole customer.
An order's date is the rule's basis (shipment, placed, delivery), falling back to an earlier date where the order
has none (``models/retention.py``, ``BASIS_DATES``). Exactly ``days`` old is not past yet. Customers erased before
are never selected again, so applying the rules twice erases nothing the second time.

The selection is one query per batch (``NOT EXISTS`` an order on or after the cut-off), never a loop over the
customers in Python. Each batch is erased by ``services/erasure.erase_customers``, the one path every erasure
takes: it locks the rows, skips customers erased meanwhile, logs ``wagtail_customers.customer.erase`` on each
customer (no user), and keeps every order, amount and statistic. The search index is compacted once the rule's
batches are done, not after each. Each rule's application is recorded as a
``RetentionRun`` and as ``wagtail_customers.retention.apply`` in the seller account's history.
"""

import copy
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from ..beat import BEAT_SCHEDULE
from ..models import Customer, Order, RetentionRule, RetentionRun
from ..models.retention import basis_date
from . import search_index
from .deadlocks import atomic_with_retries
from .erasure import ERASE_BATCH_SIZE, erase_customers
from .statistics import lock_customers

logger = logging.getLogger(__name__)

APPLY_ACTION = "wagtail_customers.retention.apply"
RULE_ACTION = "wagtail_customers.retention.rule"
APPLY_TASK = "wagtail_customers.apply_retention_rules"
#: Customers selected, locked and erased per batch, in one transaction.
RETENTION_BATCH_SIZE = ERASE_BATCH_SIZE


@dataclass
class RuleResult:
    """One rule applied (or counted, in a dry run)."""

    rule: RetentionRule
    cutoff: object
    customers: int = 0
    errors: list = field(default_factory=list)
    #: The recorded report; ``None`` in a dry run.
    run: RetentionRun | None = None


def cutoff_for(rule, now):
    return now - timedelta(days=rule.days)


def customers_past(rule, now=None):
    """The customers of the rule's account that the rule erases at ``now`` (a queryset; erased ones left out)."""
    now = now or timezone.now()
    cutoff = cutoff_for(rule, now)
    inside = (
        Order.objects.filter(customer=OuterRef("pk"))
        .alias(retention_date=basis_date(rule.basis))
        .filter(retention_date__gte=cutoff)
    )
    return (
        Customer.objects.filter(account_id=rule.account_id, erased_at__isnull=True)
        .filter(Exists(Order.objects.filter(customer=OuterRef("pk"))))
        .exclude(Exists(inside))
    )


def preview(rule, now=None):
    """How many customers the rule would erase now (whether or not it is enabled)."""
    return customers_past(rule, now).count()


def erases_more(saved, rule):
    """Whether ``rule`` may erase customers the ``saved`` rule (``None`` when there is none) would not.

    Enabling erases more, and so do fewer days. Any change of basis counts too: the dates an order has are not
    always in order (a shipment recorded before the order was placed), so no basis is sure to erase fewer.
    """
    if not rule.is_enabled:
        return False
    if saved is None or not saved.is_enabled:
        return True
    return rule.days < saved.days or rule.basis != saved.basis


def next_run(now=None):
    """When the daily task next applies the rules, by the site's beat schedule (else the plugin's); ``None`` when
    its schedule is not one Celery can say (a plain number of seconds has no set time)."""
    now = now or timezone.now()
    entries = [*(current_app.conf.beat_schedule or {}).values(), *BEAT_SCHEDULE.values()]
    schedule = next(entry["schedule"] for entry in entries if entry.get("task") == APPLY_TASK)
    if not hasattr(schedule, "remaining_estimate"):
        return None
    # Measured from ``now``, not the clock (the schedule's own time function reads the clock).
    schedule = copy.copy(schedule)
    schedule.nowfun = lambda: now
    return now + schedule.remaining_estimate(now)


def enabled_rules(account=None):
    rules = RetentionRule.objects.filter(is_enabled=True).select_related("account").order_by("account__name")
    return rules.filter(account=account) if account is not None else rules


def apply_retention(now=None, account=None, dry_run=False):
    """Apply every enabled rule (or only ``account``'s); returns a ``RuleResult`` per rule.

    ``now`` is the moment the rules are measured from (tests pass a fixed one). A dry run counts and changes
    nothing, records no run. One rule failing (a database error in a batch) is recorded in its run's errors and
    does not stop the others. The task's soft time limit stops them all, once the rule it cut is recorded.
    """
    now = now or timezone.now()
    results = []
    for rule in enabled_rules(account):
        if dry_run:
            results.append(RuleResult(rule, cutoff_for(rule, now), customers=preview(rule, now)))
        else:
            results.append(apply_rule(rule, now))
    return results


def apply_rule(rule, now=None):
    """Erase the customers past ``rule`` in batches and record the run; returns its ``RuleResult``.

    The task's soft time limit (``SoftTimeLimitExceeded``) stops the rule between or inside a batch (that batch
    rolls back): the run is recorded with what the batches before erased, and the exception goes on to the task,
    so no other rule starts; the next run erases the customers left."""
    now = now or timezone.now()
    result = RuleResult(rule, cutoff_for(rule, now))
    ids = []
    try:
        try:
            _erase_past(rule, now, result, ids)
        except SoftTimeLimitExceeded:
            result.errors.append(_("Stopped at the task's time limit; the next run erases the customers left."))
            _record(rule, now, result, ids)
            raise
        _record(rule, now, result, ids)
    finally:
        # Whatever stopped the run: the batches erased keep no names in the index's pages.
        _compact(result)
    return result


def _compact(result):
    """Compact the search index once the rule's batches are erased (they leave it to the rule: erase_customers's
    ``compact``), so the erased texts leave the index's pages. Once per rule, not per batch: a full compaction
    takes 1.3 s at 200,000 customers on SQLite, and a broad rule's first run has hundreds of batches."""
    if result.customers:
        search_index.compact()


def _erase_past(rule, now, result, ids):
    """Erase the rule's customers batch by batch, counting them on ``result`` and keeping their ids in ``ids``."""
    last_pk = 0
    while True:
        # The selection is made again for each batch, so a customer who ordered meanwhile is no longer in it.
        past = customers_past(rule, now)
        batch = list(past.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:RETENTION_BATCH_SIZE])
        if not batch:
            break
        last_pk = batch[-1]
        try:
            # Run again if stopped in a deadlock (services/deadlocks.py).
            result.customers += atomic_with_retries(lambda batch=batch: _erase_batch_past(rule, now, batch))
        except SoftTimeLimitExceeded:
            raise  # not a failing batch: the task's time is up (apply_rule records the run)
        except Exception as error:  # recorded on the run, so the report says the rule did not finish
            logger.exception("Retention rule of seller account %s failed", rule.account_id)
            # The type only: a database error's text can quote the values of the row (personal data), and the
            # report outlives the erasure; the details are in the log above.
            result.errors.append(_("%(error)s (details in the site's log)") % {"error": type(error).__name__})
            break
        if len(ids) < RetentionRun.MAX_IDS:
            erased = Customer.objects.filter(pk__in=batch, erased_at__isnull=False).order_by("pk")
            ids += list(erased.values_list("pk", flat=True)[: RetentionRun.MAX_IDS - len(ids)])


def _record(rule, now, result, ids):
    """Record the rule's run (``RetentionRun`` and the account's history); returns ``result``."""
    result.run = RetentionRun.objects.create(
        account_id=rule.account_id,
        rule=rule,
        basis=rule.basis,
        days=rule.days,
        ran_at=now,
        cutoff=result.cutoff,
        customers_erased=result.customers,
        customer_ids=ids,
        errors=result.errors,
    )
    log(
        rule.account,
        APPLY_ACTION,
        data={
            "basis": rule.basis,
            "days": rule.days,
            "customers_erased": result.customers,
            "errors": len(result.errors),
        },
    )
    return result


def last_runs(accounts):
    """The latest run of each of ``accounts`` (ids or instances): ``{account id: RetentionRun}``, one query."""
    ids = [getattr(account, "pk", account) for account in accounts]
    latest = RetentionRun.objects.filter(account=OuterRef("account")).order_by("-ran_at", "-pk").values("pk")[:1]
    runs = RetentionRun.objects.filter(account_id__in=ids, pk=Subquery(latest))
    return {run.account_id: run for run in runs}


def _erase_batch_past(rule, now, batch):
    # Lock the batch first (in id order, as erasure and imports do): an import adding an order to one of these
    # customers now waits until this batch is committed, and one that committed before is seen by the selection
    # erasure reads next, under the locks. So a customer who has just ordered again is never erased by a rule they
    # are no longer past.
    locked = [customer.pk for customer in lock_customers(batch)]
    return erase_customers(customers_past(rule, now).filter(pk__in=locked), compact=False)
