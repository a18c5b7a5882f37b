"""Writers of orders and customers at the same moment take their row locks in one order, and see each other's work.

The writers lock the customers they write before the orders (the ingestion service, merges, erasure, deletion,
the exchange-rate refresh), each set of customers in pk order, with the exceptions docs/concepts/statistics.md
lists. Before:
- the refresh wrote the orders it converted, then locked their customers for the statistics: an order recorded for
  one of those customers at that moment held the customer and waited for the order, and PostgreSQL stopped one of
  the two as a deadlock;
- the ingestion service locked the customer an order moved away from only to refresh its figures, after the order:
  a deletion of that customer deadlocked with it the same way;
- the service read a batch's stored orders without a lock: a batch moving an order while another batch moved it
  too refreshed the customer the order had left before the first batch, not the one it left in fact;
- a deletion read the customer's orders before an order being recorded for them committed, then failed on it;
- a deletion, merge, undone merge, erasure or retention batch stopped by PostgreSQL in a deadlock (with a writer that
  locks an order before its customer) answered 500 or stopped the rule; they are run again now, unless inside a
  caller's transaction;
- a new customer another batch created meanwhile was read back without a lock, and so locked only after the orders.

Real threads, each with its own database connection. SQLite runs one writing transaction at a time, so there the
same steps run one after the other and must give the same end state.
"""

import threading

import pytest
from django.db import OperationalError, connection, transaction

from tests.factories import order_data
from tests.parallel_support import (
    assert_every_customer_counts_its_own_orders,
    in_thread,
    record_while,
    run_while_held,
    started_until_it_waits,
)
from tests.test_exchange_rates_refresh import days, ecb_csv  # noqa: F401 (days: the fixture)
from tests.test_exchange_rates_refresh_parallel import usd_order
from tests.test_watchlist_parallel import parallel_database  # noqa: F401 (the fixture)
from wagtail_customers.exchange_rates import store_rate_table
from wagtail_customers.models import (
    Channel,
    Customer,
    CustomerMerge,
    Order,
    RateSource,
    RetentionRule,
    SellerAccount,
)
from wagtail_customers.services.deadlocks import is_deadlock
from wagtail_customers.services.erasure import erase_customers
from wagtail_customers.services.ingestion import IngestionError, record_order, record_orders
from wagtail_customers.services.merge import merge_customers, undo_merge
from wagtail_customers.services.rate_refresh import convert_unconverted_orders
from wagtail_customers.services.retention import apply_retention
from wagtail_customers.views.listing.delete import delete_customers


@pytest.mark.django_db(transaction=True)
def test_a_refresh_and_an_order_for_the_same_customer_at_once_both_go_through(parallel_database, days):  # noqa: F811
    account = SellerAccount.objects.create(name="EU shop", channel=Channel.SHOPIFY, currency="EUR")
    record_order(account, usd_order(days[0], "110.00"))
    store_rate_table(ecb_csv(days), "eurofxref-hist.csv")
    errors, results = [], []

    # The order is held a moment by another transaction (a bare lock stands in for it), so that the refresh, which
    # has read it, waits to write it while the ingestion service starts to record it again for the same customer.
    with transaction.atomic():
        Order.objects.select_for_update().get()
        refresh, refresh_waited = started_until_it_waits(lambda: results.append(convert_unconverted_orders()), errors)
        recording, recording_waited = started_until_it_waits(
            lambda: record_orders(account, [usd_order(days[0], "120.00")]), errors
        )
    refresh.join(60)
    recording.join(60)

    # Before, the refresh wrote the order then waited for the customer the service held, which waited for the
    # order: a deadlock, one of them stopped with an error.
    assert not errors, errors
    assert refresh_waited and recording_waited
    order = Order.objects.get()
    assert (order.total, order.rate_source) == (120, RateSource.TABLE)
    assert_every_customer_counts_its_own_orders()


