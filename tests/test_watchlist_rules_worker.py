"""The daily watchlist rules task on a real Celery worker (tests/celery_fixtures.py): sent as celery beat sends it,
by name, run in another process on the same database; and "Run now", queued to it. The tests commit their data
(``transaction=True``)."""

import html
from decimal import Decimal

import pytest
from celery import current_app
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.celery_fixtures import wait_for
from tests.factories import order_data
from wagtail_customers.models import SellerAccount, WatchlistEntry, WatchlistRule, WatchlistRuleCondition
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_beat_task_applies_the_rules_on_the_worker(celery_worker):
    account = SellerAccount.objects.create(name="Shop W", channel="shopify", currency="EUR")
    record_orders(
        account,
        [order_data(f"W{i}", email="many@example.com", name="Many Orders", day=i) for i in range(3)]
        + [order_data("X1", email="once@example.com", name="Once")],
    )
    rule = WatchlistRule.objects.create(account=account, name="Regulars")
    WatchlistRuleCondition.objects.create(rule=rule, metric="orders", operator="gte", value=Decimal("3"))
    celery_worker()

    # By name, as celery beat sends the schedule's entry (no result backend in the tests: wait for the entry).
    current_app.send_task("wagtail_customers.apply_watchlist_rules")

    wait_for(WatchlistEntry.objects.exists, 120, "the worker to put the customer on the watchlist")
    entry = WatchlistEntry.objects.get()
    assert (entry.customer.email, entry.note, entry.rule_id, entry.added_by) == (
        "many@example.com",
        "Rule: Regulars",
        rule.pk,
        None,
    )


def test_run_now_answers_at_once_and_the_worker_applies_the_rule(celery_worker, admin_client):
    account = SellerAccount.objects.create(name="Shop R", channel="shopify", currency="EUR")
    record_orders(account, [order_data(f"R{i}", email="many@example.com", name="Many Orders", day=i) for i in range(3)])
    rule = WatchlistRule.objects.create(account=account, name="Regulars")
    WatchlistRuleCondition.objects.create(rule=rule, metric="orders", operator="gte", value=Decimal("3"))
    celery_worker(queues=["wagtail_customers.maintenance"])

    response = admin_client.post(reverse("wagtail_customers_watchlist_rules:run", args=(rule.pk,)))

    assert response.status_code == 302
    [message] = [html.unescape(str(message)).strip() for message in get_messages(response.wsgi_request)]
    assert message == (
        "Watchlist rule “Regulars” is being applied to the customers of its seller account. The watchlist updates "
        "when it is done."
    )
    wait_for(WatchlistEntry.objects.exists, 120, "the worker to put the customer on the watchlist")
    assert WatchlistEntry.objects.get().customer.email == "many@example.com"
