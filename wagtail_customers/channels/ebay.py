"""eBay: orders pulled from the Sell Fulfillment API v1 (getOrders) over ``requests``.

eBay publishes no maintained Python client for its REST Sell APIs (its own SDKs cover OAuth only, and
the community ``ebaysdk`` speaks the older XML Trading API), so this is plain HTTP following the API
reference. What comes through and what does not is in docs/howto/channels/ebay.md.

Returned quantities come from the Post-Order API's return search, merged into the orders they name: see
``ebay_returns``; feedback from the Commerce Feedback API, joined to orders by their lines: see ``ebay_feedback``.

Endpoints: ``CHANNEL_API_URLS["ebay"]`` with ``"api"`` (base of the Sell APIs), ``"identity"`` (base
of the OAuth token endpoint) and ``"post_order"`` (base of the Post-Order API); all default to
https://api.ebay.com (the sandbox is https://api.sandbox.ebay.com).
"""

import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial

import requests
from django.utils.translation import gettext_lazy as _

from ..conf import get_setting
from ..limits import within_arithmetic
from ..models import Channel, FulfilmentStatus, OrderStatus
from ..services.inputs import AddressData, CustomerData, LineData, OrderData, PromoCodeData
from . import ebay_feedback, ebay_returns
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

logger = logging.getLogger(__name__)

PRODUCTION = "https://api.ebay.com"
TOKEN_PATH = "/identity/v1/oauth2/token"
ORDERS_PATH = "/sell/fulfillment/v1/order"
#: The read-only scope of the Fulfillment API: the refresh token must have been granted it.
SCOPE = "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly"
#: getOrders answers at most 200 orders a page.
PAGE_SIZE = 200
#: Offsets run over a set that can change while it is read (an order modified meanwhile moves). The next
#: pass starts this long before the current one started, so an order changed during a pass is read again.
OVERLAP = timedelta(minutes=5)
TIMEOUT = 30
ZERO = Decimal("0.00")

#: ``orderPaymentStatus`` values of an order the buyer has not paid for.
UNPAID = frozenset({"PENDING", "FAILED"})
#: orderFulfillmentStatus -> fulfilment status.
FULFILMENT = {
    "NOT_STARTED": FulfilmentStatus.UNFULFILLED,
    "IN_PROGRESS": FulfilmentStatus.PARTIAL,
    "FULFILLED": FulfilmentStatus.FULFILLED,
}
#: orderPaymentStatus -> order status, for an order not cancelled (a paid one is shipped once fulfilled).
PAYMENT = {
    "PENDING": OrderStatus.PENDING,
    "FAILED": OrderStatus.PENDING,
    "PAID": OrderStatus.PAID,
    "PARTIALLY_REFUNDED": OrderStatus.PARTIALLY_REFUNDED,
    "FULLY_REFUNDED": OrderStatus.REFUNDED,
}


def api_urls():
    urls = get_setting("CHANNEL_API_URLS").get(Channel.EBAY, {}) or {}
    return (urls.get("api") or PRODUCTION).rstrip("/"), (urls.get("identity") or PRODUCTION).rstrip("/")


def post_order_url():
    urls = get_setting("CHANNEL_API_URLS").get(Channel.EBAY, {}) or {}
    return (urls.get("post_order") or PRODUCTION).rstrip("/")


class NotFound(ChannelError):
    """eBay does not know the thing asked for (404), for example an order a return names."""


