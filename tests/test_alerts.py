"""Alerts about watched customers: detection from the ingestion service, who is told, the admin list, the
preferences in the account settings and the e-mail digests (docs/howto/alerts.md)."""

import re
import smtplib
from datetime import UTC, datetime, timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection
from django.urls import reverse

from tests.factories import order_data
from tests.permission_world import grant, make_staff
from wagtail_customers.alerts.digests import send_digest, send_scheduled_digests
from wagtail_customers.alerts.tasks import send_alert_digests_task
from wagtail_customers.models import (
    AlertEvent,
    AlertKind,
    AlertNotification,
    AlertPreference,
    EmailFrequency,
    WatchlistEntry,
)
from wagtail_customers.services.ingestion import record_orders

#: When the watched customers went on the watchlist in these tests: before every order they place.
WATCHED_SINCE = datetime(2020, 1, 1, tzinfo=UTC)

pytestmark = pytest.mark.django_db

ALERTS_URL = "/admin/customers/alerts/"


@pytest.fixture
def record(django_capture_on_commit_callbacks):
    """Record orders as a request or a task does: the alerts come from ``orders_recorded``, sent on commit."""

    def record(account, *orders):
        with django_capture_on_commit_callbacks(execute=True):
            return record_orders(account, list(orders))

    return record


@pytest.fixture
def watched(account, record):
    """Ada, a customer of account A (Shop A) with one order, on the watchlist."""
    record(account, order_data("1"))
    customer = account.customers.get()
    # On the watchlist since before the test's orders (2024): they are the customer acting, not history.
    WatchlistEntry.objects.create(customer=customer)
    WatchlistEntry.objects.filter(customer=customer).update(created_at=WATCHED_SINCE)
    return customer


def prefer(user, frequency=EmailFrequency.NEVER, in_admin=True, muted=()):
    preference, _ = AlertPreference.objects.update_or_create(
        user=user, defaults={"email_frequency": frequency, "in_admin": in_admin}
    )
    preference.muted_accounts.set(muted)
    return preference


def alerted(kind=None):
    """{(username, kind, order id)} of the notifications."""
    rows = AlertNotification.objects.values_list("user__username", "event__kind", "event__order__external_id")
    return {row for row in rows if kind is None or row[1] == kind}


def test_a_watched_customers_new_order_alerts_only_the_users_who_may_view_the_account(
    account, other_account, superuser, watched, record
):
    viewer = make_staff("viewer")
    grant(viewer, account, "view")
    other = make_staff("other")
    grant(other, other_account, "view")
    make_staff("nobody")

    record(account, order_data("2", day=5), order_data("3", email="bob@example.com", name="Bob"))

    # Bob is not on the watchlist; the other account's viewer and the staff user without access hear nothing.
    assert alerted() == {("viewer", AlertKind.ORDER, "2"), ("root", AlertKind.ORDER, "2")}
    event = AlertEvent.objects.get()
    assert (event.customer, event.account) == (watched, account)


def test_re_importing_the_same_orders_alerts_nobody_again(account, superuser, watched, record):
    orders = [order_data("2", day=5), order_data("1")]
    record(account, *orders)
    record(account, *[order_data("2", day=5), order_data("1")])
    record(account, order_data("1"))
    assert alerted() == {("root", AlertKind.ORDER, "2")}