@pytest.mark.django_db(transaction=True)
def test_an_order_two_batches_move_at_once_leaves_no_customer_counting_it_twice(parallel_database):  # noqa: F811
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    record_order(account, order_data("1", email="zoe@example.com"))

    # The buyer's e-mail changed twice in the channel; two syncs each record the order under the address they saw.
    # The second waits for the first, which moved the order from Zoe to Xavier, then moves it to Yan.
    record_while(
        lambda: record_orders(account, [order_data("1", email="yan@example.com", name="Yan")]),
        account,
        [order_data("1", email="xavier@example.com", name="Xavier")],
    )

    assert Order.objects.get().customer.email == "yan@example.com"
    # Before, the second batch refreshed Zoe (where it had read the order), and Xavier kept counting it.
    assert_every_customer_counts_its_own_orders()
    assert Customer.objects.get(email="xavier@example.com").orders_count == 0


@pytest.mark.django_db(transaction=True)
def test_a_customer_deleted_while_an_order_is_recorded_goes_with_every_order(parallel_database):  # noqa: F811
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    record_order(account, order_data("1", email="ada@example.com"))
    customer = Customer.objects.get()

    # The seller deletes the customer while a sync records the buyer's next order. The deletion waits for it and
    # takes the new order too.
    record_while(
        lambda: delete_customers(Customer.objects.filter(pk=customer.pk), user=None),
        account,
        [order_data("2", email="ada@example.com", day=3)],
    )

    # Before, the deletion read the customer's orders before the new one committed, then deleted the customer under
    # it: the new order's reference failed at commit (PostgreSQL), and the deletion answered 500.
    assert not Customer.objects.exists()
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_customer_deleted_while_a_batch_moves_their_order_away_both_go_through(parallel_database):  # noqa: F811
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    record_order(account, order_data("1", email="zoe@example.com"))
    zoe = Customer.objects.get()
    errors = []

    # The order is held a moment by another transaction (a bare lock), so that a sync moving it to the buyer's new
    # address waits for it, and the seller deletes the old customer meanwhile.
    with transaction.atomic():
        Order.objects.select_for_update().get()
        moving, moving_waited = started_until_it_waits(
            lambda: record_orders(account, [order_data("1", email="xavier@example.com", name="Xavier")]), errors
        )
        deleting, deleting_waited = started_until_it_waits(
            lambda: delete_customers(Customer.objects.filter(pk=zoe.pk), user=None), errors
        )
    moving.join(60)
    deleting.join(60)

    # Before, the sync locked the customer the order left only to refresh its figures, after the order, which the
    # deletion (holding that customer) waited for: a deadlock. Now the sync locks her with its own customers first,
    # and the deletion waits for the sync, then finds her without orders.
    assert not errors, errors
    assert moving_waited and deleting_waited
    assert list(Customer.objects.values_list("email", flat=True)) == ["xavier@example.com"]
    assert Order.objects.get().customer.email == "xavier@example.com"
    assert_every_customer_counts_its_own_orders()


@pytest.mark.django_db(transaction=True)
def test_two_batches_recording_the_same_new_buyer_at_once_make_one_customer(parallel_database):  # noqa: F811
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    results = []

    # A webhook and a sync bring the same first order of a new buyer. The second waits for the first's new customer,
    # then takes it (locked, before its orders) and finds the order unchanged.
    record_while(
        lambda: results.append(record_orders(account, [order_data("1", email="ada@example.com")])),
        account,
        [order_data("1", email="ada@example.com")],
    )

    assert Customer.objects.count() == 1 and Order.objects.count() == 1
    assert results[0].orders_unchanged == 1
    # The buyer was new to the other batch, not to this one.
    assert (results[0].customers_created, results[0].created_customer_ids) == (0, set())
    assert results[0].customers_unchanged == 1
    assert_every_customer_counts_its_own_orders()


@pytest.mark.django_db(transaction=True)
def test_an_order_recorded_while_its_buyer_s_merge_is_undone_goes_to_the_buyer(parallel_database):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("threads writing at once: PostgreSQL (SQLite runs one writing transaction at a time)")
    other, ada = two_buyers()
    merge_customers(other, ada)

    # The seller undoes the merge of Ada into the other customer while a sync records Ada's next order. The batch
    # found Ada's alias (she was merged), then waited for the undo, which holds the customer the alias names while it
    # deletes the alias and brings Ada back.
    errors, waited = run_while_held(
        lambda: undo_merge(CustomerMerge.objects.get()),
        lambda: record_orders(other.account, [order_data("3", email="ada@example.com", day=5)]),
    )

    assert not errors, errors
    assert waited
    # Before, the batch kept the alias it had read before the lock and put the order on the other customer.
    assert Order.objects.get(external_id="3").customer_id == ada.pk
    assert Customer.objects.count() == 2
    assert Order.objects.filter(customer=ada).count() == 2 and Order.objects.filter(customer=other).count() == 1
    assert_every_customer_counts_its_own_orders()


