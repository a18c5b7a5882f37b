"""Retention rules (services/retention.py) with a frozen clock: ``now`` is passed into the service."""

from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from wagtail.models import ModelLogEntry

from tests.factories import moment, order_data
from wagtail_customers.beat import BEAT_SCHEDULE
from wagtail_customers.importers import run_import
from wagtail_customers.listing import listing_statistics
from wagtail_customers.models import Customer, Order, RetentionRule, RetentionRun, SellerAccount
from wagtail_customers.services import retention, search_index
from wagtail_customers.services.erasure import ERASE_ACTION, erase_customer
from wagtail_customers.services.ingestion import record_order
from wagtail_customers.services.retention import APPLY_ACTION, apply_retention, customers_past, last_runs, preview
from wagtail_customers.tasks import apply_retention_rules_task

pytestmark = pytest.mark.django_db

NOW = moment(100)  # 2024-04-10 12:00


def ago(days, seconds=0):
    return NOW - timedelta(days=days, seconds=seconds)


def order(account, external_id, email, placed_at, shipped_at=None, delivered_at=None):
    data = order_data(external_id, email=email, name=email.split("@")[0].title())
    data.placed_at, data.shipped_at, data.delivered_at = placed_at, shipped_at, delivered_at
    record_order(account, data)
    return Customer.objects.get(account=account, orders__external_id=external_id)


def books(account):
    customers = Customer.objects.filter(account=account).order_by("pk")
    return (
        [tuple(getattr(c, f) for f in Customer.STATISTICS_FIELDS) for c in customers],
        listing_statistics(customers),
        list(Order.objects.filter(account=account).order_by("pk").values_list("pk", "total", "refunded", "status")),
    )


def erased_ids(account):
    return set(Customer.objects.filter(account=account, erased_at__isnull=False).values_list("pk", flat=True))


@pytest.fixture
def amazon(db):
    return SellerAccount.objects.create(name="Amazon DE", channel="amazon", marketplace="amazon.de", currency="EUR")


def test_the_boundary_day_after_shipment(amazon):
    """30 days after shipment: a second later is past the rule, exactly 30 days or a second less is not."""
    rule = RetentionRule.objects.create(account=amazon, days=30)
    past = order(amazon, "A1", "past@example.com", ago(40), shipped_at=ago(30, seconds=1))
    exact = order(amazon, "A2", "exact@example.com", ago(40), shipped_at=ago(30))
    inside = order(amazon, "A3", "inside@example.com", ago(40), shipped_at=ago(29, seconds=86399))
    # Placed long ago, shipped recently: the shipment counts, not the order date.
    late_ship = order(amazon, "A4", "late@example.com", ago(90), shipped_at=ago(3))

    assert set(customers_past(rule, NOW).values_list("pk", flat=True)) == {past.pk}
    assert preview(rule, NOW) == 1
    [result] = apply_retention(now=NOW)

    assert result.customers == 1
    assert erased_ids(amazon) == {past.pk}
    for kept in (exact, inside, late_ship):
        kept.refresh_from_db()
        assert not kept.is_erased and kept.email.endswith("@example.com")
    # A day later, the exact one is past too (and the second run erases only it).
    [later] = apply_retention(now=NOW + timedelta(days=1))
    assert later.customers == 2  # exact and inside (29 d 23:59:59 + 1 d is past 30 d)
    assert erased_ids(amazon) == {past.pk, exact.pk, inside.pk}


def test_every_order_must_be_past_the_rule(amazon):
    rule = RetentionRule.objects.create(account=amazon, days=30)
    customer = order(amazon, "B1", "two@example.com", ago(200), shipped_at=ago(199))
    order(amazon, "B2", "two@example.com", ago(10), shipped_at=ago(9))
    assert customer.orders_count == 1
    customer.refresh_from_db()
    assert customer.orders_count == 2

    assert preview(rule, NOW) == 0
    assert apply_retention(now=NOW)[0].customers == 0
    # Once the newer order is past the rule as well, the customer goes.
    assert apply_retention(now=ago(-22))[0].customers == 1
    assert erased_ids(amazon) == {customer.pk}


def test_an_order_with_no_shipment_date_counts_from_its_placed_date(amazon):
    rule = RetentionRule.objects.create(account=amazon, days=30)
    never_shipped = order(amazon, "C1", "old@example.com", ago(31))
    recent = order(amazon, "C2", "new@example.com", ago(29))
    assert set(customers_past(rule, NOW).values_list("pk", flat=True)) == {never_shipped.pk}
    assert recent.pk not in erased_ids(amazon)


