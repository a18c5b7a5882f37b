from django.core.management.base import BaseCommand, CommandError

from ...services.order_figures import fill_order_figures
from ...services.rebuild_chunks import start_chunked_rebuild
from ...services.statistics import rebuild_statistics
from ...task_queue import chords_possible, task_queue_configured
from ._accounts import account_by_name


class Command(BaseCommand):
    help = "Recompute every customer's statistics from the orders (set-based) and report rows corrected."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="Only this seller account (by name).")
        parser.add_argument(
            "--order-figures",
            action="store_true",
            help="First check every order's units, returned units, promo codes and feedback rating against its "
            "lines, promo codes and feedback (after those were written behind the ingestion service's back).",
        )
        parser.add_argument(
            "--chunked",
            action="store_true",
            help="Split the rebuild by customer id range across the Celery workers (needs a result backend).",
        )
        parser.add_argument(
            "--chunk-rows", type=int, help="Customers per chunk with --chunked (default: REBUILD_CHUNK_ROWS)."
        )
        parser.add_argument(
            "--no-wait", action="store_true", help="With --chunked: queue the chunks and return at once."
        )

    def handle(self, *args, account=None, chunked=False, chunk_rows=None, no_wait=False, **options):
        seller_account = account_by_name(account) if account else None
        if options["order_figures"]:
            written = fill_order_figures(only_missing=False)
            self.stdout.write(f"Order figures checked: {written} order(s) corrected.")
        if not chunked:
            corrected = rebuild_statistics(seller_account)
            self.stdout.write(f"Statistics rebuilt: {corrected} customer row(s) corrected.")
            return
        if not (task_queue_configured() and chords_possible()):
            raise CommandError("--chunked needs a Celery broker and result backend (CELERY_RESULT_BACKEND).")
        if chunk_rows is not None and chunk_rows < 1:
            raise CommandError("--chunk-rows must be at least 1.")
        chunks, result = start_chunked_rebuild(seller_account and seller_account.pk, chunk_rows)
        if no_wait:
            self.stdout.write(f"Statistics rebuild queued in {chunks} chunk(s).")
            return
        corrected = result.get()
        self.stdout.write(f"Statistics rebuilt in {chunks} chunk(s): {corrected} customer row(s) corrected.")
