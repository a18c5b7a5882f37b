import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ...columns import user_columns
from ...exports.query import CustomerExport, ExportRequestError, ExportSpec
from ...exports.service import log_export, write_file
from ...exports.xlsx_rows import XLSX_MAX_ROWS
from ...listing import TABS
from ._accounts import account_by_name


class ScriptUser:
    """Who a script exports as without ``--user``: every seller account, the plugin's default columns."""

    pk = None
    is_active = True
    is_authenticated = True
    is_superuser = True

    def has_perm(self, perm, obj=None):
        return True


class Command(BaseCommand):
    help = "Export the customers of seller accounts to a CSV or Excel file: every page of one listing tab."

    def add_arguments(self, parser):
        parser.add_argument("--account", action="append", required=True, help="Seller account name (repeatable).")
        parser.add_argument("--tab", default="all", choices=[tab.slug for tab in TABS], help="Listing tab.")
        parser.add_argument("--format", default="csv", choices=["csv", "xlsx"], help="File format.")
        parser.add_argument("-o", "--output", required=True, help="File to write; replaced only when complete.")
        parser.add_argument("--user", help="Export as this user: their columns and their export grants.")

    def handle(self, *args, account, tab, format, output, user, **options):
        accounts = [account_by_name(name) for name in account]
        disabled = [str(seller_account) for seller_account in accounts if not seller_account.is_enabled]
        if disabled:
            raise CommandError(f"Disabled seller account(s), nothing to export: {', '.join(disabled)}.")
        as_user = self.find_user(user) if user else ScriptUser()
        try:
            spec = ExportSpec(
                file_format=format,
                scope="all",
                tab=tab,
                query={"account": [str(seller_account.pk) for seller_account in accounts]},
                columns=[column.name for column in user_columns(as_user)] if user else [],
            )
        except ExportRequestError as error:
            raise CommandError(str(error)) from None
        export = CustomerExport(as_user, spec)
        account_ids = export.scope_account_ids()
        if not account_ids:
            raise CommandError(f"User {user!r} may not export these seller accounts.")
        # Exporting the accounts the user may export and leaving the others out without a word gave a file that
        # looked whole: refuse the whole export instead.
        refused = [str(seller_account) for seller_account in accounts if seller_account.pk not in account_ids]
        if refused:
            raise CommandError(
                f"User {user!r} may not export the seller account(s) {', '.join(refused)}; nothing was written."
            )
        total = export.count()
        if format == "xlsx" and total > XLSX_MAX_ROWS:
            raise CommandError(f"{total} rows: Excel files hold at most {XLSX_MAX_ROWS}. Use --format csv.")
        folder = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(folder):
            raise CommandError(f"The folder {folder} does not exist: create it, or write the file elsewhere.")
        partial = f"{output}.part"
        try:
            rows = write_file(export, partial)
            os.replace(partial, output)
        except OSError as error:
            raise CommandError(f"Could not write {output}: {error.strerror or error}.") from None
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        # Recorded once the file is in place: an export that failed is no export in the history.
        log_export(as_user, spec, account_ids, rows)
        self.stdout.write(f"Wrote {rows} customer(s) to {output}.")

    def find_user(self, username):
        User = get_user_model()
        try:
            return User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