def test_returns_and_negative_feedback_alert_once_each(account, superuser, watched, record):
    returned = order_data("1")
    returned.lines[0].returned_quantity = 1
    record(account, returned)
    assert alerted(AlertKind.RETURN) == {("root", AlertKind.RETURN, "1")}

    # The same return again (a channel sync re-sending the order): nothing new; a second unit: a new return.
    again = order_data("1")
    again.lines[0].returned_quantity = 1
    record(account, again)
    assert AlertEvent.objects.filter(kind=AlertKind.RETURN).count() == 1
    second = order_data("1")
    second.lines[0].returned_quantity = 2
    record(account, second)
    assert AlertEvent.objects.filter(kind=AlertKind.RETURN).count() == 2

    # Positive feedback is no alert; negative feedback is, once, even when its comment changes later.
    record(account, order_data("4", day=3, rating=5))
    assert not AlertEvent.objects.filter(kind=AlertKind.NEGATIVE_FEEDBACK).exists()
    record(account, order_data("4", day=3, rating=1))
    negative = order_data("4", day=3, rating=2)
    negative.feedback.comment = "still bad"
    record(account, negative)
    assert alerted(AlertKind.NEGATIVE_FEEDBACK) == {("root", AlertKind.NEGATIVE_FEEDBACK, "4")}
    # A new order that arrives with negative feedback: an order and a feedback alert.
    record(account, order_data("5", day=4, rating=1))
    assert {kind for _, kind, number in alerted() if number == "5"} == {AlertKind.ORDER, AlertKind.NEGATIVE_FEEDBACK}


def test_preferences_mute_an_account_or_every_alert(account, other_account, superuser, watched, record):
    muting = make_staff("muting")
    grant(muting, account, "view")
    prefer(muting, muted=[account])
    silent = make_staff("silent")
    grant(silent, account, "view")
    prefer(silent, in_admin=False)
    mailed = make_staff("mailed")
    grant(mailed, account, "view")
    prefer(mailed, EmailFrequency.DAILY, in_admin=False)

    record(account, order_data("2", day=5))

    assert {user for user, _, _ in alerted()} == {"root", "mailed"}
    notification = AlertNotification.objects.get(user=mailed)
    assert (notification.in_admin, notification.email_due) == (False, True)


def test_muting_an_account_later_hides_its_alerts_already_recorded_and_never_e_mails_them(
    client, account, other_account, watched, record, wagtail_page_tree
):
    weekly = make_staff("weekly")
    grant(weekly, account, "view", "see_personal_data")
    grant(weekly, other_account, "view", "see_personal_data")
    prefer(weekly, EmailFrequency.WEEKLY)
    record(other_account, order_data("B-1", email="bob@example.com", name="Bob Marley"))
    WatchlistEntry.objects.create(customer=other_account.customers.get())
    WatchlistEntry.objects.update(created_at=WATCHED_SINCE)
    # Tuesday: alerts from both accounts; Wednesday: the user mutes account A.
    record(account, *[order_data(str(number), day=number) for number in range(2, 5)])
    record(other_account, order_data("B-2", day=5, email="bob@example.com", name="Bob Marley"))
    prefer(weekly, EmailFrequency.WEEKLY, muted=[account])

    client.force_login(weekly)
    page = client.get(ALERTS_URL).content.decode()
    assert page.count("data-wc-unread") == 1 and "Bob Marley" in page and "Lovelace" not in page
    assert "Alerts (1 unread)" in client.get("/admin/customers/").content.decode()
    assert "1 unread customer alert" in client.get("/admin/").content.decode()

    # Monday's digest: only the account still heard about.
    assert send_alert_digests_task.delay("weekly").get() == 1
    [message] = mail.outbox
    text, _ = body_parts(message)
    assert "Bob Marley" in text and "Ada" not in text
    # Unmuting later does not send the muted week's alerts after all.
    prefer(weekly, EmailFrequency.WEEKLY)
    assert send_digest(weekly.pk) == 0


