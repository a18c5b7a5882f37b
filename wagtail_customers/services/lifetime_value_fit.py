"""Fit a seller account's predicted-value model and write each customer's prediction (docs/concepts/predicted-value.md).

The purchases are the account's orders that are not cancelled and whose amount is known in the account's
currency (an unconverted order has no value to learn from), as (customer, order day, amount net of refunds).
The fit and the predictions are ``insight.lifetime_value``'s; this module reads the orders, records the fit in
``LifetimeValueFit`` (also when there is not enough history, with the reason) and writes expected orders,
expected spend and the probability of being active on the customers' ``CustomerScore`` rows, which
``services/scores.refresh_scores`` makes first.

Memory: an account's customers are held as columns, about 40 bytes each (``PurchaseColumns``; 1,000,000 customers
are some 40 MB, plus the fit's and the predictions' arrays of the same size), never as an object per customer: the
orders are read in customer order and summed up one customer at a time, and the predictions are written in customer
id order, each batch found in the sorted ids (docs/performance.md, Buyer insight refresh memory).
"""

import logging
import traceback
from decimal import Decimal

import numpy as np
from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..insight.lifetime_value import NotEnoughData, fit_account_model, predict_columns, summarise_purchase_columns
from ..local_time import local_datetime
from ..models import CustomerScore, FitStatus, LifetimeValueFit, Order, OrderStatus

HORIZON_DAYS = 365
_WRITE_BATCH = 2000

logger = logging.getLogger(__name__)


def for_each_account(accounts, work):
    """``work(account)`` for each account in turn. An account whose work fails is logged and the next ones still
    run (a big or broken account does not leave the others unrefreshed); the first failure is raised again once
    every account has had its turn, so the task still fails. A task's soft time limit stops at once."""
    first_error = None
    for account in accounts:
        try:
            work(account)
        except SoftTimeLimitExceeded:
            raise
        except Exception as error:
            logger.exception("The buyer insight refresh of seller account %s failed", account.pk)
            first_error = first_error or _without_frames(error)
    if first_error is not None:
        raise first_error


def _without_frames(error):
    """``error`` without its traceback, nor those of the errors it was raised from or during: their frames hold the
    failed account's columns (hundreds of megabytes on a large account) while the other accounts run. Where it was
    raised is kept as text (a note: the task's failure, its result and an error tracker still show it), and it was
    logged whole first."""
    error.add_note("".join(traceback.format_exception(error)).rstrip())
    seen, pending = set(), [error]
    while pending:
        link = pending.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        link.__traceback__ = None
        pending += [link.__cause__, link.__context__, *getattr(link, "exceptions", ())]
    return error


def _purchases(account):
    orders = (
        Order.objects.filter(account=account, account_total__isnull=False)
        .exclude(status=OrderStatus.CANCELLED)
        # Grouped by customer, so the summary holds one customer's days at a time (summarise_purchase_columns).
        .order_by("customer_id", "placed_at")
        .values_list("customer_id", "placed_at", F("account_total") - F("account_refunded"))
    )
    for customer_id, placed_at, amount in orders.iterator(chunk_size=20_000):
        yield customer_id, _local_date(placed_at), max(amount or 0, 0)


def _local_date(moment):
    return local_datetime(moment).date()


def refit_account(account, now=None):
    """Fit ``account``'s model on its purchases up to today and store the predictions; returns the
    ``LifetimeValueFit``. Without enough history the fit records why and the predictions are emptied."""
    now = now or timezone.now()
    columns = summarise_purchase_columns(_purchases(account), _local_date(now))
    fields = {"fitted_at": now, "parameters": {}, "converged": False, "message": ""}
    try:
        model = fit_account_model(columns)
    except NotEnoughData as error:
        fields.update(status=FitStatus.NOT_ENOUGH_DATA, message=str(error)[:255], customers=len(columns))
        # The reason untranslated with its numbers: shown in each admin user's language (reason_text).
        fields["parameters"] = {"reason": error.reason, "values": error.values}
        fields["repeat_buyers"] = int(np.count_nonzero(columns.frequency > 0))
        with transaction.atomic():
            CustomerScore.objects.filter(account=account).update(
                expected_orders=None, expected_spend=None, probability_active=None
            )
            fit, _created = LifetimeValueFit.objects.update_or_create(account=account, defaults=fields)
        return fit
    predictions = predict_columns(model, columns, horizon_days=HORIZON_DAYS)
    fields.update(
        status=FitStatus.FITTED,
        customers=model.customers,
        repeat_buyers=model.repeat_buyers,
        converged=model.converged,
        parameters={
            name: getattr(model, name)
            for name in ("r", "alpha", "a", "b", "p", "q", "gamma", "log_likelihood", "spend_log_likelihood")
        },
    )
    with transaction.atomic():
        _write_predictions(account, columns.customers, predictions)
        fit, _created = LifetimeValueFit.objects.update_or_create(account=account, defaults=fields)
    return fit


def _write_predictions(account, customer_ids, predictions):
    """Store ``predictions`` (``PredictionColumns``, in the order of ``customer_ids``: ascending) on the account's
    scores, read in customer id order a batch at a time; a score without a prediction is emptied."""
    scores = CustomerScore.objects.filter(account=account).order_by("pk").only("pk")
    batch = []
    for score in scores.iterator(chunk_size=_WRITE_BATCH):
        batch.append(score)
        if len(batch) == _WRITE_BATCH:
            _write_batch(batch, customer_ids, predictions)
            batch = []
    if batch:
        _write_batch(batch, customer_ids, predictions)


def _write_batch(scores, customer_ids, predictions):
    pks = np.fromiter((score.pk for score in scores), dtype=np.int64, count=len(scores))
    at = np.searchsorted(customer_ids, pks)
    found = at < len(customer_ids)
    found[found] = customer_ids[at[found]] == pks[found]
    # Python floats, as Decimal takes them exactly.
    orders, spend, alive = (
        column[at[found]].tolist()
        for column in (predictions.expected_orders, predictions.expected_spend, predictions.probability_alive)
    )
    values = iter(zip(orders, spend, alive, strict=True))
    for score, has_prediction in zip(scores, found.tolist(), strict=True):
        if has_prediction:
            expected_orders, expected_spend, probability_alive = next(values)
            score.expected_orders = Decimal(expected_orders).quantize(Decimal("0.01"))
            score.expected_spend = Decimal(expected_spend).quantize(Decimal("0.01"))
            score.probability_active = Decimal(probability_alive).quantize(Decimal("0.0001"))
        else:
            score.expected_orders = score.expected_spend = score.probability_active = None
    CustomerScore.objects.bulk_update(scores, ["expected_orders", "expected_spend", "probability_active"])
