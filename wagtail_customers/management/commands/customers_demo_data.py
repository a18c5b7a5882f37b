import time

from django.core.management.base import BaseCommand, CommandError

from ...demo.generator import demo_accounts, generate_orders
from ...models import Customer, SellerAccount
from ...services.ingestion import record_orders
from ...services.statistics import rebuild_statistics


class Command(BaseCommand):
    help = (
        "Create seeded demo orders (and so customers) over three seller accounts on different channels, dated "
        "over the two years up to now (see wagtail_customers/demo/generator.py)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--orders", type=int, default=10000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch-size", type=int, default=2000, help="orders per transaction (default 2000)")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the demo accounts already have customers."
        )

    def handle(self, *args, customers, orders, seed, batch_size, if_empty, **options):
        if customers < 1 or orders < customers:
            raise CommandError("--customers must be at least 1 and --orders at least --customers.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        accounts = [
            SellerAccount.objects.update_or_create(name=spec["name"], defaults=spec)[0] for spec in demo_accounts()
        ]
        if if_empty and Customer.objects.filter(account__in=accounts).exists():
            self.stdout.write("Demo data already loaded; nothing to do.")
            return
        started = time.monotonic()
        pending = {index: [] for index in range(len(accounts))}
        created = 0
        for account_index, order_data in generate_orders(customers, orders, seed=seed):
            pending[account_index].append(order_data)
            if len(pending[account_index]) >= batch_size:
                created += self._flush(accounts[account_index], pending[account_index], batch_size)
        for account_index, batch in pending.items():
            created += self._flush(accounts[account_index], batch, batch_size)
        # The bulk path skipped the per-batch refresh; one set-based pass is far cheaper here.
        rebuild_statistics()
        self.stdout.write(
            f"Demo data: {created} order(s) recorded for "
            f"{Customer.objects.filter(account__in=accounts).count()} customer(s) "
            f"in {time.monotonic() - started:.1f} s."
        )

    @staticmethod
    def _flush(account, batch, batch_size):
        if not batch:
            return 0
        result = record_orders(account, batch, batch_size=batch_size, refresh_stats=False)
        batch.clear()
        return result.orders_created + result.orders_updated