def test_the_alert_list_marks_read_and_counts_unread_in_the_menu(client, account, other_account, watched, record):
    viewer = make_staff("viewer")
    grant(viewer, account, "view")
    record(account, order_data("2", day=5), order_data("3", day=6))
    client.force_login(viewer)

    page = client.get(ALERTS_URL).content.decode()
    assert page.count("data-wc-unread") == 2
    assert reverse("wagtail_customers_customer:detail", args=[watched.pk]) in page
    # View-only grant: the customer's name is masked, the order numbers are not.
    assert "Lovelace" not in page and f"Customer #{watched.pk}" in page
    assert "Alerts (2 unread)" in client.get("/admin/customers/").content.decode()

    first = AlertNotification.objects.filter(user=viewer).order_by("pk").first()
    response = client.post(reverse("wagtail_customers_alerts:mark_read"), {"id": [first.pk], "next": ALERTS_URL})
    assert response.status_code == 302 and response["Location"] == ALERTS_URL
    assert client.get(ALERTS_URL).content.decode().count("data-wc-unread") == 1
    assert "Alerts (1 unread)" in client.get("/admin/customers/").content.decode()

    client.post(reverse("wagtail_customers_alerts:mark_all_read"))
    assert not AlertNotification.objects.filter(user=viewer, read_at__isnull=True).exists()
    assert "unread)" not in client.get("/admin/customers/").content.decode()


def test_each_mark_as_read_button_names_its_alert_to_screen_readers(client, account, watched, record):
    """Every row's button was named just "Mark as read"."""
    viewer = make_staff("viewer")
    grant(viewer, account, "view")
    record(account, order_data("2", day=5))
    client.force_login(viewer)
    page = client.get(ALERTS_URL).content.decode()
    assert re.search(
        r'<button type="submit" class="button button-small button-secondary">Mark as read'
        rf'<span class="w-sr-only">: New order, Customer #{watched.pk}, order 2</span></button>',
        page,
    ), re.findall(r"<button[^>]*>Mark as read.*?</button>", page)


@pytest.mark.parametrize(
    ("in_admin", "muted", "says"),
    [
        (False, False, "Alerts in the admin are off in your alert preferences: new alerts are not listed here."),
        (
            True,
            True,
            "You have muted every seller account you may view in your alert preferences: no alerts about them are "
            "listed here.",
        ),
    ],
)
def test_an_empty_alert_list_says_when_the_preferences_keep_alerts_off_it(
    client, account, other_account, watched, record, in_admin, muted, says
):
    """The page said "No alerts yet. You are alerted when…" to a user whose alerts are not listed in the admin."""
    viewer = make_staff("viewer")
    grant(viewer, account, "view")
    prefer(viewer, in_admin=in_admin, muted=[account] if muted else [])
    record(account, order_data("2", day=5))
    client.force_login(viewer)

    page = client.get(ALERTS_URL).content.decode()

    assert "data-wc-alerts" not in page
    assert says in page
    assert "No alerts yet" not in page
    assert f'<a href="{reverse("wagtailadmin_account")}#tab-notifications">Change your alert preferences</a>' in page


def test_an_empty_alert_list_with_alerts_on_says_none_yet(client, account, other_account, watched):
    viewer = make_staff("viewer")
    grant(viewer, account, "view")
    # One account of two muted: alerts about the other are still listed.
    grant(viewer, other_account, "view")
    prefer(viewer, muted=[account])
    client.force_login(viewer)
    page = client.get(ALERTS_URL).content.decode()
    assert "No alerts yet. You are alerted when a customer on the watchlist orders" in page
    assert "Change your alert preferences" not in page


@pytest.mark.parametrize("url_name", ["wagtail_customers_alerts:mark_read", "wagtail_customers_alerts:mark_all_read"])
@pytest.mark.parametrize("next_value", ["foo", "admin/customers/alerts/", "//evil.example/", "https://evil.example/"])
def test_marking_read_with_a_next_that_is_no_site_path_goes_back_to_the_alerts(
    client, superuser, watched, record, url_name, next_value
):
    """``next=foo`` passes the host check, and ``redirect("foo")`` would look it up as a URL name (a 500)."""
    client.force_login(superuser)
    alert = AlertNotification.objects.filter(user=superuser).first()
    response = client.post(reverse(url_name), {"id": [alert.pk] if alert else [], "next": next_value})
    assert response.status_code == 302
    assert response["Location"] == ALERTS_URL


