"""The Details tab: contact details, other addresses, promo codes, figures and the spend chart.

Three queries whatever the number of orders: the distinct addresses, the promo codes grouped by code,
and the monthly spend.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, F, Max, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from ...countries import country_name
from ...insight.display import days_since, decimal_text, percent_text
from ...local_time import local_datetime
from ...models import CustomerScore, LifetimeValueFit, Order, PromoCodeUsage
from ...services.personal_data import HiddenValue, is_hidden, is_masked

ADDRESS_FIELDS = tuple(name for name in Order.SHIP_TO_FIELDS if name != "ship_phone")
#: The customer's own address, and the same fields of an order's ship-to address (``ship_`` + the name).
OWN_ADDRESS_FIELDS = ("address_line1", "address_line2", "postal_code", "city", "state", "country")
#: An order's ship-to place (its address without the recipient's name), in ``address_lines``' order.
PLACE_FIELDS = tuple(f"ship_{name}" for name in OWN_ADDRESS_FIELDS)
#: Most addresses and promo codes listed; the page says when there are more.
MAX_ADDRESSES = 20
MAX_PROMO_CODES = 50
CHART_MONTHS = 12


def address_lines(name="", line1="", line2="", postal_code="", city="", state="", country=""):
    """An address as display lines, empty parts left out; the country named in the user's language."""
    if any(is_hidden(part) for part in (name, line1, line2, postal_code, city, state)):
        # Masked for the user (services/personal_data.py): one "hidden" line; the country names nobody.
        return [line for line in (HiddenValue(), country_name(country)) if line]
    place = " ".join(part for part in (postal_code, city) if part)
    lines = [name, line1, line2, ", ".join(part for part in (place, state) if part), country_name(country)]
    return [line for line in lines if line]


def customer_address(customer):
    return address_lines(
        "",
        customer.address_line1,
        customer.address_line2,
        customer.postal_code,
        customer.city,
        customer.state,
        customer.country,
    )


def other_addresses(customer):
    """``(addresses, more)``: ship-to addresses on the customer's orders other than the customer's own, the latest
    used first; the same place under several recipient names is one address (one of the names shown).

    One query: the database leaves out the customer's own address (compared with its stored row, so a masked
    ``customer`` works alike) and blank addresses, groups the rest by place and cuts after ``MAX_ADDRESSES``, so
    many recipient names at the customer's own address cannot crowd the other addresses out.
    """
    own = {f"ship_{name}": F(f"customer__{name}") for name in OWN_ADDRESS_FIELDS}
    blank = {f"ship_{name}": "" for name in OWN_ADDRESS_FIELDS}
    rows = list(
        customer.orders.exclude(**own)
        .exclude(**blank)
        .order_by()
        .values(*PLACE_FIELDS)
        .annotate(name=Max("ship_name"), latest=Max("placed_at"))
        .order_by("-latest", *PLACE_FIELDS)[: MAX_ADDRESSES + 1]
    )
    masked = is_masked(customer)
    addresses = [
        address_lines(HiddenValue() if masked else row["name"], *(row[name] for name in PLACE_FIELDS))
        for row in rows[:MAX_ADDRESSES]
    ]
    return addresses, len(rows) > MAX_ADDRESSES


def promo_codes(customer):
    """``(codes, more)``: the codes the customer used, with their uses and discount, most used first."""
    rows = list(
        PromoCodeUsage.objects.filter(order__customer=customer)
        .values("code")
        .annotate(uses=Count("id"), discount=Sum("discount"))
        .order_by("-uses", "code")[: MAX_PROMO_CODES + 1]
    )
    return rows[:MAX_PROMO_CODES], len(rows) > MAX_PROMO_CODES


def return_rate(customer):
    """Returned units over units bought (orders not cancelled), in percent (the stored figure); ``None`` with
    no units."""
    return customer.return_rate if customer.units > 0 else None


def insight(customer):
    """The Buyer insight panel: the customer's scores (None until a refresh scores them), the account's
    latest model fit, and the figures as text."""
    score = CustomerScore.objects.filter(customer_id=customer.pk).first()
    fit = LifetimeValueFit.objects.filter(account_id=customer.account_id).first()
    probability = score.probability_active if score else None
    return {
        "score": score,
        "fit": fit,
        "group_class": score.rfm_group.replace("_", "-") if score else "",
        "days_since_last_order": days_since(customer.last_order_at, timezone.now()),
        "expected_orders": (
            decimal_text(score.expected_orders, 1) if score and score.expected_orders is not None else ""
        ),
        "probability_active": percent_text(probability * 100, decimals=0) if probability is not None else "",
    }


@dataclass(frozen=True)
class ChartBar:
    month: date
    amount: Decimal
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class SpendChart:
    currency: str
    bars: list
    maximum: Decimal
    width: int
    height: int
    bar_width: float
    #: Orders of these months with no exchange rate into the account's currency: left out of the bars.
    unconverted_orders: int = 0

    @property
    def first(self):
        return self.bars[0].month

    @property
    def last(self):
        return self.bars[-1].month

    @property
    def has_spend(self):
        return any(bar.amount for bar in self.bars)


def _months_ending(last, count):
    year, month = last.year, last.month
    months = []
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def spend_chart(customer, months=CHART_MONTHS, width=600, height=160):
    """Spend (total - refunded, in the account's currency) per month, for the months up to the last order.

    Every order counts with its amounts converted into the account's currency (``account_total`` and
    ``account_refunded``); one with no exchange rate is left out of its bar and counted in
    ``unconverted_orders``, so the chart says it is incomplete rather than showing it as 0.
    """
    last = local_datetime(customer.last_order_at or timezone.now())
    month_list = _months_ending(last, months)
    start = datetime(month_list[0].year, month_list[0].month, 1)
    if settings.USE_TZ:  # a site without time zones stores naive datetimes, and its database refuses aware ones
        start = timezone.make_aware(start)
    rows = (
        customer.orders.filter(placed_at__gte=start)
        .order_by()
        .annotate(month=TruncMonth("placed_at"))
        .values("month")
        .annotate(
            # NULL (no rate) minus anything is NULL, which SUM skips.
            spent=Sum(
                F("account_total") - F("account_refunded"), output_field=DecimalField(max_digits=16, decimal_places=2)
            ),
            unconverted=Count("pk", filter=Q(account_total__isnull=True)),
        )
    )
    spent = {}
    unconverted = 0
    for row in rows:
        month = row["month"]
        month = month.date() if hasattr(month, "date") else month
        spent[month.replace(day=1)] = row["spent"] or Decimal("0")
        unconverted += row["unconverted"]
    amounts = [spent.get(month, Decimal("0")) for month in month_list]
    maximum = max([*amounts, Decimal("0")])
    slot = width / months
    bar_width = round(slot * 0.7, 1)
    bars = []
    for index, (month, amount) in enumerate(zip(month_list, amounts, strict=True)):
        bar_height = float(max(amount, 0) / maximum) * height if maximum > 0 else 0.0
        bars.append(
            ChartBar(
                month=month,
                amount=amount,
                x=round(index * slot + (slot - bar_width) / 2, 1),
                y=round(height - bar_height, 1),
                height=round(bar_height, 1),
            )
        )
    return SpendChart(customer.account.currency, bars, maximum, width, height, bar_width, unconverted)
