"""The statistics rebuild split by customer id range (services/rebuild_chunks.py): the same figures and listing
summary as the single rebuild, eagerly, through the management command and on real Celery workers.

Each comparison corrupts the same rows the same way twice: once repaired by ``rebuild_statistics``, once by the
chord of chunks, and compares every customer's statistics and the summary.
"""

import datetime
import os
import re
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from tests.celery_fixtures import use_celery_settings, wait_for
from tests.factories import order_data
from wagtail_customers.models import Channel, Customer, CustomerScore, ListingSummary, Order, OrderLine, SellerAccount
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.listing_summary import compact_summary
from wagtail_customers.services.order_figures import fill_order_figures
from wagtail_customers.services.rebuild_chunks import chunk_ranges, start_chunked_rebuild, start_chunked_scores
from wagtail_customers.services.scores import refresh_scores
from wagtail_customers.services.statistics import rebuild_statistics
from wagtail_customers.tasks import rebuild_statistics_chunk, refresh_scores_chunk_task


def _orders(prefix, count):
    """Orders of ``count`` customers with every figure: several orders, lines, cancellations, returns, refunds,
    discounts, promo codes, negative feedback, orders in another currency and in one no rate table knows."""
    orders = []
    for i in range(count):
        email = f"{prefix}{i}@example.com"
        orders.append(order_data(f"{prefix}{i}a", email=email, day=i % 7, lines=((1 + i % 3, "12.34"), (1, "0.99"))))
        if i % 2:
            orders.append(order_data(f"{prefix}{i}b", email=email, day=10 + i % 5, currency="EUR", rating=1 + i % 5))
        if i % 3 == 0:
            orders.append(order_data(f"{prefix}{i}c", email=email, day=20, status="cancelled", lines=((4, "2.00"),)))
        if i % 4 == 1:
            orders.append(
                order_data(f"{prefix}{i}d", email=email, day=21, refunded="3.10", discount="1.05", promo_codes=["P"])
            )
        if i % 5 == 2:
            orders.append(order_data(f"{prefix}{i}e", email=email, day=22, currency="XTS", lines=((2, "9.99"),)))
    return orders


@pytest.fixture
def shops(account, other_account):
    third = SellerAccount.objects.create(name="Shop C", channel=Channel.EBAY, currency="GBP")
    for shop, prefix, count in ((account, "a", 23), (other_account, "b", 11), (third, "c", 6)):
        record_orders(shop, _orders(prefix, count))
    # Returns written on the lines behind the service's back, then the orders' figures checked against them (what
    # ``customers_rebuild_stats --order-figures`` does first), and a customer without orders (theirs deleted): only a
    # rebuild sees those.
    OrderLine.objects.filter(order__external_id__endswith="a", quantity__gte=2).update(returned_quantity=1)
    fill_order_figures(only_missing=False)
    Order.objects.filter(external_id="a4a").delete()
    return [account, other_account, third]


def corrupt():
    """The same wrong figures on the same customers each time (written behind the services' back)."""
    pks = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    Customer.objects.filter(pk__in=pks[::3]).update(orders_count=9, amount_spent=Decimal("1.01"), returned_units=0)
    Customer.objects.filter(pk__in=pks[1::4]).update(first_order_at=None, units=-3, unconverted_orders=2)
    Customer.objects.filter(pk__in=pks[2::5]).update(promo_codes_used=7, negative_feedbacks=0, discount_total=0)
    compact_summary()  # one row per (account, segment), so the next line does the same each time
    ListingSummary.objects.filter(segment="all").update(customers=999)


def figures():
    return {row[0]: row[1:] for row in Customer.objects.order_by("pk").values_list("pk", *Customer.STATISTICS_FIELDS)}


def summary():
    compact_summary()
    rows = ListingSummary.objects.values_list("account_id", "segment", *ListingSummary.FIGURES)
    return {(row[0], row[1]): row[2:] for row in rows}


def single_then_chunked(chunked, account=None):
    """(single rebuild's corrected rows, figures, summary) and the same after ``chunked()`` on the same damage."""
    rebuild_statistics()  # both from the same state: the shops' own damage repaired, then the same corruption
    corrupt()
    single = (rebuild_statistics(account), figures(), summary())
    corrupt()
    return single, (chunked(), figures(), summary())


