"""The Connection page of a seller account: credentials write-only, test, connect, progress, actions.

Who may open which URL is in tests/test_permission_matrix.py; here, what a manager sees and does. The
channel is the test channel of tests/connection_fixture_channel.py on pytest-httpserver; Celery runs
eagerly, so "Connect and import history" has imported the history when the page comes back.
"""

import datetime
import html
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.db.models.signals import pre_save
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from wagtail.users.models import UserProfile

from tests.connection_fixture_channel import API_KEY, WEBHOOK_SECRET, FixtureChannel, fixture_order, sign
from tests.permission_world import grant, make_staff
from wagtail_customers.models import ChannelConnection, ConnectionState, Order, SellerAccount, SyncRun
from wagtail_customers.permissions import GRANT_FLAGS
from wagtail_customers.services import channel_sync
from wagtail_customers.views.connections.views import ConnectionView, counts_per_day

# Committed for real: the queued sync runs (eagerly) when the request's transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def channel(httpserver):
    return FixtureChannel(httpserver, orders=[fixture_order(index) for index in range(25)])


@pytest.fixture
def account(db):
    return SellerAccount.objects.create(name="Page shop", channel="other", currency="USD")


@pytest.fixture
def admin_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("admin", "admin@example.com", "pw"))
    return client


def url(name, account):
    return reverse(f"wagtail_customers_connections:{name}", args=[account.pk])


def save_credentials(admin_client, account, **values):
    return admin_client.post(url("connection", account), values, follow=True)


def messages_of(response):
    """The messages as the seller reads them (Wagtail's admin messages are HTML)."""
    return [html.unescape(str(message)).strip() for message in get_messages(response.wsgi_request)]


def test_credentials_are_saved_encrypted_and_never_rendered_back(admin_client, account, channel):
    response = save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY, webhook_secret="")
    assert response.status_code == 200

    connection = ChannelConnection.objects.get(account=account)
    assert API_KEY not in connection.encrypted_credentials
    assert connection.get_credentials() == {"base_url": channel.url, "api_key": API_KEY}
    page = admin_client.get(url("connection", account)).content.decode()
    assert API_KEY not in page
    assert channel.url in page  # not a secret: shown for editing
    assert "Leave blank to keep it." in page

    # A secret left blank keeps the stored value; a new one replaces it.
    save_credentials(admin_client, account, base_url=channel.url, api_key="", webhook_secret=WEBHOOK_SECRET)
    assert ChannelConnection.objects.get(account=account).get_credentials() == {
        "base_url": channel.url,
        "api_key": API_KEY,
        "webhook_secret": WEBHOOK_SECRET,
    }


def test_a_stored_optional_secret_can_be_removed_and_its_webhooks_are_then_refused(admin_client, account, channel):
    save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY, webhook_secret=WEBHOOK_SECRET)
    page = admin_client.get(url("connection", account)).content.decode()
    assert 'name="remove_webhook_secret"' in page
    assert 'name="remove_api_key"' not in page  # a required secret is replaced, never removed

    both = save_credentials(
        admin_client, account, base_url=channel.url, webhook_secret="another", remove_webhook_secret="on"
    )
    assert "not both" in both.content.decode()
    assert ChannelConnection.objects.get(account=account).get_credentials()["webhook_secret"] == WEBHOOK_SECRET

    save_credentials(admin_client, account, base_url=channel.url, remove_webhook_secret="on")
    connection = ChannelConnection.objects.get(account=account)
    assert connection.get_credentials() == {"base_url": channel.url, "api_key": API_KEY}
    assert 'name="remove_webhook_secret"' not in admin_client.get(url("connection", account)).content.decode()

    # Signed with the removed secret: refused, as a delivery to a connection without webhooks is.
    body = json.dumps(fixture_order(70)).encode()
    response = admin_client.post(
        reverse("wagtail_customers_webhooks:receive", args=[connection.webhook_token]),
        body,
        content_type="application/json",
        headers={"X-Fixture-Topic": "orders/create", "X-Fixture-Delivery": "d-70", "X-Fixture-Hmac": sign(body)},
    )
    assert response.status_code in (401, 404)
    assert not Order.objects.filter(external_id="1070").exists()


