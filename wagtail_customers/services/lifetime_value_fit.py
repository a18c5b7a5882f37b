"""Fit a seller account's predicted-value model and write each customer's prediction (docs/concepts/predicted-value.md).

The purchases are the account's orders that are not cancelled and whose amount is known in the account's
currency (an unconverted order has no value to learn from), as (customer, order day, amount net of refunds).
The fit and the predictions are ``insight.lifetime_value``'s; this module reads the orders, records the fit in
``LifetimeValueFit`` (also when there is not enough history, with the reason) and writes expected orders,
expected spend and the probability of being active on the customers' ``CustomerScore`` rows, which
``services/scores.refresh_scores`` makes first.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..insight.lifetime_value import NotEnoughData, fit_account_model, predict, summarise_purchases
from ..local_time import local_datetime
from ..models import CustomerScore, FitStatus, LifetimeValueFit, Order, OrderStatus

HORIZON_DAYS = 365
_WRITE_BATCH = 2000


def _purchases(account):
    orders = (
        Order.objects.filter(account=account, account_total__isnull=False)
        .exclude(status=OrderStatus.CANCELLED)
        .order_by()
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
    summaries = summarise_purchases(_purchases(account), _local_date(now))
    customer_ids = list(summaries)
    rows = [summaries[customer_id] for customer_id in customer_ids]
    fields = {"fitted_at": now, "parameters": {}, "converged": False, "message": ""}
    try:
        model = fit_account_model(rows)
    except NotEnoughData as error:
        fields.update(status=FitStatus.NOT_ENOUGH_DATA, message=str(error)[:255], customers=len(rows))
        # The reason untranslated with its numbers: shown in each admin user's language (reason_text).
        fields["parameters"] = {"reason": error.reason, "values": error.values}
        fields["repeat_buyers"] = sum(1 for row in rows if row.frequency > 0)
        with transaction.atomic():
            CustomerScore.objects.filter(account=account).update(
                expected_orders=None, expected_spend=None, probability_active=None
            )
            fit, _created = LifetimeValueFit.objects.update_or_create(account=account, defaults=fields)
        return fit
    predictions = predict(model, rows, horizon_days=HORIZON_DAYS)
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
        _write_predictions(account, dict(zip(customer_ids, predictions, strict=True)))
        fit, _created = LifetimeValueFit.objects.update_or_create(account=account, defaults=fields)
    return fit


def _write_predictions(account, predictions):
    scores = CustomerScore.objects.filter(account=account).only("pk")
    batch = []
    for score in scores.iterator(chunk_size=_WRITE_BATCH):
        prediction = predictions.get(score.pk)
        if prediction is None:
            score.expected_orders = score.expected_spend = score.probability_active = None
        else:
            score.expected_orders = Decimal(prediction.expected_orders).quantize(Decimal("0.01"))
            score.expected_spend = Decimal(prediction.expected_spend).quantize(Decimal("0.01"))
            score.probability_active = Decimal(prediction.probability_alive).quantize(Decimal("0.0001"))
        batch.append(score)
        if len(batch) == _WRITE_BATCH:
            CustomerScore.objects.bulk_update(batch, ["expected_orders", "expected_spend", "probability_active"])
            batch = []
    if batch:
        CustomerScore.objects.bulk_update(batch, ["expected_orders", "expected_spend", "probability_active"])
