from django.core.management.base import BaseCommand

from ...insight.tasks import refresh_buyer_insight_task
from ._accounts import account_by_name


class Command(BaseCommand):
    help = (
        "Recompute the customers' RFM scores and refit the predicted-value model now, for every seller account or "
        "one (what the daily task wagtail_customers.refresh_buyer_insight does)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", help="Only this seller account (by name).")

    def handle(self, *args, account=None, **options):
        # Run here, not queued: a site without a Celery beat (the tutorial's) has no other way to score its customers.
        seller_account = account_by_name(account) if account else None
        scored = refresh_buyer_insight_task.run(seller_account and seller_account.pk)
        self.stdout.write(f"Buyer insight refreshed: {scored} customer(s) scored.")
