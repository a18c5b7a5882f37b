"""RFM scores and groups (services/scores.py) and the stored predicted value (services/lifetime_value_fit.py).

The scores are checked against an independent computation from the orders themselves (not the customers'
statistics): each customer's last order, number of orders and amount spent, ranked in Python with ties sharing
the lowest place, on real purchase data (the UCI Online Retail sample, imported as a seller would) and on
made-up data with many ties, in two seller accounts at once. The named groups are checked against the usual
segment map written as patterns of the R and F digits.
"""

import logging
import re
import weakref
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from tests.factories import order_data
from wagtail_customers.importers import run_import
from wagtail_customers.insight.lifetime_value import fit_account_model, predict, summarise_purchases
from wagtail_customers.insight.tasks import refresh_buyer_insight_task
from wagtail_customers.models import (
    Customer,
    CustomerScore,
    FitStatus,
    LifetimeValueFit,
    Order,
    OrderStatus,
    RfmGroup,
    SellerAccount,
)
from wagtail_customers.services import lifetime_value_fit
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.lifetime_value_fit import for_each_account, refit_account
from wagtail_customers.services.scores import refresh_scores
from wagtail_customers.services.statistics import rebuild_statistics

pytestmark = pytest.mark.django_db

SAMPLE = "online_retail/online_retail_random2709rows.csv"

#: The usual segment map, R digit then F digit (as RFM analyses write it): every pair matches one pattern.
SEGMENT_PATTERNS = {
    r"[1-2][1-2]": RfmGroup.HIBERNATING,
    r"[1-2][3-4]": RfmGroup.AT_RISK,
    r"[1-2]5": RfmGroup.CANNOT_LOSE,
    r"3[1-2]": RfmGroup.ABOUT_TO_SLEEP,
    r"33": RfmGroup.NEED_ATTENTION,
    r"[3-4][4-5]": RfmGroup.LOYAL,
    r"41": RfmGroup.PROMISING,
    r"51": RfmGroup.NEW,
    r"[4-5][2-3]": RfmGroup.POTENTIAL_LOYALISTS,
    r"5[4-5]": RfmGroup.CHAMPIONS,
}


def segment(r, f):
    matches = [group for pattern, group in SEGMENT_PATTERNS.items() if re.fullmatch(pattern, f"{r}{f}")]
    assert len(matches) == 1, (r, f, matches)
    return matches[0]


