"""WooCommerce: orders pulled over the REST API v3 (``wc/v3``) with the ``woocommerce`` package, pushed by webhooks.

Authentication is the package's: over https the consumer key and secret go as HTTP basic auth; over plain
http (a store without TLS, or the stand-in server of the tests) WooCommerce accepts only OAuth 1.0a, so the
package signs each request (HMAC-SHA256) in its query string. Both are production paths.

The pull asks for orders changed after a high-water mark, oldest change first (``orderby=modified``,
``order=asc``, ``modified_after`` with ``dates_are_gmt``). The cursor is that mark plus a page number; see
``next_cursor`` for why a sync that races with changes in the store skips nothing.
"""

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import re
from datetime import UTC, timedelta
from urllib.parse import unquote, urlsplit

import idna
import requests
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from woocommerce import API

from ..models import Channel, SyncStatus
from .base import (
    AuthenticationFailed,
    ChannelAdapter,
    ChannelCapabilities,
    ChannelError,
    CredentialField,
    MalformedResponse,
    OrderPage,
    RateLimited,
    parse_datetime_utc,
    retry_after_seconds,
    unreachable_reason,
)
from .registry import register_adapter
from .woocommerce_orders import order_from_json

API_VERSION = "wc/v3"
#: WooCommerce's maximum page size.
PER_PAGE = 100
#: Seconds to wait for the store; WordPress with many plugins can be slow on a page of 100 orders.
TIMEOUT = 30
#: ``modified_after`` is strict and has one-second precision: asking from one second before the mark
#: fetches again the orders changed in the mark's own second (recording them again changes nothing)
#: rather than skip one changed in that second after the previous page was read.
OVERLAP = timedelta(seconds=1)
ORDER_TOPICS = ("order.created", "order.updated", "order.restored", "order.deleted")
PING_BODY = re.compile(rb"webhook_id=\d+")
BAD_STORE_URL = _("Enter the store's address, like https://shop.example.com.")
STORE_URL_WITH_QUERY = _(
    "Enter the store's address without a query (?…) or fragment (#…) after it, like https://shop.example.com."
)
BAD_STORE_URL_STORED = _(
    "The stored store URL is not a web address. Enter the store's address, like https://shop.example.com, in the "
    "credentials and save them."
)
STORE_URL_WITH_QUERY_STORED = _(
    "The stored store URL has a query (?…) or fragment (#…) after the address, and the store's API cannot be "
    "called with it. Enter the store's address, like https://shop.example.com, in the credentials and save them."
)
BAD_KEY = _(
    "This has a character no WooCommerce key has (a curly quote, an invisible space): copy it again from "
    "WooCommerce › Settings › Advanced › REST API."
)
BAD_KEY_STORED = _(
    "The stored consumer key or secret has a character no WooCommerce key has (a curly quote, an invisible "
    "space). Copy them again from WooCommerce › Settings › Advanced › REST API into the credentials and save them."
)

logger = logging.getLogger(__name__)


class StoreNotFound(ChannelError):
    """No WooCommerce REST API at the store URL: the seller must correct it."""

    retryable = False


class InvalidStoreUrl(ChannelError):
    """The stored store URL is no web address, or has a query or fragment (saved before the credentials form checked
    it): the seller must correct it; no request is sent."""

    retryable = False


class InvalidApiKey(AuthenticationFailed):
    """The stored consumer key or secret has a character HTTP basic authentication cannot send (saved before the
    credentials form checked it): the seller must enter it again; no request is sent."""


class RequestRefused(ChannelError):
    """WooCommerce refused the request itself (400): retrying the same request cannot help."""

    retryable = False


