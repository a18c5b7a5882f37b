"""Alert e-mails on a real Celery worker process and a real Redis server (fixtures: tests/celery_fixtures.py).

The worker reads the same database (a file copy of SQLite's test database, or PostgreSQL's test database), so the
tests commit their data (``transaction=True``); it writes its e-mails to files (Django's file backend).
"""

import re
from datetime import UTC, datetime

import pytest

from tests.celery_fixtures import mail_bodies, wait_for
from tests.factories import order_data
from tests.permission_world import grant, make_staff
from wagtail_customers.alerts.tasks import send_alert_digests_task
from wagtail_customers.models import AlertNotification, AlertPreference, EmailFrequency, WatchlistEntry
from wagtail_customers.services.ingestion import record_orders

#: When the watched customers went on the watchlist in these tests: before every order they place.
WATCHED_SINCE = datetime(2020, 1, 1, tzinfo=UTC)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def sent_bodies(email_dir):
    """{recipient: [plain-text bodies]} of the e-mails the worker wrote (one file per connection)."""
    sent = {}
    for path in email_dir.iterdir():
        text = path.read_text()
        recipients = re.findall(r"^To: (.+)$", text, re.M)
        for recipient, body in zip(recipients, mail_bodies(text), strict=True):
            sent.setdefault(recipient.strip(), []).append(body)
    return sent


def finished(worker, result):
    """The worker's log line saying the task finished (with its return value), once it is there."""
    lines = [line for line in worker.log().splitlines() if f"[{result.id}] succeeded" in line]
    return lines[0] if lines else None


def test_immediate_and_daily_digests_are_sent_by_the_worker_once(account, celery_worker):
    record_orders(account, [order_data("1")])
    customer = account.customers.get()
    WatchlistEntry.objects.create(customer=customer)
    # On the watchlist since before the test's orders (2024): they are the customer acting, not history.
    WatchlistEntry.objects.filter(customer=customer).update(created_at=WATCHED_SINCE)
    quick = make_staff("quick")
    grant(quick, account, "view", "see_personal_data")
    AlertPreference.objects.create(user=quick, email_frequency=EmailFrequency.IMMEDIATELY)
    daily = make_staff("daily")
    grant(daily, account, "view")  # without "See personal data"
    AlertPreference.objects.create(user=daily, email_frequency=EmailFrequency.DAILY)
    worker = celery_worker()

    # Recording the order commits, the alerts are recorded, and the "immediately" digest is queued to the worker.
    returned = order_data("1")
    returned.lines[0].returned_quantity = 1
    record_orders(account, [order_data("2", day=5), returned])
    sent = wait_for(lambda: sent_bodies(celery_worker.email_dir), 60, "the worker to send the immediate digest")
    assert list(sent) == [quick.email], worker.log()
    [body] = sent[quick.email]
    link = f"http://testserver/admin/customers/{customer.pk}/"
    assert "New order: Ada Lovelace, Shop A, order 2" in body and "Return: Ada Lovelace" in body and link in body

    # The daily run, as beat sends it: the daily user's digest, masked; nothing again for the "immediately" user.
    result = send_alert_digests_task.delay("daily")
    line = wait_for(lambda: finished(worker, result), 60, "the daily digests to be sent")
    assert line.endswith(": 2"), line
    sent = sent_bodies(celery_worker.email_dir)
    assert len(sent[quick.email]) == 1
    [body] = sent[daily.email]
    assert f"New order: Customer #{customer.pk}, Shop A, order 2" in body and "Ada" not in body and link in body
    assert not AlertNotification.objects.filter(email_due=True).exists()

    # Delivered again (or run again the next day with nothing new): nothing is sent twice.
    again = send_alert_digests_task.delay("daily")
    line = wait_for(lambda: finished(worker, again), 60, "the second daily run")
    assert line.endswith(": 0"), line
    assert {user: len(bodies) for user, bodies in sent_bodies(celery_worker.email_dir).items()} == {
        quick.email: 1,
        daily.email: 1,
    }
