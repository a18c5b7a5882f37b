"""The contract between a channel adapter and the sync engine.

An adapter is built from the connection's decrypted credentials and knows nothing of the database:
it fetches, it parses, it verifies. The engine records what it returns through the ingestion service,
stores the cursor it hands back in the same transaction as the page's orders, and retries or marks
the connection failing on the errors below.

A page can take long (many calls, throttled, reports to wait for), longer than the sync's lease on the
connection. While it pulls, the engine sets ``keep_alive`` on the adapter: the adapter calls
``stay_alive()`` between its calls and waits with ``pause()`` instead of ``time.sleep``, which renew the lease
(at most every third of it) and raise ``LeaseLost`` when another sync took it meanwhile, so a page that can no
longer be committed is given up at once. An adapter that never calls them works as before.
"""

import math
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from django.utils.translation import gettext_lazy as _


class ChannelError(Exception):
    """The channel refused or failed; ``message`` is shown to the seller as is (no secrets in it).

    ``retryable`` errors (network, 5xx, rate limits) are retried with back-off; the others (bad
    credentials, a shop that no longer exists) need the seller to act.
    """

    retryable = True

    def __init__(self, message, *, retry_after=None):
        super().__init__(message)
        self.message = str(message)
        #: Seconds the channel asked us to wait (Retry-After), if it said.
        self.retry_after = retry_after


class LeaseLost(Exception):  # noqa: N818 - the engine's name, kept
    """The sync's lease is gone: another sync took the connection over (this one's lapsed) or it was paused.

    Raised by the engine's keep-alive (``ChannelAdapter.stay_alive``), not a ``ChannelError``: an adapter lets it
    through, and the sync stops without committing the page it was fetching.
    """


class RateLimited(ChannelError):
    """429 or the channel's own throttling answer; wait ``retry_after`` seconds, then go on."""


class AuthenticationFailed(ChannelError):
    """Credentials refused or expired beyond refresh: the seller must reconnect."""

    retryable = False


class MalformedResponse(ChannelError):
    """The channel answered something that is not the documented shape; nothing of it is recorded."""


#: ``ChannelAdapter.pause`` looks at the lease at least this often while it waits.
PAUSE_SLICE_SECONDS = 0.5
#: The longest wait a channel's Retry-After is taken for (``retry_after_seconds``): one day.
RETRY_AFTER_MAX_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class CredentialField:
    """One field of the connection form. Secret fields are never rendered back or logged.

    ``validators``: Django validators of the form's field (raising ``ValidationError`` with a message for the
    seller), so a value the adapter cannot use (a store URL that is no address) is refused when it is saved.
    ``widget_attrs``: HTML attributes of the field's input (``{"inputmode": "url", "autocapitalize": "off"}`` for an
    address a phone's keyboard should not capitalise or correct). ``leads_secrets``: a plain field that says where
    the stored secrets are sent (a store URL): changed, the form asks for them again (False for one that only
    compares, as the address a store's webhooks name)."""

    name: str
    label: str
    secret: bool = False
    help_text: str = ""
    required: bool = True
    validators: tuple = ()
    widget_attrs: dict = field(default_factory=dict, hash=False)
    leads_secrets: bool = True


@dataclass
class OrderPage:
    """One page of orders from the channel.

    ``cursor`` is where the next call starts; the engine stores it only once ``orders`` are committed,
    so a worker killed between two pages fetches the same page again (the ingestion service makes that
    a no-op). ``done`` says there is nothing more to fetch now; the cursor then marks the high-water
    point the next scheduled pull starts from.
    """

    orders: list = field(default_factory=list)
    cursor: str | None = None
    done: bool = True


@dataclass(frozen=True)
class ChannelCapabilities:
    """What the channel gives, as the docs write it for each channel (the sync reads none of it)."""

    buyer_email: bool = True
    returns: bool = False
    feedback: bool = False
    fees: bool = False
    webhooks: bool = False


