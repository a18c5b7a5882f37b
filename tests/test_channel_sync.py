"""The sync engine (services/channel_sync.py) against a channel on a real HTTP server on 127.0.0.1.

The channel is tests/connection_fixture_channel.py: a real adapter on ``requests``, so each test makes the
channel answer exactly what it needs (a 429 with Retry-After, a 5xx, a refused token, a broken page) at
the page it needs. The real adapters run through the same engine in tests/test_channel_sync_woocommerce.py.
"""

import json
import threading
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection as db_connection
from django.utils import timezone

from tests.connection_fixture_channel import API_KEY, FixtureChannel, connect, fixture_order
from wagtail_customers.models import (
    ChannelConnection,
    ConnectionState,
    Customer,
    Order,
    SyncKind,
    SyncOutcome,
    SyncRun,
)
from wagtail_customers.services import channel_sync
from wagtail_customers.services.statistics import rebuild_statistics


@pytest.fixture
def channel(httpserver):
    return FixtureChannel(httpserver, orders=[fixture_order(index) for index in range(35)])


@pytest.fixture
def connection(db, channel):
    return connect(channel, "Fixture shop")


def fresh(connection):
    return ChannelConnection.objects.get(pk=connection.pk)


def test_backfill_imports_every_page_then_goes_live(connection, channel):
    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE
    assert (result.pages, result.orders_created) == (4, 35)
    connection = fresh(connection)
    assert connection.state == ConnectionState.LIVE
    assert connection.backfill_orders == 35
    assert connection.backfill_finished_at is not None
    assert connection.backfill_reached == Order.objects.latest("placed_at").placed_at
    assert connection.cursors == {"orders": "1034"}
    assert connection.consecutive_failures == 0
    assert connection.next_attempt_at > timezone.now()
    assert connection.lock_token == "" and connection.locked_until is None
    orders = Order.objects.filter(account=connection.account)
    assert orders.count() == 35
    assert not orders.filter(synced_at__isnull=True).exists()
    assert set(orders.values_list("sync_status", flat=True)) == {"synced"}
    assert SyncRun.objects.get().kind == SyncKind.BACKFILL
    # Statistics kept by the ingestion service equal a fresh rebuild.
    assert rebuild_statistics() == 0
    assert Customer.objects.filter(account=connection.account).count() == 7


def test_a_pull_fetches_only_what_is_new_from_the_stored_cursor(connection, channel):
    channel_sync.sync_connection(connection.pk)
    channel.orders += [fixture_order(index) for index in range(35, 38)]
    channel.order_requests.clear()

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE
    assert (result.pages, result.orders_created, result.orders_unchanged) == (1, 3, 0)
    assert channel.order_requests[0]["after"] == "1034"
    assert SyncRun.objects.filter(kind=SyncKind.PULL).count() == 1
    assert fresh(connection).cursors == {"orders": "1037"}


def _page(channel, first, last, next_cursor):
    orders = [order for order in channel.orders if first <= order["id"] - 1000 <= last]
    return (200, {}, json.dumps({"orders": orders, "next": next_cursor}))


@pytest.mark.parametrize(
    "third_page",
    [
        # The position asked for, given again as the next one (Shopify's next page without its cursor).
        lambda channel: _page(channel, 20, 29, "1019"),
        # A position given before in this run.
        lambda channel: _page(channel, 20, 29, "1009"),
    ],
    ids=["same cursor", "a cursor given before"],
)
def test_a_channel_giving_the_same_page_again_stops_the_sync_instead_of_asking_for_ever(
    connection, channel, third_page
):
    channel.fault_at[3] = third_page(channel)

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.FAILED
    assert "the same page again" in result.error
    assert len(channel.order_requests) == 3
    # The pages before it stay, with their cursor; the next sync goes on from there.
    assert result.pages == 2 and fresh(connection).cursors == {"orders": "1019"}
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.DONE
    assert Order.objects.count() == 35


def test_the_same_orders_on_three_pages_in_a_row_stop_the_sync_and_twice_is_allowed(connection, channel):
    # Twice: what WooCommerce does when a whole page changed in the same second (it reads that page again by
    # number). Three times: a store or cache ignoring the page asked for.
    channel.fault_at[3] = _page(channel, 10, 19, "1019b")
    channel.fault_at[4] = _page(channel, 10, 19, "1019c")

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.FAILED and "the same page again" in result.error
    assert result.pages == 3 and fresh(connection).cursors == {"orders": "1019b"}


