"""The sync engine: pulls, backfills and webhook deliveries of a seller account's channel connection.

``sync_connection`` pulls page after page from the channel's adapter (``channels/base.py``). Each page
is one transaction: its orders recorded through the ingestion service, their ``synced_at`` set, the
cursor the adapter handed back and the progress saved, and the lease renewed. A worker killed between
two pages therefore loses nothing (the next sync starts from the last committed cursor) and duplicates
nothing (recording an order again is a no-op, ``services/ingestion.py``).

Two syncs of one connection never run at once: a sync first takes the connection's lease with a
conditional UPDATE (``lock_token``/``locked_until``); a second one finds it taken and returns. Each
page renews it, and a page whose lease was lost in the meantime writes nothing. A page may take longer
than the lease (Amazon's reports and throttled per-order calls): while it is fetched, the adapter renews
the lease through the keep-alive the sync gives it (``ChannelAdapter.keep_alive``, a conditional UPDATE at
most every third of the lease, no transaction held) and stops at once when it was taken. A killed worker's
lease simply lapses after ``SYNC_LEASE_SECONDS``.

Errors: a rate-limit answer is waited out in the worker when its Retry-After is short
(``SYNC_RETRY_AFTER_MAX_SECONDS``), else the next attempt is scheduled after it; other retryable
errors back off exponentially (``next_attempt_at``); ``SYNC_MAX_FAILURES`` failures in a row, or
refused credentials at once, mark the connection failing and tell the admins once per failing episode.
Credentials and raw error texts of unexpected exceptions never reach a log or a message: only the
channel's own message (``ChannelError.message``, which adapters keep free of secrets) is stored.

``process_webhook`` records a verified delivery with ``sync_status`` "pending": the next pull confirms
it (and so reconciles a lost or stale delivery). A delivery id already recorded is a no-op.
"""

import hashlib
import logging
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..channels.base import NO_ADAPTER_MESSAGE, ChannelError, LeaseLost, RateLimited, sleep_keeping_alive
from ..channels.registry import get_adapter_class
from ..conf import get_setting
from ..credentials import CredentialsUnreadable
from ..local_time import stored_moment
from ..models import (
    ChannelConnection,
    ConnectionState,
    Order,
    SyncKind,
    SyncOutcome,
    SyncRun,
    SyncStatus,
    WebhookDelivery,
)
from ..models.connections import ORDERS_STREAM
from ..planner_statistics import refresh_planner_statistics
from .deadlocks import atomic_with_retries
from .ingestion import IngestionError, IngestionResult, record_orders

logger = logging.getLogger("wagtail_customers.channels")

#: The states in which the scheduler pulls a connection (when its ``next_attempt_at`` is due).
SCHEDULED_STATES = (ConnectionState.BACKFILLING, ConnectionState.LIVE, ConnectionState.FAILING)


class ConnectionUnusable(ChannelError):
    """Nothing the channel said: this site cannot use the connection (no adapter, unreadable credentials)."""

    retryable = False


@dataclass
class SyncResult:
    """What one call of ``sync_connection`` did (``None`` is returned instead when it did nothing)."""

    run_id: int
    outcome: str
    pages: int = 0
    orders_created: int = 0
    orders_updated: int = 0
    orders_unchanged: int = 0
    error: str = ""


def _fingerprint(cursor):
    """A short digest of a cursor: a run remembers the positions it was given, and some carry megabytes (eBay's
    lines of the last 90 days grow with every page of a backfill)."""
    return hashlib.blake2b(str(cursor).encode(), digest_size=16).digest()


def unexpected_error_message():
    """What a run that failed on an unexpected exception records: no class name nor text for the seller (the log
    has the exception's type and traceback)."""
    return _(
        "Something unexpected went wrong during the sync; the site's administrators can find the details in the "
        "server log."
    )


def unexpected_delivery_error_message():
    """What a webhook delivery's run that failed on an unexpected exception records (as ``unexpected_error_message``
    for a sync)."""
    return _(
        "Something unexpected went wrong while recording a webhook delivery; the site's administrators can find the "
        "details in the server log."
    )


