"""``manage.py customers_salesman_backfill``: record the salesman orders placed before the integration."""

from datetime import date

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from ....shops import backfill
from ...adapter import order_model, seller_account, to_order_data


class Command(BaseCommand):
    help = "Record every django-salesman order in the seller account SALESMAN_SELLER_ACCOUNT names."

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", type=date.fromisoformat, help="only orders created on or after this date (YYYY-MM-DD)"
        )
        parser.add_argument("--batch-size", type=int, default=500, help="orders per transaction (default 500)")

    def handle(self, *args, since=None, batch_size=500, **options):
        try:
            account = seller_account()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        orders = order_model()._default_manager.order_by("date_created", "pk")
        if since:
            orders = orders.filter(date_created__date__gte=since)
        orders = orders.prefetch_related("items", "payments").select_related("user")
        result = backfill(orders.iterator(chunk_size=batch_size), to_order_data, account, batch_size=batch_size)
        self.stdout.write(
            f"{account}: {result.orders_created} orders created, {result.orders_updated} updated, "
            f"{result.orders_unchanged} unchanged."
        )