def test_a_stored_secret_is_not_kept_for_another_store_address(admin_client, account, channel):
    save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY)

    response = save_credentials(admin_client, account, base_url="https://attacker.example", api_key="")

    assert "Enter it again" in response.content.decode()
    assert ChannelConnection.objects.get(account=account).get_credentials() == {
        "base_url": channel.url,
        "api_key": API_KEY,
    }
    # With the secret typed again the new address is saved.
    save_credentials(admin_client, account, base_url="https://moved.example", api_key="new-key")
    assert ChannelConnection.objects.get(account=account).get_credentials()["base_url"] == "https://moved.example"


def test_saving_credentials_keeps_what_a_running_sync_commits_meanwhile(admin_client, account, channel):
    save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY)

    def sync_commits_a_page(sender, instance, **kwargs):
        # Between the page's read of the connection and its save, as a sync in a worker would.
        ChannelConnection.objects.filter(pk=instance.pk).update(cursors={"orders": "1019"}, backfill_orders=20)

    pre_save.connect(sync_commits_a_page, sender=ChannelConnection)
    try:
        save_credentials(admin_client, account, base_url=channel.url, api_key="", webhook_secret=WEBHOOK_SECRET)
    finally:
        pre_save.disconnect(sync_commits_a_page, sender=ChannelConnection)

    connection = ChannelConnection.objects.get(account=account)
    assert (connection.cursors, connection.backfill_orders) == ({"orders": "1019"}, 20)
    assert connection.get_credentials()["webhook_secret"] == WEBHOOK_SECRET


def test_a_required_secret_is_asked_for_until_stored(admin_client, account, channel):
    response = admin_client.post(url("connection", account), {"base_url": channel.url, "api_key": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ChannelConnection.objects.filter(account=account).exists()


def test_test_connection_says_whether_it_works(admin_client, account, channel):
    save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY)
    response = admin_client.post(url("test", account), follow=True)
    assert "The connection works: Fixture shop." in response.content.decode()

    save_credentials(admin_client, account, base_url=channel.url, api_key="wrong-key")
    response = admin_client.post(url("test", account), follow=True)
    page = response.content.decode()
    assert "The connection does not work: The API key was refused." in page
    assert "wrong-key" not in page


def test_connect_imports_the_history_and_shows_progress_and_runs(admin_client, account, channel):
    save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY)

    response = admin_client.post(url("connect", account), {"backfill_from": ""}, follow=True)

    page = response.content.decode()
    connection = ChannelConnection.objects.get(account=account)
    assert connection.state == ConnectionState.LIVE
    assert Order.objects.filter(account=account).count() == 25
    assert 'data-connection-state="live"' in page
    assert "Done: 25 orders imported" in page
    assert "Counts per day" in page and "Last runs" in page
    assert "Webhooks" in page and connection.webhook_token in page


def test_the_counts_per_day_are_whole_days_in_the_users_time_zone(account):
    """14 rows at most, today's included, each a whole day in the user's time zone (the one TruncDate groups by):
    the window was ``now - 14 days`` to the minute, whose oldest row held only the runs after that minute."""
    connection = ChannelConnection.objects.create(account=account)
    with timezone.override("America/New_York"):
        today = timezone.localdate()
        first_day = today - datetime.timedelta(days=13)

        def run_at(day, hour, minute=0, second=0, microsecond=0):
            started = timezone.make_aware(
                datetime.datetime.combine(day, datetime.time(hour, minute, second, microsecond))
            )
            SyncRun.objects.create(connection=connection, kind="pull", started_at=started, orders_created=1)

        run_at(first_day - datetime.timedelta(days=1), 23, 59, 59, 999999)  # the day before the first one shown
        run_at(first_day, 0)
        run_at(first_day, 23, 59)
        run_at(today, 0)

        days = counts_per_day(connection)

    assert [(row["day"], row["runs"], row["created"]) for row in days] == [(today, 1, 1), (first_day, 2, 2)]


