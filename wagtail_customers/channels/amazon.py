"""Amazon: orders pulled from the Selling Partner API (Orders API v0) with ``python-amazon-sp-api``.

What comes through and what does not is in docs/howto/channels/amazon.md. In short: orders with their
items, prices, promotion discounts and promotion ids, status, dates and the ship-to city, region,
postal code and country; for shipped orders the fees and refunds of the Finances API (v0). No buyer
id; the buyer's e-mail (Amazon's relay address) and name only when Amazon includes them (they are
restricted personal data, given with a restricted data token to apps with the role for it), so most
orders are their own customer, as in Amazon's order reports. Returned quantities and seller feedback come
from three reports (Reports API), merged into the orders they name: see ``amazon_reports`` (and
``amazon_fba_returns`` for the returns of orders Amazon fulfilled).

Pointing the client elsewhere (a sandbox, a local stand-in server): ``CHANNEL_API_URLS["amazon"]``
with ``"sp_api"`` (the Selling Partner API's base URL) and ``"lwa"`` (Login with Amazon's token URL).
The library's own token client class is a constructor argument (``auth_token_client_class``): ours
takes the token URL. The library has no argument for the API's base URL (only ``AWS_ENV=SANDBOX``, read
when it is imported, which picks Amazon's sandbox); the client reads its ``endpoint`` attribute on
every request, so the adapter sets that attribute after construction when a base URL is configured.
"""

import json
import logging
import math
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import urlsplit

import httpx
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from sp_api.api import Finances, Orders, Sellers
from sp_api.auth import AccessTokenClient, AccessTokenResponse
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import Marketplaces
from sp_api.base.credential_provider import FromCodeCredentialProvider
from sp_api.base.exceptions import (
    SellingApiBadRequestException,
    SellingApiException,
    SellingApiForbiddenException,
    SellingApiNotFoundException,
    SellingApiRequestThrottledException,
)