def build_adapter(connection):
    """The channel's adapter with the connection's decrypted credentials (kept in memory only)."""
    adapter_class = get_adapter_class(connection.account.channel)
    if adapter_class is None:
        raise ConnectionUnusable(NO_ADAPTER_MESSAGE)
    try:
        credentials = connection.get_credentials()
    except CredentialsUnreadable:
        raise ConnectionUnusable(
            _("The stored credentials cannot be decrypted with this site's keys; enter them again.")
        ) from None
    return adapter_class(credentials, account_currency=connection.account.currency)


def start_of(day, time_zone=None):
    """Midnight at the start of ``day`` in ``time_zone`` (by default the current one: in an admin request, the user's
    own), as the connection keeps it in ``backfill_since``; None for no day. A site without time zones keeps it naive,
    in its own time zone (its database refuses aware datetimes)."""
    if day is None:
        return None
    zone = time_zone or timezone.get_current_timezone()
    return stored_moment(timezone.make_aware(datetime.combine(day, datetime.min.time()), zone))


def backfill_since(connection):
    """The aware UTC datetime the adapters take as ``since`` for the connection's history import (None: all of it).

    ``backfill_since`` is the start of the chosen date in its chooser's time zone; a date kept without it (set by
    hand) starts at its midnight UTC, as every import did before the moment was kept."""
    since = connection.backfill_since
    if since is None:
        day = connection.backfill_from
        return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None
    if timezone.is_naive(since):  # a site without time zones: a moment in its own time zone
        since = timezone.make_aware(since, timezone.get_default_timezone())
    return since.astimezone(UTC)


# --- The lease ------------------------------------------------------------------------------------------


def _lease_until():
    return timezone.now() + timedelta(seconds=get_setting("SYNC_LEASE_SECONDS"))


def take_lease(connection_id):
    """Take the connection's lease; returns its token, or None when another sync holds it."""
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = (
        ChannelConnection.objects.filter(pk=connection_id)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(lock_token=token, locked_until=_lease_until())
    )
    return token if taken else None


def renew_lease(connection_id, token):
    """Extend the lease if it is still this sync's and the connection is not paused; False otherwise."""
    return bool(
        ChannelConnection.objects.filter(pk=connection_id, lock_token=token)
        .exclude(state=ConnectionState.PAUSED)
        .update(locked_until=_lease_until())
    )


def release_lease(connection_id, token):
    ChannelConnection.objects.filter(pk=connection_id, lock_token=token).update(lock_token="", locked_until=None)


class LeaseKeeper:
    """The keep-alive a sync hands its adapter (``ChannelAdapter.keep_alive``) while it fetches a page.

    Called as often as the adapter likes (between calls, while it waits); renews the lease when a third of it
    has passed since the last renewal (one conditional UPDATE, outside any transaction), and raises ``LeaseLost``
    when the lease is no longer this sync's (taken over, or the connection paused).
    """

    def __init__(self, connection_id, token):
        self.connection_id = connection_id
        self.token = token
        self.renewed_at = time.monotonic()  # the lease was just taken

    def __call__(self):
        if time.monotonic() - self.renewed_at >= get_setting("SYNC_LEASE_SECONDS") / 3:
            self.renew()

    def renew(self):
        started = time.monotonic()
        if not renew_lease(self.connection_id, self.token):
            raise LeaseLost
        self.renewed_at = started


def connection_is_busy(connection_id):
    """Does a sync hold the connection's lease now (so another one must wait)?"""
    return ChannelConnection.objects.filter(pk=connection_id, locked_until__gte=timezone.now()).exists()


# --- Pull and backfill ----------------------------------------------------------------------------------