def test_another_users_alerts_cannot_be_read_or_marked(client, account, superuser, watched, record):
    viewer = make_staff("viewer")
    grant(viewer, account, "view")
    record(account, order_data("2", day=5))
    root_alert = AlertNotification.objects.get(user=superuser)
    client.force_login(viewer)
    client.post(reverse("wagtail_customers_alerts:mark_read"), {"id": [root_alert.pk]})
    root_alert.refresh_from_db()
    assert root_alert.read_at is None
    # A user who may view no account has no alerts page.
    client.force_login(make_staff("nobody"))
    assert client.get(ALERTS_URL).status_code == 403


def test_a_revoked_grant_hides_the_alerts_and_drops_them_from_e_mail(account, watched, record):
    viewer = make_staff("viewer")
    access = grant(viewer, account, "view", "see_personal_data")
    prefer(viewer, EmailFrequency.DAILY)
    record(account, order_data("2", day=5))
    access.delete()
    assert send_digest(viewer.pk) == 0
    assert mail.outbox == []
    assert not AlertNotification.objects.filter(email_due=True).exists()


def body_parts(message):
    html = dict((mime, content) for content, mime in message.alternatives)["text/html"]
    return message.body, html


def test_immediate_digest_is_sent_once_with_links_to_the_customer(account, watched, record):
    viewer = make_staff("viewer")
    grant(viewer, account, "view", "see_personal_data")
    prefer(viewer, EmailFrequency.IMMEDIATELY)

    record(account, order_data("2", day=5))  # the task runs eagerly (tests/settings.py)

    [message] = mail.outbox
    assert message.to == [viewer.email] and message.subject == "1 customer alert"
    text, html = body_parts(message)
    link = f"http://testserver/admin/customers/{watched.pk}/"
    assert "New order: Ada Lovelace, Shop A, order 2" in text and link in text
    assert f'<a href="{link}">Ada Lovelace</a>' in html
    # Nothing is due any more: another run, or the daily run, sends nothing.
    assert send_digest(viewer.pk) == 0
    send_alert_digests_task.delay("daily")
    assert len(mail.outbox) == 1


def test_daily_and_weekly_digests_list_what_happened_since_the_last_one(account, watched, record):
    daily = make_staff("daily")
    grant(daily, account, "view", "see_personal_data")
    prefer(daily, EmailFrequency.DAILY)
    weekly = make_staff("weekly")
    grant(weekly, account, "view", "see_personal_data")
    prefer(weekly, EmailFrequency.WEEKLY)

    returned = order_data("1")
    returned.lines[0].returned_quantity = 1
    record(account, order_data("2", day=5, rating=1), returned)
    assert mail.outbox == []

    assert send_alert_digests_task.delay("daily").get() == 3
    [message] = mail.outbox
    assert message.to == [daily.email] and message.subject == "3 customer alerts"
    text, _ = body_parts(message)
    assert [line.split(":")[0] for line in text.splitlines() if line.startswith("- ")] == [
        "- New order",
        "- Return",
        "- Negative feedback (rated 1/5)",
    ]
    send_alert_digests_task.delay("daily")
    assert len(mail.outbox) == 1

    # The next day's digest has only what is new since.
    record(account, order_data("3", day=7))
    send_alert_digests_task.delay("daily")
    assert len(mail.outbox) == 2 and mail.outbox[1].subject == "1 customer alert"

    send_alert_digests_task.delay("weekly")
    assert len(mail.outbox) == 3 and mail.outbox[2].to == [weekly.email]
    assert mail.outbox[2].subject == "4 customer alerts"
    send_alert_digests_task.delay("weekly")
    assert len(mail.outbox) == 3


def test_a_digest_masks_personal_data_for_a_user_without_that_right(account, watched, record):
    viewer = make_staff("viewer")
    grant(viewer, account, "view")
    prefer(viewer, EmailFrequency.IMMEDIATELY)
    record(account, order_data("2", day=5))
    [message] = mail.outbox
    text, html = body_parts(message)
    for body in (text, html):
        assert "Ada" not in body and "ada@example.com" not in body and "London" not in body
    assert f"New order: Customer #{watched.pk}, Shop A, order 2" in text