def test_the_backfill_starts_at_the_chosen_date(db, channel):
    """The start of the chosen day in the time zone of whoever chose it: here the site's, UTC."""
    # fixture_order(i) is placed i hours after 2026-06-01 09:00 UTC: from 2026-06-02 on, orders 15 to 34.
    connection = connect(channel, "Dated shop", backfill_from=date(2026, 6, 2))

    result = channel_sync.sync_connection(connection.pk)

    assert result.orders_created == 20
    assert channel.order_requests[0]["since"] == "2026-06-02T00:00:00+00:00"
    assert fresh(connection).backfill_since == datetime(2026, 6, 2, tzinfo=UTC)


def test_the_backfill_starts_at_the_start_of_the_chosen_day_in_the_choosers_time_zone(db, channel):
    """A seller in Sydney (UTC+10 in June) who picks 2 June gets the orders of their whole 2 June: it began at
    14:00 UTC on 1 June (before, the import started at midnight UTC, leaving out their first ten hours)."""
    with timezone.override("Australia/Sydney"):  # as the admin activates the user's profile zone in their request
        connection = connect(channel, "Sydney shop", backfill_from=date(2026, 6, 2))

    result = channel_sync.sync_connection(connection.pk)

    # fixture_order(i) is placed i hours after 2026-06-01 09:00 UTC: from 14:00 UTC on, orders 5 to 34.
    assert result.orders_created == 30
    assert channel.order_requests[0]["since"] == "2026-06-01T14:00:00+00:00"
    connection = fresh(connection)
    assert connection.backfill_from == date(2026, 6, 2)
    assert connection.backfill_since == datetime(2026, 6, 1, 14, tzinfo=UTC)


def test_the_start_of_the_chosen_day_on_a_site_without_time_zones(db, channel, settings):
    """USE_TZ = False: the moment is kept naive, in the site's time zone (its database refuses aware ones), and is
    handed to the adapters as the same aware UTC moment."""
    settings.USE_TZ, settings.TIME_ZONE = False, "Europe/London"
    with timezone.override("Australia/Sydney"):
        connection = connect(channel, "Sydney shop", backfill_from=date(2026, 6, 2))

    connection = fresh(connection)
    assert connection.backfill_since == datetime(2026, 6, 1, 15)  # 14:00 UTC is 15:00 in London's summer
    assert channel_sync.backfill_since(connection) == datetime(2026, 6, 1, 14, tzinfo=UTC)


def test_a_history_date_kept_without_its_moment_starts_at_midnight_utc(db, channel):
    """A connection whose import started before the moment was kept (migration 0036 fills it; a date set by hand
    has none) starts where it did: midnight UTC of its date."""
    connection = connect(channel, "Older shop", backfill_from=date(2026, 6, 2))
    ChannelConnection.objects.filter(pk=connection.pk).update(backfill_since=None)

    assert channel_sync.sync_connection(connection.pk).orders_created == 20
    assert channel.order_requests[0]["since"] == "2026-06-02T00:00:00+00:00"


def test_the_cursor_moves_only_with_its_page_commit(connection, channel):
    """A broken third page: the first two pages and their cursor stay; the next sync resumes at page three."""
    channel.fault_at[3] = (200, {}, '{"orders": "not a list"}')

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.FAILED
    assert result.pages == 2
    assert result.error == "The order list is not in the documented shape."
    connection = fresh(connection)
    assert connection.cursors == {"orders": "1019"}
    assert connection.state == ConnectionState.BACKFILLING
    assert connection.consecutive_failures == 1
    assert connection.last_error == "The order list is not in the documented shape."
    assert Order.objects.count() == 20

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE
    assert (result.pages, result.orders_created) == (2, 15)
    assert Order.objects.count() == 35
    assert fresh(connection).state == ConnectionState.LIVE
    assert rebuild_statistics() == 0