def sync_connection(connection_id, *, kind=None, queued_at=None):
    """Pull the connection's new and changed orders (or go on with its backfill) until the channel has no more.

    Returns a ``SyncResult``, or None when there was nothing to do: another sync holds the lease, the connection
    is paused or was never connected, or (``queued_at``, when the scheduler queued this sync) a sync of it started
    since then, which pulled what this one was queued for. ``kind`` is recorded on the run; by default "backfill"
    while the connection is backfilling, else "pull".
    """
    token = take_lease(connection_id)
    if token is None:
        return None
    try:
        connection = ChannelConnection.objects.select_related("account").get(pk=connection_id)
        if connection.state in (ConnectionState.PAUSED, ConnectionState.NEVER_CONNECTED):
            return None
        if queued_at is not None and connection.last_attempt_at is not None and connection.last_attempt_at >= queued_at:
            return None
        if connection.state == ConnectionState.BACKFILLING or connection.backfill_finished_at is None:
            kind = SyncKind.BACKFILL
        result = _Sync(connection, token, kind or SyncKind.PULL).run()
        refresh_planner_statistics()  # a backfill brings a store's history in at once
        return result
    finally:
        release_lease(connection_id, token)


class _Sync:
    def __init__(self, connection, token, kind):
        self.connection = connection
        self.token = token
        self.kind = kind
        self.run_row = None
        self.keeper = LeaseKeeper(connection.pk, token)

    def run(self):
        now = timezone.now()
        self.run_row = SyncRun.objects.create(connection=self.connection, kind=self.kind, started_at=now)
        ChannelConnection.objects.filter(pk=self.connection.pk).update(last_attempt_at=now)
        try:
            adapter = build_adapter(self.connection)
            adapter.keep_alive = self.keeper
            finished = self._pull(adapter)
        except LeaseLost:
            return self._finish(SyncOutcome.INTERRUPTED, _("Stopped: the connection was paused or taken over."))
        except ChannelError as error:
            return self._failed(error.message, retryable=error.retryable, retry_after=error.retry_after)
        except IngestionError as error:
            # The channel sent an order the ledger cannot take, or a customer changed under the batch (a new one
            # deleted, merged or erased before the batch's lock, services/ingestion.py); the page is not recorded and
            # is fetched again.
            return self._failed(str(error), retryable=True)
        except Exception as error:  # noqa: BLE001 - recorded as a failure, never with its text
            # The exception's text may carry a request URL with credentials in it: only its type is logged.
            logger.error(
                "Sync of connection %s failed with %s:\n%s",
                self.connection.pk,
                type(error).__name__,
                "".join(traceback.format_tb(error.__traceback__)),
            )
            return self._failed(unexpected_error_message(), retryable=True)
        if not finished:
            return self._finish(SyncOutcome.INTERRUPTED, finished.reason)
        return self._succeeded()

    def _pull(self, adapter):
        """Fetch and commit pages until the channel says it is done. Returns a truthy value when done, else
        a ``_Rescheduled`` (a rate limit longer than the worker waits)."""
        waits_in_a_row, previous_page, same_pages_in_a_row, positions_given = 0, None, 0, set()
        while True:
            cursor = self.connection.cursors.get(ORDERS_STREAM)
            since = None if cursor else backfill_since(self.connection)
            try:
                page = adapter.fetch_orders(cursor=cursor, since=since)
            except RateLimited as error:
                wait = error.retry_after if error.retry_after is not None else get_setting("SYNC_BACKOFF_SECONDS")
                wait = max(float(wait), 0.0)
                if wait <= get_setting("SYNC_RETRY_AFTER_MAX_SECONDS") and waits_in_a_row < get_setting(
                    "SYNC_RATE_LIMIT_RETRIES"
                ):
                    waits_in_a_row += 1
                    sleep_keeping_alive(wait, self.keeper)  # keeps the lease while it waits
                    self.keeper.renew()
                    continue
                # Not a failure: the channel asked us to come back later.
                ChannelConnection.objects.filter(pk=self.connection.pk).update(
                    next_attempt_at=timezone.now() + timedelta(seconds=max(wait, 1))
                )
                return _Rescheduled(
                    _("Rate limited by the channel: %(message)s The next attempt is in %(seconds)s seconds.")
                    % {"message": error.message, "seconds": round(max(wait, 1))}
                )
            waits_in_a_row = 0
            if not page.done and not page.cursor:
                raise ChannelError(_("The channel's adapter gave no cursor for the next page."))
            # A channel that gives a position it gave before (Shopify: a next page without its cursor), or the same
            # orders page after page whatever the position (a store or cache ignoring the page asked for), would be
            # asked for ever, each page renewing the lease: stopped here, after committing what came before. The
            # same orders twice in a row are legitimate once: WooCommerce reads a page again by number when a whole
            # page changed in the same second (channels/woocommerce.py, Cursor).
            orders_on_page = [order.external_id for order in page.orders]
            repeated = bool(orders_on_page) and orders_on_page == previous_page
            same_pages_in_a_row = same_pages_in_a_row + 1 if repeated else 0
            if not page.done and (
                page.cursor == cursor or _fingerprint(page.cursor) in positions_given or same_pages_in_a_row >= 2
            ):
                raise ChannelError(
                    _(
                        "The channel sent the same page again instead of the next one; the sync stopped after the "
                        "pages before it and tries again later."
                    )
                )
            previous_page = orders_on_page
            positions_given.add(_fingerprint(page.cursor))
            self._commit_page(page)
            if page.done:
                return True

    def _commit_page(self, page):
        connection = self.connection
        orders = list(page.orders)
        now = timezone.now()
        with transaction.atomic():
            # Renewing the lease first, in the page's transaction, makes a sync whose lease lapsed (and was
            # taken by another) write nothing, and holds the row until the page commits.
            self.keeper.renew()
            result = record_orders(connection.account, orders) if orders else IngestionResult()
            if result.order_ids:
                Order.objects.filter(pk__in=result.order_ids).update(synced_at=now)
            cursors = dict(connection.cursors)
            if page.cursor:
                cursors[ORDERS_STREAM] = page.cursor
            fields = {"cursors": cursors}
            if self.kind == SyncKind.BACKFILL:
                fields["backfill_orders"] = F("backfill_orders") + len(orders)
                latest = max((order.placed_at for order in orders if order.placed_at), default=None)
                if latest is not None and (connection.backfill_reached is None or latest > connection.backfill_reached):
                    fields["backfill_reached"] = connection.backfill_reached = latest
            ChannelConnection.objects.filter(pk=connection.pk).update(**fields)
            SyncRun.objects.filter(pk=self.run_row.pk).update(
                pages=F("pages") + 1,
                orders_created=F("orders_created") + result.orders_created,
                orders_updated=F("orders_updated") + result.orders_updated,
                orders_unchanged=F("orders_unchanged") + result.orders_unchanged,
            )
        connection.cursors = cursors

    def _succeeded(self):
        now = timezone.now()
        fields = {
            "last_success_at": now,
            "consecutive_failures": 0,
            "failure_notified_at": None,
            "next_attempt_at": now + timedelta(seconds=get_setting("SYNC_INTERVAL_SECONDS")),
        }
        if self.kind == SyncKind.BACKFILL:
            fields["backfill_finished_at"] = now
        # Only while the lease is still this sync's: a history import restarted meanwhile (start_backfill) took
        # it away, and must not be marked finished (nor its connection live) by the run it replaced.
        connection = ChannelConnection.objects.filter(pk=self.connection.pk, lock_token=self.token)
        with transaction.atomic():
            if not connection.update(**fields):
                return self._finish(SyncOutcome.INTERRUPTED, _("Stopped: the connection was paused or taken over."))
            # A pause pressed during the run stays.
            connection.exclude(state=ConnectionState.PAUSED).update(state=ConnectionState.LIVE)
        return self._finish(SyncOutcome.DONE)

    def _failed(self, message, *, retryable, retry_after=None):
        """Count a failed run and schedule the next; ``retry_after``: the wait the channel asked for with its error
        (a 503 during announced maintenance), kept as the least wait, up to ``SYNC_BACKOFF_MAX_SECONDS``."""
        now = timezone.now()
        # Only while the lease is still this sync's, as in _succeeded: a run taken over (a restarted history
        # import) must not count a failure, mark the connection failing or e-mail the admins.
        rows = ChannelConnection.objects.filter(pk=self.connection.pk, lock_token=self.token)
        if not rows.update(consecutive_failures=F("consecutive_failures") + 1):
            return self._finish(SyncOutcome.INTERRUPTED, _("Stopped: the connection was paused or taken over."))
        failures = rows.values_list("consecutive_failures", flat=True).get()
        delay = min(
            max(get_setting("SYNC_BACKOFF_SECONDS") * 2 ** (failures - 1), float(retry_after or 0)),
            get_setting("SYNC_BACKOFF_MAX_SECONDS"),
        )
        rows.update(
            last_error=message,
            last_error_at=now,
            # Refused credentials wait for the seller (a new save, or "Sync now").
            next_attempt_at=now + timedelta(seconds=delay) if retryable else None,
        )
        if not retryable or failures >= get_setting("SYNC_MAX_FAILURES"):
            rows.exclude(state=ConnectionState.PAUSED).update(state=ConnectionState.FAILING)
            # Once per failing episode: only the sync that sets the mark tells the admins.
            if rows.filter(failure_notified_at__isnull=True).update(failure_notified_at=now):
                from .channel_notices import notify_failing

                notify_failing(self.connection.pk)
        return self._finish(SyncOutcome.FAILED, message)

    def _finish(self, outcome, error=""):
        SyncRun.objects.filter(pk=self.run_row.pk).update(outcome=outcome, finished_at=timezone.now(), error=error)
        run = SyncRun.objects.get(pk=self.run_row.pk)
        return SyncResult(
            run_id=run.pk,
            outcome=outcome,
            pages=run.pages,
            orders_created=run.orders_created,
            orders_updated=run.orders_updated,
            orders_unchanged=run.orders_unchanged,
            error=error,
        )