def test_the_preferences_save_through_the_account_settings_page(client, account, other_account, watched, record):
    viewer = make_staff("viewer", last_name="Viewer")  # Wagtail's name panel requires both names
    grant(viewer, account, "view")
    grant(viewer, other_account, "view")
    client.force_login(viewer)
    page = client.get("/admin/account/").content.decode()
    assert "Customer alerts" in page and 'name="wagtail_customers_alerts-email_frequency"' in page

    data = account_form_data(page)
    data.update(
        {
            "wagtail_customers_alerts-in_admin": "on",
            "wagtail_customers_alerts-email_frequency": "weekly",
            "wagtail_customers_alerts-muted_accounts": [str(other_account.pk)],
        }
    )
    response = client.post("/admin/account/", data)
    assert response.status_code == 302, re.findall(r"error-message.{0,300}", response.content.decode(), re.S) or data
    preference = AlertPreference.objects.get(user=viewer)
    assert (preference.in_admin, preference.email_frequency) == (True, EmailFrequency.WEEKLY)
    assert list(preference.muted_accounts.all()) == [other_account]

    # A post of the page without the panel's fields leaves the preferences alone.
    client.post("/admin/account/", account_form_data(page))
    preference.refresh_from_db()
    assert preference.email_frequency == EmailFrequency.WEEKLY

    # A user who may view no account sees no panel.
    client.force_login(make_staff("nobody"))
    assert "Customer alerts" not in client.get("/admin/account/").content.decode()


def account_form_data(page):
    """The values Wagtail's other account settings panels show (text inputs, checked boxes and radios, selected
    options), so that posting the page changes only what a test sets."""
    data = {}
    for tag in re.findall(r"<input[^>]*>", page):
        attrs = dict(re.findall(r'([a-z-]+)="([^"]*)"', tag))
        name, kind = attrs.get("name", ""), attrs.get("type", "text")
        if not name or name.startswith("wagtail_customers_alerts") or name == "csrfmiddlewaretoken":
            continue
        if kind in ("text", "email") or (kind in ("radio", "checkbox") and " checked" in tag):
            data[name] = attrs.get("value", "")
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        selected = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        if selected:
            data[name] = selected.group(1)
    return data


IMPORT_HEADER = (
    "order_id,placed_at,customer_email,customer_name,sku,quantity,unit_price,returned_quantity,feedback_rating"
)


def test_a_file_import_that_adds_a_return_and_negative_feedback_alerts_once(
    account, superuser, django_capture_on_commit_callbacks
):
    from wagtail_customers.importers import run_import

    first = f"{IMPORT_HEADER}\n1001,2024-03-01,ada@example.com,Ada,MUG,2,12.50,0,\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        run_import(account, first, filename="orders.csv")
    WatchlistEntry.objects.create(customer=account.customers.get())
    WatchlistEntry.objects.update(created_at=WATCHED_SINCE)
    # The channel's later report: one mug came back, the buyer rated the order 1.
    later = f"{IMPORT_HEADER}\n1001,2024-03-01,ada@example.com,Ada,MUG,2,12.50,1,1\n".encode()
    for _ in range(2):  # imported twice: the second run finds nothing new
        with django_capture_on_commit_callbacks(execute=True):
            run_import(account, later, filename="orders.csv")
    assert alerted() == {("root", AlertKind.RETURN, "1001"), ("root", AlertKind.NEGATIVE_FEEDBACK, "1001")}


