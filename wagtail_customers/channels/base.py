"""The contract between a channel adapter and the sync engine.

An adapter is built from the connection's decrypted credentials and knows nothing of the database:
it fetches, it parses, it verifies. The engine records what it returns through the ingestion service,
stores the cursor it hands back in the same transaction as the page's orders, and retries or marks
the connection failing on the errors below.
"""

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


class RateLimited(ChannelError):
    """429 or the channel's own throttling answer; wait ``retry_after`` seconds, then go on."""


class AuthenticationFailed(ChannelError):
    """Credentials refused or expired beyond refresh: the seller must reconnect."""

    retryable = False


class MalformedResponse(ChannelError):
    """The channel answered something that is not the documented shape; nothing of it is recorded."""


@dataclass(frozen=True)
class CredentialField:
    """One field of the connection form. Secret fields are never rendered back or logged."""

    name: str
    label: str
    secret: bool = False
    help_text: str = ""
    required: bool = True


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
    """What the channel gives; written in the docs and shown on the connection page."""

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

    def orders_from_webhook(self, topic, payload):
        """Turn a verified delivery into ``OrderData`` (``sync_status`` "pending": a pull confirms it).

        May call the channel (a refund names only its order: fetch the order). Returns a list.
        """
        return []


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
    has none or an unreadable one. ``headers`` is any mapping (case-insensitive or with lower-case names)."""
    headers = headers or {}
    value = str(headers.get("Retry-After") or headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


NO_ADAPTER_MESSAGE = _("This channel has no live connection; import its orders from files.")