class ChannelAdapter:
    #: The ``Channel`` value this adapter serves (``SellerAccount.channel``).
    channel = ""
    credential_fields: tuple = ()
    capabilities = ChannelCapabilities()
    #: Webhook topics this adapter understands (empty: pull only).
    webhook_topics: tuple = ()
    #: What the connection page advises after it says that a webhook delivery naming another shop was ignored
    #: (``webhook_for_another_shop``): one or more whole sentences.
    ignored_webhook_advice = _("Check the store's address in the credentials below.")
    #: Set by the sync engine for the length of a pull (None otherwise: a connection check, a webhook): renews
    #: the sync's lease when due, raises ``LeaseLost`` when it is gone. Call it through ``stay_alive``.
    keep_alive = None

    def __init__(self, credentials, *, account_currency="USD"):
        self.credentials = dict(credentials)
        self.account_currency = account_currency

    def check(self):
        """Call the channel once with the credentials; return a short description (the shop's name).

        Raises ``ChannelError`` (usually ``AuthenticationFailed``) when the connection does not work.
        """
        raise NotImplementedError

    def fetch_orders(self, *, cursor=None, since=None):
        """Return the next ``OrderPage`` of orders created or changed after ``cursor``.

        With no cursor, start from ``since`` (a backfill's chosen date; None: the channel's beginning).
        Each ``OrderData`` has ``sync_status`` "synced" (a pull confirms the order's state).
        """
        raise NotImplementedError

    def stay_alive(self):
        """Keep the running sync's lease while a page takes long; call between calls to the channel.

        Cheap (the engine writes at most every third of the lease); raises ``LeaseLost`` when another sync took
        the connection over, so the page is given up rather than fetched to the end and thrown away.
        """
        if self.keep_alive is not None:
            self.keep_alive()

    def pause(self, seconds):
        """Wait ``seconds`` (a throttled channel's Retry-After, a report not ready yet), keeping the lease."""
        sleep_keeping_alive(seconds, self.stay_alive)

    # Push (only for channels with ``webhook_topics``).
    def verify_webhook(self, headers, body):
        """True when ``body`` (bytes) carries a valid signature made with the shared secret."""
        return False

    def webhook_topic(self, headers):
        """The topic of a delivery, from its headers (for example ``orders/create``)."""
        return ""

    def webhook_delivery_id(self, headers):
        """The channel's id of this delivery (redeliveries repeat it), or "" if it has none."""
        return ""

    def webhook_for_another_shop(self, headers):
        """Whether a verified delivery names another shop than this connection's (a channel that signs every
        shop's deliveries with one secret): the shop it names, or ``True``, when it does; "" when it names this
        connection's shop or none.

        A delivery for another shop is answered 200 and its orders are recorded nowhere; a string returned is kept
        on the connection (``ignored_webhook_source``) and shown on its page as the shop the delivery named, next
        to ``webhook_own_shop()``. The signature covers the body only, not the header that names the shop, and a
        signed delivery can be sent again by anyone who saw it: return the shop only in a form that cannot carry a
        sentence (a shop domain that matches the channel's pattern, an address rebuilt from its parts), else
        ``True``, which has the delivery ignored as well and the page say only that another shop was named."""
        return ""

    def webhook_own_shop(self):
        """The shop this connection's deliveries must name, as ``webhook_for_another_shop`` compares it (the store
        URL, the shop domain), for the connection page's warning about an ignored delivery; "" when unknown."""
        return ""

    def webhook_changed_at(self, topic, payload):
        """When the channel made the change a delivery carries (an aware datetime, the channel's own clock), if its
        payload says; ``None`` otherwise. A channel retries a failed delivery with the payload of its first try, up
        to hours later: one older than the stored order (read by a pull, or brought by a later delivery) is left
        out. Never raises: an unreadable time is ``None``."""
        return None

    def orders_from_webhook(self, topic, payload):
        """Turn a verified delivery into ``OrderData`` (``sync_status`` "pending": a pull confirms it).

        May call the channel (a refund names only its order: fetch the order). Returns a list.
        """
        return []


