"""Seeded, realistic demo orders over three seller accounts (used by ``customers_demo_data`` and the benchmarks).

Repeat buyers follow a long tail (most buy once, a few buy often); about a fifth of the orders use
a promo code, some lines are returned, some orders refunded or cancelled, a few carry negative
feedback, and addresses span several countries (as ISO 3166-1 codes, like every stored country).
The same seed gives the same data.
"""

import random
from datetime import datetime, timedelta
from decimal import Decimal

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
PLACES = {
    "USD": [("US", "NY", "New York", "100"), ("US", "CA", "Los Angeles", "900"),
            ("US", "TX", "Austin", "787"), ("US", "IL", "Chicago", "606"),
            ("CA", "ON", "Toronto", "M5V")],
    "EUR": [("DE", "BE", "Berlin", "101"), ("FR", "IDF", "Paris", "750"), ("IT", "RM", "Rome", "001"),
            ("NL", "NH", "Amsterdam", "101"), ("ES", "M", "Madrid", "280"),
            ("PL", "MZ", "Warsaw", "00-")],
    "GBP": [("GB", "ENG", "London", "SW1"), ("GB", "ENG", "Manchester", "M1 "),
            ("GB", "SCT", "Edinburgh", "EH1"), ("IE", "D", "Dublin", "D02")],
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


def demo_accounts():
    return ACCOUNTS


def generate_orders(customers, orders, seed=1, start=None, days=730):
    """Yield ``(account_index, OrderData)`` for ``orders`` orders from ``customers`` buyers."""
    rng = random.Random(seed)
    start = start or timezone.make_aware(datetime(2024, 1, 1))
    people = [_person(rng, index) for index in range(customers)]
    # Every customer orders once; the rest of the orders go to a long tail of repeat buyers.
    weights = [rng.paretovariate(1.2) for _ in range(customers)]
    buyers = list(range(customers)) + rng.choices(range(customers), weights=weights, k=max(0, orders - customers))
    rng.shuffle(buyers)
    for number, buyer in enumerate(buyers[:orders], start=1):
        yield people[buyer]["account"], _order(rng, number, people[buyer], start, days)


def _person(rng, index):
    account = rng.choices((0, 1, 2), weights=(5, 3, 2))[0]
    currency = ACCOUNTS[account]["currency"]
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    country, state, city, postal = rng.choice(PLACES[currency])
    return {
        "account": account,
        "buyer_id": f"B{index:07d}" if account == 0 else "",
        "name": f"{first} {last.replace('-', ' ')}",
        "email": f"{first}.{last}.{index}@example.com".lower().replace("'", ""),
        "phone": f"+1 555 {index % 10000:04d}" if rng.random() < 0.6 else "",
        "address": AddressData(
            name=f"{first} {last}",
            line1=f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
            postal_code=f"{postal}{rng.randint(10, 99)}",
            city=city,
            state=state,
            country=country,
        ),
    }


def _order(rng, number, person, start, days):
    placed_at = start + timedelta(minutes=rng.randrange(days * 24 * 60))
    lines = []
    for _ in range(rng.choices((1, 2, 3, 4), weights=(55, 28, 12, 5))[0]):
        sku, name, price = rng.choice(PRODUCTS)
        quantity = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
        unit_price = Decimal(price)
        lines.append(
            LineData(
                sku=sku,
                product_name=name,
                quantity=quantity,
                unit_price=unit_price,
                line_total=unit_price * quantity,
                unit_cost=(unit_price * Decimal("0.45")).quantize(Decimal("0.01")) if rng.random() < 0.9 else None,
            )
        )
    subtotal = sum((line.line_total for line in lines), Decimal("0"))
    promo_codes, discount = [], Decimal("0")
    if rng.random() < 0.2:
        discount = (subtotal * Decimal("0.10")).quantize(Decimal("0.01"))
        promo_codes.append(PromoCodeData(rng.choice(PROMO_CODES), discount))
    shipping = Decimal("4.90") if subtotal < 40 else Decimal("0")
    total = subtotal - discount + shipping
    roll = rng.random()
    status, fulfilment, refunded, cancelled_at = OrderStatus.DELIVERED, FulfilmentStatus.FULFILLED, Decimal("0"), None
    if roll < 0.04:
        status, fulfilment, refunded = OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED, total
        cancelled_at = placed_at + timedelta(hours=2)
    elif roll < 0.10:
        lines[0].returned_quantity = lines[0].quantity
        status, fulfilment = OrderStatus.RETURNED, FulfilmentStatus.RETURNED
        refunded = lines[0].line_total
    elif roll < 0.13:
        status, refunded = OrderStatus.PARTIALLY_REFUNDED, (total / 2).quantize(Decimal("0.01"))
    elif placed_at > timezone.now() - timedelta(days=3):
        status, fulfilment = OrderStatus.PAID, FulfilmentStatus.UNFULFILLED
    feedback = None
    if rng.random() < 0.08:
        rating = rng.choices((1, 2, 3, 4, 5), weights=(3, 2, 2, 5, 12))[0]
        feedback = FeedbackData(rating=rating, comment="Slow delivery" if rating <= 2 else "Great, thanks")
    shipped = status not in (OrderStatus.CANCELLED, OrderStatus.PAID)
    return OrderData(
        external_id=f"{['AMZ', 'SHP', 'EBY'][person['account']]}-{number:08d}",
        placed_at=placed_at,
        customer=CustomerData(
            external_id=person["buyer_id"], email=person["email"], name=person["name"], phone=person["phone"]
        ),
        status=status,
        fulfilment_status=fulfilment,
        sync_status=SyncStatus.ERROR if rng.random() < 0.01 else SyncStatus.SYNCED,
        discount=discount,
        shipping=shipping,
        total=total,
        refunded=refunded,
        channel_fees=(total * Decimal("0.15")).quantize(Decimal("0.01")) if person["account"] == 0 else None,
        fulfilment_cost=Decimal("3.20") if shipped else None,
        ship_to=person["address"],
        lines=lines,
        promo_codes=promo_codes,
        feedback=feedback,
        paid_at=placed_at + timedelta(minutes=5),
        shipped_at=placed_at + timedelta(days=1) if shipped else None,
        delivered_at=placed_at + timedelta(days=3) if shipped else None,
        cancelled_at=cancelled_at,
    )
