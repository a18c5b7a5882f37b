"""Shopify orders -> ``OrderData``: the Admin GraphQL ``Order`` (pull) and the REST-shaped order of webhooks.

The statuses reuse the CSV importer's tables (importers/shopify.py): the GraphQL enums are the same words in
capitals, the webhook's ``financial_status`` / ``fulfillment_status`` the very same ones. Amounts:

* ``currency`` and the order's amounts are the buyer's (presentment) money;
* ``account_total``, ``account_refunded`` and ``account_discount`` are Shopify's shop money, when the shop's
  currency is the seller account's (docs/concepts/currencies.md): Shopify converted them at the rate it
  charged, which beats the site's table;
* line discounts are Shopify's discount allocations (order-level discounts are allocated to the lines too),
  and the order's ``discount`` is what is left of the total discounts (a shipping discount), so nothing is
  counted twice;
* ``external_id`` is the order's name (``#1001``), as in the CSV export, so an account first filled from files
  is updated, not doubled, once connected.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext

from ..importers.shopify import FINANCIAL_STATUS, FULFILLMENT_STATUS, charged, order_status, split_discount
from ..models import Channel, FulfilmentStatus, OrderStatus, SyncStatus
from ..services.inputs import AddressData, CustomerData, LineData, OrderData, PromoCodeData
from .base import MalformedResponse, parse_datetime_utc

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

#: ``Order.displayFulfillmentStatus`` (GraphQL) -> the ledger's fulfilment status. The states of work not yet
#: shipped (open, in progress, on hold, scheduled, declined request) are all "unfulfilled" for the ledger.
DISPLAY_FULFILLMENT_STATUS = {
    "FULFILLED": FulfilmentStatus.FULFILLED,
    "PARTIALLY_FULFILLED": FulfilmentStatus.PARTIAL,
    "RESTOCKED": FulfilmentStatus.RETURNED,
}


class ShapeError(Exception):
    """A field the documentation promises is missing or of the wrong type."""


def buyer(customer_id, *, email, name, phone):
    """Shopify's buyer, recognised by e-mail first, as the CSV import recognises it (Shopify's order exports
    carry no customer id): an account filled from exports and then connected keeps its customers instead of
    growing a second, id-keyed one per buyer. The customer id serves the buyers who gave no e-mail."""
    return CustomerData(external_id="" if email.strip() else customer_id, email=email, name=name, phone=phone)


def amount(value):
    """A money amount string ("12.30") as a Decimal in cents. Not a number, NaN or Infinity is a ``ShapeError``;
    an amount too large for the ledger is the ingestion service's to refuse (naming the order)."""
    if value is None or isinstance(value, bool):
        raise ShapeError(f"amount {value!r}")
    try:
        number = Decimal(str(value))
        if number.is_finite():
            return number.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as error:
        raise ShapeError(f"amount {value!r}") from error
    raise ShapeError(f"amount {value!r}")