def scores():
    fields = ("customer_id", "account_id", "recency_score", "frequency_score", "monetary_score", "rfm_group")
    return list(CustomerScore.objects.order_by("customer_id").values_list(*fields, "scored_at"))


def damage_scores():
    """Wrong scores on some customers, none on others, and one on the customer who has no order any more."""
    pks = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    CustomerScore.objects.filter(customer_id__in=pks[::4]).delete()
    CustomerScore.objects.filter(frequency_score__gte=3).update(recency_score=1, rfm_group="champions")
    empty = Customer.objects.get(orders_count=0)
    CustomerScore.objects.create(
        customer=empty,
        account_id=empty.account_id,
        recency_score=5,
        frequency_score=5,
        monetary_score=5,
        rfm_group="champions",
        scored_at=NOW,
    )


NOW = timezone.make_aware(datetime.datetime(2026, 6, 1, 12, 30))


@pytest.mark.django_db
def test_chunk_ranges_hold_the_same_number_of_customers_and_cover_every_one(shops):
    account = shops[0]
    pks = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    ranges = chunk_ranges(rows=7)
    assert [sum(low <= pk < high for pk in pks) for low, high in ranges] == [7] * (len(pks) // 7) + [len(pks) % 7]
    assert ranges[0][0] == pks[0] and ranges[-1][1] == pks[-1] + 1
    assert all(high == low for (_, high), (low, _) in zip(ranges, ranges[1:], strict=False))
    own = list(Customer.objects.filter(account=account).order_by("pk").values_list("pk", flat=True))
    assert [sum(low <= pk < high for pk in own) for low, high in chunk_ranges(account.pk, rows=10)] == [10, 10, 3]
    assert chunk_ranges(SellerAccount.objects.create(name="Empty", currency="USD").pk) == []


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 4, 1000])
def test_the_chunked_rebuild_is_the_single_rebuild(shops, rows):
    rebuild_statistics()
    assert Customer.objects.filter(unconverted_orders__gt=0).exists()
    assert Customer.objects.filter(negative_feedbacks__gt=0).exists()
    assert Customer.objects.filter(returned_units__gt=0, promo_codes_used__gt=0).exists()
    assert Customer.objects.filter(orders_count=0).count() == 1
    single, chunked = single_then_chunked(lambda: start_chunked_rebuild(rows=rows)[1].get())
    assert single[0] > 0
    assert chunked == single


@pytest.mark.django_db
def test_the_chunked_rebuild_fills_the_orders_missing_figures_first(shops):
    rebuild_statistics()
    fresh = figures()
    # Orders an older release recorded during a rolling deploy: without figures.
    Order.objects.filter(external_id__endswith="a").update(
        units=None, returned_units=None, promo_codes_count=None, feedback_rating=None
    )
    Customer.objects.update(units=0, returned_units=0, promo_codes_used=0, negative_feedbacks=0)
    assert start_chunked_rebuild(rows=4)[1].get() > 0
    assert not Order.objects.filter(units__isnull=True).exists()
    assert figures() == fresh


@pytest.mark.django_db
def test_the_chunked_rebuild_of_one_account_is_its_single_rebuild(shops):
    account = shops[1]
    single, chunked = single_then_chunked(lambda: start_chunked_rebuild(account.pk, rows=3)[1].get(), account)
    assert chunked == single
    assert start_chunked_rebuild(account.pk, rows=3)[1].get() == 0


@pytest.mark.django_db
def test_a_chunk_run_again_alone_gives_the_same_figures(shops):
    rebuild_statistics()
    fresh, fresh_summary = figures(), summary()
    corrupt()
    low, high = chunk_ranges(rows=5)[0]
    corrected = rebuild_statistics_chunk.delay(low, high).get()
    assert corrected > 0
    after_one = figures()
    assert rebuild_statistics_chunk.delay(low, high).get() == 0
    assert figures() == after_one
    assert {pk: values for pk, values in after_one.items() if low <= pk < high} == {
        pk: values for pk, values in fresh.items() if low <= pk < high
    }
    for low, high in chunk_ranges(rows=5)[1:]:
        rebuild_statistics_chunk.delay(low, high).get()
    rebuild_statistics_chunk.delay(*chunk_ranges(rows=5)[0]).get()
    assert figures() == fresh
    from wagtail_customers.tasks import finish_statistics_rebuild

    assert finish_statistics_rebuild.delay([2, 3]).get() == 5
    assert summary() == fresh_summary


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [3, 1000])
def test_the_chunked_scores_refresh_is_the_single_refresh(shops, rows):
    rebuild_statistics()
    scored = refresh_scores(now=NOW)
    single = scores()
    assert len(single) == scored == Customer.objects.filter(orders_count__gt=0).count()
    damage_scores()
    assert start_chunked_scores(rows=rows, now=NOW)[1].get() == scored
    assert scores() == single

    # One account: the others are left as they are.
    damage_scores()
    account = shops[0]
    start_chunked_scores(account.pk, rows=rows, now=NOW)[1].get()
    assert [row for row in scores() if row[1] == account.pk] == [row for row in single if row[1] == account.pk]


