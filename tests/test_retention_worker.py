"""The daily retention task on a real Celery worker (tests/celery_fixtures.py): sent as celery beat sends it, by
name, run in another process on the same database. The tests commit their data (``transaction=True``)."""

from datetime import timedelta

import pytest
from celery import current_app
from django.utils import timezone

from tests.celery_fixtures import wait_for
from tests.factories import order_data
from wagtail_customers.models import Customer, RetentionRule, RetentionRun, SellerAccount
from wagtail_customers.services.ingestion import record_order

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_beat_task_erases_on_the_worker_and_reports(celery_worker):
    account = SellerAccount.objects.create(name="Amazon UK", channel="amazon", currency="GBP")
    RetentionRule.objects.create(account=account, days=30)
    now = timezone.now()
    for number, days in enumerate((31, 29)):
        data = order_data(f"W{number}", email=f"w{number}@example.com", name=f"Buyer {number}")
        data.placed_at = now - timedelta(days=days + 1)
        data.shipped_at = now - timedelta(days=days)
        record_order(account, data)
    past, inside = Customer.objects.order_by("pk")
    celery_worker()

    # By name, as celery beat sends the schedule's entry (no result backend in the tests: wait for the report).
    current_app.send_task("wagtail_customers.apply_retention_rules")

    wait_for(RetentionRun.objects.exists, 120, "the worker to record the retention run")
    past.refresh_from_db()
    inside.refresh_from_db()
    assert past.is_erased and past.email == ""
    assert not inside.is_erased and inside.email == "w1@example.com"
    run = RetentionRun.objects.get()
    assert (run.account_id, run.customers_erased, run.customer_ids, run.errors) == (account.pk, 1, [past.pk], [])