def unreachable_reason(error):
    """Why a channel could not be reached, in words for the seller (``error``: the HTTP client's exception; the
    class name it was shown by said nothing to them).

    The exceptions it was raised from count too: httpx reports a refused certificate as a ``ConnectError`` raised
    from the ``ssl`` module's error, and requests wraps the ``urllib3`` one."""
    if "timeout" in type(error).__name__.lower():
        # Translators: the reason in "Shopify could not be reached: %(reason)s." (or eBay, Amazon, "The store"): it
        # follows the colon, so it starts in lower case and has no full stop of its own.
        return _("it did not answer in time; try again later")
    names = " ".join(type(cause).__name__.lower() for cause in _causes(error))
    if any(isinstance(cause, ssl.SSLError) for cause in _causes(error)) or "ssl" in names or "certificate" in names:
        # Translators: the reason in "Shopify could not be reached: %(reason)s." (or eBay, Amazon, "The store"): it
        # follows the colon, so it starts in lower case and has no full stop of its own.
        return _("the secure connection failed (check the address: https, and the store's certificate)")
    if "proxy" in names:
        return _(
            # (Inside the call: xgettext gives a comment only to a string that starts on the line after it.)
            # Translators: the reason in "Shopify could not be reached: %(reason)s." (or eBay, Amazon, "The store"):
            # it follows the colon, so it starts in lower case and has no full stop of its own.
            "the proxy server this site goes through did not pass the request on (check the site's proxy settings)"
        )
    if "redirect" in names:
        # Translators: the reason in "Shopify could not be reached: %(reason)s." (or eBay, Amazon, "The store"): it
        # follows the colon, so it starts in lower case and has no full stop of its own.
        return _("the address sends the request on from one address to another without end (check the address)")
    if "timeout" in names:
        # Translators: the reason in "Shopify could not be reached: %(reason)s." (or eBay, Amazon, "The store"): it
        # follows the colon, so it starts in lower case and has no full stop of its own.
        return _("it did not answer in time; try again later")
    # Translators: the reason in "Shopify could not be reached: %(reason)s." (or eBay, Amazon, "The store"): it
    # follows the colon, so it starts in lower case and has no full stop of its own.
    return _("no connection could be made (check the address and that the store is online)")


def _causes(error, most=8):
    """``error`` and the exceptions it was raised from or during, nearest first (a few at most: a cycle ends it)."""
    seen = []
    while error is not None and len(seen) < most and not any(error is known for known in seen):
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


def sleep_keeping_alive(seconds, keep_alive=None):
    """Sleep ``seconds``, calling ``keep_alive`` (if given) first and then at least every ``PAUSE_SLICE_SECONDS``."""
    deadline = time.monotonic() + max(float(seconds), 0.0)
    while True:
        if keep_alive is not None:
            keep_alive()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, PAUSE_SLICE_SECONDS))


def parse_datetime_utc(value):
    """An ISO 8601 date-time from an API as an aware datetime (``Z`` accepted); None stays None."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def retry_after_seconds(headers):
    """An answer's Retry-After in seconds (RFC 9110: a number of seconds, or an HTTP date), or None when it
    has none or an unreadable one. ``headers`` is any mapping (case-insensitive or with lower-case names).

    Only a finite number of seconds of at least zero is read (``nan``, ``inf`` and negative numbers are
    unreadable); an HTTP date already past is 0. The wait is at most ``RETRY_AFTER_MAX_SECONDS``, one day: a
    channel asking for more is asked again then. No setting bounds it: ``SYNC_BACKOFF_MAX_SECONDS`` is the
    back-off after our own failures, and a lower one must not make us call a throttled channel back sooner than
    it asked.
    """
    headers = headers or {}
    value = str(headers.get("Retry-After") or headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = _seconds_until(value)
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, RETRY_AFTER_MAX_SECONDS)


def _seconds_until(http_date):
    """Seconds from now until ``http_date`` (an HTTP date), 0 when it is past; None when it is not a date."""
    try:
        moment = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


NO_ADAPTER_MESSAGE = _("This channel has no live connection; import its orders from files.")
