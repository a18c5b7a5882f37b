from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from ...models import Customer, CustomerAlias, CustomerMerge
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
        found_ids = set(Customer.objects.filter(pk__in=ids).values_list("pk", flat=True))
        # A customer merged away is gone; the buyer's data is the kept customer's (services/merge.py).
        merged_into = dict(
            CustomerMerge.objects.filter(
                merged_customer_id__in=set(ids) - found_ids, undone_at__isnull=True
            ).values_list("merged_customer_id", "kept_id")
        )
        query = Q(pk__in=found_ids | set(merged_into.values()))
        missing = [f"id {pk}" for pk in ids if pk not in found_ids and pk not in merged_into]
        for value in emails:
            match = Q(account=account, email__iexact=value.strip()) | self.by_identity(
                account, "email:" + normalise_email(value)
            )
            missing += [] if Customer.objects.filter(match).exists() else [f"e-mail {value}"]
            query |= match
        for value in external_ids:
            match = Q(account=account, external_id=value.strip()) | self.by_identity(account, "id:" + value.strip())
            missing += [] if Customer.objects.filter(match).exists() else [f"buyer id {value}"]
            query |= match
        if missing:
            # Erasure keeps a keyed hash of the buyer's identity only: the buyer id when there was one.
            hint = (
                " An erased buyer who had a buyer id is found by that buyer id only."
                if any(name.startswith("e-mail") for name in missing)
                else ""
            )
            raise CommandError(f"No such customer: {', '.join(missing)}. Nothing was erased.{hint}")
        return Customer.objects.filter(query)

    def by_identity(self, account, key):
        """The customers of ``account`` that the buyer identity ``key`` names: the customer with that key or, once
        erased, its keyed hash; and the customer that a merge made of that buyer (its ``CustomerAlias``, whose key
        is hashed too when the kept customer is erased)."""
        keys = [key, hashed_identity_key(account.pk, key)]
        aliased = CustomerAlias.objects.filter(account=account, identity_key__in=keys).values("customer_id")
        return Q(account=account) & (Q(identity_key__in=keys) | Q(pk__in=aliased))