@register_adapter
class WooCommerceAdapter(ChannelAdapter):
    channel = Channel.WOOCOMMERCE
    credential_fields = (
        CredentialField(
            "store_url",
            _("Store URL"),
            help_text=_("The address of the WordPress site, for example https://shop.example.com."),
            # Called through a lambda: the check is defined further down, with store_url.
            validators=(lambda value: validate_store_url(value),),
            widget_attrs={"inputmode": "url", "autocapitalize": "off", "spellcheck": "false", "autocomplete": "url"},
        ),
        CredentialField(
            "consumer_key",
            _("Consumer key"),
            secret=True,
            help_text=_("Starts with ck_. WooCommerce › Settings › Advanced › REST API, with Read access."),
            validators=(lambda value: validate_api_key(value),),
        ),
        CredentialField(
            "consumer_secret",
            _("Consumer secret"),
            secret=True,
            help_text=_("Starts with cs_."),
            validators=(lambda value: validate_api_key(value),),
        ),
        CredentialField(
            "webhook_secret",
            _("Webhook secret"),
            secret=True,
            required=False,
            help_text=_("The secret typed into the store's order webhooks; leave empty to sync by pull only."),
        ),
        CredentialField(
            "home_url",
            _("Site address for webhooks"),
            required=False,
            help_text=_(
                "Only for a headless shop, whose API answers on another address than the site: the Site Address "
                "(URL) from WordPress › Settings › General. Webhook deliveries name it. Leave empty otherwise."
            ),
            validators=(lambda value: validate_store_url(value),),
            widget_attrs={"inputmode": "url", "autocapitalize": "off", "spellcheck": "false"},
            # Deliveries are compared with it; nothing is sent there, so the secrets need not be entered again.
            leads_secrets=False,
        ),
    )
    # Buyer e-mails: the billing e-mail, guests' too. Refunded units come from the refunds endpoint (core
    # WooCommerce has no returns of its own). No feedback. Fees: the core API has no payment gateway or
    # marketplace fees (fee_lines are fees the buyer paid), so the P&L has no WooCommerce fees.
    capabilities = ChannelCapabilities(buyer_email=True, returns=True, feedback=False, fees=False, webhooks=True)
    webhook_topics = ORDER_TOPICS
    # A delivery naming another address is the store's own when the store URL is its address written another way,
    # or when the shop is headless: its API answers on another host than the address its deliveries name.
    ignored_webhook_advice = _(
        "If it came from your own site, its address is written another way than the store URL (with or without "
        "www., or with another sub-path): enter the site's address as WordPress › Settings › General shows it as "
        "the store URL below. A headless shop whose API answers on another address keeps that address as the store "
        "URL and gets the site's address as the site address for webhooks."
    )

    def __init__(self, credentials, *, account_currency="USD"):
        super().__init__(credentials, account_currency=account_currency)
        self.store_url = store_url(self.credentials.get("store_url"))
        self.consumer_key = str(self.credentials.get("consumer_key") or "").strip()
        self.consumer_secret = str(self.credentials.get("consumer_secret") or "").strip()
        # A headless shop's site address, which its deliveries name while its API answers at the store URL.
        self.home_url = store_url(self.credentials.get("home_url"))
        self.api = API(
            url=self.store_url,
            consumer_key=self.consumer_key,
            consumer_secret=self.consumer_secret,
            version=API_VERSION,
            timeout=TIMEOUT,
        )

    # Pull.
    def check(self):
        settings = self._get("settings/general")
        if not isinstance(settings, list):
            raise MalformedResponse(_("WooCommerce's general settings are not a list."))
        values = {item.get("id"): item.get("value") for item in settings if isinstance(item, dict)}
        # The key may read settings but not orders (a user without that right): ask for one order too.
        self._get("orders", params={"per_page": 1})
        currency = str(values.get("woocommerce_currency") or "").upper()
        host = urlsplit(self.store_url).netloc or self.store_url
        if currency and currency != self.account_currency.upper():
            return _("WooCommerce store %(host)s, in %(currency)s (converted into %(account)s).") % {
                "host": host,
                "currency": currency,
                "account": self.account_currency.upper(),
            }
        return _("WooCommerce store %(host)s, in %(currency)s.") % {"host": host, "currency": currency or "?"}

    def fetch_orders(self, *, cursor=None, since=None):
        position = Cursor.parse(cursor) if cursor else Cursor(since.astimezone(UTC) if since else None, 1)
        params = {
            "per_page": PER_PAGE,
            "page": position.page,
            "orderby": "modified",
            "order": "asc",
        }
        if position.after is not None:
            params["modified_after"] = (position.after - OVERLAP).strftime("%Y-%m-%dT%H:%M:%S")
            params["dates_are_gmt"] = "true"
        body, response = self._get("orders", params=params, with_response=True)
        if not isinstance(body, list):
            raise MalformedResponse(_("WooCommerce's order list is not a list."))
        orders = [order_from_json(item, refunds=self._refunds(item)) for item in body]
        modified = [_modified(item) for item in body]
        next_position = position.next(modified, _total_pages(response))
        return OrderPage(orders=orders, cursor=next_position.dump(), done=next_position.done)

    def _refunds(self, order):
        """The order's refunds with their lines (refunded units), fetched only for an order that has any.

        The order itself lists each refund's amount but not which units it was for nor its date: one more
        call per refunded order, a small share of orders, gives both.
        """
        if not isinstance(order, dict) or not order.get("refunds"):
            return None
        order_id = order.get("id")
        if not isinstance(order_id, int) or isinstance(order_id, bool):
            return None  # order_from_json reports it
        try:
            refunds = self._get(f"orders/{order_id}/refunds", params={"per_page": PER_PAGE})
        except StoreNotFound:
            return None  # deleted since the list was read: its amounts are still right
        if not isinstance(refunds, list):
            raise MalformedResponse(_("WooCommerce's refund list is not a list."))
        return refunds

    # Push.
    def verify_webhook(self, headers, body):
        secret = str(self.credentials.get("webhook_secret") or "")
        signature = _header(headers, "X-WC-Webhook-Signature")
        if not secret or not signature:
            return False
        expected = base64.b64encode(hmac.new(secret.encode(), bytes(body), hashlib.sha256).digest())
        # Compared as bytes: compare_digest raises TypeError on a str with non-ASCII characters, and a
        # tampered header may carry them (a 500 instead of the 401).
        return hmac.compare_digest(expected, signature.strip().encode("utf-8", "surrogateescape"))

    def is_webhook_ping(self, headers, body):
        """True for the unsigned ping WooCommerce sends when a webhook is saved (``webhook_id=<n>``).

        It carries no order and no signature; WooCommerce wants a 200 for it, else the seller sees
        "Delivery URL returned response code" on saving the webhook. Answering it records nothing.
        """
        return not _header(headers, "X-WC-Webhook-Topic") and bool(PING_BODY.fullmatch(bytes(body).strip()))

    def webhook_topic(self, headers):
        return _header(headers, "X-WC-Webhook-Topic").strip()

    def webhook_for_another_shop(self, headers):
        # One secret may be typed into the webhooks of two stores, and a delivery's signature alone does not say
        # whose orders these are (store B's order 1001 would overwrite store A's). WooCommerce (2.6+) names the
        # sending site in every delivery: its address, home_url('/'). Without it (an older WooCommerce) a delivery
        # is taken as before; the save ping carries none and is answered before this.
        sender = _as_utf8(_header(headers, "X-WC-Webhook-Source").strip())
        # The store URL is this store's own (its API answers there), so a delivery naming it is taken in any case.
        own = {site_address(url) for url in (self.store_url, self.home_url) if url}
        if not sender or site_address(sender) in own:
            return ""
        # What to type as the store URL, if this is the store's own address written another way.
        logger.warning("WooCommerce delivery from %r, not from the store %r: ignored", sender, self.webhook_own_shop())
        # The header is not signed (the signature covers the body) and a signed delivery can be sent again with
        # another one: the connection page names only an address rebuilt from its parts, never the header as sent.
        return shown_address(sender) or True

    def webhook_own_shop(self):
        return self.home_url or self.store_url

    def webhook_delivery_id(self, headers):
        # WooCommerce's delivery id is a hash of the webhook's id and the second it was sent: every delivery of one
        # webhook within a second has the same id. With the signature (the body's HMAC), two orders sent in the same
        # second are two deliveries, and the same body sent again is still one.
        delivery_id = _header(headers, "X-WC-Webhook-Delivery-ID").strip()
        signature = _header(headers, "X-WC-Webhook-Signature").strip()
        return f"{delivery_id}:{signature}"[:255] if delivery_id else ""

    def webhook_changed_at(self, topic, payload):
        # The order's date_modified_gmt; an order.deleted delivery has none.
        if topic not in ORDER_TOPICS or topic == "order.deleted" or not isinstance(payload, dict):
            return None
        try:
            return parse_datetime_utc(payload.get("date_modified_gmt"))
        except (TypeError, ValueError):
            return None

    def orders_from_webhook(self, topic, payload):
        if topic not in ORDER_TOPICS:
            return []
        if isinstance(payload, (bytes, str)):
            try:
                payload = json.loads(payload)
            except ValueError:
                raise MalformedResponse(_("The WooCommerce webhook's body is not JSON.")) from None
        if topic == "order.deleted":
            return self._deleted_order(payload)
        if isinstance(payload, dict) and set(payload) == {"order"}:
            # The legacy API's shape ({"order": {...}}), from a webhook saved with "Legacy API v3".
            raise MalformedResponse(
                _("The webhook sends the legacy API's format: set its API version to WP REST API Integration v3.")
            )
        return [order_from_json(payload, refunds=self._refunds(payload), sync_status=SyncStatus.PENDING)]

    def _deleted_order(self, payload):
        """order.deleted names only the order: moved to the bin, it is still there (status ``trash``).

        The pull never sees it again (the order list leaves the bin out), so it is fetched here and
        recorded cancelled. An order deleted for good answers 404: its record stays as last seen.
        """
        order_id = payload.get("id") if isinstance(payload, dict) else None
        if not isinstance(order_id, int) or isinstance(order_id, bool) or order_id <= 0:
            raise MalformedResponse(_("The WooCommerce webhook names no order id."))
        try:
            order = self._get(f"orders/{order_id}")
        except StoreNotFound:
            return []
        return [order_from_json(order, refunds=self._refunds(order), sync_status=SyncStatus.PENDING)]

    # HTTP.
    def _get(self, endpoint, *, params=None, with_response=False):
        # Each call keeps the sync's lease: a page of refunded orders reads each one's refunds.
        self.stay_alive()
        problem = _store_url_problem(self.store_url)
        if problem is not None:
            # Stored before the credentials form checked it: the package (or requests) would raise a ValueError, or
            # call an address with /wp-json/ after its query.
            raise InvalidStoreUrl(
                STORE_URL_WITH_QUERY_STORED if problem is STORE_URL_WITH_QUERY else BAD_STORE_URL_STORED
            )
        if not (self.consumer_key.isascii() and self.consumer_secret.isascii()):
            # Stored before the form checked them: requests' basic authentication (https) would raise a
            # UnicodeEncodeError for a character Latin-1 lacks; WooCommerce's keys are ASCII anyway.
            raise InvalidApiKey(BAD_KEY_STORED)
        try:
            response = self.api.get(endpoint, params=dict(params or {}))
        except requests.RequestException as error:
            # Never str(error): over http its URL holds the signed query string with the consumer key (the reason
            # reads the exceptions' kinds only).
            raise ChannelError(
                _("The store could not be reached: %(reason)s.") % {"reason": unreachable_reason(error)}
            ) from None
        except UnicodeError:
            # A key the package or requests cannot write into the request (the check above should have caught it).
            raise InvalidApiKey(BAD_KEY_STORED) from None
        except ValueError:
            if store_url_is_valid(self.store_url):
                raise  # not the address: an unexpected error, logged with its traceback by the sync
            # The package's own parsing of an address requests would not have taken either; never str(error).
            raise InvalidStoreUrl(BAD_STORE_URL_STORED) from None
        _raise_for_status(response)
        try:
            body = response.json()
        except ValueError:
            raise MalformedResponse(_("WooCommerce answered something that is not JSON.")) from None
        return (body, response) if with_response else body