class EbayAdapter(ChannelAdapter):
    channel = Channel.EBAY
    credential_fields = (
        CredentialField("client_id", _("App ID (client id)"), help_text=_("From your eBay developer keyset.")),
        CredentialField("client_secret", _("Cert ID (client secret)"), secret=True),
        CredentialField(
            "refresh_token",
            _("Refresh token"),
            secret=True,
            help_text=_(
                "The seller's user refresh token with the sell.fulfillment.readonly scope (valid 18 months); "
                "with commerce.feedback.readonly too, feedback comes through."
            ),
        ),
    )
    capabilities = ChannelCapabilities(buyer_email=True, returns=True, feedback=True, fees=True)

    def __init__(self, credentials, *, account_currency="USD"):
        super().__init__(credentials, account_currency=account_currency)
        self.api_url, self.identity_url = api_urls()
        self.session = requests.Session()
        #: User access tokens by scope (the Fulfillment one; the Feedback one, asked for apart).
        self.tokens = {}
        self.post_order_url = post_order_url()
        #: False once the Post-Order API refused this token (403): orders come without returns.
        self.returns_available = True
        #: False once the Feedback API or the token endpoint refused its scope (403, 404): no feedback.
        self.feedback_available = True
        #: Each order's legacy item id by line SKU, the key returns name a line by.
        self._line_keys = {}

    # OAuth: the refresh-token grant gives a user access token for about two hours.
    def _refresh_access_token(self, scope=SCOPE):
        try:
            response = self.session.post(
                self.identity_url + TOKEN_PATH,
                auth=(self.credentials.get("client_id", ""), self.credentials.get("client_secret", "")),
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self.credentials.get("refresh_token", ""),
                    "scope": scope,
                },
                timeout=TIMEOUT,
            )
        except requests.RequestException as error:
            raise ChannelError(
                _("eBay could not be reached: %(reason)s.") % {"reason": unreachable_reason(error)}
            ) from None
        body = _json_or_none(response)
        if response.status_code in (400, 401):
            code = (body or {}).get("error", "") if isinstance(body, dict) else ""
            raise AuthenticationFailed(
                _("eBay refused the credentials (%(code)s): %(message)s Reconnect the account.")
                % {
                    "code": code or response.status_code,
                    "message": (body or {}).get("error_description", "") if isinstance(body, dict) else "",
                }
            )
        self._raise_for_status(response, body)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise MalformedResponse(_("eBay's token endpoint answered without an access token."))
        self.tokens[scope] = body["access_token"]

    def _get(self, path, params, *, base=None, scheme="Bearer", scope=SCOPE):
        """GET one resource, with the access token refreshed once if eBay calls it invalid.

        ``scheme``: the Sell APIs take ``Bearer <token>``; the Post-Order API takes the same OAuth user token
        as ``IAF <token>``. ``scope``: the scope of the access token sent.

        Each call first keeps the sync's lease (``stay_alive``): a last page reads the returns, up to 20 pages of
        feedback and one order per feedback naming an order not on it, which can take longer than the lease."""
        self.stay_alive()
        for attempt in (1, 2):
            if self.tokens.get(scope) is None:
                self._refresh_access_token(scope)
            try:
                response = self.session.get(
                    (base or self.api_url) + path,
                    params=params,
                    headers={"Authorization": f"{scheme} {self.tokens[scope]}", "Accept": "application/json"},
                    timeout=TIMEOUT,
                )
            except requests.RequestException as error:
                raise ChannelError(
                    _("eBay could not be reached: %(reason)s.") % {"reason": unreachable_reason(error)}
                ) from None
            body = _json_or_none(response)
            if response.status_code == 401:
                self.tokens.pop(scope, None)
                if attempt == 1:
                    continue
                raise AuthenticationFailed(
                    _("eBay refused access: %(message)s Reconnect the account.") % {"message": _error_text(body)}
                )
            self._raise_for_status(response, body)
            if not isinstance(body, dict):
                raise MalformedResponse(_("eBay answered something that is not the documented JSON object."))
            return body

    def _raise_for_status(self, response, body):
        status = response.status_code
        if status == 404:
            raise NotFound(_("eBay does not know it: %(message)s") % {"message": _error_text(body)})
        if status == 429:
            raise RateLimited(
                _("eBay's call limit is reached: %(message)s") % {"message": _error_text(body)},
                retry_after=_retry_after(response.headers),
            )
        if status == 403:
            raise AuthenticationFailed(
                _("eBay refused access (the token lacks the Fulfillment scope?): %(message)s")
                % {"message": _error_text(body)}
            )
        if status >= 400:
            raise ChannelError(
                _("eBay answered with an error (HTTP %(status)s): %(message)s")
                % {"status": status, "message": _error_text(body)},
                retry_after=_retry_after(response.headers),
            )

    def check(self):
        body = self._get(ORDERS_PATH, {"limit": 1, "offset": 0})
        total = body.get("total")
        return _("eBay seller account (%(count)s orders)") % {"count": total if total is not None else "?"}

    def fetch_orders(self, *, cursor=None, since=None):
        now = datetime.now(UTC)
        if cursor:
            state = json.loads(cursor)
        else:
            state = {"since": _iso(since) if since else None}
        if state.get("offset") is None:
            # A new pass: remember when it started, the next one starts a little before.
            state["started"], state["offset"] = _iso(now), 0
        params = {"limit": PAGE_SIZE, "offset": state["offset"]}
        if state.get("since"):
            params["filter"] = f"lastmodifieddate:[{state['since']}..]"
        body = self._get(ORDERS_PATH, params)
        raw_orders = body.get("orders", [])
        if not isinstance(raw_orders, list):
            raise MalformedResponse(_("eBay's getOrders answer has no orders list."))
        orders = [self._order(raw) for raw in raw_orders]
        ebay_feedback.note_lines(state, raw_orders, now)
        # The returns' and feedback's progress, what is kept per order and the lines' orders go from cursor
        # to cursor.
        carried = {key: state[key] for key in ("returns", "kept", "feedback", "lines", "seller") if state.get(key)}
        kept = carried.get("kept") or {}
        orders = [self._with_kept(order, kept) for order in orders]
        offset = state["offset"] + len(raw_orders)
        total = body.get("total")
        if raw_orders and body.get("next") and (not isinstance(total, int) or offset < total):
            return OrderPage(orders=orders, cursor=json.dumps({**state, "offset": offset}), done=False)
        next_since = parse_datetime_utc(state["started"]) - OVERLAP
        if state.get("since"):
            next_since = max(next_since, parse_datetime_utc(state["since"]))
        next_state = {"since": _iso(next_since), **carried}
        orders = self._merge_returns(next_state, orders, now)
        orders = self._merge_feedback(next_state, orders, now)
        return OrderPage(orders=orders, cursor=json.dumps(next_state), done=True)

    def _with_kept(self, order, kept):
        slot = kept.get(order.external_id)
        ebay_returns.apply(order, slot, self._line_keys.get(order.external_id, {}))
        return ebay_feedback.apply(order, slot)

    def _merge_returns(self, state, orders, now):
        """At the end of a pass: read the returns created since the last pass (``state["returns"]`` keeps where
        it got to) and hand over, beside ``orders``, the orders they name, fetched again, with returned
        quantities. A token the Post-Order API refuses (403) leaves the orders as they are."""
        if not self.returns_available:
            return orders
        progress = state.setdefault("returns", {})
        start = progress.get("since") or ebay_returns.iso(now - ebay_returns.FIRST_LOOKBACK)
        get = partial(self._get, base=self.post_order_url, scheme="IAF")
        try:
            end = ebay_returns.iso(now)
            found = ebay_returns.search(get, start, end)
            # The returns kept while open that were since closed (cancelled ones stop counting).
            closed_from = ebay_returns.oldest_kept(state.get("kept") or {}, start)
            found += ebay_returns.search(get, closed_from, end, "CLOSED")
        except RateLimited:
            # The returns wait for the next pass (which asks from the same date) rather than the whole last
            # page of orders being fetched again.
            logger.info("eBay throttled the return search; asked again next pass.")
            return orders
        except AuthenticationFailed:
            # The orders were read a moment ago with the same token: it lacks the Post-Order API's scope.
            logger.info("eBay's Post-Order API refused the token; orders come without returns.")
            self.returns_available = False
            state.pop("returns", None)
            return orders
        progress["since"] = ebay_returns.iso(now)
        kept = state.setdefault("kept", {})
        named = ebay_returns.remember(kept, found, now)
        if not kept:
            state.pop("kept")
        return self._with_named(orders, named, kept)

    def _merge_feedback(self, state, orders, now):
        """At the end of a pass: read the feedback left since the last pass began and hand over, beside
        ``orders``, the orders whose lines it names, fetched again, with their feedback (``ebay_feedback``).
        A refused scope (403 or the token endpoint) or 404 leaves the orders as they are; a 429 leaves the
        feedback for the first pass after the time eBay gives."""
        progress = state.get("feedback") or {}
        waiting = progress.get("wait_until") and parse_datetime_utc(progress["wait_until"]) > now
        if not self.feedback_available or waiting or not state.get("seller") or not state.get("lines"):
            return orders
        since = parse_datetime_utc(progress.get("since")) or now - ebay_feedback.FIRST_LOOKBACK
        try:
            found = ebay_feedback.read(partial(self._get, scope=ebay_feedback.SCOPE), state["seller"], since)
        except RateLimited as error:
            wait = timedelta(seconds=error.retry_after or 60)
            state["feedback"] = {**progress, "wait_until": ebay_feedback.iso(now + wait)}
            logger.info("eBay throttled getFeedback; asked again after %s.", state["feedback"]["wait_until"])
            return orders
        except (AuthenticationFailed, NotFound):
            logger.info("eBay's Feedback API refused the token or is not there; orders come without feedback.")
            self.feedback_available = False
            state.pop("feedback", None)
            return orders
        kept = state.setdefault("kept", {})
        named, skipped = ebay_feedback.remember(state, kept, found, now)
        if skipped:
            logger.info("%s eBay feedback entries name a line of no order pulled lately; skipped.", skipped)
        state["feedback"] = {"since": ebay_feedback.iso(now), "skipped": skipped}
        if not kept:
            state.pop("kept")
        return self._with_named(orders, named, kept)

    def _with_named(self, orders, named, kept):
        """``orders`` and, fetched again (getOrder), the orders ``named`` not among them, all with ``kept``."""
        by_id = {order.external_id: order for order in orders}
        for order_id in named:
            if order_id not in by_id:
                try:
                    raw = self._get(f"{ORDERS_PATH}/{order_id}", {})
                except NotFound:
                    logger.info("eBay names order %s, which getOrder does not know; skipped.", order_id)
                    continue
                by_id[order_id] = self._order(raw)
            self._with_kept(by_id[order_id], kept)
        return list(by_id.values())

    def _order(self, raw):
        try:
            order_id = str(raw["orderId"])
            placed_at = parse_datetime_utc(raw["creationDate"])
        except (KeyError, TypeError, ValueError):
            raise MalformedResponse(
                _("An eBay order lacks its id or creation date: %(value)s") % {"value": str(raw)[:200]}
            ) from None
        # Whatever else is of the wrong type (a quantity in words, a line or a refund that is not an object, an
        # amount past decimal arithmetic) fails this order by its id rather than as an unexpected error.
        try:
            return self._order_data(raw, order_id, placed_at)
        except MalformedResponse as error:
            raise MalformedResponse(
                _("eBay order %(id)s: %(problem)s") % {"id": order_id, "problem": error.message}
            ) from error
        except (KeyError, TypeError, AttributeError, ValueError, ArithmeticError) as error:
            raise MalformedResponse(
                _("eBay order %(id)s is not in the documented shape.") % {"id": order_id}
            ) from error

    def _order_data(self, raw, order_id, placed_at):
        pricing = raw.get("pricingSummary") or {}
        buyer = raw.get("buyer") or {}
        registration = buyer.get("buyerRegistrationAddress") or {}
        cancelled = (raw.get("cancelStatus") or {}).get("cancelState") == "CANCELED"
        fulfilment = FULFILMENT.get(raw.get("orderFulfillmentStatus"), FulfilmentStatus.UNFULFILLED)
        status = PAYMENT.get(raw.get("orderPaymentStatus"), OrderStatus.PAID)
        if cancelled:
            status, fulfilment = OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED
        elif status == OrderStatus.PAID and fulfilment == FulfilmentStatus.FULFILLED:
            status = OrderStatus.SHIPPED
        payments = (raw.get("paymentSummary") or {}).get("payments") or []
        refunds = [
            refund
            for refund in (raw.get("paymentSummary") or {}).get("refunds") or []
            if refund.get("refundStatus") == "REFUNDED"
        ]
        # A line refunded by itself is only under lineItems[].refunds ("for line item level refunds, check the
        # lineItems.refunds.refundId field(s)"); one that is also an order-level refund is counted once.
        order_level = {str(refund.get("refundId")) for refund in refunds if refund.get("refundId")}
        order_level_dated = {(refund.get("refundDate"), _amount(refund.get("amount"))) for refund in refunds}
        for item in raw.get("lineItems") or []:
            for refund in item.get("refunds") or []:
                if not refund.get("refundDate"):
                    continue
                if refund.get("refundId"):
                    if str(refund["refundId"]) in order_level:
                        continue
                elif (refund.get("refundDate"), _amount(refund.get("amount"))) in order_level_dated:
                    continue  # Without its id, the same date and amount as an order-level refund: that refund.
                refunds.append(refund)
        lines, codes = [], {}
        line_keys = self._line_keys.setdefault(order_id, {})
        for item in raw.get("lineItems") or []:
            lines.append(_line(item))
            line_keys[lines[-1].sku] = str(item.get("legacyItemId") or "")
            for promotion in item.get("appliedPromotions") or []:
                code = str(promotion.get("promotionId") or "").strip()
                if code:
                    codes[code] = codes.get(code, ZERO) + abs(_amount(promotion.get("discountAmount")))
        total = _amount(pricing.get("total"), default=None)
        if cancelled and total is not None and not refunds and raw.get("orderPaymentStatus") in UNPAID:
            total *= 0  # cancelled before the buyer paid (or their payment failed): nothing was spent
        refunded = sum((_amount(refund.get("amount")) for refund in refunds), ZERO)
        if total is not None:
            if not refunds and raw.get("orderPaymentStatus") == "FULLY_REFUNDED":
                refunded = total  # Refunded in full, without the refund itself in the answer: the status is all.
            refunded = min(refunded, total)
        return OrderData(
            external_id=order_id,
            placed_at=placed_at,
            channel=Channel.EBAY,
            currency=_currency(pricing) or None,
            status=status,
            fulfilment_status=fulfilment,
            customer=CustomerData(
                # The buyer's eBay user id (an immutable id in its place for some US buyers from 2025).
                external_id=str(buyer.get("username") or ""),
                # Given for 14 days after the order; the name and phone for 90 days.
                email=_email(registration.get("email")),
                name=registration.get("fullName") or "",
                phone=(registration.get("primaryPhone") or {}).get("phoneNumber") or "",
            ),
            subtotal=_amount(pricing.get("priceSubtotal"), default=None),
            # priceDiscount sums every discount, the lines' too: the order keeps what the lines do not
            # (the ingestion service adds the lines' discounts to the order's).
            discount=max(
                abs(_amount(pricing.get("priceDiscount")))
                + abs(_amount(pricing.get("deliveryDiscount")))
                - sum((line.discount for line in lines), ZERO),
                ZERO,
            ),
            shipping=_amount(pricing.get("deliveryCost")),
            tax=_amount(pricing.get("tax")),
            total=total,
            refunded=refunded,
            channel_fees=_amount(raw.get("totalMarketplaceFee"), default=None),
            ship_to=_ship_to(raw),
            lines=lines,
            promo_codes=[PromoCodeData(code=code, discount=amount) for code, amount in codes.items()],
            paid_at=parse_datetime_utc(payments[0].get("paymentDate")) if payments else None,
            cancelled_at=parse_datetime_utc((raw.get("cancelStatus") or {}).get("cancelledDate"))
            if cancelled
            else None,
            refunded_at=max(
                (parse_datetime_utc(r.get("refundDate")) for r in refunds if r.get("refundDate")), default=None
            ),
        )