def _line_total(unit_price, quantity):
    """Unit price x quantity in cents; a product with more digits than cents can have is left as it is, for the
    ingestion service to refuse as too large (naming the order)."""
    try:
        return (unit_price * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return unit_price * quantity


def money_bag(node, key, side="presentmentMoney"):
    """``node[key][side].amount`` of a GraphQL ``MoneyBag``; ZERO when the bag is null."""
    bag = node.get(key)
    if bag is None:
        return ZERO
    return amount(bag[side]["amount"])


def numeric_id(gid):
    """``gid://shopify/Customer/123`` -> ``123`` (the id the admin and the REST payloads show)."""
    return str(gid or "").rpartition("/")[2]


def _status(financial, fulfilment, cancelled_at, delivered_at):
    status = order_status(financial, fulfilment, cancelled_at)
    if status == OrderStatus.SHIPPED and delivered_at is not None:
        status = OrderStatus.DELIVERED
    if status == OrderStatus.CANCELLED and fulfilment == FulfilmentStatus.UNFULFILLED:
        fulfilment = FulfilmentStatus.CANCELLED
    return status, fulfilment


def _promo_codes(codes, discount):
    # Shopify's order lists its codes without amounts; like the CSV import, the first code carries the
    # order's discount and the others none.
    return [
        PromoCodeData(code=code, discount=discount if index == 0 else ZERO)
        for index, code in enumerate(code for code in codes if code)
    ]


def _delivered_at(fulfillment_dates):
    """The last delivery, when every fulfilment was delivered; else None."""
    if fulfillment_dates and all(fulfillment_dates):
        return max(fulfillment_dates)
    return None


def order_from_graphql(node, *, account_currency, sync_status=SyncStatus.SYNCED):
    """One GraphQL ``Order`` node (with its line items complete) as ``OrderData``."""
    try:
        return _order_from_graphql(node, account_currency, sync_status)
    except (KeyError, TypeError, AttributeError, ValueError, ShapeError) as error:
        name = node.get("name", "?") if isinstance(node, dict) else "?"
        raise MalformedResponse(
            gettext("Shopify order %(name)s is not the documented shape (%(error)s).") % {"name": name, "error": error}
        ) from error


def _kept_quantity(quantity, current_quantity, refunded_units, cancelled):
    """A line's quantity and returned units, without the units an order edit removed.

    ``quantity`` counts the units removed by an edit; ``currentQuantity`` ("The number of units ordered,
    excluding refunded and removed units") counts neither, so the refunded units are added back. A cancelled
    order, or an answer without ``currentQuantity`` (older payloads), keeps the quantity ordered.
    """
    quantity = int(quantity)
    if current_quantity is not None and not cancelled:
        quantity = max(min(quantity, int(current_quantity) + refunded_units), 0)
    return quantity, min(refunded_units, quantity)


def _order_from_graphql(node, account_currency, sync_status):
    refunded_by_line = {}
    refund_dates = []
    for refund in node.get("refunds") or []:
        refund_dates.append(parse_datetime_utc(refund.get("createdAt")))
        for item in refund["refundLineItems"]["nodes"]:
            line_id = item["lineItem"]["id"]
            refunded_by_line[line_id] = refunded_by_line.get(line_id, 0) + int(item["quantity"])

    cancelled = parse_datetime_utc(node.get("cancelledAt")) is not None
    lines = []
    for item in node["lineItems"]["nodes"]:
        quantity, returned = _kept_quantity(
            item["quantity"], item.get("currentQuantity"), refunded_by_line.get(item["id"], 0), cancelled
        )
        unit_price = money_bag(item, "originalUnitPriceSet")
        discount = sum(
            (money_bag(allocation, "allocatedAmountSet") for allocation in item["discountAllocations"]), ZERO
        )
        lines.append(
            LineData(
                sku=item.get("sku") or "",
                product_name=item.get("name") or "",
                quantity=quantity,
                unit_price=unit_price,
                line_total=_line_total(unit_price, quantity),
                discount=discount,
                returned_quantity=returned,
            )
        )

    fulfillments = node.get("fulfillments") or []
    shipped_dates = [parse_datetime_utc(fulfillment["createdAt"]) for fulfillment in fulfillments]
    delivered_at = _delivered_at([parse_datetime_utc(fulfillment.get("deliveredAt")) for fulfillment in fulfillments])
    financial = (node.get("displayFinancialStatus") or "").lower()
    fulfilment = DISPLAY_FULFILLMENT_STATUS.get(node["displayFulfillmentStatus"], FulfilmentStatus.UNFULFILLED)
    cancelled_at = parse_datetime_utc(node.get("cancelledAt"))
    status, fulfilment = _status(financial, fulfilment, cancelled_at, delivered_at)

    total_discount = money_bag(node, "totalDiscountsSet")
    discount = split_discount(total_discount, lines)
    customer = node.get("customer") or {}
    email_node = customer.get("defaultEmailAddress") or {}
    phone_node = customer.get("defaultPhoneNumber") or {}
    address = node.get("shippingAddress") or {}
    shop_currency = node["totalPriceSet"]["shopMoney"]["currencyCode"]
    in_account_currency = shop_currency == account_currency
    processed_at = parse_datetime_utc(node.get("processedAt"))
    return OrderData(
        external_id=node["name"],
        placed_at=parse_datetime_utc(node["createdAt"]),
        customer=buyer(
            numeric_id(customer.get("id")),
            email=node.get("email") or email_node.get("emailAddress") or "",
            name=customer.get("displayName") or address.get("name") or "",
            phone=node.get("phone") or phone_node.get("phoneNumber") or "",
        ),
        status=status,
        fulfilment_status=fulfilment,
        sync_status=sync_status,
        channel=Channel.SHOPIFY,
        currency=node["totalPriceSet"]["presentmentMoney"]["currencyCode"],
        subtotal=None if lines else money_bag(node, "subtotalPriceSet") + total_discount,
        discount=discount,
        shipping=money_bag(node, "totalShippingPriceSet"),
        tax=money_bag(node, "totalTaxSet"),
        total=charged(money_bag(node, "totalPriceSet"), status, financial, money_bag(node, "totalRefundedSet")),
        refunded=money_bag(node, "totalRefundedSet"),
        account_total=charged(
            money_bag(node, "totalPriceSet", "shopMoney"), status, financial, money_bag(node, "totalRefundedSet")
        )
        if in_account_currency
        else None,
        account_refunded=money_bag(node, "totalRefundedSet", "shopMoney") if in_account_currency else None,
        account_discount=money_bag(node, "totalDiscountsSet", "shopMoney") if in_account_currency else None,
        ship_to=AddressData(
            name=address.get("name") or "",
            line1=address.get("address1") or "",
            line2=address.get("address2") or "",
            postal_code=address.get("zip") or "",
            city=address.get("city") or "",
            state=address.get("provinceCode") or address.get("province") or "",
            country=address.get("countryCodeV2") or "",
            phone=address.get("phone") or "",
        ),
        lines=lines,
        promo_codes=_promo_codes(node.get("discountCodes") or [], total_discount),
        # The Order object has no payment date without its transactions; for a paid order, the moment it was
        # processed (the checkout's payment, for online orders) stands for it.
        paid_at=processed_at
        if FINANCIAL_STATUS.get(financial) not in (None, OrderStatus.PENDING, OrderStatus.CANCELLED)
        else None,
        shipped_at=min(shipped_dates) if shipped_dates else None,
        delivered_at=delivered_at,
        cancelled_at=cancelled_at,
        refunded_at=max(filter(None, refund_dates), default=None),
    )


def order_from_webhook(payload, *, account_currency):
    """The REST-shaped order of ``orders/create`` and ``orders/updated`` as ``OrderData`` ("pending")."""
    try:
        return _order_from_rest(payload, account_currency)
    except (KeyError, TypeError, AttributeError, ValueError, ShapeError) as error:
        raise MalformedResponse(
            gettext("The Shopify webhook's order is not the documented shape (%(error)s).") % {"error": error}
        ) from error


def _set_amount(payload, key, side="presentment_money"):
    bag = payload.get(key)
    if bag is None:
        return ZERO
    return amount(bag[side]["amount"])


def _order_from_rest(payload, account_currency):
    refunded_by_line = {}
    refund_dates = []
    refunded = ZERO
    for refund in payload.get("refunds") or []:
        refund_dates.append(parse_datetime_utc(refund.get("created_at")))
        for item in refund.get("refund_line_items") or []:
            line_id = item["line_item_id"]
            refunded_by_line[line_id] = refunded_by_line.get(line_id, 0) + int(item["quantity"])
        for transaction in refund.get("transactions") or []:
            if transaction.get("kind") == "refund" and transaction.get("status") == "success":
                refunded += amount(transaction["amount"])

    cancelled = parse_datetime_utc(payload.get("cancelled_at")) is not None
    lines = []
    for item in payload["line_items"]:
        quantity, returned = _kept_quantity(
            item["quantity"], item.get("current_quantity"), refunded_by_line.get(item["id"], 0), cancelled
        )
        unit_price = _set_amount(item, "price_set") if item.get("price_set") else amount(item["price"])
        discount = sum(
            (_set_amount(allocation, "amount_set") for allocation in item.get("discount_allocations") or []), ZERO
        )
        lines.append(
            LineData(
                sku=item.get("sku") or "",
                product_name=item.get("name") or "",
                quantity=quantity,
                unit_price=unit_price,
                line_total=_line_total(unit_price, quantity),
                discount=discount,
                returned_quantity=returned,
            )
        )

    fulfillments = payload.get("fulfillments") or []
    shipped_dates = [parse_datetime_utc(fulfillment["created_at"]) for fulfillment in fulfillments]
    delivered = [fulfillment.get("shipment_status") == "delivered" for fulfillment in fulfillments]
    financial = (payload.get("financial_status") or "").lower()
    fulfilment = FULFILLMENT_STATUS.get((payload.get("fulfillment_status") or "").lower(), FulfilmentStatus.UNFULFILLED)
    cancelled_at = parse_datetime_utc(payload.get("cancelled_at"))
    # The REST fulfilment names no delivery date; its last update stands for it once the carrier says delivered.
    delivered_at = (
        max(
            parse_datetime_utc(fulfillment.get("updated_at") or fulfillment["created_at"])
            for fulfillment in fulfillments
        )
        if fulfillments and all(delivered)
        else None
    )
    status, fulfilment = _status(financial, fulfilment, cancelled_at, delivered_at)

    total_discount = _set_amount(payload, "total_discounts_set")
    customer = payload.get("customer") or {}
    address = payload.get("shipping_address") or {}
    shop_currency = payload["total_price_set"]["shop_money"]["currency_code"]
    in_account_currency = shop_currency == account_currency
    codes = payload.get("discount_codes") or []
    processed_at = parse_datetime_utc(payload.get("processed_at"))
    customer_name = " ".join(filter(None, (customer.get("first_name"), customer.get("last_name"))))
    return OrderData(
        external_id=payload["name"],
        placed_at=parse_datetime_utc(payload["created_at"]),
        customer=buyer(
            str(customer.get("id") or ""),
            email=payload.get("email") or customer.get("email") or "",
            name=customer_name or address.get("name") or "",
            phone=payload.get("phone") or customer.get("phone") or "",
        ),
        status=status,
        fulfilment_status=fulfilment,
        sync_status=SyncStatus.PENDING,
        channel=Channel.SHOPIFY,
        currency=payload["total_price_set"]["presentment_money"]["currency_code"],
        subtotal=None if lines else _set_amount(payload, "subtotal_price_set") + total_discount,
        discount=split_discount(total_discount, lines),
        shipping=_set_amount(payload, "total_shipping_price_set"),
        tax=_set_amount(payload, "total_tax_set"),
        total=charged(_set_amount(payload, "total_price_set"), status, financial, refunded),
        refunded=refunded,
        # The payload has no refunded total in shop money: that one is converted at the rate the totals imply.
        account_total=charged(_set_amount(payload, "total_price_set", "shop_money"), status, financial, refunded)
        if in_account_currency
        else None,
        account_discount=_set_amount(payload, "total_discounts_set", "shop_money") if in_account_currency else None,
        ship_to=AddressData(
            name=address.get("name") or "",
            line1=address.get("address1") or "",
            line2=address.get("address2") or "",
            postal_code=address.get("zip") or "",
            city=address.get("city") or "",
            state=address.get("province_code") or address.get("province") or "",
            country=address.get("country_code") or "",
            phone=address.get("phone") or "",
        ),
        lines=lines,
        # Here each code has its amount.
        promo_codes=[
            PromoCodeData(code=code["code"], discount=amount(code.get("amount") or "0"))
            for code in codes
            if code.get("code")
        ],
        paid_at=processed_at
        if FINANCIAL_STATUS.get(financial) not in (None, OrderStatus.PENDING, OrderStatus.CANCELLED)
        else None,
        shipped_at=min(shipped_dates) if shipped_dates else None,
        delivered_at=delivered_at,
        cancelled_at=cancelled_at,
        refunded_at=max(filter(None, refund_dates), default=None),
    )