def test_alerts_are_recorded_in_the_same_number_of_queries_whatever_the_batch(account, superuser, watched, record):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wagtail_customers.alerts.detection import record_alerts

    for number in range(3):
        grant(make_staff(f"viewer{number}"), account, "view")

    def queries(first, count):
        record(account, *[order_data(str(first + n), day=n) for n in range(count)])
        ids = list(account.orders.filter(external_id__in=[str(first + n) for n in range(count)]).values_list("pk"))
        AlertEvent.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            record_alerts(account, created_order_ids=[pk for (pk,) in ids], returned_order_ids=[pk for (pk,) in ids])
        inserts = [query for query in captured if query["sql"].lstrip().upper().startswith("INSERT")]
        return len(captured) - len(inserts), len(inserts)

    few, many = queries(100, 2), queries(200, 40)
    # The same reads; the inserts are bulk, split only by the database's limit on query parameters.
    assert few[0] == many[0] and few[1] == 2 and many[1] <= 4
    assert AlertNotification.objects.count() == 40 * 2 * 4


def test_without_a_task_queue_the_immediate_digest_is_sent_in_the_process(
    account, watched, record, settings, monkeypatch
):
    from celery import current_app

    # What a site without Celery settings has (tests/test_no_task_queue.py): no broker, not eager.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    del settings.CELERY_BROKER_URL
    del settings.CELERY_TASK_ALWAYS_EAGER
    assert current_app.conf.broker_url is None and not current_app.conf.task_always_eager
    viewer = make_staff("viewer")
    grant(viewer, account, "view", "see_personal_data")
    prefer(viewer, EmailFrequency.IMMEDIATELY)

    record(account, order_data("2", day=5))

    [message] = mail.outbox
    assert message.to == [viewer.email] and "New order: Ada Lovelace" in message.body


def test_the_dashboard_shows_the_latest_unread_alerts(client, account, watched, record, wagtail_page_tree):
    viewer = make_staff("viewer")
    grant(viewer, account, "view")
    client.force_login(viewer)
    assert "data-wc-alerts-panel" not in client.get("/admin/").content.decode()

    record(account, *[order_data(str(number), day=number) for number in range(2, 9)])
    page = client.get("/admin/").content.decode()
    assert "7 unread customer alerts" in page
    assert page.count(reverse("wagtail_customers_customer:detail", args=[watched.pk])) >= 5
    # A view-only grant: masked. (The surname: a page's random CSRF token once held "Ada".)
    assert "Lovelace" not in page

    client.post(reverse("wagtail_customers_alerts:mark_all_read"))
    assert "data-wc-alerts-panel" not in client.get("/admin/").content.decode()


def test_a_backfill_of_orders_placed_before_the_customer_was_watched_alerts_nobody(account, superuser, record):
    record(account, order_data("1"))
    WatchlistEntry.objects.create(customer=account.customers.get())  # watched from now on
    # A newly connected store's history, or an import of past years: orders placed before the watch began.
    record(account, order_data("2", day=5), order_data("3", day=9))
    assert alerted() == set()


def test_a_backfilled_order_already_returned_and_rated_badly_is_history_too(account, superuser, watched, record):
    WatchlistEntry.objects.filter(customer=watched).update(created_at=datetime(2026, 12, 1, tzinfo=UTC))
    # An import of 2025: every line of order A-17 came back and the buyer rated it 1, long before the watch.
    past = order_data("A-17", status="returned", rating=1)
    past.placed_at = datetime(2025, 6, 3, tzinfo=UTC)
    past.lines[0].returned_quantity = past.lines[0].quantity
    record(account, past)
    assert alerted() == set()

    # A return and feedback arriving after the watch began on an order already stored are still news.
    later = order_data("1", rating=1)
    later.lines[0].returned_quantity = 1
    record(account, later)
    assert alerted() == {("root", AlertKind.RETURN, "1"), ("root", AlertKind.NEGATIVE_FEEDBACK, "1")}


def test_alerts_wait_for_a_user_without_an_e_mail_address(account, superuser, watched, record):
    user = make_staff("noaddress")
    user.email = ""
    user.save()
    grant(user, account, "view")
    prefer(user, EmailFrequency.DAILY)
    record(account, order_data("2", day=5))
    assert send_digest(user.pk) == 0
    assert AlertNotification.objects.filter(user=user, email_due=True).count() == 1
    user.email = "later@example.com"
    user.save()
    assert send_digest(user.pk) == 1