def test_sync_now_pause_and_resume(admin_client, account, channel):
    save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY)
    admin_client.post(url("connect", account), {"backfill_from": ""})
    channel.orders.append(fixture_order(30))

    admin_client.post(url("sync", account))
    assert Order.objects.filter(account=account).count() == 26

    admin_client.post(url("pause", account))
    assert ChannelConnection.objects.get(account=account).state == ConnectionState.PAUSED
    channel.orders.append(fixture_order(31))
    response = admin_client.post(url("sync", account), follow=True)
    assert "Connect the account (or resume it) first." in response.content.decode()
    assert Order.objects.filter(account=account).count() == 26

    admin_client.post(url("resume", account))
    assert ChannelConnection.objects.get(account=account).state == ConnectionState.LIVE
    assert Order.objects.filter(account=account).count() == 27


def test_a_failing_connection_shows_on_the_dashboard_and_the_accounts_listing(admin_client, account, channel):
    save_credentials(admin_client, account, base_url=channel.url, api_key="expired")
    admin_client.post(url("connect", account), {"backfill_from": ""})
    assert ChannelConnection.objects.get(account=account).state == ConnectionState.FAILING

    dashboard = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Store connections failing" in dashboard
    assert "The API key was refused." in dashboard
    listing = admin_client.get(reverse("wagtail_customers_accounts:index")).content.decode()
    assert url("connection", account) in listing
    assert "Failing" in listing


def test_a_channel_without_an_adapter_says_so(admin_client, db):
    account = SellerAccount.objects.create(name="Etsy shop", channel="etsy", currency="USD")

    page = admin_client.get(url("connection", account)).content.decode()

    assert "This channel has no live connection; import its orders from files." in page
    assert admin_client.post(url("connection", account), {}).status_code == 404


def test_the_order_list_and_order_page_show_when_an_order_was_synced(admin_client, account, channel):
    save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY)
    admin_client.post(url("connect", account), {"backfill_from": ""})
    order = Order.objects.filter(account=account).first()

    page = admin_client.get(reverse("wagtail_customers_customer:order", args=[order.pk])).content.decode()
    assert "Last synced from the channel" in page
    assert "confirmed by the channel" in page

    page = admin_client.get(reverse("wagtail_customers_customer:detail", args=[order.customer_id])).content.decode()
    assert "Synced, " in page


def test_the_seller_account_edit_page_links_to_its_connection(admin_client, account):
    page = admin_client.get(reverse("wagtail_customers_accounts:edit", args=[account.pk])).content.decode()

    assert url("connection", account) in page
    assert "Store connection" in page


def test_connect_says_so_when_the_import_failed_before_the_page_came_back(admin_client, account, channel):
    save_credentials(admin_client, account, base_url=channel.url, api_key="expired")

    response = admin_client.post(url("connect", account), {"backfill_from": ""})

    # The (eager) sync has failed: the page names the error instead of the history importing in the background.
    assert ChannelConnection.objects.get(account=account).state == ConnectionState.FAILING
    assert messages_of(response) == ["The sync failed and the connection is failing: The API key was refused."]


def test_connect_says_so_when_the_first_attempt_failed_and_is_tried_again(admin_client, account, channel):
    save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY)
    channel.faults.append((503, {}, '{"error": "down"}'))

    response = admin_client.post(url("connect", account), {"backfill_from": ""})

    connection = ChannelConnection.objects.get(account=account)
    assert (connection.state, connection.next_attempt_at is not None) == (ConnectionState.BACKFILLING, True)
    assert messages_of(response) == ["The sync failed; it is tried again later: The channel had an error (503)."]

    # A sync that works says what it says (the page shown first: its messages are read).
    admin_client.get(url("connection", account))
    response = admin_client.post(url("sync", account))
    assert ChannelConnection.objects.get(account=account).state == ConnectionState.LIVE
    assert messages_of(response) == ["A sync was queued."]


def test_sync_now_while_another_sync_runs_says_so_when_tasks_run_at_once(admin_client, account, channel):
    """Eager mode: the sync runs in the request, finds the lease another sync holds, and does nothing; the page
    said a sync was queued, and none ever came."""
    save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY)
    admin_client.post(url("connect", account), {"backfill_from": ""}, follow=True)  # its messages read
    connection = ChannelConnection.objects.get(account=account)
    channel_sync.take_lease(connection.pk)  # a sync running elsewhere (a worker, another request)
    runs = SyncRun.objects.count()

    response = admin_client.post(url("sync", account))

    assert messages_of(response) == ["A sync is already running; its results will show here."]
    assert SyncRun.objects.count() == runs


