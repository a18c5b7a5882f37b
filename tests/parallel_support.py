"""Helpers for the tests where real threads, each with its own database connection, write at the same time."""

import threading
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models.signals import pre_save

from wagtail_customers.models import Customer
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.statistics import EMPTY, compute_statistics

#: How long a thread keeps its transaction open, or waits, for another to be held up by it (SQLite shows no one
#: who waits).
HOLD_SECONDS = 1.5


def in_thread(target, errors):
    """Start ``target`` in a thread of its own (its own connection, closed after); its exception goes to ``errors``."""

    def run():
        try:
            target()
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def waits_for_a_lock(sessions):
    """Whether the database session in ``sessions`` (its backend's pid, once known) waits for a lock (PostgreSQL); on
    SQLite, true after ``HOLD_SECONDS`` (a writer there waits for the database's write lock)."""
    if connection.vendor != "postgresql":
        threading.Event().wait(HOLD_SECONDS)
        return True
    if not sessions:
        return False
    with connection.cursor() as cursor:
        # This session's own waits, not any other's on the server.
        cursor.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", [sessions[0]])
        return cursor.fetchone()[0]


def started_until_it_waits(target, errors):
    """``target`` started in a thread of its own; returns ``(thread, waited)`` once its database session waits for a
    lock (``waited`` true), or the thread ended or 30 s passed (false). On SQLite, which shows no one who waits,
    ``waited`` is true after ``HOLD_SECONDS``."""
    session = []

    def run():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                session.append(cursor.fetchone()[0])
        target()

    thread = in_thread(run, errors)
    try:
        for _attempt in range(300):
            if waits_for_a_lock(session):
                return thread, True
            if not thread.is_alive():
                break
            threading.Event().wait(0.1)
    except BaseException:
        thread.join(60)
        raise
    return thread, False


def record_while(work, account, orders, hold=lambda: None):
    """Record ``orders`` in a transaction that commits once ``work`` (run in another thread after the orders are
    recorded) waits for it; ``hold`` runs in that transaction after the orders (to lock what ``work`` must wait
    for). Fails unless ``work`` waited: the case the callers test."""

    def held():
        record_orders(account, orders)
        hold()

    errors, waited = run_while_held(held, work)
    assert not errors, errors
    assert waited


def run_while_held(held, work):
    """Run ``held`` in a transaction of a thread of its own; once it is done (not committed yet), ``work`` in another
    thread until that waits for a lock (``started_until_it_waits``); then commit, and wait for both. Returns
    ``(errors, waited)``: the exceptions of both threads, and whether ``work`` waited for ``held``'s transaction."""
    done, committing, errors = threading.Event(), threading.Event(), []

    def holding():
        with transaction.atomic():
            held()
            done.set()
            assert committing.wait(30), "the other thread never waited"

    threads = [in_thread(holding, errors)]
    waited = False
    try:
        if done.wait(30):
            working_thread, waited = started_until_it_waits(work, errors)
            threads.append(working_thread)
    finally:
        committing.set()
        for thread in threads:
            thread.join(60)
    return errors, waited


def assert_every_customer_counts_its_own_orders():
    """Every customer's stored figures equal a fresh aggregate of the orders they now have."""
    customers = list(Customer.objects.order_by("pk"))
    fresh = compute_statistics({"in": [customer.pk for customer in customers]})
    for customer in customers:
        expected = fresh.get(customer.pk, EMPTY)
        assert {name: getattr(customer, name) for name in expected} == expected, customer.email


@contextmanager
def clashing_saves(model, make_clash):
    """While open, a save of a ``model`` is preceded by another request's: ``make_clash(instance, name)`` for each
    name handed to the yielded function is saved and committed by another connection (a thread) after this request's
    form checked the name and before its own write, as on a double click on "Save" or two people saving at once.
    The database alone can refuse the name then."""
    clashes, errors = [], []

    def insert_clashing(sender, instance, **kwargs):
        names = clashes[:]
        clashes.clear()  # the other request's own save inserts nothing more
        for name in names:
            in_thread(lambda: make_clash(instance, name), errors).join(30)  # noqa: B023

    pre_save.connect(insert_clashing, sender=model)
    try:
        yield clashes.append
    finally:
        pre_save.disconnect(insert_clashing, sender=model)
    assert not errors