def test_a_held_lease_makes_another_sync_return_without_work(connection, channel):
    token = channel_sync.take_lease(connection.pk)
    assert token

    assert channel_sync.sync_connection(connection.pk) is None
    assert channel.order_requests == []
    assert SyncRun.objects.count() == 0

    # A killed worker's lease lapses: the next sync takes it.
    ChannelConnection.objects.filter(pk=connection.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.DONE


def sync_changing_at_page_two(connection, channel, change):
    """Sync the connection; ``change()`` runs as the second page is asked for, in the HTTP server's thread, with
    its own database connection (closed, so none lingers), as another worker's or request's would."""

    def before_page(request):
        if len(channel.order_requests) == 2:
            change()
            db_connection.close()

    channel.before_page = before_page
    try:
        return channel_sync.sync_connection(connection.pk)
    finally:
        channel.before_page = None


@pytest.mark.django_db(transaction=True)
def test_a_lost_lease_writes_nothing(connection, channel):
    """A sync whose lease lapsed and was taken by another writes no page of its own."""
    result = sync_changing_at_page_two(
        connection,
        channel,
        lambda: ChannelConnection.objects.filter(pk=connection.pk).update(lock_token="another-sync"),
    )

    assert result.outcome == SyncOutcome.INTERRUPTED
    assert result.pages == 1
    assert Order.objects.count() == 10
    assert fresh(connection).cursors == {"orders": "1009"}


@pytest.mark.django_db(transaction=True)
def test_a_history_import_restarted_during_a_sync_is_not_overwritten_by_it(connection, channel):
    """'Import history again' pressed while a backfill runs: the running sync stops; it neither writes its cursor
    over the cleared one nor marks the new import finished (which would leave the earlier history unimported)."""
    result = sync_changing_at_page_two(
        connection, channel, lambda: channel_sync.start_backfill(fresh(connection), date(2020, 1, 1))
    )

    assert result.outcome == SyncOutcome.INTERRUPTED
    connection = fresh(connection)
    assert (connection.state, connection.backfill_from, connection.cursors) == (
        ConnectionState.BACKFILLING,
        date(2020, 1, 1),
        {},
    )
    assert connection.backfill_finished_at is None

    # The next sync runs the restarted import from its date.
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.DONE
    assert fresh(connection).backfill_finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_sync_taken_over_then_failing_counts_no_failure_and_tells_no_one(connection, channel, settings):
    """Its failure is not the connection's: the sync that took the lease over decides what happens next."""
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "SYNC_MAX_FAILURES": 1}
    get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")

    channel.fault_at[2] = (500, {}, "{}")

    result = sync_changing_at_page_two(
        connection,
        channel,
        lambda: ChannelConnection.objects.filter(pk=connection.pk).update(lock_token="another-sync"),
    )

    assert result.outcome == SyncOutcome.INTERRUPTED
    connection = fresh(connection)
    assert (connection.consecutive_failures, connection.state) == (0, ConnectionState.BACKFILLING)
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_two_syncs_at_once_one_does_the_work(channel):
    connection = connect(channel, "Busy shop")
    account = connection.account
    first_page_asked, go_on = threading.Event(), threading.Event()

    def hold_the_first_page(request):
        if len(channel.order_requests) == 1:
            first_page_asked.set()
            go_on.wait(10)

    channel.before_page = hold_the_first_page
    results = {}

    def first_sync():
        try:
            results["first"] = channel_sync.sync_connection(connection.pk)
        finally:
            db_connection.close()

    thread = threading.Thread(target=first_sync)
    thread.start()
    assert first_page_asked.wait(10)

    results["second"] = channel_sync.sync_connection(connection.pk)
    go_on.set()
    thread.join(20)

    assert results["second"] is None
    assert results["first"].outcome == SyncOutcome.DONE
    assert Order.objects.filter(account=account).count() == 35
    assert SyncRun.objects.count() == 1


def test_a_short_retry_after_is_waited_out(connection, channel):
    channel.faults.append((429, {"Retry-After": "1"}, '{"error": "throttled"}'))

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.DONE
    assert result.orders_created == 35
    assert channel.order_requests[0] == channel.order_requests[1]
    assert fresh(connection).consecutive_failures == 0


def test_a_long_retry_after_reschedules_without_counting_a_failure(connection, channel):
    channel.faults.append((429, {"Retry-After": "120"}, '{"error": "throttled"}'))
    before = timezone.now()

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.INTERRUPTED
    connection = fresh(connection)
    assert connection.consecutive_failures == 0
    assert connection.state == ConnectionState.BACKFILLING
    assert before + timedelta(seconds=119) <= connection.next_attempt_at <= timezone.now() + timedelta(seconds=121)
    assert Order.objects.count() == 0


def test_server_errors_back_off_exponentially(connection, channel):
    channel.faults += [(503, {}, "{}"), (503, {}, "{}")]

    before = timezone.now()
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.FAILED
    connection = fresh(connection)
    assert connection.consecutive_failures == 1
    # SYNC_BACKOFF_SECONDS is 1 in the test settings: 1 s, then 2 s.
    assert before + timedelta(seconds=1) <= connection.next_attempt_at <= timezone.now() + timedelta(seconds=1)
    assert connection.last_error == "The channel had an error (503)."

    before = timezone.now()
    channel_sync.sync_connection(connection.pk)
    connection = fresh(connection)
    assert connection.consecutive_failures == 2
    assert before + timedelta(seconds=2) <= connection.next_attempt_at <= timezone.now() + timedelta(seconds=2)
    assert connection.state == ConnectionState.BACKFILLING
    assert mail.outbox == []


