"""A buyer ordering again while the retention rule runs must not be erased by a rule they are no longer past.

The rule selects its batch, then locks it (``select_for_update``, in id order) before erasure re-reads the
selection. An import holding the customer (it locks the customers it resolves) until its new order commits is
waited for, and its order is then seen: the customer is no longer past the rule. PostgreSQL re-reads at the next
statement; SQLite (IMMEDIATE transactions, as the example site's settings) runs one writing transaction at a time.
Real threads, each with its own database connection.
"""

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests.factories import order_data
from tests.parallel_support import HOLD_SECONDS, in_thread
from tests.test_watchlist_parallel import parallel_database  # noqa: F401 (the fixture)
from wagtail_customers.models import Channel, Customer, RetentionRule, SellerAccount
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.retention import apply_retention


@pytest.mark.django_db(transaction=True)
def test_an_order_committed_while_the_rule_runs_keeps_the_customer(parallel_database):  # noqa: F811
    account = SellerAccount.objects.create(name="Amazon FR", channel=Channel.AMAZON, currency="EUR")
    RetentionRule.objects.create(account=account, days=30)
    now = timezone.now()
    old = order_data("F-1", email="ada@example.com", name="Ada Lovelace")
    old.placed_at = now - timedelta(days=60)
    record_orders(account, [old])
    customer = Customer.objects.get()
    import_uncommitted = threading.Event()
    rule_started = threading.Event()
    errors, results = [], []

    def reimport():
        new = order_data("F-2", email="ada@example.com", name="Ada Lovelace")
        new.placed_at = now - timedelta(days=1)
        with transaction.atomic():
            record_orders(account, [new])
            import_uncommitted.set()
            rule_started.wait(10)
            # The rule runs meanwhile (and must wait for this commit).
            threading.Event().wait(HOLD_SECONDS)

    def retention():
        import_uncommitted.wait(10)
        rule_started.set()
        results.extend(apply_retention(now=now))

    threads = [in_thread(reimport, errors), in_thread(retention, errors)]
    for thread in threads:
        thread.join(30)
    assert not errors, errors

    [result] = results
    assert result.errors == [] and result.customers == 0
    customer.refresh_from_db()
    assert not customer.is_erased and customer.email == "ada@example.com"
    assert customer.orders_count == 2