class TimeIsUpBackend(locmem.EmailBackend):
    """The mail server is slow: the task's soft time limit lands while the first message is being sent."""

    def send_messages(self, messages):
        raise SoftTimeLimitExceeded()


def test_the_time_limit_stops_a_scheduled_run_and_leaves_the_alerts_due(account, watched, record, settings):
    """A run cut by the task's soft time limit stops at once (no later user is sent to past the limit, where the
    hard limit could kill the worker between a mail sent and its commit); every alert stays due for the next run."""
    users = []
    for name in ("first", "second"):
        user = make_staff(name)
        grant(user, account, "view", "see_personal_data")
        prefer(user, EmailFrequency.DAILY)
        users.append(user)
    record(account, order_data("2", day=5))
    settings.EMAIL_BACKEND = f"{__name__}.TimeIsUpBackend"

    with pytest.raises(SoftTimeLimitExceeded):
        send_scheduled_digests("daily")

    assert AlertNotification.objects.filter(user__in=users, email_due=True).count() == 2
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_scheduled_digests("daily") == {users[0].pk: 1, users[1].pk: 1}
    assert sorted(message.to[0] for message in mail.outbox) == sorted(user.email for user in users)


class WorkerKilled(BaseException):
    """The worker's process killed (the hard time limit, or out of memory): nothing after it runs."""


class KilledAfterSendingBackend(locmem.EmailBackend):
    """The digest goes out, then the worker is killed before anything else runs: the database rolls back the
    transaction open at that moment, and no statement of the dead process reaches it (``dead_after_sending``)."""

    killed = False

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        KilledAfterSendingBackend.killed = sent > 0
        raise WorkerKilled()


def dead_after_sending(execute, sql, params, many, context):
    if KilledAfterSendingBackend.killed:
        raise WorkerKilled()
    return execute(sql, params, many, context)


@pytest.mark.django_db(transaction=True)
def test_a_digest_whose_worker_is_killed_just_after_the_send_is_not_sent_again(account, watched, record, settings):
    """Stopped between its send and its commit, a run left the alerts due (the claim rolled back with the
    transaction) and the next run sent them again. The alerts are marked sent and committed before the send."""
    user = make_staff("killed")
    grant(user, account, "view", "see_personal_data")
    prefer(user, EmailFrequency.DAILY)
    record(account, order_data("2", day=5))
    settings.EMAIL_BACKEND = f"{__name__}.KilledAfterSendingBackend"

    try:
        with connection.execute_wrapper(dead_after_sending), pytest.raises(WorkerKilled):
            send_scheduled_digests("daily")
    finally:
        KilledAfterSendingBackend.killed = False
    assert len(mail.outbox) == 1

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_scheduled_digests("daily") == {}
    assert len(mail.outbox) == 1
    assert not AlertNotification.objects.filter(user=user, email_due=True).exists()