class _Rescheduled:
    """A run that stopped early on purpose; falsy, with the reason."""

    def __init__(self, reason):
        self.reason = reason

    def __bool__(self):
        return False


def due_connection_ids(now=None):
    """Connections the scheduler should sync now: scheduled state, due, and not held by a running sync."""
    now = now or timezone.now()
    return list(
        ChannelConnection.objects.filter(state__in=SCHEDULED_STATES, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)
    )


def forget_old_deliveries(now=None):
    """Delete delivery ids older than ``WEBHOOK_DELIVERY_RETENTION_DAYS`` and runs started more than
    ``SYNC_RUN_RETENTION_DAYS`` ago (a webhook delivery is a run: they would pile up); returns how many rows."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=get_setting("WEBHOOK_DELIVERY_RETENTION_DAYS"))
    deliveries, _counts = WebhookDelivery.objects.filter(received_at__lt=cutoff).delete()
    run_cutoff = now - timedelta(days=get_setting("SYNC_RUN_RETENTION_DAYS"))
    # A run left "running" by a killed worker goes too (else it stayed for ever); one still at work is kept: a
    # sync holds its connection's lease, a webhook delivery takes seconds.
    runs, _counts = (
        SyncRun.objects.filter(started_at__lt=run_cutoff)
        .exclude(outcome=SyncOutcome.RUNNING, connection__locked_until__gte=now)
        .exclude(outcome=SyncOutcome.RUNNING, started_at__gte=now - timedelta(days=1))
        .delete()
    )
    return deliveries + runs


# --- Connecting, pausing ----------------------------------------------------------------------------------


def start_backfill(connection, backfill_from, time_zone=None):
    """Start (or restart) importing the history from ``backfill_from`` (a date, or None: all of it).

    The import starts at midnight at the start of that date in ``time_zone``: by default the current one, which in
    the admin is the time zone of the user who chose the date (their Wagtail profile's, or the site's).

    The cursor is cleared so the backfill starts at that date; orders already recorded are recorded again
    as no-ops. The caller queues ``sync_connection``. A sync running meanwhile loses its lease: it stops at
    its next page instead of writing its own cursor over the cleared one (or marking this import finished).
    """
    now = timezone.now()
    connection.backfill_from = backfill_from
    connection.backfill_since = start_of(backfill_from, time_zone)
    connection.cursors = {}
    connection.backfill_orders = 0
    connection.backfill_reached = None
    connection.backfill_started_at = now
    connection.backfill_finished_at = None
    connection.state = ConnectionState.BACKFILLING
    connection.consecutive_failures = 0
    connection.failure_notified_at = None
    connection.next_attempt_at = now
    connection.lock_token = ""
    connection.locked_until = None
    connection.save(
        update_fields=[
            "lock_token",
            "locked_until",
            "backfill_from",
            "backfill_since",
            "cursors",
            "backfill_orders",
            "backfill_reached",
            "backfill_started_at",
            "backfill_finished_at",
            "state",
            "consecutive_failures",
            "failure_notified_at",
            "next_attempt_at",
        ]
    )


def pause(connection):
    ChannelConnection.objects.filter(pk=connection.pk).update(state=ConnectionState.PAUSED, next_attempt_at=None)


def resume(connection):
    """Back to backfilling (if the history import has not finished) or live, due at once."""
    state = ConnectionState.LIVE if connection.backfill_finished_at else ConnectionState.BACKFILLING
    ChannelConnection.objects.filter(pk=connection.pk).update(
        state=state, next_attempt_at=timezone.now(), consecutive_failures=0, failure_notified_at=None
    )


# --- Push -------------------------------------------------------------------------------------------------


#: An ignored delivery naming the shop already noted is noted again (its time renewed) only after this long: a
#: channel sending many such deliveries writes the connection's row once in that while, not once a delivery.
IGNORED_WEBHOOK_RENEWAL = timedelta(minutes=5)
#: The longest a webhook waits to write its note on the connection's row, which a sync's page holds locked until it
#: commits (PostgreSQL: the row; SQLite: the database's write lock). Past it the note is given up: the delivery is
#: answered at once rather than when the page commits, and Shopify gives up on an answer after 5 s.
IGNORED_WEBHOOK_LOCK_WAIT_MS = 1000


def note_ignored_webhook(connection, source, *, at=None):
    """Keep on the connection which shop the last delivery ignored for naming another one named, and when: the
    connection page shows it (``ChannelConnection.ignored_webhook_source`` and ``ignored_webhook_at``).

    ``connection`` is the row as the webhook read it, with the credentials its adapter was built from. Best effort,
    never an error for the delivery (which is answered 200 whatever happens here):

    - nothing is written when the row already names this shop from less than ``IGNORED_WEBHOOK_RENEWAL`` ago;
    - one UPDATE of those two fields only, so a sync's page or another delivery writing the row meanwhile keeps what
      it wrote, and only while the row's credentials are still the ones the delivery was checked with (a seller who
      saved another store URL meanwhile cleared the warning, which must stay cleared);
    - it waits at most ``IGNORED_WEBHOOK_LOCK_WAIT_MS`` for a sync's page holding the row, and a database error is
      logged, not raised.

    ``source`` is what ``webhook_for_another_shop`` returned (a shop domain, an address rebuilt from its parts):
    what cannot be printed is left out all the same, and the rest cut to the field's length."""
    limit = ChannelConnection._meta.get_field("ignored_webhook_source").max_length
    source = "".join(character for character in str(source or "") if character.isprintable())[:limit]
    now = at or timezone.now()
    renewal = now - IGNORED_WEBHOOK_RENEWAL
    noted_at = connection.ignored_webhook_at
    if connection.ignored_webhook_source == source and noted_at is not None and noted_at >= renewal:
        return
    outdated = (
        ~Q(ignored_webhook_source=source) | Q(ignored_webhook_at__isnull=True) | Q(ignored_webhook_at__lt=renewal)
    )
    rows = ChannelConnection.objects.filter(pk=connection.pk, encrypted_credentials=connection.encrypted_credentials)
    _update_without_waiting(
        connection, rows.filter(outdated), "written", ignored_webhook_source=source, ignored_webhook_at=now
    )


