"""Seeded demo orders over three seller accounts that look like real shops (used by ``customers_demo_data`` and
the benchmarks).

* Dates run up to the hour the data is made (``end``), with more orders lately (a growing shop): the last
  orders are hours old, "New in the last 30 days" counts customers, and no milestone lies in the future (a
  recent order is paid, then shipped, then delivered; only delivered orders come back).
* About 40 % of the buyers order once; the others follow a long tail, and no customer holds more than a
  small share of all orders (``max_orders_per_customer``).
* Order ids as each channel writes them (Amazon ``114-1234567-1234567``, Shopify ``#1001``, eBay
  ``12-34567-89012``), numbered in time order.
* About a fifth of the orders use a promo code; some lines are returned, some orders refunded or cancelled,
  and a refund is never more than was paid; a few orders carry negative feedback.
* Addresses in several countries, as ISO 3166-1 codes (like every stored country), with postal codes and
  phone numbers written the way each country writes them.
* Shopify EU (EUR) also sells to buyers in the United Kingdom in GBP (Shopify Markets): about 15 % of its
  orders. Those of the last ``CHANNEL_FIGURES_DAYS`` days come with Shopify's own EUR figures (its "shop
  money", as its API gives them); older ones, as if imported from a CSV export without them, are converted by
  the ingestion service from the site's exchange-rate table.

The same seed and ``end`` give the same data.
"""

import math
import random
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from ..models import Channel, FulfilmentStatus, OrderStatus, SyncStatus
from ..services.inputs import AddressData, CustomerData, FeedbackData, LineData, OrderData, PromoCodeData

ACCOUNTS = [
    {
        "name": "Amazon US",
        "channel": Channel.AMAZON,
        "marketplace": "amazon.com",
        "currency": "USD",
        "contact_url_template": "https://sellercentral.amazon.com/messaging/contact?orderID={order_id}"
        "&marketplaceID={marketplace}",
    },
    {"name": "Shopify EU", "channel": Channel.SHOPIFY, "marketplace": "EU", "currency": "EUR"},
    {"name": "eBay UK", "channel": Channel.EBAY, "marketplace": "ebay.co.uk", "currency": "GBP"},
]
AMAZON, SHOPIFY, EBAY = range(3)
#: How the buyers spread over the accounts.
ACCOUNT_WEIGHTS = (5, 3, 2)
FIRST_NAMES = (
    "Olivia Liam Emma Noah Amelia Oliver Ava Elijah Sophia Mateo Isabella Lucas Mia Levi Charlotte Leo Luna "
    "Ezra Harper Luca Evelyn Asher Aurora James Ella Ethan Nora Hugo Chloe Jonas Lea Finn Marie Paul Sofia "
    "Ahmed Priya Wei Yuki Carlos Ana Giulia Marco Lars Ingrid Pierre Camille Anouk Jan Zofia"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Müller Schmidt Schneider "
    "Fischer Weber Dubois Martin Bernard Rossi Russo Bianchi Jansen de-Vries Nowak Kowalski Svensson "
    "Nielsen Tanaka Suzuki Wang Li Patel Singh O'Brien Murphy Kelly Walsh Silva Santos Costa"
).split()
# (country, state, city, postal code pattern: "#" a digit, "@" a letter), by the currency the buyers pay in.
PLACES = {
    "USD": [("US", "NY", "New York", "100##"), ("US", "CA", "Los Angeles", "900##"),
            ("US", "TX", "Austin", "787##"), ("US", "IL", "Chicago", "606##"),
            ("CA", "ON", "Toronto", "M5V #@#")],
    "EUR": [("DE", "BE", "Berlin", "101##"), ("FR", "IDF", "Paris", "750##"), ("IT", "RM", "Rome", "001##"),
            ("NL", "NH", "Amsterdam", "101# @@"), ("ES", "M", "Madrid", "280##"),
            ("PL", "MZ", "Warsaw", "00-###"), ("IE", "D", "Dublin", "D02 @###")],
    "GBP": [("GB", "ENG", "London", "SW1A #@@"), ("GB", "ENG", "Manchester", "M1 #@@"),
            ("GB", "SCT", "Edinburgh", "EH1 #@@"), ("GB", "WLS", "Cardiff", "CF10 #@@")],
}  # fmt: skip
#: International calling codes of the countries above.
CALLING_CODES = {
    "US": "1", "CA": "1", "DE": "49", "FR": "33", "IT": "39", "NL": "31", "ES": "34", "PL": "48", "IE": "353",
    "GB": "44",
}  # fmt: skip
PRODUCTS = [
    ("MUG-01", "Ceramic mug", "12.50"), ("TEE-BLK-M", "T-shirt black M", "19.90"),
    ("TEE-WHT-L", "T-shirt white L", "19.90"), ("CAP-01", "Baseball cap", "15.00"),
    ("BAG-TOTE", "Canvas tote bag", "24.00"), ("BOTTLE-75", "Steel bottle 750 ml", "29.00"),
    ("NOTE-A5", "A5 notebook", "8.90"), ("LAMP-DESK", "Desk lamp", "49.00"),
    ("HOOD-GRY-M", "Hoodie grey M", "44.00"), ("SOCK-3P", "Socks, 3 pairs", "11.00"),
]  # fmt: skip
PROMO_CODES = ["WELCOME10", "SUMMER15", "VIP20", "FREESHIP", "BLACKFRIDAY"]
STREETS = ["Main Street", "High Street", "Station Road", "Church Lane", "Park Avenue", "Mill Road"]