def quintiles(values):
    """{key: 1-5}: 1 + floor(5 (rank - 1) / n), rank ascending with ties sharing the lowest rank."""
    ordered = sorted(values.values())
    first_place = {}
    for place, value in enumerate(ordered, start=1):
        first_place.setdefault(value, place)
    return {key: 1 + (5 * (first_place[value] - 1)) // len(ordered) for key, value in values.items()}


def expected_scores():
    """{customer id: (r, f, m, group)} computed from the orders, account by account."""
    figures = defaultdict(lambda: {"last": None, "orders": 0, "spent": Decimal(0)})
    for order in Order.objects.values(
        "customer_id", "customer__account_id", "placed_at", "account_total", "account_refunded"
    ):
        entry = figures[(order["customer__account_id"], order["customer_id"])]
        entry["orders"] += 1
        entry["last"] = max(filter(None, (entry["last"], order["placed_at"])))
        if order["account_total"] is not None:
            entry["spent"] += order["account_total"] - order["account_refunded"]
    expected = {}
    for account_id in {account for account, _customer in figures}:
        mine = {customer: entry for (account, customer), entry in figures.items() if account == account_id}
        recency = quintiles({customer: entry["last"] for customer, entry in mine.items()})
        frequency = quintiles({customer: entry["orders"] for customer, entry in mine.items()})
        monetary = quintiles({customer: entry["spent"] for customer, entry in mine.items()})
        for customer in mine:
            r, f = recency[customer], frequency[customer]
            expected[customer] = (r, f, monetary[customer], segment(r, f))
    return expected


def stored_scores():
    return {
        row["customer_id"]: (row["recency_score"], row["frequency_score"], row["monetary_score"], row["rfm_group"])
        for row in CustomerScore.objects.values(
            "customer_id", "recency_score", "frequency_score", "monetary_score", "rfm_group"
        )
    }


@pytest.fixture
def retail_account(realdata):
    account = SellerAccount.objects.create(name="UK wholesale", channel="website", currency="GBP")
    report = run_import(account, (realdata / SAMPLE).read_bytes(), format_name="online_retail")
    assert report.errors == []
    return account


@pytest.fixture
def tied_account(db):
    """60 buyers with few distinct figures: most have one order of the same amount, on a handful of days."""
    account = SellerAccount.objects.create(name="Ties", channel="shopify", currency="GBP")
    orders = []
    for buyer in range(60):
        for number in range(1 + (buyer % 7 == 0) + (buyer % 11 == 0)):
            orders.append(
                order_data(
                    f"T{buyer}-{number}", email=f"t{buyer}@example.com", day=buyer % 4 + number, lines=((1, "10.00"),)
                )
            )
    record_orders(account, orders)
    return account


def test_every_pair_of_scores_is_in_exactly_one_group():
    groups = {segment(r, f) for r in range(1, 6) for f in range(1, 6)}
    assert groups == set(RfmGroup)


def test_scores_equal_an_independent_computation_from_the_orders(retail_account, tied_account):
    assert refresh_scores() == Customer.objects.filter(orders_count__gt=0).count()
    expected = expected_scores()
    assert stored_scores() == expected
    # The real data spreads over the scores; equal figures always share a score (the tied account).
    assert {scores[0] for scores in expected.values()} == {1, 2, 3, 4, 5}
    tied = CustomerScore.objects.filter(account=tied_account)
    one_order = set(tied.filter(customer__orders_count=1).values_list("frequency_score", flat=True))
    assert one_order == {1}
    assert set(tied.values_list("monetary_score", "customer__amount_spent").distinct()) == set(
        tied.values_list("monetary_score", "customer__amount_spent")
    )


def test_one_account_is_refreshed_alone_and_a_refresh_is_idempotent(retail_account, tied_account):
    refresh_scores([tied_account.pk])
    assert not CustomerScore.objects.filter(account=retail_account).exists()
    first = stored_scores()
    assert refresh_scores([tied_account.pk]) == len(first) and stored_scores() == first
    refresh_scores([retail_account.pk])
    assert stored_scores() == expected_scores()


def test_new_orders_and_lost_orders_change_the_scores_at_the_next_refresh(tied_account):
    refresh_scores()
    buyer = Customer.objects.get(email="t1@example.com")
    record_orders(
        tied_account,
        [order_data(f"N{n}", email="t1@example.com", day=30 + n, lines=((1, "500.00"),)) for n in range(3)],
    )
    refresh_scores()
    assert stored_scores() == expected_scores()
    assert CustomerScore.objects.get(customer=buyer).rfm_group == RfmGroup.CHAMPIONS
    # A customer whose orders are gone (and whose statistics were rebuilt) has no score any more.
    gone = Customer.objects.get(email="t2@example.com")
    Order.objects.filter(customer=gone).delete()
    rebuild_statistics(tied_account)
    refresh_scores()
    assert not CustomerScore.objects.filter(customer=gone).exists()
    assert stored_scores() == expected_scores()


def test_a_fitted_model_stores_finite_predictions_for_every_scored_customer(retail_account):
    refresh_scores()
    # The sample is from 2010-2011: observed up to the day after its last order, not today (when every one of
    # its buyers has rightly been gone for years).
    last_order = Order.objects.filter(account=retail_account).latest("placed_at").placed_at
    fit = refit_account(retail_account, now=last_order + timedelta(days=1))
    assert fit.status == FitStatus.FITTED, fit.message
    assert fit.customers > 100 and fit.repeat_buyers > 20 and set(fit.parameters) >= {"r", "alpha", "a", "b"}
    scores = CustomerScore.objects.filter(account=retail_account)
    assert not scores.filter(expected_orders__isnull=True).exists()
    assert not scores.filter(probability_active__gt=1).exists()
    assert not scores.filter(expected_spend__lt=0).exists()
    # A repeat buyer seen recently is expected to order more than one who bought once long ago.
    recent = scores.filter(customer__orders_count__gte=3).order_by("-customer__last_order_at").first()
    lapsed = scores.filter(customer__orders_count=1).order_by("customer__last_order_at").first()
    assert recent.expected_orders > lapsed.expected_orders


def test_too_little_history_is_recorded_as_such_and_empties_the_predictions(tied_account):
    # Only a few repeat buyers, all on the first days: not enough to fit.
    Order.objects.filter(customer__account=tied_account).exclude(external_id__endswith="-0").update(
        status=OrderStatus.CANCELLED
    )
    refresh_scores()
    CustomerScore.objects.update(expected_orders=Decimal("1.00"))
    fit = refit_account(tied_account)
    assert fit.status == FitStatus.NOT_ENOUGH_DATA and fit.message
    assert not CustomerScore.objects.filter(expected_orders__isnull=False).exists()
    assert LifetimeValueFit.objects.get(account=tied_account) == fit
    # The reason is kept untranslated with its numbers, and written in the admin user's language when shown.
    assert fit.reason_text == fit.message and set(fit.parameters) == {"reason", "values"}
    fit.parameters["values"]["customers"] = 1234
    with translation.override("de"):
        assert fit.reason_text.startswith("1.234 customers and ")
    # A reason this release cannot fill in (an earlier release's fit, a changed placeholder): the stored message.
    for parameters in ({}, {"reason": "%(missing)s", "values": {}}, {"reason": "x", "values": []}, []):
        fit.parameters = parameters
        assert fit.reason_text == fit.message


def test_the_task_scores_and_fits_every_account(retail_account, tied_account):
    assert refresh_buyer_insight_task.apply().get() == Customer.objects.filter(orders_count__gt=0).count()
    assert stored_scores() == expected_scores()
    assert set(LifetimeValueFit.objects.values_list("account", flat=True)) == {retail_account.pk, tied_account.pk}
    # Twice: the same rows.
    before = stored_scores()
    refresh_buyer_insight_task.apply(kwargs={"account_id": tied_account.pk}).get()
    assert stored_scores() == before


def test_the_stored_predictions_are_the_models_for_each_customer_in_id_order(retail_account):
    """The fit and the predictions made from the account's columns and written in customer id order are those of
    the model fitted on one summary per customer; a scored customer without a purchase to learn from has none."""
    refresh_scores()
    unconverted = CustomerScore.objects.filter(account=retail_account).order_by("pk")[50].pk
    Order.objects.filter(customer_id=unconverted).update(account_total=None)
    now = Order.objects.filter(account=retail_account).latest("placed_at").placed_at + timedelta(days=1)
    fit = refit_account(retail_account, now=now)

    summaries = summarise_purchases(lifetime_value_fit._purchases(retail_account), lifetime_value_fit._local_date(now))
    customers = sorted(summaries)
    rows = [summaries[customer] for customer in customers]
    model = fit_account_model(rows)
    assert fit.parameters == {name: getattr(model, name) for name in fit.parameters}
    predictions = dict(zip(customers, predict(model, rows, horizon_days=365), strict=True))
    assert unconverted not in predictions and len(predictions) > 1000

    def stored(prediction):
        if prediction is None:
            return None, None, None
        return (
            Decimal(prediction.expected_orders).quantize(Decimal("0.01")),
            Decimal(prediction.expected_spend).quantize(Decimal("0.01")),
            Decimal(prediction.probability_alive).quantize(Decimal("0.0001")),
        )

    scores = CustomerScore.objects.filter(account=retail_account)
    assert {
        row[0]: row[1:] for row in scores.values_list("pk", "expected_orders", "expected_spend", "probability_active")
    } == {pk: stored(predictions.get(pk)) for pk in scores.values_list("pk", flat=True)}


def test_an_account_that_fails_does_not_keep_the_next_ones_from_being_refreshed(retail_account, tied_account, caplog):
    refresh_scores()
    first, second = SellerAccount.objects.order_by("pk")

    def refit_all_but_the_first(account):
        if account == first:
            raise RuntimeError("This account cannot be refitted.")
        refit_account(account)

    with pytest.raises(RuntimeError, match="cannot be refitted"):
        for_each_account(SellerAccount.objects.order_by("pk"), refit_all_but_the_first)
    assert list(LifetimeValueFit.objects.values_list("account", flat=True)) == [second.pk]
    assert f"The buyer insight refresh of seller account {first.pk} failed" in caplog.text


class _Columns:
    """Stands for the arrays an account's refit holds (weakly referenceable, unlike a list)."""


def test_a_failed_accounts_data_is_freed_before_the_next_account_runs(retail_account, tied_account, monkeypatch):
    # The log record keeps the traceback while the test's log capture holds it; a site's handlers format and drop it.
    monkeypatch.setattr(logging.getLogger("wagtail_customers.services.lifetime_value_fit"), "propagate", False)
    first, second = SellerAccount.objects.order_by("pk")
    held = []
    alive_while_the_next_ran = []

    def refit_all_but_the_first(account):
        if account == first:
            columns = _Columns()
            held.append(weakref.ref(columns))
            try:
                raise KeyError("a lookup in the columns")
            except KeyError:
                # Raised from one error during another: both hold this frame.
                raise RuntimeError("This account cannot be refitted.") from ValueError("a bad value")
        alive_while_the_next_ran.append(held[0]() is not None)

    with pytest.raises(RuntimeError, match="cannot be refitted") as raised:
        for_each_account(SellerAccount.objects.order_by("pk"), refit_all_but_the_first)
    assert alive_while_the_next_ran == [False]
    # Where it was raised is still told, as text.
    [note] = raised.value.__notes__
    assert "in refit_all_but_the_first" in note and "ValueError: a bad value" in note
