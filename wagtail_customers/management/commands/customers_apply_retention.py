from django.core.management.base import BaseCommand, CommandError

from ...services.retention import apply_retention
from ._accounts import account_by_name


class Command(BaseCommand):
    help = (
        "Apply the seller accounts' retention rules now: erase the personal data of customers whose every order "
        "is past their account's rule (orders, amounts and statistics stay). The daily Celery task "
        "wagtail_customers.apply_retention_rules does the same."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", help="Only this seller account's rule (by name).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Say how many customers each rule would erase; change nothing."
        )

    def handle(self, *args, account=None, dry_run=False, **options):
        results = apply_retention(account=account_by_name(account) if account else None, dry_run=dry_run)
        if not results:
            self.stdout.write("No enabled retention rule" + (f" for {account!r}." if account else "."))
            return
        for result in results:
            rule, name = result.rule, result.rule.account.name
            if dry_run:
                self.stdout.write(f"{name}: {result.customers} customer(s) would be erased ({rule}).")
            else:
                self.stdout.write(f"{name}: {result.customers} customer(s) erased ({rule}).")
            for error in result.errors:
                self.stderr.write(f"{name}: the rule did not finish: {error}")
        if dry_run:
            self.stdout.write("Dry run: nothing changed.")
        failed = [result.rule.account.name for result in results if result.errors]
        if failed:
            raise CommandError(f"Retention rules that did not finish: {', '.join(failed)} (see the runs' errors).")