from ..conf import get_setting
from ..importers.amazon import STATUSES, charged_total
from ..limits import within_arithmetic
from ..models import Channel, FulfilmentStatus, OrderStatus
from ..services.inputs import AddressData, CustomerData, LineData, OrderData, PromoCodeData
from . import amazon_fba_returns, amazon_reports
from .base import (
    RETRY_AFTER_MAX_SECONDS,
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
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
#: The Orders API's ``OrderStatus`` values -> (order status, fulfilment status). Those the order reports
#: also use come from the importers' table, so a file import and a pull agree.
ORDER_STATUSES = {
    "Pending": STATUSES["pending"],
    "Unshipped": STATUSES["unshipped"],
    "PartiallyShipped": STATUSES["partiallyshipped"],
    "Shipped": STATUSES["shipped"],
    "Canceled": STATUSES["canceled"],
    # Multi-Channel Fulfillment orders Amazon could not fulfil: nothing shipped, nothing charged.
    "Unfulfillable": (OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED),
    # Shipped; the seller has not yet confirmed the invoice (China).
    "InvoiceUnconfirmed": (OrderStatus.SHIPPED, FulfilmentStatus.FULFILLED),
    # A pre-order whose payment is not authorised yet.
    "PendingAvailability": (OrderStatus.PENDING, FulfilmentStatus.UNFULFILLED),
}
#: The statuses of orders Amazon has charged (it charges on shipment): only they have financial events.
CHARGED = {"Shipped", "PartiallyShipped", "InvoiceUnconfirmed"}
#: getOrders answers at most 100 orders a page.
PAGE_SIZE = 100
#: Amazon's newest orders are settled about two minutes behind the present (its own default upper bound
#: is two minutes ago); the next pull starts from there, so nothing changed in between is missed.
SETTLING = timedelta(minutes=2)
#: getOrderItems is called once per order and throttled (0.5 requests a second, bursts of 30): within a
#: page the adapter waits as Amazon asks, up to this many seconds in all, before giving up the page.
ITEMS_MAX_WAIT_SECONDS = 120
#: Waiting is capped per 429 too, whatever the header says.
ITEMS_MAX_SINGLE_WAIT_SECONDS = 30
DEFAULT_LWA_URL = "https://api.amazon.com/auth/o2/token"


class NotFound(ChannelError):
    """Amazon does not know the thing asked for (404), for example an order a report names."""


def api_urls():
    return get_setting("CHANNEL_API_URLS").get(Channel.AMAZON, {}) or {}


def token_client_class(token_url):
    """The library's LWA token client, at ``token_url``, keeping the token per connection.

    The library keeps tokens in one process-wide cache for about 53 minutes; a class per adapter (built
    here) keeps one token shared by the adapter's API clients, which the adapter can drop when Amazon
    calls it expired.
    """
    parts = urlsplit(token_url)

    class ConnectionTokenClient(AccessTokenClient):
        scheme = f"{parts.scheme}://"
        host = parts.netloc
        path = parts.path or "/auth/o2/token"
        token = None

        def get_auth(self):
            cls = type(self)
            if cls.token is None:
                cls.token = self._request(self.scheme + self.host + self.path, self.data, self.headers)
            return AccessTokenResponse(**cls.token)

        def forget(self):
            type(self).token = None

    return ConnectionTokenClient


def marketplace_code(text):
    """The marketplace's code as typed (``de``, `` UK``), as the library names it."""
    return str(text or "").strip().upper()


def validate_marketplace(value):
    """The credentials form's check of the Marketplace field (the adapter refuses the same values)."""
    if marketplace_code(value) not in Marketplaces.__members__:
        raise ValidationError(
            _("Enter the two-letter code of an Amazon marketplace, like DE, UK or US."), code="invalid"
        )


#: Times a pass over the orders starts again after Amazon refused its NextToken, before the sync gives up.
MAX_PASS_RESTARTS = 3


class AmazonAdapter(ChannelAdapter):
    channel = Channel.AMAZON
    credential_fields = (
        CredentialField(
            "refresh_token",
            _("Refresh token"),
            secret=True,
            help_text=_("Given when the seller authorises your app in Seller Central (starts with Atzr|)."),
        ),
        CredentialField(
            "lwa_app_id",
            _("LWA client identifier"),
            help_text=_("Your app's Login with Amazon client id (amzn1.application-oa2-client…)."),
        ),
        CredentialField("lwa_client_secret", _("LWA client secret"), secret=True),
        CredentialField(
            "marketplace",
            _("Marketplace"),
            help_text=_("Two-letter code of the marketplace, e.g. DE, UK, US; it also picks the region."),
            validators=(validate_marketplace,),
        ),
    )
    capabilities = ChannelCapabilities(buyer_email=False, returns=True, feedback=True, fees=True)

    def __init__(self, credentials, *, account_currency="USD"):
        super().__init__(credentials, account_currency=account_currency)
        code = marketplace_code(self.credentials.get("marketplace", ""))
        try:
            self.marketplace = Marketplaces[code]
        except KeyError:
            raise AuthenticationFailed(
                _("'%(code)s' is not an Amazon marketplace code (for example DE, UK, US).") % {"code": code}
            ) from None
        urls = api_urls()
        self._token_client_class = token_client_class(urls.get("lwa") or DEFAULT_LWA_URL)
        self._endpoint = (urls.get("sp_api") or "").rstrip("/")
        self._clients = {}
        #: Passes this sync started again after a refused NextToken (``fetch_orders``).
        self._pass_restarts = 0
        #: False once the Finances API refused this app (no Finance and Accounting role): no fees, no refunds.
        self.fees_available = True
        #: False once the Reports API refused this app (no role for the reports): no returns, no feedback.
        self.reports_available = True
        #: Each order's ASIN by SKU, for returns rows that name only the ASIN.
        self._asins = {}

    # The library's clients, one per API, sharing nothing but the credentials.
    def _client(self, api_class):
        if api_class not in self._clients:
            client = api_class(
                self.marketplace,
                refresh_token=self.credentials.get("refresh_token"),
                credentials={
                    "lwa_app_id": self.credentials.get("lwa_app_id"),
                    "lwa_client_secret": self.credentials.get("lwa_client_secret"),
                },
                # Only the credentials given here: never the environment, AWS secrets or a config file.
                credential_providers=(FromCodeCredentialProvider,),
                auth_token_client_class=self._token_client_class,
                timeout=30,
            )
            if self._endpoint:
                client.endpoint = self._endpoint
            self._clients[api_class] = client
        return self._clients[api_class]

    def _call(self, api_class, method, *args, expect=dict, **kwargs):
        """One API call, with the token refreshed once if Amazon refuses it, and errors translated.

        Each call first keeps the sync's lease (``stay_alive``): a page makes many of them (getOrderItems and
        getFinancialEvents per order, the reports), and may take longer than the lease."""
        self.stay_alive()
        client = self._client(api_class)
        for attempt in (1, 2):
            try:
                response = getattr(client, method)(*args, **kwargs)
            except SellingApiForbiddenException as error:
                # An access token Amazon calls expired or revoked: fetch another once.
                client._auth.forget()
                if attempt == 2:
                    raise AuthenticationFailed(
                        _("Amazon refused access: %(message)s Reconnect the account in Seller Central.")
                        % {"message": _error_text(error)}
                    ) from None
                continue
            except AuthorizationError as error:
                raise _token_error(error) from None
            except SellingApiRequestThrottledException as error:
                raise RateLimited(
                    _("Amazon's request quota is used up (QuotaExceeded); waiting as it asks."),
                    retry_after=_retry_after(error.headers),
                ) from None
            except SellingApiBadRequestException:
                raise
            except SellingApiNotFoundException as error:
                raise NotFound(
                    _("Amazon does not know it (404): %(message)s") % {"message": _error_text(error)}
                ) from None
            except SellingApiException as error:
                raise ChannelError(
                    _("Amazon answered with an error (%(code)s): %(message)s")
                    % {"code": getattr(error, "code", "?"), "message": _error_text(error)}
                ) from None
            except (httpx.HTTPError, OSError) as error:
                raise ChannelError(
                    _("Amazon could not be reached: %(reason)s.") % {"reason": unreachable_reason(error)}
                ) from None
            except (AttributeError, IndexError, TypeError):
                # The library reads the body as JSON before looking at it: a list or a bare value breaks it.
                raise MalformedResponse(
                    _("Amazon answered something that is not the documented JSON object.")
                ) from None
            except json.JSONDecodeError:
                # The token URL answered something that is not JSON.
                raise MalformedResponse(_("Login with Amazon answered something that is not JSON.")) from None
            if not isinstance(response.payload, expect) or not response.payload:
                raise MalformedResponse(
                    _("Amazon answered without the documented payload (an outage page or a cut-off answer).")
                )
            return response.payload

    def check(self):
        payload = self._call(Sellers, "get_marketplace_participation", expect=list)
        for entry in payload if isinstance(payload, list) else [payload]:
            marketplace = (entry or {}).get("marketplace") or {}
            if marketplace.get("id") == self.marketplace.marketplace_id:
                return f"{marketplace.get('name', '')} ({marketplace.get('countryCode', '')})".strip()
        return f"Amazon {self.marketplace.name}"

    def fetch_orders(self, *, cursor=None, since=None):
        state = json.loads(cursor) if cursor else {"after": _iso(since or datetime(1995, 1, 1, tzinfo=UTC))}
        next_token = state.get("next_token")
        # The reports' progress and the returns and feedback kept per order go from cursor to cursor.
        carried = {key: state[key] for key in ("reports", "kept") if state.get(key)}
        # Passes started again after a refused NextToken: counted in the cursor, so that each start is a new
        # position to the engine's same-page guard, and in this sync (the adapter is built for one), so that a token
        # refused again and again stops this sync while the next one, from the stored cursor, may start again.
        restarts = state.get("restarts", 0)
        started = _iso(datetime.now(UTC) - SETTLING)
        try:
            if next_token:
                payload = self._call(Orders, "get_orders", NextToken=next_token)
            else:
                payload = self._call(Orders, "get_orders", LastUpdatedAfter=state["after"], MaxResultsPerPage=PAGE_SIZE)
        except SellingApiBadRequestException as error:
            if next_token and self._pass_restarts < MAX_PASS_RESTARTS:
                # NextToken is short-lived: start the pass again from its date (recorded orders are no-ops).
                self._pass_restarts += 1
                restarted = {"after": state["after"], "restarts": restarts + 1, **carried}
                return OrderPage(orders=[], cursor=json.dumps(restarted), done=False)
            if next_token:
                raise ChannelError(
                    _("Amazon refused its own next-page token %(times)s times during this sync; it tries again later.")
                    % {"times": self._pass_restarts + 1}
                ) from None
            raise ChannelError(_("Amazon refused the request: %(message)s") % {"message": _error_text(error)}) from None
        raw_orders = payload.get("Orders")
        if not isinstance(raw_orders, list):
            raise MalformedResponse(_("Amazon's getOrders answer has no Orders list."))
        # The upper bound of this pass: Amazon's own (LastUpdatedBefore), kept from the pass's first page.
        upto = state.get("upto") or payload.get("LastUpdatedBefore") or started
        kept = carried.get("kept") or {}
        orders = [self._with_kept(self._order(raw), kept) for raw in raw_orders]
        token = payload.get("NextToken")
        if token:
            return OrderPage(
                orders=orders,
                cursor=json.dumps(
                    {
                        "after": state["after"],
                        "next_token": token,
                        "upto": upto,
                        **({"restarts": restarts} if restarts else {}),
                        **carried,
                    }
                ),
                done=False,
            )
        after = max(state["after"], upto, key=lambda value: parse_datetime_utc(value))
        next_state = {"after": after, **carried}
        orders = self._merge_reports(next_state, state["after"], orders)
        return OrderPage(orders=orders, cursor=json.dumps(next_state), done=True)

    def _with_kept(self, order, kept):
        return amazon_reports.apply_kept(order, kept.get(order.external_id), self._asins.get(order.external_id, {}))

    def _merge_reports(self, state, pass_start, orders):
        """At the end of a pass: read the returns (merchant- and Amazon-fulfilled) and feedback reports (``state``
        keeps their progress) and hand over, beside ``orders``, the orders they name, fetched again, with
        returned quantities and feedback.
        """
        if not self.reports_available:
            return orders
        now = datetime.now(UTC)
        reports = amazon_reports.report_state(state, pass_start, now)
        rows = {}
        try:
            for kind in amazon_reports.REPORT_TYPES:
                try:
                    rows[kind] = amazon_reports.run_report(self, kind, reports[kind], now, self.pause) or []
                except RateLimited:
                    # createReport allows about one request a minute: this report waits for the next pass
                    # rather than the whole last page being fetched again.
                    logger.info("Amazon throttled the %s report; asked for next pass.", kind)
        except AuthenticationFailed:
            # The orders were read a moment ago with the same token: the app lacks the role for reports.
            self.reports_available = False
            state.pop("reports", None)
            return orders
        returns = amazon_reports.read_returns(rows.get("returns", []))
        feedback = amazon_reports.read_feedback(rows.get("feedback", []), self.marketplace.name)
        fba = amazon_fba_returns.read(rows.get("fba_returns", []), amazon_reports.report_date, amazon_reports.iso)
        kept = state.setdefault("kept", {})
        amazon_reports.remember(kept, returns, feedback, now, fba)
        if not kept:
            state.pop("kept")
        by_id = {order.external_id: order for order in orders}
        for order_id in dict.fromkeys([*returns, *fba, *feedback]):
            if order_id not in by_id:
                try:
                    raw = self._call_waiting(Orders, "get_order", order_id)
                except NotFound:
                    logger.info("Amazon report names order %s, which getOrder does not know; skipped.", order_id)
                    continue
                by_id[order_id] = self._order(raw)
            self._with_kept(by_id[order_id], kept)
        return list(by_id.values())

    def _call_waiting(self, api_class, method, order_id, **kwargs):
        """A per-order call (items, financial events), waiting out its throttling within the page."""
        waited = 0.0
        while True:
            try:
                return self._call(api_class, method, order_id, **kwargs)
            except RateLimited as error:
                wait = min(error.retry_after or 2.0, ITEMS_MAX_SINGLE_WAIT_SECONDS)
                if waited + wait > ITEMS_MAX_WAIT_SECONDS:
                    raise
                self.pause(wait)  # keeps the sync's lease while it waits
                waited += wait
            except SellingApiBadRequestException as error:
                raise ChannelError(
                    _("Amazon refused a request about order %(order)s: %(message)s")
                    % {"order": order_id, "message": _error_text(error)}
                ) from None

    def _order_items(self, order_id):
        """Every item of one order (getOrderItems, its own NextToken)."""
        items, token = [], None
        while True:
            kwargs = {"NextToken": token} if token else {}
            payload = self._call_waiting(Orders, "get_order_items", order_id, **kwargs)
            page = payload.get("OrderItems")
            if not isinstance(page, list):
                raise MalformedResponse(_("Amazon's getOrderItems answer has no OrderItems list."))
            items.extend(page)
            token = payload.get("NextToken")
            if not token:
                return items

    def _financial_events(self, order_id):
        """The order's shipment and refund events from the Finances API, or None when the app may not read them.

        The Finances API needs the *Finance and Accounting* role; an app without it is refused (403), and the
        connection then goes on without fees and refunds rather than failing.
        """
        if not self.fees_available:
            return None
        events, token = {"ShipmentEventList": [], "RefundEventList": []}, None
        while True:
            kwargs = {"NextToken": token} if token else {}
            try:
                payload = self._call_waiting(Finances, "get_financial_events_for_order", order_id, **kwargs)
            except AuthenticationFailed:
                self.fees_available = False
                return None
            found = payload.get("FinancialEvents")
            if not isinstance(found, dict):
                raise MalformedResponse(_("Amazon's financial events answer has no FinancialEvents."))
            for name, listed in events.items():
                listed.extend(found.get(name) or [])
            token = payload.get("NextToken")
            if not token:
                return events

    def _order(self, raw):
        try:
            order_id = str(raw["AmazonOrderId"])
            placed_at = parse_datetime_utc(raw["PurchaseDate"])
            status, fulfilment = ORDER_STATUSES[raw["OrderStatus"]]
        except (KeyError, TypeError, ValueError):
            raise MalformedResponse(
                _("An Amazon order lacks its id, purchase date or a known status: %(value)s")
                % {"value": str(raw)[:200]}
            ) from None
        # The calls first (their errors are the channel's own); then the mapping, where whatever else is of the
        # wrong type (a quantity in words, an item or an amount that is not an object, an amount past decimal
        # arithmetic) fails this order by its id rather than as an unexpected error.
        items = self._order_items(order_id)
        events = self._financial_events(order_id) if raw["OrderStatus"] in CHARGED else None
        try:
            return self._order_data(raw, order_id, placed_at, (status, fulfilment), items, events)
        except MalformedResponse as error:
            raise MalformedResponse(
                _("Amazon order %(id)s: %(problem)s") % {"id": order_id, "problem": error.message}
            ) from error
        except (KeyError, TypeError, AttributeError, ValueError, ArithmeticError) as error:
            raise MalformedResponse(
                _("Amazon order %(id)s is not in the documented shape.") % {"id": order_id}
            ) from error

    def _order_data(self, raw, order_id, placed_at, statuses, items, events):
        status, fulfilment = statuses
        self._asins[order_id] = {item.get("SellerSKU") or "": item.get("ASIN") or "" for item in items}
        lines, item_taxes, codes = [], [], []
        subtotal, shipping, shipping_tax, discount, discount_tax = ZERO, ZERO, ZERO, ZERO, ZERO
        currency = (raw.get("OrderTotal") or {}).get("CurrencyCode") or ""
        for item in items:
            line, charges = _line(item)
            lines.append(line)
            item_taxes.append(charges["item_tax"])
            subtotal += line.line_total
            shipping += charges["shipping"]
            shipping_tax += charges["shipping_tax"]
            discount += charges["discount"]
            discount_tax += charges["discount_tax"]
            codes.extend(item.get("PromotionIds") or [])
            currency = currency or charges["currency"]
        tax = sum(item_taxes, ZERO) + shipping_tax
        order_total = _amount((raw.get("OrderTotal") or {}).get("Amount"), default=None)
        if tax and order_total is not None and abs(order_total - (subtotal - discount + shipping)) <= CENT * len(items):
            # Prices with the tax in them (Europe: OrderTotal is the prices, shipping and discounts alone): the ledger
            # keeps goods, shipping and discounts without tax, as its P&L counts revenue, and the tax apart.
            for line, item_tax in zip(lines, item_taxes, strict=True):
                line.line_total -= item_tax
                line.unit_price = _per_unit(line.line_total, line.quantity)
            subtotal = sum((line.line_total for line in lines), ZERO)
            shipping, discount, tax = shipping - shipping_tax, discount - discount_tax, tax - discount_tax
        computed = subtotal - discount + shipping + tax
        buyer = raw.get("BuyerInfo") or {}
        address = raw.get("ShippingAddress") or {}
        total = charged_total(status, computed if order_total is None else order_total)
        money = _money_from_events(events)
        money["refunded"] = min(money["refunded"], total)
        if money["refunded"] > 0 and status != OrderStatus.CANCELLED:
            status = OrderStatus.REFUNDED if money["refunded"] >= total else OrderStatus.PARTIALLY_REFUNDED
        return OrderData(
            external_id=order_id,
            placed_at=placed_at,
            channel=Channel.AMAZON,
            currency=currency.upper() or None,
            status=status,
            fulfilment_status=fulfilment,
            # Amazon's relay address and the name, only when Amazon includes them (restricted data).
            customer=CustomerData(email=buyer.get("BuyerEmail") or "", name=buyer.get("BuyerName") or ""),
            subtotal=subtotal,
            discount=discount,
            shipping=shipping,
            tax=tax,
            total=total,
            channel_fees=money["fees"],
            refunded=money["refunded"],
            refunded_at=money["refunded_at"],
            ship_to=AddressData(
                name=address.get("Name") or "",
                line1=address.get("AddressLine1") or "",
                line2=address.get("AddressLine2") or "",
                city=address.get("City") or "",
                state=address.get("StateOrRegion") or "",
                postal_code=address.get("PostalCode") or "",
                country=address.get("CountryCode") or "",
            ),
            lines=lines,
            promo_codes=[PromoCodeData(code=code) for code in dict.fromkeys(c.strip() for c in codes if c.strip())],
        )


def _money_from_events(events):
    """Fees, refunded amount and last refund date from an order's financial events.

    Amazon writes its fees as debits (negative) on the shipment events and gives part back on refunds
    (positive fee adjustments): the order's fees are minus their sum. The refunded amount is minus the sum of
    the refunds' charge adjustments (item price, tax, shipping) and promotion adjustments (the discount taken back,
    positive). No shipment event yet: fees unknown (None).
    """
    if not events or not events["ShipmentEventList"]:
        return {"fees": None, "refunded": ZERO, "refunded_at": None}
    fees = ZERO
    for event in events["ShipmentEventList"] + events["RefundEventList"]:
        for name in ("OrderFeeList", "ShipmentFeeList", "OrderFeeAdjustmentList", "ShipmentFeeAdjustmentList"):
            fees += _event_sum(event.get(name), "FeeAmount")
        for item in (event.get("ShipmentItemList") or []) + (event.get("ShipmentItemAdjustmentList") or []):
            fees += _event_sum(item.get("ItemFeeList"), "FeeAmount")
            fees += _event_sum(item.get("ItemFeeAdjustmentList"), "FeeAmount")
    refunded, refund_dates = ZERO, []
    for event in events["RefundEventList"]:
        refund_dates.append(parse_datetime_utc(event.get("PostedDate")))
        for item in event.get("ShipmentItemAdjustmentList") or []:
            refunded -= _event_sum(item.get("ItemChargeAdjustmentList"), "ChargeAmount")
            # The promotion taken back with the refund (positive): the buyer gets the price less what they saved.
            refunded -= _event_sum(item.get("PromotionAdjustmentList"), "PromotionAmount")
    return {
        "fees": -fees,
        "refunded": max(refunded, ZERO),  # capped at the order's total by the caller
        "refunded_at": max((date for date in refund_dates if date), default=None),
    }


def _event_sum(entries, key):
    """The sum of a financial event list's amounts (``{"CurrencyCode", "CurrencyAmount"}``, a JSON number)."""
    return sum((_amount((entry.get(key) or {}).get("CurrencyAmount")) for entry in entries or []), ZERO)


def _line(item):
    """``(LineData, charges)`` of one order item; ItemPrice is the price of the whole quantity."""

    def amount(name):
        return _amount((item.get(name) or {}).get("Amount"))

    quantity = int(item.get("QuantityOrdered") or 0)
    price = amount("ItemPrice")
    line = LineData(
        sku=item.get("SellerSKU") or item.get("ASIN") or "",
        product_name=item.get("Title") or "",
        quantity=quantity,
        unit_price=_per_unit(price, quantity),
        line_total=price,
    )
    charges = {
        "shipping": amount("ShippingPrice") + amount("GiftWrapPrice"),
        "item_tax": amount("ItemTax"),
        "shipping_tax": amount("ShippingTax") + amount("GiftWrapTax"),
        "discount": abs(amount("PromotionDiscount")) + abs(amount("ShippingDiscount")),
        "discount_tax": abs(amount("PromotionDiscountTax")) + abs(amount("ShippingDiscountTax")),
        "currency": (item.get("ItemPrice") or {}).get("CurrencyCode") or "",
    }
    return line, charges


def _per_unit(line_total, quantity):
    return (line_total / quantity).quantize(CENT, rounding=ROUND_HALF_UP) if quantity else line_total


def _amount(value, default=ZERO):
    if value in (None, ""):
        return default
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():  # NaN and Infinity are no amounts either
        raise MalformedResponse(_("Amazon sent an amount that is not a number: %(value)s") % {"value": value})
    return within_arithmetic(number)


def _iso(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _retry_after(headers):
    """Seconds to wait: Retry-After if given, else one request's share of x-amzn-RateLimit-Limit (per second)."""
    headers = headers or {}
    seconds = retry_after_seconds(headers)
    if seconds is not None:
        return seconds
    try:
        rate = float(headers.get("x-amzn-ratelimit-limit") or headers.get("x-amzn-RateLimit-Limit"))
    except (TypeError, ValueError):
        return None
    if not math.isfinite(rate) or rate <= 0:  # as unreadable as a Retry-After of nan or -5
        return None
    return min(1 / rate, RETRY_AFTER_MAX_SECONDS)


def _error_text(error):
    return str(getattr(error, "message", "") or getattr(error, "amzn_code", "") or type(error).__name__)


def _token_error(error):
    """Login with Amazon refused the refresh token (invalid_grant, invalid_client) or failed."""
    if error.status_code in (400, 401, 403):
        return AuthenticationFailed(
            _("Login with Amazon refused the credentials (%(code)s): %(message)s Reconnect the account.")
            % {"code": error.error_code or error.status_code, "message": error.message or ""}
        )
    return ChannelError(_("Login with Amazon failed (HTTP %(status)s).") % {"status": error.status_code})