@pytest.mark.parametrize(
    ("basis", "expected"),
    [
        # placed 60 days ago, shipped 40 days ago, delivered 20 days ago; the rule is 30 days
        ("order", True),
        ("shipment", True),
        ("delivery", False),
    ],
)
def test_each_basis_counts_from_its_date(amazon, basis, expected):
    rule = RetentionRule.objects.create(account=amazon, days=30, basis=basis)
    customer = order(amazon, "D1", "d@example.com", ago(60), shipped_at=ago(40), delivered_at=ago(20))
    assert (customer.pk in set(customers_past(rule, NOW).values_list("pk", flat=True))) is expected


def test_delivery_falls_back_to_shipment_then_placed(amazon):
    rule = RetentionRule.objects.create(account=amazon, days=30, basis="delivery")
    shipped = order(amazon, "E1", "s@example.com", ago(60), shipped_at=ago(20))
    placed = order(amazon, "E2", "p@example.com", ago(45))
    assert set(customers_past(rule, NOW).values_list("pk", flat=True)) == {placed.pk}
    assert shipped.pk not in erased_ids(amazon)


def test_other_accounts_disabled_rules_and_erased_customers_are_left_alone(amazon, account):
    RetentionRule.objects.create(account=amazon, days=30)
    RetentionRule.objects.create(account=account, days=30, is_enabled=False)
    mine = order(amazon, "F1", "f@example.com", ago(100), shipped_at=ago(99))
    elsewhere = order(account, "F2", "g@example.com", ago(100), shipped_at=ago(99))
    already = order(amazon, "F3", "h@example.com", ago(100), shipped_at=ago(99))
    erase_customer(already)
    already.refresh_from_db()
    erased_at = already.erased_at

    results = apply_retention(now=NOW)

    assert [r.rule.account for r in results] == [amazon]
    assert results[0].customers == 1
    assert erased_ids(amazon) == {mine.pk, already.pk}
    elsewhere.refresh_from_db()
    assert not elsewhere.is_erased
    already.refresh_from_db()
    assert already.erased_at == erased_at
    assert results[0].run.customer_ids == [mine.pk]


def test_a_customer_with_no_orders_is_not_selected(amazon):
    rule = RetentionRule.objects.create(account=amazon, days=1)
    Customer.objects.create(account=amazon, identity_key="email:none@example.com", email="none@example.com")
    assert preview(rule, NOW) == 0


def test_real_shopify_orders_books_unchanged_and_idempotent(realdata):
    """Store A's real export: the rule erases exactly the customers whose every order (by fulfilment date, else
    placed date) is past it, computed here independently in Python; totals and the band do not change."""
    account = SellerAccount.objects.create(name="Store A", channel="shopify", currency="USD")
    run_import(
        account, (realdata / "shopify/storeA_orders_export_1.pseudonymised.csv").read_bytes(), format_name="shopify"
    )
    dates = {}
    for customer_id, placed, shipped in Order.objects.filter(account=account).values_list(
        "customer_id", "placed_at", "shipped_at"
    ):
        dates.setdefault(customer_id, []).append(shipped or placed)
    # A moment that splits the customers: 30 days after the median of their latest dates.
    latest = sorted(max(values) for values in dates.values())
    now = latest[len(latest) // 2] + timedelta(days=30)
    expected = {pk for pk, values in dates.items() if all(value < now - timedelta(days=30) for value in values)}
    assert 0 < len(expected) < len(dates)
    rule = RetentionRule.objects.create(account=account, days=30)
    before = books(account)

    assert preview(rule, now) == len(expected)
    [result] = apply_retention(now=now)

    assert result.customers == len(expected)
    assert erased_ids(account) == expected
    assert books(account) == before
    # Every erased customer is recorded in the history like any erasure (no user: the rule did it).
    entries = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), action=ERASE_ACTION
    )
    assert {int(pk) for pk in entries.values_list("object_id", flat=True)} == expected
    assert set(entries.values_list("user", flat=True)) == {None}
    # Idempotent: a second run erases nothing and changes nothing.
    [again] = apply_retention(now=now)
    assert again.customers == 0
    assert erased_ids(account) == expected
    assert books(account) == before
    assert entries.count() == len(expected)