#: Shopify EU's buyers in the United Kingdom pay in GBP; prices there are the EUR prices times ``price_factor``.
SECOND_CURRENCY = {"account": SHOPIFY, "currency": "GBP", "share": 0.15, "price_factor": Decimal("0.86")}
#: Second-currency orders this recent carry the channel's own converted figures.
CHANNEL_FIGURES_DAYS = 120
#: The channel's EUR per GBP (Shopify's rates, near the ECB's).
CHANNEL_RATE_RANGE = (1.14, 1.20)

#: Share of buyers who order once and never again.
ONE_TIME_SHARE = 0.4
#: Pareto shape of how often the others come back (larger: a thinner tail).
LOYALTY_ALPHA = 2.5
#: No customer holds more than this share of all orders (when there are enough customers to spread them)...
MAX_ORDER_SHARE = 0.005
#: ... nor more than this many orders.
MAX_ORDERS = 250
#: Order dates lean to recent ones: the share of orders in the last ``d`` of ``days`` days is
#: ``(d / days) ** (1 / GROWTH)`` (about 9 % in the last 30 of 730 days).
GROWTH = 1.3
MINUTES_PER_DAY = 24 * 60
#: Only orders delivered this long ago have come back.
RETURN_AFTER = timedelta(days=10)
CENT = Decimal("0.01")


def demo_accounts():
    return ACCOUNTS


def default_end():
    """The start of the current hour: the same data for a seed all through the hour."""
    return timezone.now().replace(minute=0, second=0, microsecond=0)


def max_orders_per_customer(customers, orders):
    """The most orders one customer gets: ``MAX_ORDER_SHARE`` of them (at most ``MAX_ORDERS``), or twice the
    average where there are too few customers for that."""
    return max(2 * math.ceil(orders / customers), min(math.ceil(orders * MAX_ORDER_SHARE), MAX_ORDERS))


def generate_orders(customers, orders, seed=1, end=None, days=730):
    """Yield ``(account_index, OrderData)`` for ``orders`` orders from ``customers`` buyers, oldest first,
    placed over the ``days`` days before ``end`` (default: ``default_end()``)."""
    rng = random.Random(seed)
    end = end or default_end()
    people = [_person(rng, index) for index in range(customers)]
    buyers = _buyers(rng, customers, orders)
    rng.shuffle(buyers)
    # Minutes before ``end``, oldest first; paired with the shuffled buyers, each buyer's orders fall anywhere.
    ages = sorted((int(days * MINUTES_PER_DAY * rng.random() ** GROWTH) for _ in buyers), reverse=True)
    numbers = [0] * len(ACCOUNTS)
    for buyer, age in zip(buyers, ages, strict=True):
        person = people[buyer]
        numbers[person["account"]] += 1
        placed_at = end - timedelta(minutes=age)
        yield person["account"], _order(rng, numbers[person["account"]], person, placed_at, end)