def _line(item):
    quantity = int(item.get("quantity") or 0)
    cost = _amount(item.get("lineItemCost"))
    discounted = _amount(item.get("discountedLineItemCost"), default=cost)
    return LineData(
        sku=item.get("sku") or str(item.get("legacyItemId") or ""),
        product_name=item.get("title") or "",
        quantity=quantity,
        # lineItemCost is the price of the whole quantity, before discounts.
        unit_price=(cost / quantity).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if quantity else cost,
        line_total=cost,
        discount=max(cost - discounted, ZERO),
    )


def _ship_to(raw):
    for instruction in raw.get("fulfillmentStartInstructions") or []:
        ship_to = (instruction.get("shippingStep") or {}).get("shipTo")
        if ship_to:
            address = ship_to.get("contactAddress") or {}
            return AddressData(
                name=ship_to.get("fullName") or "",
                line1=address.get("addressLine1") or "",
                line2=address.get("addressLine2") or "",
                city=address.get("city") or "",
                state=address.get("stateOrProvince") or "",
                postal_code=address.get("postalCode") or "",
                country=address.get("countryCode") or "",
                phone=(ship_to.get("primaryPhone") or {}).get("phoneNumber") or "",
            )
    return AddressData()


def _email(value):
    """The buyer's address; eBay puts a placeholder ("Invalid Request") in it once the order is 14 days old."""
    value = str(value or "").strip()
    return value if "@" in value else ""


def _currency(pricing):
    for name in ("total", "priceSubtotal"):
        currency = (pricing.get(name) or {}).get("currency")
        if currency:
            return str(currency).upper()
    return ""


def _amount(money, default=ZERO):
    """eBay's Amount: ``{"value": "12.34", "currency": "USD"}`` (the seller's currency; the buyer's, if
    another, is in ``convertedFromValue``)."""
    if not money:
        return default
    try:
        number = Decimal(str(money["value"]))
    except (KeyError, TypeError, InvalidOperation):
        number = None
    if number is None or not number.is_finite():  # NaN and Infinity are no amounts either
        raise MalformedResponse(_("eBay sent an amount that is not a number: %(value)s") % {"value": money})
    return within_arithmetic(number)


def _json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None


def _error_text(body):
    """The first of eBay's ``errors[]`` messages ({errorId, domain, category, message, longMessage})."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0] or {}
        return f"{first.get('message', '')} ({first.get('errorId', '?')})"
    return ""


def _retry_after(headers):
    return retry_after_seconds(headers)


def _iso(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