class Cursor:
    """Where the pull stands: the latest ``date_modified_gmt`` recorded, and a page from there.

    Pages of an ``orderby=modified`` list shift when an order changes during a sync (it moves to the
    end), so page numbers alone could skip one. Each page therefore restarts from the newest change it
    holds, at page 1. Only when a whole page shares that one second (a bulk status change) does the
    page number go on, so the pull always advances.
    """

    def __init__(self, after, page, done=False):
        self.after = after
        self.page = page
        self.done = done

    @classmethod
    def parse(cls, text):
        try:
            data = json.loads(text)
            after = parse_datetime_utc(data.get("modified_after"))
            page = int(data.get("page") or 1)
        except (ValueError, TypeError, AttributeError):
            raise MalformedResponse(_("The stored WooCommerce cursor cannot be read.")) from None
        return cls(after, max(page, 1))

    def next(self, modified, total_pages):
        newest = max((moment for moment in modified if moment is not None), default=None)
        done = len(modified) < PER_PAGE or (total_pages is not None and self.page >= total_pages)
        if newest is not None and (self.after is None or newest > self.after):
            return Cursor(newest, 1, done)
        return Cursor(self.after, 1 if done else self.page + 1, done)

    def dump(self):
        after = self.after.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if self.after else None
        return json.dumps({"modified_after": after, "page": self.page})