def _buyers(rng, customers, orders):
    """Who places each order: every customer once, the rest drawn from the repeat buyers, with the cap."""
    cap = max_orders_per_customer(customers, orders)
    weights = [0.0 if rng.random() < ONE_TIME_SHARE else rng.paretovariate(LOYALTY_ALPHA) for _ in range(customers)]
    counts = [1] * customers
    buyers = list(range(customers))
    while len(buyers) < orders:
        if not any(weights):
            # Every repeat buyer is at the cap: the others come back too.
            weights = [1.0 if count < cap else 0.0 for count in counts]
        for buyer in rng.choices(range(customers), weights=weights, k=orders - len(buyers)):
            if counts[buyer] < cap:
                counts[buyer] += 1
                buyers.append(buyer)
            else:
                weights[buyer] = 0.0
    return buyers[:orders]


def _fill(rng, pattern):
    return "".join(
        str(rng.randint(0, 9)) if c == "#" else rng.choice("ABDEFGHJLNPQRSTUWXYZ") if c == "@" else c for c in pattern
    )


def _person(rng, index):
    account = rng.choices(range(len(ACCOUNTS)), weights=ACCOUNT_WEIGHTS)[0]
    currency = ACCOUNTS[account]["currency"]
    if account == SECOND_CURRENCY["account"] and rng.random() < SECOND_CURRENCY["share"]:
        currency = SECOND_CURRENCY["currency"]
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    country, state, city, postal_pattern = rng.choice(PLACES[currency])
    phone = f"+{CALLING_CODES[country]} {rng.randint(20, 99)} {rng.randint(100, 999)} {index % 10000:04d}"
    return {
        "account": account,
        "currency": currency,
        "buyer_id": f"B{index:07d}" if account == AMAZON else "",
        "name": f"{first} {last.replace('-', ' ')}",
        "email": f"{first}.{last}.{index}@example.com".lower().replace("'", ""),
        "phone": phone if rng.random() < 0.6 else "",
        "address": AddressData(
            name=f"{first} {last}",
            line1=f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
            postal_code=_fill(rng, postal_pattern),
            city=city,
            state=state,
            country=country,
        ),
    }


def _scrambled(number, digits, offset):
    """``number`` (below 10 ** digits) spread over ``digits`` digits, one to one: ids that do not look sequential."""
    return f"{(number * 7919 + offset) % 10**digits:0{digits}d}"


def _order_id(rng, account, number):
    """The ``number``-th order of the account, as its channel writes order ids (unique per account)."""
    if account == AMAZON:
        return f"{rng.choice((111, 112, 113, 114))}-{_scrambled(number, 7, 1234567)}-{rng.randrange(10**7):07d}"
    if account == SHOPIFY:
        return f"#{1000 + number}"
    return f"{10 + number // 10**5:02d}-{_scrambled(number % 10**5, 5, 13579)}-{rng.randrange(10**5):05d}"