def test_an_invalid_history_date_is_an_error_by_its_field_and_keeps_what_was_typed(admin_client, account, channel):
    save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY)

    response = admin_client.post(url("connect", account), {"backfill_from": "2026-02-30"})

    assert response.status_code == 200
    form = response.context["connect_form"]
    assert form.errors["backfill_from"] == ["Enter a valid date."]
    page = response.content.decode()
    # By the field (its id names the error), with the date as typed, and said at the top as Wagtail does.
    field = re.search(r"<input[^>]*name=\"backfill_from\"[^>]*>", page).group(0)
    assert 'value="2026-02-30"' in field and 'aria-invalid="true"' in field
    assert "Enter a valid date." in page
    assert messages_of(response) == ["The history could not be imported: check the date below."]
    assert "The history could not be imported: check the date below." in page
    assert ChannelConnection.objects.get(account=account).state == ConnectionState.NEVER_CONNECTED


def test_the_pages_tables_scroll_sideways_in_their_own_boxes(admin_client, account, channel):
    save_credentials(admin_client, account, base_url=channel.url, api_key="expired")
    admin_client.post(url("connect", account), {"backfill_from": ""})
    assert SyncRun.objects.filter(connection__account=account).exists()

    page = admin_client.get(url("connection", account)).content.decode()

    assert "wagtail_customers/css/table-scroll.css" in page
    assert "wagtail_customers/css/connections.css" in page
    assert "wagtail_customers/js/table-scroll-controller.js" in page
    boxes = re.findall(r'<div class="wc-table-scroll"[^>]*>\s*<table[^>]*aria-labelledby="([^"]+)"', page)
    assert boxes == ["wc-connection-days", "wc-connection-runs"]
    # No table of the page's own left outside a box (the admin's keyboard shortcuts dialog has one, before <main>).
    assert len(re.findall(r"<table\b", page.split("<main", 1)[1])) == 2
    assert '<td class="wc-connection-run-error">The API key was refused.</td>' in page


@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_who_may_not_manage_accounts_get_the_403_page_whatever_the_id(client, account, method):
    other = SellerAccount.objects.create(name="Other shop", channel="other", currency="USD")
    staff = make_staff("staffer")
    grant(staff, account, *GRANT_FLAGS)  # every action on the account's data, not the right to manage accounts
    client.force_login(staff)

    for account_id in (account.pk, other.pk, 987654321):
        for name in ("connection", "test", "pause", "connect", "sync", "resume"):
            if method == "get" and name != "connection":
                continue
            path = reverse(f"wagtail_customers_connections:{name}", args=[account_id])
            response = getattr(client, method)(path)
            assert response.status_code == 403, (path, response.status_code)
            assert "You do not have permission to do this." in response.content.decode()
    assert not ChannelConnection.objects.exists()


@pytest.mark.parametrize("codename", ["add_selleraccount", "delete_selleraccount"])
def test_adding_or_deleting_accounts_is_not_the_right_to_change_their_connection(client, account, channel, codename):
    """The page was open to any of the seller account permissions: one to add accounts overwrote a store's
    credentials. It needs what the account's own edit page needs; the listing and the dashboard link to it only then."""
    ChannelConnection.objects.create(
        account=account, state=ConnectionState.FAILING, last_error="Refused.", last_error_at=timezone.now()
    )
    user = make_staff("clerk")
    user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)

    assert client.get(url("connection", account)).status_code == 403
    for name in ("connection", "test", "connect", "sync", "pause", "resume"):
        response = client.post(url(name, account), {"base_url": channel.url, "api_key": "theirs"})
        assert response.status_code == 403, name
    assert not ChannelConnection.objects.get(account=account).has_credentials
    listing = client.get(reverse("wagtail_customers_accounts:index")).content.decode()
    assert "Page shop" in listing and url("connection", account) not in listing
    assert "Store connections failing" not in client.get(reverse("wagtailadmin_home")).content.decode()

    user.user_permissions.add(Permission.objects.get(codename="change_selleraccount"))
    assert client.get(url("connection", account)).status_code == 200
    assert url("connection", account) in client.get(reverse("wagtail_customers_accounts:index")).content.decode()
    assert "Store connections failing" in client.get(reverse("wagtailadmin_home")).content.decode()


