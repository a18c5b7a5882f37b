"""Orders keep their money in their seller account's currency too; customers count the orders that could not
be converted.

The data step fills the new columns of existing orders and corrects the statistics it changes, so that
nothing waits for the next rebuild:

* orders in their account's currency (almost all of them): rate 1, the order's own amounts, in one
  UPDATE per seller account;
* orders in another currency: converted at the order's date from the site's rate table
  (wagtail_customers.exchange_rates, the contract the ingestion service uses too), 2,000 per round trip;
  without a rate the amounts stay NULL and the order is "unknown";
* customers with such orders: ``amount_spent``, ``discount_total`` and ``unconverted_orders`` recomputed
  from the converted amounts (before, those orders' money was left out). The other customers' figures
  do not change: their orders' converted amounts are the amounts they were computed from.

Reversing drops the columns; the statistics then hold the converted amounts until the next rebuild.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations, models
from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

CENT = Decimal("0.01")
CHUNK = 2000
MONEY = DecimalField(max_digits=16, decimal_places=2)


def _line_discounts(OrderLine):
    return Coalesce(
        Subquery(
            OrderLine.objects.filter(order=OuterRef("pk"))
            .order_by()
            .values("order")
            .annotate(total=Sum("discount"))
            .values("total"),
            output_field=MONEY,
        ),
        Value(Decimal("0")),
        output_field=MONEY,
    )


def fill_converted_amounts(apps, schema_editor):
    from wagtail_customers.exchange_rates import quantized_rate, rate_for

    SellerAccount = apps.get_model("wagtail_customers", "SellerAccount")
    Order = apps.get_model("wagtail_customers", "Order")
    OrderLine = apps.get_model("wagtail_customers", "OrderLine")
    Customer = apps.get_model("wagtail_customers", "Customer")
    site_zone = timezone.get_default_timezone()

    affected_customers = set()
    for account in SellerAccount.objects.all():
        orders = Order.objects.filter(account=account)
        orders.filter(currency=account.currency).update(
            exchange_rate=Decimal(1),
            rate_source="same",
            account_total=F("total"),
            account_refunded=F("refunded"),
            account_discount=F("discount") + _line_discounts(OrderLine),
        )
        foreign = orders.exclude(currency=account.currency).order_by("pk")
        last_pk = 0
        while True:
            chunk = list(
                foreign.filter(pk__gt=last_pk)
                .annotate(line_discounts=_line_discounts(OrderLine))
                .only("pk", "customer_id", "currency", "placed_at", "total", "refunded", "discount")[:CHUNK]
            )
            if not chunk:
                break
            last_pk = chunk[-1].pk
            for order in chunk:
                affected_customers.add(order.customer_id)
                day = timezone.localtime(order.placed_at, site_zone).date() if timezone.is_aware(order.placed_at) else order.placed_at.date()
                rate = rate_for(order.currency, account.currency, day)
                if rate is None:
                    order.exchange_rate = order.account_total = order.account_refunded = order.account_discount = None
                    order.rate_source = "unknown"
                    continue
                order.exchange_rate = quantized_rate(rate)
                order.rate_source = "table"
                order.account_total = (order.total * rate).quantize(CENT, rounding=ROUND_HALF_UP)
                order.account_refunded = (order.refunded * rate).quantize(CENT, rounding=ROUND_HALF_UP)
                order.account_discount = ((order.discount + order.line_discounts) * rate).quantize(
                    CENT, rounding=ROUND_HALF_UP
                )
                if max(abs(order.account_total), abs(order.account_refunded), abs(order.account_discount)) >= 10**12:
                    # Too large for the amount columns: unknown, as services.conversion does.
                    order.exchange_rate = order.account_total = order.account_refunded = order.account_discount = None
                    order.rate_source = "unknown"
            Order.objects.bulk_update(
                chunk, ["exchange_rate", "rate_source", "account_total", "account_refunded", "account_discount"]
            )

    customer_orders = Order.objects.filter(customer=OuterRef("pk")).order_by().values("customer")
    converted = Q(account_total__isnull=False)
    affected = sorted(affected_customers)
    for start in range(0, len(affected), CHUNK):
        Customer.objects.filter(pk__in=affected[start : start + CHUNK]).update(
            amount_spent=Coalesce(
                Subquery(
                    customer_orders.annotate(
                        s=Sum(F("account_total") - F("account_refunded"), filter=converted, output_field=MONEY)
                    ).values("s"),
                    output_field=MONEY,
                ),
                Value(Decimal("0")),
                output_field=MONEY,
            ),
            discount_total=Coalesce(
                Subquery(
                    customer_orders.annotate(s=Sum("account_discount", filter=converted, output_field=MONEY)).values(
                        "s"
                    ),
                    output_field=MONEY,
                ),
                Value(Decimal("0")),
                output_field=MONEY,
            ),
            unconverted_orders=Coalesce(
                Subquery(customer_orders.annotate(n=Count("pk", filter=~converted)).values("n")),
                Value(0),
            ),
        )




class Migration(migrations.Migration):

    dependencies = [
        ('wagtail_customers', '0006_country_codes'),
    ]

    operations = [
        migrations.AddField(
            model_name='customer',
            name='unconverted_orders',
            field=models.PositiveIntegerField(default=0, verbose_name='orders not converted'),
        ),
        migrations.AddField(
            model_name='order',
            name='account_discount',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name="discount in the account's currency"),
        ),
        migrations.AddField(
            model_name='order',
            name='account_refunded',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name="refunded in the account's currency"),
        ),
        migrations.AddField(
            model_name='order',
            name='account_total',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name="total in the account's currency"),
        ),
        migrations.AddField(
            model_name='order',
            name='exchange_rate',
            field=models.DecimalField(blank=True, decimal_places=10, max_digits=20, null=True, verbose_name='exchange rate'),
        ),
        migrations.AddField(
            model_name='order',
            name='rate_source',
            field=models.CharField(choices=[('same', 'Same currency'), ('channel', "Channel's converted amounts"), ('table', 'Exchange-rate table'), ('unknown', 'No rate known')], default='unknown', max_length=10, verbose_name='rate source'),
        ),
        migrations.RunPython(fill_converted_amounts, migrations.RunPython.noop, elidable=True),
    ]