def store_url(text):
    """The site's address as the package wants it: with a scheme (https when none was typed), no final slash.

    A seller may paste an admin or API address: what comes before ``/wp-admin`` or ``/wp-json`` is the site.
    """
    url = str(text or "").strip()
    if url and "://" not in url:
        url = f"https://{url}"
    scheme, separator, rest = url.partition("://")
    if separator:
        # The package picks basic authentication by url.startswith("https"): a phone's "Https://" would get OAuth 1
        # over https, which WooCommerce refuses.
        url = f"{scheme.lower()}://{rest}"
    url = re.split(r"/(?:wp-admin|wp-json)(?:/|$)", url, maxsplit=1)[0]
    return url.rstrip("/")


def store_url_is_valid(text):
    """Whether the store URL, as ``store_url`` reads it, is a web address the package and requests can call: an http
    or https scheme, a host, a port that is a number, brackets closed around an IPv6 address, and no query or
    fragment (the package appends ``/wp-json/...`` to the address as it is)."""
    return _store_url_problem(text) is None


def _store_url_problem(text):
    """None for a store URL the adapter can call, else the form's message about it."""
    url = store_url(text)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        return BAD_STORE_URL
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return BAD_STORE_URL
    if "?" in url or "#" in url:
        return STORE_URL_WITH_QUERY
    try:
        # What the package sends to: requests refuses a host with a space or that IDNA cannot write.
        requests.Request("GET", f"{url}/wp-json/{API_VERSION}/").prepare()
    except (requests.RequestException, ValueError):
        return BAD_STORE_URL
    return None