def test_a_server_error_s_retry_after_is_the_least_wait_before_the_next_attempt(connection, channel, settings):
    # A 503 during maintenance the channel announced: five quick attempts marked the connection failing and
    # e-mailed the admins within minutes. The wait it asks for is kept, up to SYNC_BACKOFF_MAX_SECONDS.
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "SYNC_BACKOFF_MAX_SECONDS": 600}
    channel.faults += [(503, {"Retry-After": "300"}, "{}"), (503, {"Retry-After": "86400"}, "{}")]

    before = timezone.now()
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.FAILED
    connection = fresh(connection)
    assert before + timedelta(seconds=300) <= connection.next_attempt_at <= timezone.now() + timedelta(seconds=300)
    before = timezone.now()
    channel_sync.sync_connection(connection.pk)
    connection = fresh(connection)
    assert before + timedelta(seconds=600) <= connection.next_attempt_at <= timezone.now() + timedelta(seconds=600)
    assert connection.consecutive_failures == 2


def test_n_failures_in_a_row_mark_the_connection_failing_and_tell_the_admins_once(connection, channel, settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "SYNC_MAX_FAILURES": 3}
    get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    channel.faults += [(500, {}, "{}")] * 4

    for _attempt in range(3):
        channel_sync.sync_connection(connection.pk)

    connection = fresh(connection)
    assert connection.state == ConnectionState.FAILING
    assert connection.consecutive_failures == 3
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["admin@example.com"]
    assert "Fixture shop" in mail.outbox[0].subject
    assert "The channel had an error (500)." in mail.outbox[0].body
    assert API_KEY not in mail.outbox[0].body
    # Still retried on its back-off (SYNC_BACKOFF_MAX_SECONDS is 4 in the tests), but not told again.
    assert connection.next_attempt_at is not None
    assert channel_sync.due_connection_ids(timezone.now() + timedelta(seconds=5)) == [connection.pk]
    channel_sync.sync_connection(connection.pk)
    assert len(mail.outbox) == 1

    # The channel is back: live again, and a later failing episode is told again.
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.DONE
    connection = fresh(connection)
    assert connection.state == ConnectionState.LIVE
    assert connection.failure_notified_at is None


def test_refused_credentials_mark_the_connection_failing_at_once(connection, channel):
    get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    connection = fresh(connection)
    connection.set_credentials(channel.credentials(api_key="expired-token"))
    connection.save()

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.FAILED
    connection = fresh(connection)
    assert connection.state == ConnectionState.FAILING
    assert connection.last_error == "The API key was refused."
    # Not retried on a schedule: the seller must enter new credentials (or press "Sync now").
    assert connection.next_attempt_at is None
    assert connection.pk not in channel_sync.due_connection_ids(timezone.now() + timedelta(days=1))
    assert len(mail.outbox) == 1


def test_paused_and_never_connected_connections_do_not_sync(connection, channel):
    channel_sync.pause(connection)
    assert channel_sync.sync_connection(connection.pk) is None
    assert channel_sync.due_connection_ids() == []

    channel_sync.resume(fresh(connection))
    assert fresh(connection).state == ConnectionState.BACKFILLING
    assert channel_sync.due_connection_ids() == [connection.pk]
    assert channel_sync.sync_connection(connection.pk).outcome == SyncOutcome.DONE


def test_the_due_connections_task_syncs_due_connections(connection, channel):
    from wagtail_customers.channels.tasks import sync_due_connections_task

    assert sync_due_connections_task.delay().get() == 1  # eager in the tests
    assert fresh(connection).state == ConnectionState.LIVE
    # Live now, next due after SYNC_INTERVAL_SECONDS.
    assert sync_due_connections_task.delay().get() == 0


def test_credentials_are_encrypted_at_rest_and_rotate(connection, channel, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    stored = ChannelConnection.objects.values_list("encrypted_credentials", flat=True).get(pk=connection.pk)
    assert API_KEY not in stored
    assert fresh(connection).get_credentials()["api_key"] == API_KEY

    old_key = settings.WAGTAIL_CUSTOMERS["CREDENTIALS_KEYS"][0]
    new_key = Fernet.generate_key().decode()
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "CREDENTIALS_KEYS": [new_key, old_key]}
    call_command("customers_rotate_credentials", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "CREDENTIALS_KEYS": [new_key]}
    assert fresh(connection).get_credentials()["api_key"] == API_KEY


