"""Shopify: orders pulled from the Admin GraphQL API, pushed by webhooks (docs/howto/channels/shopify.md).

Plain HTTP with ``requests``, not the ``ShopifyAPI`` package, because that package cannot talk to anything but
``https://<name>.myshopify.com``: its ``Session`` rebuilds every shop URL as the first label of the host plus
the class-wide ``myshopify_domain``, with the class-wide ``protocol`` and ``port``. Reaching a local stand-in
server (tests, a sandbox proxy) would mean rewriting those process-wide class attributes, i.e. monkeypatching
the library for every connection at once. Its ``GraphQL.execute`` also calls ``urlopen`` with no timeout (a
stalled shop would hold a worker forever), prints error bodies to stdout, and activates sessions in
``ShopifyResource``'s shared state. One documented POST with a version in the path and the
``X-Shopify-Access-Token`` header is all the Admin GraphQL API needs.
"""

import base64
import hashlib
import hmac
import json
import math
import re
import time
from datetime import UTC, datetime

import requests
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..conf import get_setting
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
from .shopify_mapping import order_from_graphql, order_from_webhook

#: The Admin API version every call names (Shopify supports a version for at least 12 months; when this one is
#: retired Shopify answers with the oldest supported one, so move it on each year). The fixtures under
#: tests/fixtures/channels/shopify/ follow this version's documentation.
API_VERSION = "2026-07"
#: Orders per page, line items per order in the page query, refunds per order, refunded lines per refund and
#: fulfilments per order. Shopify refuses a query whose requested cost passes 1,000 points (MAX_COST_EXCEEDED):
#: each object costs 1 (a MoneyBag with both sides 3) and a connection or list its ``first`` times its node's
#: cost, so an order of this query costs about 185 and a page of 5 stays under the limit. Should Shopify still
#: find a page too costly, the adapter halves the page and asks again.
#: What an order has past these first ones is fetched order by order (``_complete``): its lines 100 at a time
#: (cost about 800); when it has REFUNDS_PER_ORDER refunds or FULFILLMENTS_PER_ORDER fulfilments, all of them,
#: up to MORE_REFUNDS each, ids and dates only (cost about 500); and each refund's lines past its first ones 100
#: at a time (cost about 200).
ORDERS_PER_PAGE = 5
LINES_PER_ORDER = 10
MORE_LINES_PER_PAGE = 100
REFUNDS_PER_ORDER = 3
LINES_PER_REFUND = 10
FULFILLMENTS_PER_ORDER = 3
MORE_REFUNDS = 250
MORE_REFUND_LINES_PER_PAGE = 100
#: Seconds to connect and to wait for an answer.
TIMEOUT = (10, 60)
SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
#: The Shopify admin's address of a shop, without its scheme: ``admin.shopify.com/store/<handle>``.
ADMIN_STORE_URL = re.compile(r"admin\.shopify\.com/store/([^/?#]+)(?:[/?#]|$)")