@pytest.mark.django_db(transaction=True)
def test_one_new_order_recorded_under_two_buyers_at_once_is_a_message_not_a_database_error(parallel_database):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("threads writing at once: PostgreSQL (SQLite runs one writing transaction at a time)")
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")

    # A webhook brings the buyer's id with the new order, a sync only their e-mail: two new customers, so neither
    # batch waits for the other's customer, and the second meets the first's order in the orders' unique key.
    errors, waited = run_while_held(
        lambda: record_orders(account, [order_data("9", email="ada@example.com", buyer_id="B1")]),
        lambda: record_orders(account, [order_data("9", email="ada@example.com")]),
    )

    assert waited
    # Before, the driver's own UniqueViolation: "Something unexpected went wrong" in an import, a failed page.
    assert [type(error) for error in errors] == [IngestionError], errors
    assert str(errors[0]) == (
        "Order 9 was being recorded by another import or sync at the same moment; record it again."
    )
    assert errors[0].order_id == "9"
    assert Order.objects.get().customer.identity_key == "id:B1"
    # Recorded again (the sync's next page or pull), it finds the order stored and moves it to its buyer.
    record_orders(account, [order_data("9", email="ada@example.com")])
    assert Order.objects.get().customer.identity_key == "email:ada@example.com"
    assert_every_customer_counts_its_own_orders()


def set_deadlock_timeout(value, *, local=False):
    """``deadlock_timeout`` for this session or transaction (PostgreSQL; a superuser's setting: the tests connect as
    ``postgres``, scripts/with-postgres.sh)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET {'LOCAL ' if local else ''}deadlock_timeout = %s", [value])


def deadlocks_so_far():
    """PostgreSQL's count of deadlocks broken in the test database (0 on SQLite)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def deadlocks_after(before):
    """The count once it has moved on from ``before`` (a session reports it when it ends), or after 10 s; on
    SQLite, which counts none, ``before`` at once."""
    if connection.vendor != "postgresql":
        return before
    for _attempt in range(100):
        count = deadlocks_so_far()
        if count != before:
            return count
        threading.Event().wait(0.1)
    return count


def assert_stopped_and_run_again(before):
    """PostgreSQL broke one deadlock since ``before``, or two: a run again can take the freed row before the writer
    waiting for it wakes, and meet it once more (services/deadlocks.py); the third attempt goes through. None on
    SQLite, which runs the two one after the other."""
    deadlocks = deadlocks_after(before) - before
    assert deadlocks in ((1, 2) if connection.vendor == "postgresql" else (0,)), deadlocks


def delete(customer, _other):
    delete_customers(Customer.objects.filter(pk=customer.pk), user=None)
    assert not Customer.objects.filter(pk=customer.pk).exists() and not Order.objects.filter(customer=customer).exists()


def erase(customer, _other):
    erase_customers(Customer.objects.filter(pk=customer.pk))
    customer.refresh_from_db()
    assert customer.erased_at is not None and Order.objects.get(customer=customer).ship_name == customer.name


def merge(customer, other):
    merge_customers(other, customer)
    assert not Customer.objects.filter(pk=customer.pk).exists() and Order.objects.filter(customer=other).count() == 2


def apply_a_retention_rule(customer, _other):
    # Both customers' orders are years old: a 30-day rule erases both, in one batch.
    RetentionRule.objects.create(account=customer.account, days=30)
    [result] = apply_retention()
    assert result.errors == [] and result.customers == 2
    customer.refresh_from_db()
    assert customer.erased_at is not None