@pytest.mark.django_db
def test_a_scores_chunk_run_again_alone_gives_the_same_scores(shops):
    rebuild_statistics()
    refresh_scores(now=NOW)
    single = scores()
    damage_scores()
    for low, high in chunk_ranges(rows=6):
        refresh_scores_chunk_task.delay(low, high, None, NOW.isoformat()).get()
    once = scores()
    assert once == single
    refresh_scores_chunk_task.delay(*chunk_ranges(rows=6)[2], None, NOW.isoformat()).get()
    assert scores() == once


@pytest.mark.django_db
def test_the_command_splits_the_rebuild_when_asked(shops, capsys, settings):
    def command():
        call_command("customers_rebuild_stats", "--chunked", "--chunk-rows", "15")
        return capsys.readouterr().out

    single, chunked = single_then_chunked(command)
    assert chunked[0] == f"Statistics rebuilt in 3 chunk(s): {single[0]} customer row(s) corrected.\n"  # 40 customers
    assert chunked[1:] == single[1:]
    call_command("customers_rebuild_stats")
    assert "0 customer row(s) corrected" in capsys.readouterr().out
    call_command("customers_rebuild_stats", "--chunked", "--account", shops[2].name, "--no-wait")
    assert capsys.readouterr().out == "Statistics rebuild queued in 1 chunk(s).\n"
    with pytest.raises(CommandError, match="at least 1"):
        call_command("customers_rebuild_stats", "--chunked", "--chunk-rows", "0")
    use_celery_settings(settings, task_always_eager=False, result_backend=None)
    with pytest.raises(CommandError, match="result backend"):
        call_command("customers_rebuild_stats", "--chunked")


def forget_backend(app):
    backend = app._local.__dict__.pop("backend", None)
    consumer = getattr(backend, "result_consumer", None)
    if consumer is not None and getattr(consumer, "_pubsub", None) is not None:
        # Closed while Redis runs: left open, the lowest supported Celery reconnects to it at exit, for minutes.
        consumer.stop()


# version_neutral: the floors run the chords eagerly above and the real worker in the export chord's tests; with
# Celery 5.3 the result backend's listener kept reconnecting to the stopped Redis after this test, slowing the run.
@pytest.mark.worker
@pytest.mark.version_neutral
@pytest.mark.django_db(transaction=True)
def test_the_chunks_run_on_two_real_workers_and_give_the_single_rebuild(shops, settings, celery_worker, redis_url):
    workers = [celery_worker() for _ in range(2)]
    app = use_celery_settings(settings, result_backend=redis_url)

    def on_the_workers():
        chunks, result = start_chunked_rebuild(rows=4)
        assert chunks == 10
        return result.get(timeout=120)

    # Celery keeps its result backend per thread once made (an eager chord earlier made the disabled one):
    # forgotten so this test's chords count their chunks in Redis, and again afterwards.
    forget_backend(app)
    try:
        single, chunked = single_then_chunked(on_the_workers)
        assert chunked == single
        refresh_scores(now=NOW)
        single_scores = scores()
        damage_scores()
        assert start_chunked_scores(rows=4, now=NOW)[1].get(timeout=120) == len(single_scores)
    finally:
        forget_backend(app)
    assert scores() == single_scores
    logs = "".join(worker.log() for worker in workers)
    assert "wagtail_customers.rebuild_statistics_chunk" in logs
    assert "wagtail_customers.refresh_scores_chunk" in logs and "wagtail_customers.finish_scores_refresh" in logs
    assert "wagtail_customers.finish_statistics_rebuild" in logs