MONEY = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"
LINE_FIELDS = f"""
  id sku name quantity currentQuantity
  originalUnitPriceSet {{ {MONEY} }}
  discountAllocations {{ allocatedAmountSet {{ {MONEY} }} }}
"""
REFUND_LINE_FIELDS = "quantity lineItem { id }"
FULFILLMENT_FIELDS = "createdAt deliveredAt status displayStatus"
ORDER_FIELDS = f"""
  id name email phone createdAt processedAt updatedAt cancelledAt closedAt
  displayFinancialStatus displayFulfillmentStatus discountCodes
  customer {{
    id displayName
    defaultEmailAddress {{ emailAddress }}
    defaultPhoneNumber {{ phoneNumber }}
  }}
  subtotalPriceSet {{ {MONEY} }}
  totalDiscountsSet {{ {MONEY} }}
  totalShippingPriceSet {{ {MONEY} }}
  totalTaxSet {{ {MONEY} }}
  totalPriceSet {{ {MONEY} }}
  totalRefundedSet {{ {MONEY} }}
  shippingAddress {{ name address1 address2 zip city province provinceCode countryCodeV2 phone }}
  lineItems(first: {LINES_PER_ORDER}) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {LINE_FIELDS} }}
  }}
  refunds(first: {REFUNDS_PER_ORDER}) {{
    id createdAt
    refundLineItems(first: {LINES_PER_REFUND}) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {REFUND_LINE_FIELDS} }}
    }}
  }}
  fulfillments(first: {FULFILLMENTS_PER_ORDER}) {{ {FULFILLMENT_FIELDS} }}
"""
ORDERS_QUERY = f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {ORDER_FIELDS} }}
  }}
}}
"""
ORDER_QUERY = f"""
query Order($id: ID!) {{
  order(id: $id) {{ {ORDER_FIELDS} }}
}}
"""
MORE_LINES_QUERY = f"""
query OrderLines($id: ID!, $after: String) {{
  order(id: $id) {{
    lineItems(first: {MORE_LINES_PER_PAGE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {LINE_FIELDS} }}
    }}
  }}
}}
"""
#: ``Order.refunds`` and ``Order.fulfillments`` are lists, not connections: no cursor, only a larger ``first``.
MORE_HISTORY_QUERY = f"""
query OrderHistory($id: ID!) {{
  order(id: $id) {{
    refunds(first: {MORE_REFUNDS}) {{ id createdAt }}
    fulfillments(first: {MORE_REFUNDS}) {{ {FULFILLMENT_FIELDS} }}
  }}
}}
"""
REFUND_LINES_QUERY = f"""
query RefundLines($id: ID!, $after: String) {{
  refund(id: $id) {{
    refundLineItems(first: {MORE_REFUND_LINES_PER_PAGE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {REFUND_LINE_FIELDS} }}
    }}
  }}
}}
"""
SHOP_QUERY = "query Shop { shop { name currencyCode } }"


class QueryTooCostly(ChannelError):
    """Shopify refused the query's requested cost (MAX_COST_EXCEEDED); a smaller page may pass."""

    retryable = False


class ShopUnavailable(ChannelError):
    """The shop is gone, frozen for an unpaid bill, or locked: the seller must act, retrying will not help."""

    retryable = False


def _header(headers, name):
    """A header's value from a Django ``request.headers``, a dict with any case, or ``request.META``."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered or key == "HTTP_" + name.upper().replace("-", "_"):
            return value
    return ""


def _retry_after_header(response):
    seconds = retry_after_seconds(response.headers)
    return None if seconds is None else max(1, math.ceil(seconds))


def _throttle_wait(body):
    """Seconds until the bucket holds the query's cost again, from ``extensions.cost.throttleStatus``."""
    try:
        cost = body["extensions"]["cost"]
        status = cost["throttleStatus"]
        missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        return max(1, math.ceil(missing / float(status["restoreRate"])))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None


def typed_shop_domain(text):
    """The shop's domain from what the seller typed (a name, a domain or an admin URL); not checked.

    Both admin URLs are read: the shop's own (``https://anas-tees.myshopify.com/admin``) and the one the Shopify
    admin shows today, ``https://admin.shopify.com/store/anas-tees``, whose handle is the shop's myshopify.com
    name."""
    shop = re.sub(r"^https?://", "", str(text or "").strip().lower())
    admin = ADMIN_STORE_URL.match(shop)
    if admin:
        return f"{admin.group(1)}.myshopify.com"
    shop = shop.split("/", 1)[0]
    if shop and "." not in shop:
        shop += ".myshopify.com"
    return shop


def validate_shop_domain(value):
    """The credentials form's check of the Shop domain field (the adapter refuses the same values)."""
    if not SHOP_DOMAIN.match(typed_shop_domain(value)):
        raise ValidationError(_("Enter the shop's domain, like your-store.myshopify.com."), code="invalid")


def next_page(page_info, after):
    """``(more, cursor)`` of a connection's ``pageInfo`` after the page read from ``after``; ``ValueError`` for a next
    page without a new cursor, which would read the same page again and again (its lines counted twice)."""
    more, cursor = bool(page_info["hasNextPage"]), page_info["endCursor"]
    if more and (not cursor or cursor == after):
        raise ValueError("a next page without a new cursor")
    return more, cursor