def test_the_page_rendered_for_another_urls_view_checks_the_permission_itself(rf, account):
    """ConnectionView.render_with is the page without dispatch(): it looks the account up with its check."""
    staff = make_staff("staffer")
    grant(staff, account, *GRANT_FLAGS)
    request = rf.post(url("connect", account))
    request.user = staff

    with pytest.raises(PermissionDenied):
        ConnectionView.render_with(request, account.pk)
    request.user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    with pytest.raises(Http404):
        ConnectionView.render_with(request, 987654321)


def test_an_unexpected_error_while_testing_the_connection_is_a_message_not_a_500(admin_client, account, httpserver):
    # A channel answering a list where the adapter reads an object: an AttributeError, not a ChannelError.
    httpserver.expect_request("/shop").respond_with_json(["not", "a", "shop"])
    save_credentials(admin_client, account, base_url=httpserver.url_for("/").rstrip("/"), api_key=API_KEY)

    response = admin_client.post(url("test", account))

    assert response.status_code == 302
    assert messages_of(response) == [
        "Something unexpected went wrong while testing the connection; the site's administrators can find the "
        "details in the server log."
    ]
    assert ChannelConnection.objects.get(account=account).shop_description == ""


def test_the_page_of_a_site_without_the_webhook_urls_says_how_to_add_them(admin_client, account, channel, settings):
    """The webhook URLs are optional; without them the page answered 500 (NoReverseMatch) once credentials were
    saved, for every channel with webhooks."""
    save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY)
    settings.ROOT_URLCONF = "tests.urls_without_webhooks"

    response = admin_client.get(url("connection", account))

    assert response.status_code == 200
    page = " ".join(html.unescape(response.content.decode()).split())
    assert "This site takes no webhooks yet: orders arrive with each pull only." in page
    assert 'path("customers-webhooks/", include("wagtail_customers.urls"))' in page
    assert "Register this address" not in page


def test_the_history_date_is_the_start_of_that_day_in_the_users_time_zone(admin_client, account, channel):
    """A seller whose admin profile is set to Sydney (UTC+10 in June) picks 2 June: the import starts at the start of
    their 2 June, 14:00 UTC on 1 June (before, at midnight UTC: their first ten hours of the day were not imported)."""
    user = get_user_model().objects.get(username="admin")
    profile = UserProfile.get_for_user(user)
    profile.current_time_zone = "Australia/Sydney"
    profile.save()
    save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY)

    admin_client.post(url("connect", account), {"backfill_from": "2026-06-02"})

    assert channel.order_requests[0]["since"] == "2026-06-01T14:00:00+00:00"
    # fixture_order(i) is placed i hours after 2026-06-01 09:00 UTC: orders 5 to 24 are from 14:00 UTC on.
    assert Order.objects.filter(account=account).count() == 20
    connection = ChannelConnection.objects.get(account=account)
    assert connection.backfill_from == datetime.date(2026, 6, 2)
    assert connection.backfill_since == datetime.datetime(2026, 6, 1, 14, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        # Year 1 overflowed the adapters' date arithmetic: a generic error at each attempt, then "failing".
        ("0001-01-01", "Choose a date from Jan. 1, 1990 on, or leave it empty for the whole history."),
        ("2999-01-01", "Choose a date that is not in the future."),
    ],
)
def test_a_history_date_no_store_can_have_is_refused_by_its_field(admin_client, account, channel, typed, error):
    save_credentials(admin_client, account, base_url=channel.url, api_key=API_KEY)
    response = admin_client.post(url("connect", account), {"backfill_from": typed})
    assert response.status_code == 200
    assert response.context["connect_form"].errors["backfill_from"] == [error]
    assert ChannelConnection.objects.get(account=account).state == ConnectionState.NEVER_CONNECTED