def validate_store_url(value):
    """The credentials form's check of the Store URL field."""
    problem = _store_url_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="invalid")


def validate_api_key(value):
    """The credentials form's check of the consumer key and secret: WooCommerce's are ASCII (``ck_`` and ``cs_``
    with hexadecimal digits), and requests cannot send a character Latin-1 lacks in basic authentication."""
    if not str(value).strip().isascii():
        raise ValidationError(BAD_KEY, code="invalid")


def shown_address(text):
    """An ``X-WC-Webhook-Source`` as the connection page may name it: ``scheme://host[:port]/path`` rebuilt from a
    web address (no user, query or fragment), or "" for a header that is none or holds white space."""
    text = str(text or "")
    if not text or not text.isprintable() or any(character.isspace() for character in text):
        return ""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return ""
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("http", "https") or not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    rebuilt = f"{scheme}://{host}{'' if port is None else f':{port}'}{parts.path or '/'}"
    return rebuilt if store_url_is_valid(rebuilt) else ""


def site_address(url):
    """What tells one WordPress site from another in an address: its host, port and path.

    For comparing a delivery's ``X-WC-Webhook-Source`` (``home_url('/')``, as ``https://shop.example.com/``) with
    the connection's store URL. http and https are one site (WordPress sites move to https; a connection made
    before keeps its http address), and so are the host's case, a default port written out, a trailing slash and
    a query string, an IPv6 address written short or long, and ``/index.php``, which sites without pretty links
    need before ``/wp-json`` (their store URL) and never have in their own address. ``www.`` is part of the host:
    another host is another site. The path counts: WordPress sites may live in sub-paths of one host
    (``https://example.com/shop/``).
    """
    url = store_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an unclosed [ or a port that is no number: compared as written
        return (url.lower(), None, "")
    path = unquote(parts.path).rstrip("/").removesuffix("/index.php")
    if port == {"http": 80, "https": 443}.get(parts.scheme.lower()):
        port = None
    return (_host_name((parts.hostname or "").rstrip(".")), port, path)


def _host_name(host):
    """A host as requests reaches it: an IP address in its one form, a name in ASCII as the ``idna`` package (UTS
    46, which requests uses) writes it (Python's own codec writes ``straße`` as ``strasse``, another domain)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        return host


def _as_utf8(header):
    """A header WordPress sent as UTF-8 (a site's address with an accent), which WSGI servers hand over read as
    Latin-1; a header that was not UTF-8 stays as it came."""
    try:
        return header.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return header


def _modified(order):
    try:
        return parse_datetime_utc(order.get("date_modified_gmt"))
    except (ValueError, TypeError, AttributeError):
        raise MalformedResponse(_("A WooCommerce order has no readable date_modified_gmt.")) from None


def _total_pages(response):
    try:
        return int(response.headers.get("X-WP-TotalPages", ""))
    except ValueError:
        return None


def _raise_for_status(response):
    status = response.status_code
    if status < 400:
        return
    message = _error_message(response)
    if status in (401, 403):
        raise AuthenticationFailed(
            _("WooCommerce refused the API key (%(message)s). Check the key, its secret and its Read access.")
            % {"message": message}
        )
    if status == 429:
        raise RateLimited(_("The store asks to slow down."), retry_after=_retry_after(response))
    if status == 404:
        raise StoreNotFound(_("No WooCommerce REST API at this store URL (%(message)s).") % {"message": message})
    if status >= 500:
        raise ChannelError(_("The store failed (HTTP %(status)s).") % {"status": status})
    raise RequestRefused(_("WooCommerce refused the request: %(message)s") % {"message": message})


def _error_message(response):
    """WooCommerce's own message ({"code", "message", "data": {"status"}}), short and without markup."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        text = re.sub(r"<[^>]+>", "", str(body["message"]))
        code = str(body.get("code") or "")
        return f"{text[:200]} [{code[:80]}]" if code else text[:200]
    return f"HTTP {response.status_code}"


def _retry_after(response):
    """Retry-After in seconds: a number, or an HTTP date; None when absent or unreadable."""
    return retry_after_seconds(response.headers)


def _header(headers, name):
    """A header by name, whatever its case (Django's request.headers, a dict, or requests' headers)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), "")
    return str(value or "")
