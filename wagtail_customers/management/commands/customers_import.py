from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...importers import FORMATS, ImportFileError, run_import
from ._accounts import account_by_name


class Command(BaseCommand):
    help = "Import orders from a channel export or the generic template (CSV, TSV or XLSX): all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the file to import.")
        parser.add_argument("--account", required=True, help="Seller account name.")
        parser.add_argument(
            "--format",
            default="generic",
            choices=list(FORMATS),
            help="File layout: " + ", ".join(f"{name} ({fmt.label})" for name, fmt in FORMATS.items()) + ".",
        )
        parser.add_argument("--encoding", default="utf-8", help="Text encoding of a CSV/TSV file.")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")

    def handle(self, *args, file, account, format, encoding, dry_run, **options):
        seller_account = account_by_name(account)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            report = run_import(
                seller_account,
                path.read_bytes(),
                format_name=format,
                filename=path.name,
                dry_run=dry_run,
                encoding=encoding,
            )
        except ImportFileError as error:
            for listed in error.errors[1:]:
                where = f"Row {listed['row']}: " if listed["row"] else ""
                self.stderr.write(f"Error: {where}{listed['message']}")
            raise CommandError(f"Nothing was imported. {error}") from None
        for column in report.unknown_columns:
            self.stderr.write(f"Unknown column ignored: {column}")
        more = report.unknown_columns_total - len(report.unknown_columns)
        if more > 0:
            self.stderr.write(f"... and {more:,} more unknown column(s) ignored.")
        for warning in report.warnings:
            self.stderr.write(f"Warning: {warning}")
        for entry in report.currencies:
            if entry["currency"] != report.account_currency:
                self.stderr.write(
                    f"Warning: {entry['orders']:,} order(s) in {entry['currency']}, not in the account's currency "
                    f"({report.account_currency}): {entry['channel']:,} converted with the channel's own amounts, "
                    f"{entry['table']:,} at the exchange-rate table's rate of their date, "
                    f"{entry['without_rate']:,} with no exchange rate (not counted in amount spent)."
                )
        prefix = "Dry run, nothing written: would import" if dry_run else "Imported"
        self.stdout.write(
            f"{prefix} {report.orders} order(s) from {report.rows} row(s): "
            f"{report.orders_created} created, {report.orders_updated} updated, {report.orders_unchanged} unchanged; "
            f"{report.customers_created} new customer(s), {report.customers_updated} updated, "
            f"{report.customers_unchanged} unchanged; "
            f"{report.rows_skipped} row(s) skipped."
        )