def forget_ignored_webhook(connection, *, before=None):
    """Clear the ignored delivery ``note_ignored_webhook`` kept, if it came before ``before`` (default: now): a
    delivery from the connection's own shop has come since. One conditional UPDATE (while the row's credentials are
    the ones the delivery was checked with), best effort as the note's."""
    rows = ChannelConnection.objects.filter(
        pk=connection.pk,
        encrypted_credentials=connection.encrypted_credentials,
        ignored_webhook_at__lte=before or timezone.now(),
    )
    _update_without_waiting(connection, rows, "cleared", ignored_webhook_source=None, ignored_webhook_at=None)


def _update_without_waiting(connection, rows, done, **values):
    """``rows.update(**values)``, waiting at most ``IGNORED_WEBHOOK_LOCK_WAIT_MS`` for a lock; a database error
    (that wait run out included) is logged and the update given up."""
    alias = router.db_for_write(ChannelConnection)
    database = connections[alias]
    try:
        if database.vendor == "sqlite" and not database.in_atomic_block:
            # SQLite waits for the database's write lock as long as the connection's busy timeout says, from the
            # transaction's start (IMMEDIATE) or its first write: shortened for this one transaction.
            with database.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout")
                (busy_timeout,) = cursor.fetchone()
                cursor.execute(f"PRAGMA busy_timeout = {IGNORED_WEBHOOK_LOCK_WAIT_MS:d}")
            try:
                with transaction.atomic(using=alias):
                    rows.update(**values)
            finally:
                with database.cursor() as cursor:
                    cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout):d}")
            return
        with transaction.atomic(using=alias):
            if database.vendor != "postgresql":
                rows.update(**values)
                return
            # Local to the transaction: the UPDATE waits at most this long for a sync's page holding the row, then
            # fails (rolled back to the savepoint, which undoes the setting too); set back after it otherwise, for
            # a caller's transaction that goes on.
            with database.cursor() as cursor:
                cursor.execute("SELECT current_setting('lock_timeout')")
                (lock_timeout,) = cursor.fetchone()
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{IGNORED_WEBHOOK_LOCK_WAIT_MS:d}ms"])
            rows.update(**values)
            with database.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
    except DatabaseError as error:
        # A sync's page held the row longer than the wait (or the database failed): the page shows the note of the
        # next such delivery; the delivery itself is answered as usual.
        logger.warning(
            "Webhook for connection %s: the note of an ignored delivery could not be %s (%s); given up",
            connection.pk,
            done,
            type(error).__name__,
        )