class RefusingBackend(locmem.EmailBackend):
    """The mail server refuses the message: nothing is sent."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({})


def test_a_digest_the_mail_server_refused_is_sent_by_the_next_run(account, watched, record, settings):
    """Marked sent before the send, the alerts are due again when the send fails: the next run sends them."""
    user = make_staff("refused")
    grant(user, account, "view", "see_personal_data")
    prefer(user, EmailFrequency.DAILY)
    record(account, order_data("2", day=5))
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_digest(user.pk)
    assert send_scheduled_digests("daily") == {}  # logged; the alerts wait for the next run
    notification = AlertNotification.objects.get(user=user)
    assert (notification.email_due, notification.emailed_at, mail.outbox) == (True, None, [])

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_scheduled_digests("daily") == {user.pk: 1}
    [message] = mail.outbox
    assert message.to == [user.email] and "New order: Ada Lovelace" in message.body


def test_alerts_a_digest_does_not_list_are_on_the_alerts_page_for_a_user_who_reads_them_by_e_mail_only(
    account, watched
):
    """The e-mail says "see them all in the admin": for a user whose alerts are not shown there, the ones it leaves
    out were on no page and in no e-mail. Those (only those) are shown in the admin."""
    from wagtail_customers.alerts.digests import DIGEST_MAX_ITEMS

    user = make_staff("mail-only")
    grant(user, account, "view", "see_personal_data")
    due_alerts(account, watched, user, DIGEST_MAX_ITEMS + 3, in_admin=False)
    assert send_digest(user.pk) == DIGEST_MAX_ITEMS + 3
    shown = AlertNotification.objects.filter(user=user, in_admin=True)
    assert shown.count() == 3
    # The three most recent: the e-mail lists the oldest first.
    assert set(shown.values_list("event__occurred_at", flat=True)) == set(
        AlertNotification.objects.filter(user=user)
        .order_by("-event__occurred_at")
        .values_list("event__occurred_at", flat=True)[:3]
    )


def due_alerts(account, customer, user, count, *, in_admin=True):
    """``count`` alerts about ``customer`` waiting for ``user``'s e-mail, a minute apart."""
    start = AlertEvent.objects.count()
    events = AlertEvent.objects.bulk_create(
        AlertEvent(
            account=account,
            customer=customer,
            kind=AlertKind.ORDER,
            occurred_at=datetime(2024, 3, 1, tzinfo=UTC) + timedelta(minutes=start + n),
        )
        for n in range(count)
    )
    AlertNotification.objects.bulk_create(
        AlertNotification(event=event, user=user, email_due=True, in_admin=in_admin) for event in events
    )


def test_a_digest_lists_at_most_its_cap_and_says_how_many_more(account, watched):
    """A broad rule and a day's sync of tens of thousands of orders made one e-mail of tens of thousands of items
    (hundreds of MB). The digest lists ``DIGEST_MAX_ITEMS`` and counts the others; all are claimed, in the same
    statements whatever their number (none loads the alerts due, nor names them one by one)."""
    from django.test.utils import CaptureQueriesContext

    from wagtail_customers.alerts.digests import DIGEST_MAX_ITEMS

    user = make_staff("busy")
    grant(user, account, "view", "see_personal_data")

    def statements(queries):
        return [re.sub(r"\d+", "N", query["sql"]) for query in queries]

    due_alerts(account, watched, user, 1)
    send_digest(user.pk)  # the first makes the user's profile (their language and time zone)
    due_alerts(account, watched, user, 3)
    with CaptureQueriesContext(connection) as few:
        assert send_digest(user.pk) == 3
    due_alerts(account, watched, user, DIGEST_MAX_ITEMS + 5)
    with CaptureQueriesContext(connection) as many:
        assert send_digest(user.pk) == DIGEST_MAX_ITEMS + 5
    # One more: the alerts not listed are put on the alerts page (none to put there: all are, for this user).
    unlisted = [query for query in statements(many.captured_queries) if '"in_admin" = ' in query and "UPDATE" in query]
    assert len(unlisted) == 1
    assert [query for query in statements(many.captured_queries) if query not in unlisted] == statements(
        few.captured_queries
    )

    _, first, message = mail.outbox
    assert "more alert" not in first.body
    assert message.to == [user.email] and message.subject == f"{DIGEST_MAX_ITEMS + 5} customer alerts"
    text, html = body_parts(message)
    assert len([line for line in text.splitlines() if line.startswith("- New order: ")]) == DIGEST_MAX_ITEMS
    assert html.count("<li>") == DIGEST_MAX_ITEMS
    for body in (text, html):
        assert "There are 5 more alerts: see them all in the admin (Customers > Alerts)." in body
        assert f"http://testserver{ALERTS_URL}" in body
    assert not AlertNotification.objects.filter(user=user, email_due=True).exists()
    assert AlertNotification.objects.filter(user=user, emailed_at__isnull=True).count() == 0
    assert send_digest(user.pk) == 0 and len(mail.outbox) == 3
