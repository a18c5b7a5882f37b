import decimal
import random
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from tests.factories import order_data
from wagtail_customers.models import Customer, CustomerScore, Order, SellerAccount
from wagtail_customers.services.ingestion import record_order, record_orders
from wagtail_customers.services.statistics import compute_statistics, rebuild_statistics
from wagtail_customers.tasks import rebuild_statistics_task

pytestmark = pytest.mark.django_db


def test_rebuild_stats_corrects_rows_written_behind_the_services_back(account, other_account, capsys):
    record_order(account, order_data("1", email="a@example.com"))
    record_order(account, order_data("2", email="b@example.com"))
    record_order(other_account, order_data("1", email="c@example.com"))
    call_command("customers_rebuild_stats")
    assert "0 customer row(s) corrected" in capsys.readouterr().out
    # QuerySet.update() bypasses the service: the reconciliation must find and fix it.
    Customer.objects.update(orders_count=99, amount_spent=Decimal("1.00"))
    call_command("customers_rebuild_stats", "--account", account.name)
    assert "2 customer row(s) corrected" in capsys.readouterr().out
    assert set(Customer.objects.filter(account=account).values_list("orders_count", flat=True)) == {1}
    assert Customer.objects.get(account=other_account).orders_count == 99
    assert rebuild_statistics_task.delay().get() == 1
    assert Customer.objects.get(account=other_account).orders_count == 1


def test_rebuild_stats_zeroes_customers_whose_orders_were_deleted(account):
    order = record_order(account, order_data("1"))
    Order.objects.filter(pk=order.pk).delete()
    call_command("customers_rebuild_stats")
    customer = Customer.objects.get()
    assert (customer.orders_count, customer.amount_spent, customer.last_order_at) == (0, 0, None)


def test_rebuild_stats_unknown_account(db):
    with pytest.raises(CommandError, match="No seller account named 'Nope'"):
        call_command("customers_rebuild_stats", "--account", "Nope")


def test_refresh_insight_scores_the_customers_of_one_account_or_all(account, other_account, capsys):
    """For a site without a Celery beat (the tutorial's), whose customers said "Not scored yet" for good."""
    record_orders(account, [order_data("1", email="a@example.com"), order_data("2", email="b@example.com")])
    record_order(other_account, order_data("1", email="c@example.com"))

    call_command("customers_refresh_insight", "--account", account.name)
    assert "2 customer(s) scored" in capsys.readouterr().out
    assert set(CustomerScore.objects.values_list("customer__account", flat=True)) == {account.pk}

    call_command("customers_refresh_insight")
    assert "3 customer(s) scored" in capsys.readouterr().out
    assert CustomerScore.objects.filter(customer__account=other_account).count() == 1
    with pytest.raises(CommandError, match="No seller account named 'Nope'"):
        call_command("customers_refresh_insight", "--account", "Nope")


def test_demo_data_is_seeded_realistic_and_its_statistics_are_correct(capsys):
    call_command("customers_demo_data", "--customers", "150", "--orders", "600", "--seed", "7")
    assert "600 order(s) recorded for 150 customer(s)" in capsys.readouterr().out
    accounts = SellerAccount.objects.all()
    assert {a.channel for a in accounts} == {"amazon", "shopify", "ebay"}
    assert len({a.currency for a in accounts}) == 3
    assert Order.objects.count() == 600
    assert Customer.objects.filter(orders_count__gt=1).exists()  # repeat buyers
    assert Order.objects.filter(status="cancelled").exists()
    assert Customer.objects.filter(returned_units__gt=0).exists()
    assert Customer.objects.filter(promo_codes_used__gt=0).exists()
    assert Customer.objects.filter(negative_feedbacks__gt=0).exists()
    assert Customer.objects.values("country").distinct().count() > 3
    kept = {c.pk: {f: getattr(c, f) for f in Customer.STATISTICS_FIELDS} for c in Customer.objects.all()}
    assert kept == compute_statistics({"gte": 0})
    first_run = _orders_as_loaded()
    # The same seed gives the same data; --if-empty leaves loaded data alone.
    call_command("customers_demo_data", "--customers", "150", "--orders", "600", "--seed", "7", "--if-empty")
    assert "already loaded" in capsys.readouterr().out
    Order.objects.all().delete()
    Customer.objects.all().delete()
    call_command("customers_demo_data", "--customers", "150", "--orders", "600", "--seed", "7")
    assert _orders_as_loaded() == first_run


def _orders_as_loaded():
    """The demo's orders with their dates counted back from the latest (the data ends at the current hour)."""
    rows = list(Order.objects.order_by("external_id").values_list("external_id", "total", "placed_at"))
    latest = max(placed_at for _, _, placed_at in rows)
    return [(external_id, total, latest - placed_at) for external_id, total, placed_at in rows]


def test_demo_data_refuses_nonsense(db):
    with pytest.raises(CommandError):
        call_command("customers_demo_data", "--customers", "10", "--orders", "5")


def _amounts_whose_float_sum_is_inexact():
    """Order totals whose sum, added up as floats (as SQLite does), is off in the 15th digit."""
    rng = random.Random(1)
    for count in range(2, 400):
        amounts = [Decimal(rng.randint(100, 999_999)) / 100 for _ in range(count)]
        # Added one by one, as a database without compensated summation does: Python 3.12's sum() of floats
        # is compensated (exact here), so it cannot stand in for that. Django reads SQLite's float result
        # with 15 significant digits.
        naive_float_sum = 0.0
        for amount in amounts:
            naive_float_sum += float(amount)
        if decimal.Context(prec=15).create_decimal_from_float(naive_float_sum) != sum(amounts):
            return amounts
    raise AssertionError("no such amounts")


def test_amounts_are_exact_to_the_cent_however_the_database_sums_them(account):
    amounts = _amounts_whose_float_sum_is_inexact()
    record_orders(
        account,
        [order_data(f"{n}", lines=(), total=amount) for n, amount in enumerate(amounts)],
    )
    customer = Customer.objects.get()
    assert str(customer.amount_spent) == str(sum(amounts))
    assert rebuild_statistics() == 0


@pytest.mark.django_db
def test_demo_data_refuses_a_batch_size_below_one():
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("customers_demo_data", "--customers", "5", "--orders", "10", "--batch-size", "0")
