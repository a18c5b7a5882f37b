from django.core.management.base import BaseCommand

from ...services.statistics import rebuild_statistics
from ._accounts import account_by_name


class Command(BaseCommand):
    help = "Recompute every customer's statistics from the orders (set-based) and report rows corrected."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="Only this seller account (by name).")

    def handle(self, *args, account=None, **options):
        seller_account = account_by_name(account) if account else None
        corrected = rebuild_statistics(seller_account)
        self.stdout.write(f"Statistics rebuilt: {corrected} customer row(s) corrected.")
