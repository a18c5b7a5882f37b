from django.core.management.base import BaseCommand, CommandError

from ...conf import get_setting
from ...exchange_rates import RateTableError
from ...services.rate_refresh import refresh_rates


class Command(BaseCommand):
    help = (
        "Update the exchange-rate table from an ECB reference-rates file (eurofxref-hist.zip, eurofxref.zip or "
        "their CSV; a path or a URL), then convert the orders whose rate was unknown."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "source", nargs="?", help="Path or http(s) URL of the file; default: the EXCHANGE_RATES_URL setting."
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Make the file the whole table (by default its days are merged into the current table).",
        )

    def handle(self, *args, source=None, replace=False, **options):
        source = source or get_setting("EXCHANGE_RATES_URL")
        if not source:
            raise CommandError("Give a file path or URL, or set WAGTAIL_CUSTOMERS['EXCHANGE_RATES_URL'].")
        try:
            result = refresh_rates(source, replace=replace)
        except RateTableError as error:
            raise CommandError(f"The exchange-rate table was not changed: {error}") from None
        table = result.table
        self.stdout.write(
            f"Exchange-rate table: {table.days} days from {table.first_date} to {table.last_date} "
            f"({table.new_days} new), {len(table.currencies)} currencies, stored in {table.location}."
        )
        self.stdout.write(
            f"Orders converted: {result.orders_converted}; still without a rate: {result.orders_still_unknown}; "
            f"customers updated: {result.customers_updated}."
        )