def undo_a_merge(customer, other):
    restored = undo_merge(CustomerMerge.objects.get())
    assert restored.pk == customer.pk
    assert Order.objects.filter(customer=restored).count() == 1 and Order.objects.filter(customer=other).count() == 1


#: What an action needs done before the writer takes its locks: ``(customer, other) -> None``.
PREPARED_BY = {undo_a_merge: lambda customer, other: merge_customers(other, customer)}


def two_buyers():
    """``(other, ada)``: two customers of one account, one order each; Ada's has the larger pk."""
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    record_order(account, order_data("2", email="ada.l@example.com"))
    record_order(account, order_data("1", email="ada@example.com"))
    other, ada = Customer.objects.order_by("pk")
    return other, ada


def deadlock_with_a_writer_out_of_order(order_pk, action):
    """Run ``action`` in a thread while a writer holds the order ``order_pk``, then asks for its customer, whom
    ``action`` locks before asking for the order; returns ``(errors, waited)``.

    PostgreSQL checks for a deadlock once, when a wait has lasted ``deadlock_timeout``, and stops the session that
    checks: the action, which waits first, checks after 2 s, provided the writer starts waiting within them (it does
    at once, after ``action_waits``); the writer would check only after 60 s."""
    holding, action_waits, errors = threading.Event(), threading.Event(), []

    def writer_out_of_order():
        # One of the paths that lock an order before its customer (docs/concepts/statistics.md): bare locks here.
        with transaction.atomic():
            set_deadlock_timeout("60s", local=True)
            order = Order.objects.select_for_update().get(pk=order_pk)
            holding.set()
            assert action_waits.wait(30), "the action never waited"
            Customer.objects.select_for_update().get(pk=order.customer_id)

    def acting():
        assert holding.wait(30)
        set_deadlock_timeout("2s")
        action()

    writer = in_thread(writer_out_of_order, errors)
    acting_thread, waited = started_until_it_waits(acting, errors)
    action_waits.set()
    writer.join(60)
    acting_thread.join(60)
    return errors, waited


@pytest.mark.parametrize("action", [delete, erase, merge, undo_a_merge, apply_a_retention_rule])
@pytest.mark.django_db(transaction=True)
def test_an_action_stopped_in_a_deadlock_is_run_again(parallel_database, action):  # noqa: F811
    other, ada = two_buyers()
    ada_order = Order.objects.get(customer=ada)
    if action in PREPARED_BY:
        PREPARED_BY[action](ada, other)
    deadlocks_before = deadlocks_so_far()

    errors, waited = deadlock_with_a_writer_out_of_order(ada_order.pk, lambda: action(ada, other))

    # The action (holding the order's customer) waited for the order first, so PostgreSQL stopped it, not the
    # writer, when the writer asked for the customer; a deletion answered 500 then. Run again once the writer
    # committed, it goes through.
    assert not errors, errors
    assert waited
    # A deadlock, broken by stopping the action, which then ran again (SQLite runs the two one after the other).
    assert_stopped_and_run_again(deadlocks_before)


@pytest.mark.django_db(transaction=True)
def test_an_action_inside_a_callers_transaction_is_not_run_again(parallel_database):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time: no deadlock to stop")
    other, ada = two_buyers()
    ada_order = Order.objects.get(customer=ada)
    deadlocks_before = deadlocks_so_far()

    def delete_in_a_callers_transaction():
        # As under ATOMIC_REQUESTS: the deletion's transaction is a savepoint of the caller's, whose locks may be
        # part of the cycle, so running only the savepoint again could deadlock again, or wait on the caller.
        with transaction.atomic():
            delete(ada, other)

    errors, waited = deadlock_with_a_writer_out_of_order(ada_order.pk, delete_in_a_callers_transaction)

    assert waited
    # The caller gets PostgreSQL's error, once: no second attempt, so still one deadlock.
    [error] = errors
    assert isinstance(error, OperationalError) and is_deadlock(error), error
    assert deadlocks_after(deadlocks_before) == deadlocks_before + 1
    # Rolled back whole: Ada and her order are still there, and the writer went through.
    assert Customer.objects.filter(pk=ada.pk).exists() and Order.objects.filter(pk=ada_order.pk, customer=ada).exists()