@register_adapter
class ShopifyAdapter(ChannelAdapter):
    channel = Channel.SHOPIFY
    credential_fields = (
        CredentialField(
            "shop",
            _("Shop domain"),
            help_text=_("The shop's myshopify.com domain, for example your-store.myshopify.com."),
            validators=(validate_shop_domain,),
            widget_attrs={"autocapitalize": "off", "spellcheck": "false", "autocomplete": "off"},
        ),
        CredentialField(
            "client_id",
            _("Client ID"),
            required=False,
            help_text=_("The app's client ID, from the Dev Dashboard (apps created there since 2026)."),
        ),
        CredentialField(
            "client_secret",
            _("Client secret"),
            secret=True,
            required=False,
            help_text=_(
                "The app's client secret (an app created in the Shopify admin: its API secret key). It gets the "
                "access tokens of a Dev Dashboard app and checks the webhooks' signatures."
            ),
        ),
        CredentialField(
            "webhook_signing_key",
            _("Webhook signing key"),
            secret=True,
            required=False,
            help_text=_(
                "Only for webhooks made in the Shopify admin (Settings, Notifications, Webhooks): the key shown "
                "there under the list. Webhooks the app subscribes are signed with its client secret."
            ),
        ),
        CredentialField(
            "access_token",
            _("Admin API access token"),
            secret=True,
            required=False,
            help_text=_(
                "Only for a custom app created in the Shopify admin before 2026: its token (starts with shpat_)."
            ),
        ),
    )
    # Buyer e-mails: yes (unless the buyer gave only a phone). Refunds give returned quantities. No feedback
    # in Shopify. Fees: the Order object carries none; Shopify Payments' fees are in its balance
    # transactions, which need another scope and apply to that gateway only, so the P&L has no Shopify fees.
    capabilities = ChannelCapabilities(buyer_email=True, returns=True, feedback=False, fees=False, webhooks=True)
    webhook_topics = ("orders/create", "orders/updated", "refunds/create")
    # A delivery naming another shop is always another shop's: an app installed on several shops signs them all
    # with its client secret. Entering its domain here would import that shop's orders into this account.
    ignored_webhook_advice = _(
        "With one app installed on several shops, subscribe each shop's webhooks to the webhook address of its own "
        "connection, as the Shopify guide of the Customers documentation explains. This connection's orders still "
        "come by the pulls."
    )

    def __init__(self, credentials, *, account_currency="USD"):
        super().__init__(credentials, account_currency=account_currency)
        self.session = requests.Session()
        self.orders_per_page = ORDERS_PER_PAGE
        #: A token from the client credentials grant, and when it expires (``time.monotonic()``).
        self._granted = None

    # The connection.
    @property
    def shop_domain(self):
        """The shop's domain from what the seller typed: a name, a domain or an admin URL."""
        shop = typed_shop_domain(self.credentials.get("shop", ""))
        if not SHOP_DOMAIN.match(shop):
            raise AuthenticationFailed(
                gettext("'%(shop)s' is not a shop domain; enter your-store.myshopify.com.") % {"shop": shop}
            )
        return shop

    @property
    def base_url(self):
        # CHANNEL_API_URLS {"shopify": {"admin": ...}} replaces https://<shop> (a local stand-in server in tests);
        # without it every call goes to the shop's own domain over HTTPS.
        override = (get_setting("CHANNEL_API_URLS") or {}).get("shopify", {}).get("admin")
        return override.rstrip("/") if override else f"https://{self.shop_domain}"

    @property
    def endpoint(self):
        return f"{self.base_url}/admin/api/{API_VERSION}/graphql.json"

    def _secret(self, name):
        return str(self.credentials.get(name, "") or "").strip()

    def access_token(self):
        """The token of an admin-created app as given, else one from the client credentials grant.

        Apps made in the Dev Dashboard (the only way since 1 January 2026) have no lasting token: the app
        exchanges its client ID and secret for one valid 24 hours. It is asked for once per adapter (one sync,
        or one webhook) and again when it is about to expire or Shopify refuses it.
        """
        token = self._secret("access_token")
        if token:
            return token
        if self._granted and self._granted[1] > time.monotonic():
            return self._granted[0]
        client_id, client_secret = self._secret("client_id"), self._secret("client_secret")
        if not (client_id and client_secret):
            raise AuthenticationFailed(
                gettext("Enter the app's client ID and client secret (or, for an older app, its access token).")
            )
        response = self._post(
            f"{self.base_url}/admin/oauth/access_token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
            headers={"Accept": "application/json"},
        )
        if response.status_code in (400, 401, 403):
            raise AuthenticationFailed(
                gettext(
                    "Shopify refused the client ID and secret (%(code)s): check them, and that the app is installed "
                    "on this shop."
                )
                % {"code": response.status_code}
            )
        self._raise_for_status(response)
        try:
            answer = response.json()
            token = str(answer["access_token"])
            lifetime = float(answer.get("expires_in") or 86399)
        except (ValueError, KeyError, TypeError) as error:
            raise MalformedResponse(gettext("Shopify's access token answer is not the documented shape.")) from error
        # Renewed a minute before it runs out.
        self._granted = (token, time.monotonic() + max(lifetime - 60, 0))
        return token

    def _post(self, url, **kwargs):
        # Each call keeps the sync's lease: a page asks again for orders with more lines, halves itself when too
        # costly and waits when throttled.
        self.stay_alive()
        try:
            return self.session.post(url, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as error:
            raise ChannelError(
                gettext("Shopify could not be reached: %(reason)s.") % {"reason": unreachable_reason(error)}
            ) from error

    def graphql(self, query, variables=None):
        """POST one query; return its ``data``, or raise the ``ChannelError`` the answer means."""
        response = self._post_query(query, variables)
        if response.status_code == 401 and self._granted:
            self._granted = None  # a granted token revoked or expired early: ask for a new one, once
            response = self._post_query(query, variables)
        self._raise_for_status(response)
        try:
            body = response.json()
        except ValueError as error:
            raise MalformedResponse(gettext("Shopify answered something that is not JSON.")) from error
        if not isinstance(body, dict):
            raise MalformedResponse(gettext("Shopify answered JSON that is not an object."))
        errors = body.get("errors")
        if errors:
            self._raise_for_errors(errors, body)
        data = body.get("data")
        if not isinstance(data, dict):
            raise MalformedResponse(gettext("Shopify's answer has no data."))
        return data

    def _post_query(self, query, variables):
        return self._post(
            self.endpoint,
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": self.access_token(), "Accept": "application/json"},
        )

    def _raise_for_status(self, response):
        code = response.status_code
        if code == 200:
            return
        if code == 429:
            raise RateLimited(
                gettext("Shopify asked us to slow down (429)."), retry_after=_retry_after_header(response)
            )
        if code in (401, 403):
            raise AuthenticationFailed(
                gettext("Shopify refused the access token (%(code)s): it is wrong, revoked or lacks a scope.")
                % {"code": code}
            )
        if code in (402, 404, 423):
            raise ShopUnavailable(
                gettext("Shopify says the shop is unavailable (%(code)s): frozen, locked or no longer there.")
                % {"code": code}
            )
        if code >= 500:
            raise ChannelError(
                gettext("Shopify failed (%(code)s); trying again later.") % {"code": code},
                retry_after=_retry_after_header(response),
            )
        raise ChannelError(gettext("Shopify answered %(code)s.") % {"code": code})

    def _raise_for_errors(self, errors, body):
        if not isinstance(errors, list):  # REST-style {"errors": "..."} on some refusals
            raise ChannelError(gettext("Shopify refused the query: %(message)s") % {"message": str(errors)[:200]})
        codes = {
            str(((error or {}).get("extensions") or {}).get("code", "")) for error in errors if isinstance(error, dict)
        }
        if "THROTTLED" in codes:
            raise RateLimited(gettext("Shopify's query budget is used up for now."), retry_after=_throttle_wait(body))
        if "MAX_COST_EXCEEDED" in codes:
            raise QueryTooCostly(gettext("Shopify found the orders query too costly, even for one order."))
        if "ACCESS_DENIED" in codes:
            raise AuthenticationFailed(
                gettext("The access token lacks a scope: the app needs read_orders and read_customers.")
            )
        messages = "; ".join(str((error or {}).get("message", "")) for error in errors if isinstance(error, dict))
        raise ChannelError(gettext("Shopify refused the query: %(message)s") % {"message": messages[:300]})

    def check(self):
        shop = self.graphql(SHOP_QUERY).get("shop")
        if not isinstance(shop, dict) or "name" not in shop:
            raise MalformedResponse(gettext("Shopify's answer has no shop."))
        currency = shop.get("currencyCode") or ""
        described = f"{shop['name']} ({currency})"
        if currency and currency != self.account_currency:
            # Shopify's shop money is then not the account's currency: the site's rate table converts instead.
            described += " " + gettext(
                "The seller account is in %(account)s, not the shop's %(shop)s: Shopify's own conversion of each "
                "order cannot be used, and the site's exchange-rate table converts the orders instead."
            ) % {"account": self.account_currency, "shop": currency}
        return described

    # Pull.
    def fetch_orders(self, *, cursor=None, since=None):
        state = self._read_cursor(cursor, since)
        filter_text = f"updated_at:>='{state['since']}'" if state["since"] else None
        while True:
            try:
                data = self.graphql(
                    ORDERS_QUERY, {"first": self.orders_per_page, "after": state["after"], "query": filter_text}
                )
                break
            except QueryTooCostly:
                if self.orders_per_page == 1:
                    raise
                self.orders_per_page //= 2
        try:
            connection = data["orders"]
            nodes = connection["nodes"]
            has_next = bool(connection["pageInfo"]["hasNextPage"])
            end_cursor = connection["pageInfo"]["endCursor"]
            updated = [parse_datetime_utc(node["updatedAt"]) for node in nodes]
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedResponse(gettext("Shopify's orders answer is not the documented shape.")) from error
        orders = [order_from_graphql(self._complete(node), account_currency=self.account_currency) for node in nodes]
        seen = updated + ([parse_datetime_utc(state["high"])] if state["high"] else [])
        high = max(seen, default=None)
        high_text = high.astimezone(UTC).isoformat().replace("+00:00", "Z") if high else None
        if has_next:
            next_state = {"since": state["since"], "after": end_cursor, "high": high_text}
        else:
            # Next pull: everything updated since the newest change seen. ">=" fetches that last order once more
            # (recording it again changes nothing) rather than miss another one updated in the same second.
            next_state = {"since": high_text or state["since"], "after": None, "high": None}
        return OrderPage(orders=orders, cursor=json.dumps(next_state, sort_keys=True), done=not has_next)

    def _read_cursor(self, cursor, since):
        if cursor:
            try:
                state = json.loads(cursor)
                return {"since": state.get("since"), "after": state.get("after"), "high": state.get("high")}
            except (ValueError, AttributeError) as error:
                raise MalformedResponse(gettext("The stored Shopify cursor is not readable.")) from error
        if isinstance(since, datetime):
            since = since.astimezone(UTC).isoformat().replace("+00:00", "Z")
        elif since is not None:  # a date
            since = f"{since.isoformat()}T00:00:00Z"
        return {"since": since, "after": None, "high": None}

    def _complete(self, node):
        """The order node with all its line items, refunds, refunded lines and fulfilments."""
        return self._complete_refund_lines(self._complete_history(self._complete_lines(node)))

    def _complete_history(self, node):
        """The order node with all its refunds and fulfilments, when the page query may have left some out."""
        try:
            refunds, fulfillments = list(node["refunds"]), list(node["fulfillments"])
        except (KeyError, TypeError):
            return node  # the mapping reports the shape
        if len(refunds) < REFUNDS_PER_ORDER and len(fulfillments) < FULFILLMENTS_PER_ORDER:
            return node
        data = self.graphql(MORE_HISTORY_QUERY, {"id": node["id"]})
        try:
            order = data["order"]
            known = {refund["id"]: refund for refund in refunds}
            # A refund the page query did not bring has all its lines still to fetch.
            node["refunds"] = [
                known.get(refund["id"])
                or {**refund, "refundLineItems": {"pageInfo": {"hasNextPage": True, "endCursor": None}, "nodes": []}}
                for refund in order["refunds"]
            ]
            node["fulfillments"] = list(order["fulfillments"])
        except (KeyError, TypeError, AttributeError) as error:
            raise MalformedResponse(gettext("Shopify's refunds answer is not the documented shape.")) from error
        return node

    def _complete_refund_lines(self, node):
        """The order node with all the lines of each refund: those past the first ones fetched here."""
        try:
            refunds = list(node["refunds"])
        except (KeyError, TypeError):
            return node
        for refund in refunds:
            try:
                connection = refund["refundLineItems"]
                page_info = connection.get("pageInfo") or {}
            except (KeyError, TypeError, AttributeError):
                return node  # the mapping reports the shape
            after, more = page_info.get("endCursor"), bool(page_info.get("hasNextPage"))
            while more:
                data = self.graphql(REFUND_LINES_QUERY, {"id": refund["id"], "after": after})
                try:
                    page = data["refund"]["refundLineItems"]
                    connection["nodes"].extend(page["nodes"])
                    more, after = next_page(page["pageInfo"], after)
                except (KeyError, TypeError, AttributeError, ValueError) as error:
                    raise MalformedResponse(
                        gettext("Shopify's refunded lines answer is not the documented shape.")
                    ) from error
        return node

    def _complete_lines(self, node):
        """The order node with all its line items: those past the page query's first ones fetched here."""
        try:
            page_info = node["lineItems"]["pageInfo"]
        except (KeyError, TypeError):
            return node  # the mapping reports the shape
        after = page_info.get("endCursor")
        more = bool(page_info.get("hasNextPage"))
        while more:
            data = self.graphql(MORE_LINES_QUERY, {"id": node["id"], "after": after})
            try:
                connection = data["order"]["lineItems"]
                node["lineItems"]["nodes"].extend(connection["nodes"])
                more, after = next_page(connection["pageInfo"], after)
            except (KeyError, TypeError, AttributeError, ValueError) as error:
                raise MalformedResponse(gettext("Shopify's line items answer is not the documented shape.")) from error
        return node

    def fetch_order(self, order_id, *, sync_status=SyncStatus.SYNCED):
        """One order by its numeric id or GraphQL id, as ``OrderData``; None when Shopify has no such order."""
        gid = order_id if str(order_id).startswith("gid://") else f"gid://shopify/Order/{order_id}"
        node = self.graphql(ORDER_QUERY, {"id": gid}).get("order")
        if node is None:
            return None
        return order_from_graphql(self._complete(node), account_currency=self.account_currency, sync_status=sync_status)

    # Push.
    def verify_webhook(self, headers, body):
        # Shopify signs an app's webhook subscriptions with the app's client secret, and those made in the admin's
        # notification settings with the shop's own key: either configured key may have signed a delivery.
        signature = str(_header(headers, "X-Shopify-Hmac-Sha256")).strip().encode()
        keys = [key for key in (self._secret("client_secret"), self._secret("webhook_signing_key")) if key]
        if not signature or not keys:
            return False
        return any(
            hmac.compare_digest(
                base64.b64encode(hmac.new(key.encode(), bytes(body), hashlib.sha256).digest()), signature
            )
            for key in keys
        )

    def webhook_topic(self, headers):
        return str(_header(headers, "X-Shopify-Topic")).strip()

    def webhook_for_another_shop(self, headers):
        # An app installed on several shops signs every shop's deliveries with its one client secret, and an app
        # subscription (shopify.app.toml) sends them all to one address: the signature alone does not say whose
        # orders these are. Shopify names the shop in every delivery.
        sender = str(_header(headers, "X-Shopify-Shop-Domain")).strip().lower()
        if not sender or sender == self.shop_domain:
            return ""
        # The header is not signed (the signature covers the body) and a signed delivery can be sent again with
        # another one: only a shop domain is named on the connection page, never a header that could read as a
        # sentence.
        return sender if SHOP_DOMAIN.fullmatch(sender) else True

    def webhook_own_shop(self):
        return self.shop_domain

    def webhook_delivery_id(self, headers):
        return str(_header(headers, "X-Shopify-Webhook-Id") or _header(headers, "X-Shopify-Event-Id")).strip()

    def webhook_changed_at(self, topic, payload):
        # The order's updated_at: Shopify's retries carry the payload of the first try.
        if topic not in ("orders/create", "orders/updated") or not isinstance(payload, dict):
            return None
        try:
            return parse_datetime_utc(payload.get("updated_at"))
        except (TypeError, ValueError):
            return None

    def orders_from_webhook(self, topic, payload):
        if isinstance(payload, bytes | str):
            try:
                payload = json.loads(payload)
            except ValueError as error:
                raise MalformedResponse(gettext("The Shopify webhook's body is not JSON.")) from error
        if not isinstance(payload, dict):
            raise MalformedResponse(gettext("The Shopify webhook's body is not an object."))
        if topic in ("orders/create", "orders/updated"):
            return [order_from_webhook(payload, account_currency=self.account_currency)]
        if topic == "refunds/create":
            # A refund names only its order: fetch the order as it stands now.
            if not payload.get("order_id"):
                raise MalformedResponse(gettext("The Shopify refund has no order_id."))
            order = self.fetch_order(payload["order_id"], sync_status=SyncStatus.PENDING)
            return [order] if order is not None else []
        return []