def test_the_run_report(amazon, monkeypatch):
    rule = RetentionRule.objects.create(account=amazon, days=30)
    customers = [order(amazon, f"G{i}", f"g{i}@example.com", ago(50), shipped_at=ago(45)) for i in range(5)]
    monkeypatch.setattr(retention, "RETENTION_BATCH_SIZE", 2)  # three batches
    monkeypatch.setattr(RetentionRun, "MAX_IDS", 3)

    [result] = apply_retention(now=NOW)

    run = RetentionRun.objects.get()
    assert result.run == run
    assert (run.account, run.rule, run.basis, run.days) == (amazon, rule, "shipment", 30)
    assert run.ran_at == NOW and run.cutoff == ago(30)
    assert run.customers_erased == 5
    assert run.customer_ids == sorted(c.pk for c in customers)[:3]
    assert run.errors == []
    assert last_runs([amazon]) == {amazon.pk: run}
    # The account's history records the run, with counts only.
    entry = ModelLogEntry.objects.get(action=APPLY_ACTION)
    assert entry.content_type == ContentType.objects.get_for_model(SellerAccount)
    assert entry.object_id == str(amazon.pk)
    assert entry.data == {"basis": "shipment", "days": 30, "customers_erased": 5, "errors": 0}


def optimizations(queries):
    """The search index's compactions (``search_index.compact``: FTS5's ``optimize``) among captured queries."""
    return [query["sql"] for query in queries if "VALUES ('optimize')" in query["sql"]]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the search index is compacted on SQLite only")
def test_a_rule_compacts_the_search_index_once_not_per_batch(amazon, monkeypatch):
    """Each batch of a rule compacted the whole SQLite index (1.3 s at 200,000 customers): most of a broad rule's
    first run. The rule's batches now leave it to the rule, which compacts once when it is done."""
    assert search_index.sqlite_index_available(connection)
    RetentionRule.objects.create(account=amazon, days=30)
    for i in range(5):
        order(amazon, f"K{i}", f"k{i}@example.com", ago(50))
    monkeypatch.setattr(retention, "RETENTION_BATCH_SIZE", 2)  # three batches

    with CaptureQueriesContext(connection) as queries:
        [result] = apply_retention(now=NOW)

    assert result.customers == 5
    assert len(optimizations(queries.captured_queries)) == 1
    # Compacted after the last batch: compacting again finds nothing left to drop (tests/test_search_index.py).
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT SUM(LENGTH(block)) FROM {search_index.TABLE}_data")
        [after_rule] = cursor.fetchone()
        search_index.compact()
        cursor.execute(f"SELECT SUM(LENGTH(block)) FROM {search_index.TABLE}_data")
        assert cursor.fetchone() == (after_rule,)

    # A run that erases no one compacts nothing.
    with CaptureQueriesContext(connection) as queries:
        [result] = apply_retention(now=NOW)
    assert result.customers == 0 and optimizations(queries.captured_queries) == []


def test_a_failing_batch_is_reported_and_other_rules_still_run(amazon, account, monkeypatch):
    """A database error inside erasure (the unique identity key taken, which a real race with an import could
    cause) is recorded on the run; the next account's rule runs."""
    RetentionRule.objects.create(account=amazon, days=30)
    RetentionRule.objects.create(account=account, days=30)
    order(amazon, "H1", "h@example.com", ago(50))
    other = order(account, "H2", "i@example.com", ago(50))

    def refuse(customers, user=None):
        with transaction.atomic():
            raise IntegrityError("duplicate key value")

    original = retention.erase_customers

    def erase_or_fail(customers, user=None, **options):
        if customers.filter(account=amazon).exists():
            return refuse(customers, user)
        return original(customers, user, **options)

    monkeypatch.setattr(retention, "erase_customers", erase_or_fail)
    results = {r.rule.account: r for r in apply_retention(now=NOW)}

    # The type only: a database error's text can quote a row's values (personal data).
    assert results[amazon].errors == ["IntegrityError (details in the site's log)"]
    assert results[amazon].run.errors == ["IntegrityError (details in the site's log)"]
    assert results[account].customers == 1
    assert erased_ids(account) == {other.pk}
    assert erased_ids(amazon) == set()