@contextmanager
def writes_held_back():
    """A write transaction of this process's own on the test database: a chunk's ``UPDATE`` waits for it while
    reads go on. SQLite: the database's write lock (the workers wait up to 30 s for it); PostgreSQL: a lock on
    the customers table that lets reads through."""
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with holder.cursor() as cursor:
            if holder.vendor == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            else:
                cursor.execute("BEGIN")
                table = holder.ops.quote_name(Customer._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            yield
            cursor.execute("ROLLBACK")
    finally:
        holder.close()


def waiting_to_write(worker):
    """Whether a chunk on ``worker`` is under way, its ``UPDATE`` waiting for ``writes_held_back``."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE%'"
            )
            return cursor.fetchone()[0] > 0
    # SQLite shows no one who waits; a chunk opens the database only to run its UPDATE (its one statement), so a
    # pool process of the worker (its process group) with the database file open is there.
    database = os.path.realpath(connection.settings_dict["NAME"])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(pid) == worker.process.pid or os.getpgid(int(pid)) != worker.process.pid:
                continue
            folder = f"/proc/{pid}/fd"
            if any(os.path.realpath(os.path.join(folder, fd)) == database for fd in os.listdir(folder)):
                return True
        except (FileNotFoundError, ProcessLookupError):
            continue  # a process gone meanwhile
    return False


def task_ids(log, name, event):
    return re.findall(rf"wagtail_customers\.{name}\[([^\]]+)\] {event}", log)


@pytest.mark.worker
@pytest.mark.version_neutral  # the same reason as the test above
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_chunk_whose_worker_is_killed_is_delivered_again_alone(
    shops, settings, celery_worker, redis_url, monkeypatch
):
    first = celery_worker()
    app = use_celery_settings(settings, result_backend=redis_url)
    seen = {}

    def killed_mid_chunk():
        assert not waiting_to_write(first)  # an idle worker has no database open
        with writes_held_back():
            chunks, result = start_chunked_rebuild(rows=4)
            assert chunks == 10
            wait_for(lambda: task_ids(first.log(), "rebuild_statistics_chunk", "received"), 60, "a chunk received")
            wait_for(lambda: waiting_to_write(first), 60, "the chunk to wait for the database")
            first.kill()
        # Only the second worker gives a message back to the queue 8 s after its delivery: the first one cannot
        # give its own back while its chunk waits.
        monkeypatch.setenv("WC_WORKER_VISIBILITY_TIMEOUT", "8")
        seen["second"] = celery_worker()
        seen["chunks"], seen["final"] = [chunk.id for chunk in result.parent.results], result.id
        return result.get(timeout=120)

    forget_backend(app)  # as in the test above
    try:
        single, chunked = single_then_chunked(killed_mid_chunk)
    finally:
        forget_backend(app)
    # Nothing lost, nothing counted twice: the same figures and listing summary as the single rebuild.
    assert chunked == single

    # The final task stores its result before its worker logs "succeeded": wait for the line, not the result.
    wait_for(
        lambda: task_ids(seen["second"].log(), "finish_statistics_rebuild", "succeeded"), 30, "the final task's log"
    )
    first_log, second_log = first.log(), seen["second"].log()
    killed = task_ids(first_log, "rebuild_statistics_chunk", "received")
    assert task_ids(first_log, "rebuild_statistics_chunk", "succeeded") == []
    # Every chunk ran once, on the second worker: those the first had taken (the killed one first) again.
    ran = task_ids(second_log, "rebuild_statistics_chunk", "succeeded")
    assert killed and set(killed) <= set(ran)
    assert sorted(ran) == sorted(seen["chunks"])
    assert task_ids(second_log, "finish_statistics_rebuild", "succeeded") == [seen["final"]]

    # Nothing left in Redis: every message acknowledged (the killed worker's after their second run), no
    # subscription to this rebuild's results.
    import redis  # only where the worker tests run, as in tests/celery_fixtures.py

    client = redis.Redis.from_url(redis_url)
    try:
        wait_for(lambda: client.hlen("unacked") == 0, 30, "every message to be acknowledged")
        channels = {f"celery-task-meta-{task}".encode() for task in [*seen["chunks"], seen["final"]]}
        wait_for(lambda: not channels & set(client.pubsub_channels()), 30, "the results' subscription to close")
    finally:
        client.close()