def test_rotation_re_encrypts_the_readable_connections_and_names_those_no_key_reads(db, channel, settings):
    from cryptography.fernet import Fernet
    from django.core.management import CommandError, call_command

    old_key = settings.WAGTAIL_CUSTOMERS["CREDENTIALS_KEYS"][0]
    dropped_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    readable = connect(channel, "Fixture shop", start=False)
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "CREDENTIALS_KEYS": [dropped_key]}
    unreadable = connect(channel, "Dropped-key shop", start=False)
    unreadable_token = fresh(unreadable).encrypted_credentials

    # The key of "Dropped-key shop" was removed before the rotation ran.
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "CREDENTIALS_KEYS": [new_key, old_key]}
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("customers_rotate_credentials", stdout=out)
    assert "Re-encrypted the credentials of 1 connection(s)." in out.getvalue()
    assert f"{unreadable.pk} (Dropped-key shop)" in str(raised.value)
    assert "Fixture shop" not in str(raised.value)
    assert fresh(unreadable).encrypted_credentials == unreadable_token
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "CREDENTIALS_KEYS": [new_key]}
    assert fresh(readable).get_credentials()["api_key"] == API_KEY

    # Putting the dropped key back lets a second run rotate it too.
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "CREDENTIALS_KEYS": [new_key, dropped_key]}
    call_command("customers_rotate_credentials", stdout=StringIO())
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "CREDENTIALS_KEYS": [new_key]}
    assert fresh(unreadable).get_credentials()["api_key"] == API_KEY


def test_rotation_without_keys_names_the_stored_connections_and_changes_nothing(connection, settings):
    from django.core.management import CommandError, call_command

    stored = fresh(connection).encrypted_credentials
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "CREDENTIALS_KEYS": []}
    with pytest.raises(CommandError) as raised:
        call_command("customers_rotate_credentials", stdout=StringIO())
    assert "'CREDENTIALS_KEYS'] is not set" in str(raised.value)
    assert f"{connection.pk} (Fixture shop)" in str(raised.value)
    assert "nothing was re-encrypted" in str(raised.value)
    assert fresh(connection).encrypted_credentials == stored


def test_unreadable_credentials_fail_with_a_message_that_names_no_secret(connection, channel, settings):
    from cryptography.fernet import Fernet

    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "CREDENTIALS_KEYS": [Fernet.generate_key().decode()]}

    result = channel_sync.sync_connection(connection.pk)

    assert result.outcome == SyncOutcome.FAILED
    assert "cannot be decrypted" in result.error
    assert fresh(connection).state == ConnectionState.FAILING


def test_an_unexpected_error_is_told_in_a_sentence_and_logged_with_its_type(connection, channel, caplog):
    # An order without an e-mail: the test channel's mapping raises KeyError, an adapter bug, not a ChannelError.
    channel.orders = [{key: value for key, value in fixture_order(1).items() if key != "email"}]

    result = channel_sync.sync_connection(connection.pk)

    message = (
        "Something unexpected went wrong during the sync; the site's administrators can find the details in the "
        "server log."
    )
    assert (result.outcome, result.error) == (SyncOutcome.FAILED, message)
    assert fresh(connection).last_error == message
    assert fresh(connection).next_attempt_at is not None  # retried: it may be the site's own passing trouble
    # The seller reads no class name; the log has it, and where it was raised.
    assert "KeyError" in caplog.text and "order_data" in caplog.text


def test_old_delivery_ids_and_runs_are_forgotten(connection, channel):
    from wagtail_customers.models import WebhookDelivery

    channel_sync.sync_connection(connection.pk)
    WebhookDelivery.objects.create(connection=connection, delivery_id="old")
    later = timezone.now() + timedelta(days=8)

    assert channel_sync.forget_old_deliveries(later) == 1
    assert SyncRun.objects.count() == 1
    # A killed worker's run never finished: it is forgotten with the others.
    SyncRun.objects.create(connection=connection, kind=SyncKind.PULL, started_at=timezone.now())
    assert channel_sync.forget_old_deliveries(timezone.now() + timedelta(days=91)) == 2
    assert not SyncRun.objects.exists() and not WebhookDelivery.objects.exists()