def test_the_time_limit_records_what_the_cut_rule_erased_and_starts_no_other_rule(amazon, account, monkeypatch):
    """The task's soft time limit lands in the second batch of the first rule: that batch rolls back, the run is
    recorded (in the report and the account's history) with the first batch's customers, and no rule starts
    after it; the next run erases the customers left."""
    RetentionRule.objects.create(account=amazon, days=30)
    RetentionRule.objects.create(account=account, days=30)
    first, second = (order(amazon, f"T{i}", f"t{i}@example.com", ago(50)) for i in range(2))
    other = order(account, "T3", "u@example.com", ago(50))
    monkeypatch.setattr(retention, "RETENTION_BATCH_SIZE", 1)
    original = retention.erase_customers
    batches = []

    def erase_until_stopped(customers, user=None, **options):
        batches.append(list(customers.values_list("pk", flat=True)))
        if len(batches) == 2:
            raise SoftTimeLimitExceeded()
        return original(customers, user, **options)

    monkeypatch.setattr(retention, "erase_customers", erase_until_stopped)
    with pytest.raises(SoftTimeLimitExceeded):
        apply_retention(now=NOW)

    run = RetentionRun.objects.get()
    assert (run.account, run.customers_erased, run.customer_ids) == (amazon, 1, [first.pk])
    assert run.errors == ["Stopped at the task's time limit; the next run erases the customers left."]
    entry = ModelLogEntry.objects.get(action=APPLY_ACTION)
    assert entry.object_id == str(amazon.pk) and entry.data["customers_erased"] == 1
    assert erased_ids(amazon) == {first.pk} and erased_ids(account) == set()

    monkeypatch.setattr(retention, "erase_customers", original)
    apply_retention(now=NOW)
    assert erased_ids(amazon) == {first.pk, second.pk} and erased_ids(account) == {other.pk}


def test_dry_run_changes_nothing(amazon):
    RetentionRule.objects.create(account=amazon, days=30)
    order(amazon, "J1", "j@example.com", ago(50))
    [result] = apply_retention(now=NOW, dry_run=True)
    assert result.customers == 1 and result.run is None
    assert erased_ids(amazon) == set()
    assert not RetentionRun.objects.exists()


def test_days_out_of_range_are_refused_by_the_database(amazon):
    with pytest.raises(IntegrityError), transaction.atomic():
        RetentionRule.objects.create(account=amazon, days=0)


# --- The command ------------------------------------------------------------------------------------


def test_command_dry_run_then_apply(amazon, account, capsys):
    RetentionRule.objects.create(account=amazon, days=30)
    RetentionRule.objects.create(account=account, days=3650)
    old = order(amazon, "K1", "k@example.com", moment(-400))
    order(account, "K2", "l@example.com", moment(-400))

    call_command("customers_apply_retention", "--dry-run")
    out = capsys.readouterr().out
    assert "Amazon DE: 1 customer(s) would be erased (Erase personal data 30 days after the order's shipment)." in out
    assert "Shop A: 0 customer(s) would be erased" in out
    assert "Dry run: nothing changed." in out
    assert erased_ids(amazon) == set() and not RetentionRun.objects.exists()

    call_command("customers_apply_retention", "--account", "Amazon DE")
    out = capsys.readouterr().out
    assert "Amazon DE: 1 customer(s) erased" in out and "Shop A" not in out
    assert erased_ids(amazon) == {old.pk}
    assert RetentionRun.objects.get().account == amazon


def test_command_with_no_rule_and_an_unknown_account(amazon, capsys):
    call_command("customers_apply_retention")
    assert "No enabled retention rule." in capsys.readouterr().out
    with pytest.raises(CommandError, match="No seller account named 'Nope'"):
        call_command("customers_apply_retention", "--account", "Nope")


# --- The task and its schedule ------------------------------------------------------------------------


def test_the_task_is_scheduled_daily():
    entry = BEAT_SCHEDULE["wagtail-customers-apply-retention-rules"]
    assert entry["task"] == apply_retention_rules_task.name == "wagtail_customers.apply_retention_rules"
    assert entry["schedule"].hour == {2} and entry["schedule"].minute == {45}


def test_the_task_applies_the_rules_at_the_current_time(amazon):
    """Eagerly here (tests/settings.py); the real worker runs it in test_retention_worker.py."""
    from django.utils import timezone

    RetentionRule.objects.create(account=amazon, days=30)
    old = order(amazon, "L1", "m@example.com", timezone.now() - timedelta(days=31))
    order(amazon, "L2", "n@example.com", timezone.now() - timedelta(days=29))
    assert apply_retention_rules_task.delay().get() == {amazon.pk: 1}
    assert erased_ids(amazon) == {old.pk}