def process_webhook(connection_id, topic, payload, delivery_id="", *, received_at=None):
    """Record a verified webhook delivery; returns "recorded", "duplicate", "ignored" or "failed".

    Idempotent: a delivery id already recorded for this connection changes nothing. Orders are recorded
    "pending" (the next pull confirms them). An order stored as of a later moment than the delivery's change is left
    as it is: a pull confirmed it after that, or a later delivery brought a newer change. The delivery's moment is
    the channel's time of the change where its payload says (``adapter.webhook_changed_at``: a retry hours later
    carries its first payload), else when it was received (``received_at``, when the endpoint passes it).
    """
    connection = ChannelConnection.objects.select_related("account").filter(pk=connection_id).first()
    if connection is None or connection.state in (ConnectionState.PAUSED, ConnectionState.NEVER_CONNECTED):
        return "ignored"
    delivery_id = str(delivery_id or "")[:255]
    if delivery_id and WebhookDelivery.objects.filter(connection=connection, delivery_id=delivery_id).exists():
        return "duplicate"
    now = timezone.now()
    run = SyncRun.objects.create(connection=connection, kind=SyncKind.WEBHOOK, started_at=now)
    try:
        adapter = build_adapter(connection)
        orders = list(adapter.orders_from_webhook(topic, payload))
        changed_at = adapter.webhook_changed_at(topic, payload)
        for order in orders:
            order.sync_status = SyncStatus.PENDING
        # Run again if PostgreSQL stops it in a deadlock (services/deadlocks.py): the orders show now, not at the next
        # pull. Recording is safe to repeat: the service's changes to the order data are normalisations.
        if not atomic_with_retries(
            lambda: _record_delivery(connection, run, topic, orders, delivery_id, received_at, changed_at)
        ):
            run.delete()
            return "duplicate"
    except (ChannelError, IngestionError) as error:
        # Not counted against the connection's health: the next pull fetches the same orders.
        message = error.message if isinstance(error, ChannelError) else str(error)
        SyncRun.objects.filter(pk=run.pk).update(outcome=SyncOutcome.FAILED, finished_at=timezone.now(), error=message)
        return "failed"
    except Exception as error:  # noqa: BLE001 - recorded as a failure, never with its text (as in a pull)
        # Else the run stayed "running" for ever (forget_old_deliveries keeps running runs). The delivery id was
        # rolled back with the page, so a redelivery is processed again; the next pull fetches the orders anyway.
        logger.error(
            "Webhook delivery for connection %s failed with %s:\n%s",
            connection.pk,
            type(error).__name__,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        SyncRun.objects.filter(pk=run.pk).update(
            outcome=SyncOutcome.FAILED,
            finished_at=timezone.now(),
            error=unexpected_delivery_error_message(),
        )
        return "failed"
    return "recorded"


#: How finely the channels write the time of a change (``webhook_changed_at``): Shopify's and WooCommerce's to the
#: second.
WEBHOOK_TIME_PRECISION = timedelta(seconds=1)


def _record_delivery(connection, run, topic, orders, delivery_id, received_at, changed_at):
    """One webhook delivery's orders recorded, in the caller's transaction; False if the delivery id was recorded
    already (a redelivery). The orders recorded are stored as of ``changed_at`` (``synced_at``), so that a retry of
    an older change that comes later is left out; as of when the run started where the channel gives no time."""
    # The connection's row, locked until this delivery commits: a sync's page (which renews the lease on that row
    # first) and another delivery of this connection on another worker wait for it, or it for them, so the check
    # below sees the orders a page committed meanwhile. (SQLite: one writer anyway.)
    list(ChannelConnection.objects.select_for_update().filter(pk=connection.pk).values_list("pk", flat=True))
    # The channels write their times to the second, and a pull stamps its orders when it commits: a change within
    # the second before is not taken for older than the pull (it waited for the next one).
    changed_at = stored_moment(changed_at)  # a channel's aware time, naive on a site without USE_TZ
    as_of = changed_at + WEBHOOK_TIME_PRECISION if changed_at is not None else received_at
    if as_of is not None and orders:
        stored_later = set(
            Order.objects.filter(
                account=connection.account,
                external_id__in=[str(order.external_id).strip() for order in orders],
                synced_at__gt=as_of,
            ).values_list("external_id", flat=True)
        )
        orders = [order for order in orders if str(order.external_id).strip() not in stored_later]
    if delivery_id:
        try:
            with transaction.atomic():
                WebhookDelivery.objects.create(connection=connection, delivery_id=delivery_id, topic=topic[:100])
        except IntegrityError:
            return False
    result = record_orders(connection.account, orders) if orders else IngestionResult()
    if result.order_ids:
        Order.objects.filter(pk__in=result.order_ids).update(synced_at=changed_at or run.started_at)
    SyncRun.objects.filter(pk=run.pk).update(
        outcome=SyncOutcome.DONE,
        finished_at=timezone.now(),
        pages=1,
        orders_created=result.orders_created,
        orders_updated=result.orders_updated,
        orders_unchanged=result.orders_unchanged,
    )
    return True