def _in_cents(amount, rate):
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def _order(rng, number, person, placed_at, end):
    currency = person["currency"]
    in_second_currency = currency != ACCOUNTS[person["account"]]["currency"]
    price_factor = SECOND_CURRENCY["price_factor"] if in_second_currency else Decimal(1)
    lines = []
    for _ in range(rng.choices((1, 2, 3, 4), weights=(55, 28, 12, 5))[0]):
        sku, name, price = rng.choice(PRODUCTS)
        quantity = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
        unit_price = (Decimal(price) * price_factor).quantize(CENT)
        lines.append(
            LineData(
                sku=sku,
                product_name=name,
                quantity=quantity,
                unit_price=unit_price,
                line_total=unit_price * quantity,
                unit_cost=(unit_price * Decimal("0.45")).quantize(CENT) if rng.random() < 0.9 else None,
            )
        )
    subtotal = sum((line.line_total for line in lines), Decimal("0"))
    promo_codes, discount = [], Decimal("0")
    if rng.random() < 0.2:
        discount = (subtotal * Decimal("0.10")).quantize(CENT)
        promo_codes.append(PromoCodeData(rng.choice(PROMO_CODES), discount))
    shipping = Decimal("4.90") if subtotal < 40 else Decimal("0")
    total = subtotal - discount + shipping

    age = end - placed_at
    shipped_at = placed_at + timedelta(days=1) if age >= timedelta(days=1) else None
    delivered_at = placed_at + timedelta(days=3) if age >= timedelta(days=3) else None
    status, fulfilment = OrderStatus.PAID, FulfilmentStatus.UNFULFILLED
    if delivered_at:
        status, fulfilment = OrderStatus.DELIVERED, FulfilmentStatus.FULFILLED
    elif shipped_at:
        status, fulfilment = OrderStatus.SHIPPED, FulfilmentStatus.FULFILLED
    refunded, cancelled_at, returned_at, refunded_at = Decimal("0"), None, None, None
    roll = rng.random()
    if roll < 0.04:
        # Cancelled within hours of being paid: all of it refunded, nothing shipped.
        status, fulfilment, refunded = OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED, total
        cancelled_at = refunded_at = min(placed_at + timedelta(hours=2), end)
        shipped_at = delivered_at = None
    elif roll < 0.10 and age >= RETURN_AFTER:
        # The first line came back: its price less its part of the order's discount (never more than paid).
        lines[0].returned_quantity = lines[0].quantity
        status, fulfilment = OrderStatus.RETURNED, FulfilmentStatus.RETURNED
        returned_share = lines[0].line_total / subtotal
        refunded = min(total, (lines[0].line_total - discount * returned_share).quantize(CENT))
        returned_at = refunded_at = placed_at + RETURN_AFTER
    elif roll < 0.13 and delivered_at:
        status, refunded = OrderStatus.PARTIALLY_REFUNDED, (total / 2).quantize(CENT)
        refunded_at = delivered_at
    feedback = None
    if rng.random() < 0.08 and delivered_at:
        rating = rng.choices((1, 2, 3, 4, 5), weights=(3, 2, 2, 5, 12))[0]
        feedback = FeedbackData(rating=rating, comment="Slow delivery" if rating <= 2 else "Great, thanks")
    channel_figures = {}
    if in_second_currency and age <= timedelta(days=CHANNEL_FIGURES_DAYS):
        # Shopify's "shop money": the order in the shop's currency, at Shopify's own rate.
        rate = Decimal(f"{rng.uniform(*CHANNEL_RATE_RANGE):.4f}")
        channel_figures = {"account_total": _in_cents(total, rate), "account_refunded": _in_cents(refunded, rate)}
    return OrderData(
        external_id=_order_id(rng, person["account"], number),
        placed_at=placed_at,
        customer=CustomerData(
            external_id=person["buyer_id"], email=person["email"], name=person["name"], phone=person["phone"]
        ),
        status=status,
        fulfilment_status=fulfilment,
        sync_status=SyncStatus.ERROR if rng.random() < 0.01 else SyncStatus.SYNCED,
        currency=currency,
        discount=discount,
        shipping=shipping,
        total=total,
        refunded=refunded,
        **channel_figures,
        channel_fees=(total * Decimal("0.15")).quantize(CENT) if person["account"] == AMAZON else None,
        fulfilment_cost=Decimal("3.20") if shipped_at else None,
        ship_to=person["address"],
        lines=lines,
        promo_codes=promo_codes,
        feedback=feedback,
        paid_at=min(placed_at + timedelta(minutes=5), end),
        shipped_at=shipped_at,
        delivered_at=delivered_at,
        cancelled_at=cancelled_at,
        returned_at=returned_at,
        refunded_at=refunded_at,
    )
