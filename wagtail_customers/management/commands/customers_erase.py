from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from ...models import Customer
from ...services.erasure import erase_customers, erasure_summary, hashed_identity_key
from ...services.ingestion import normalise_email
from ._accounts import account_by_name


class Command(BaseCommand):
    help = (
        "Erase customers' personal data (GDPR art. 17): names, e-mails, phones, addresses and free text become a "
        "pseudonym; orders, amounts and statistics stay. By customer id, or by e-mail / buyer id within a seller "
        "account. A later import of the same buyer does not bring the data back."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="Customer ids.")
        parser.add_argument("--account", help="The seller account (by name) that --email / --external-id look in.")
        parser.add_argument("--email", action="append", default=[], help="A buyer's e-mail address (repeatable).")
        parser.add_argument(
            "--external-id", action="append", default=[], help="A buyer id on the channel (repeatable)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what would be erased; change nothing.")

    def handle(self, *args, ids, account=None, email, external_id, dry_run=False, **options):
        if not (ids or email or external_id):
            raise CommandError("Name customers: ids, or --account with --email / --external-id.")
        if (email or external_id) and not account:
            raise CommandError("--email and --external-id need --account (an e-mail is a customer per account).")
        customers = self.customers(ids, account_by_name(account) if account else None, email, external_id)
        summary = erasure_summary(customers)
        if summary["already_erased"]:
            self.stdout.write(f"{summary['already_erased']} customer(s) already erased: left as they are.")
        if dry_run:
            self.stdout.write(
                f"Dry run: {summary['customers']} customer(s) would be erased "
                f"({summary['orders']} order(s) kept under a pseudonym). Nothing changed."
            )
            return
        erased = erase_customers(customers)
        self.stdout.write(
            f"Erased {erased} customer(s); their {summary['orders']} order(s), amounts and statistics are kept."
        )

    def customers(self, ids, account, emails, external_ids):
        """The named customers; an id, e-mail or buyer id that names nobody is an error (nothing is erased)."""
        query = Q(pk__in=ids) if ids else Q()
        missing = [
            f"id {pk}" for pk in set(ids) - set(Customer.objects.filter(pk__in=ids).values_list("pk", flat=True))
        ]
        for value in emails:
            # An erased customer is found by the hash of its former identity key only.
            erased_key = hashed_identity_key(account.pk, "email:" + normalise_email(value))
            match = Q(account=account) & (Q(email__iexact=value.strip()) | Q(identity_key=erased_key))
            missing += [] if Customer.objects.filter(match).exists() else [f"e-mail {value}"]
            query |= match
        for value in external_ids:
            erased_key = hashed_identity_key(account.pk, "id:" + value.strip())
            match = Q(account=account) & (Q(external_id=value.strip()) | Q(identity_key=erased_key))
            missing += [] if Customer.objects.filter(match).exists() else [f"buyer id {value}"]
            query |= match
        if missing:
            raise CommandError(f"No such customer: {', '.join(missing)}. Nothing was erased.")
        return Customer.objects.filter(query)
