"""What the in-site shop adapters (``contrib.salesman``, ``contrib.oscar``) have in common.

Each adapter turns its shop's order into ``OrderData`` and hands it to ``register_order_source``; this module
gives them the seller account named by a setting, the system check for that setting, and the backfill loop of
their management commands. Orders still enter the ledger only through the ingestion service.
"""

from datetime import date
from importlib import import_module
from itertools import islice

from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from ..conf import get_setting, user_settings
from ..models import FulfilmentStatus, SellerAccount
from ..services.ingestion import IngestionError, IngestionResult, record_orders


def require_shop_package(app_name, package, distribution, extra, *, requires=""):
    """Raise ImproperlyConfigured, saying what to install, when the shop ``package`` ``app_name`` reads orders from
    is not installed (a site that added the app alone got a bare ModuleNotFoundError while starting). ``requires``:
    a sentence on what the shop itself needs, said with it (salesman does not install beside Django 6.0)."""
    try:
        import_module(package)
    except ModuleNotFoundError as error:
        if error.name != package:
            raise  # the shop itself is installed and fails on something else: its own error says more
        raise ImproperlyConfigured(
            f"{app_name} reads the orders of {distribution}, which is not installed: "
            f'pip install "wagtail-customers[{extra}]", and set the shop up as its documentation says.'
            + (f" {requires}" if requires else "")
        ) from error


def fulfilment_status(status):
    """The fulfilment an order's ledger status implies, when the shop does not say more."""
    return FulfilmentStatus.implied_by(status)


def seller_account(setting):
    """The seller account ``WAGTAIL_CUSTOMERS[setting]`` names; ImproperlyConfigured when there is none."""
    name = get_setting(setting)
    if not isinstance(name, str) or not name.strip():
        raise ImproperlyConfigured(f"Set WAGTAIL_CUSTOMERS[{setting!r}] to the name of a seller account.")
    account = SellerAccount.objects.filter(name=name.strip()).first()
    if account is None:
        raise ImproperlyConfigured(
            f"WAGTAIL_CUSTOMERS[{setting!r}] names the seller account {name!r}, which does not exist."
        )
    return account


def check_seller_account_setting(setting, check_id, shop, databases):
    """The messages of a shop's account check: the setting is a name and, with a database, the account exists.

    The second half is a database check (it runs with ``migrate`` and ``check --database default``), like
    ``ADMIN_ACCESS_GROUP``'s: before ``migrate`` there is no table to look in.
    """
    if not isinstance(user_settings() or {}, dict):
        return []  # wagtail_customers.E001 already
    name = get_setting(setting)
    hint = (
        f"Create the seller account the {shop} shop's orders belong to (Customers › Seller accounts) and set "
        f'WAGTAIL_CUSTOMERS["{setting}"] to its name (docs/howto/in-site-shops.md).'
    )
    if not isinstance(name, str) or not name.strip():
        return [
            Error(
                f"WAGTAIL_CUSTOMERS[{setting!r}] is not set: {shop} orders have no seller account to go to.",
                hint=hint,
                id=check_id,
            )
        ]
    if not databases:
        return []
    try:
        exists = any(SellerAccount.objects.using(alias).filter(name=name.strip()).exists() for alias in databases)
    except DatabaseError:
        return []  # not migrated yet
    if exists:
        return []
    return [
        Error(
            f"WAGTAIL_CUSTOMERS[{setting!r}] names the seller account {name!r}, which does not exist.",
            hint=hint,
            id=check_id,
        )
    ]


def backfill(orders, to_order_data, account, *, batch_size=500, on_error=None):
    """Record every order of ``orders`` (an iterable of the shop's orders) in ``account``, in batches.

    Goes through the ingestion service's bulk path: an order already recorded with the same figures is
    counted as unchanged and not written again, so a second run changes nothing. Returns the
    ``IngestionResult`` (created / updated / unchanged counts).

    With ``on_error(order_id, error)``, an order that cannot be converted or recorded does not stop the run: a batch
    that fails is recorded again one order at a time (each in its own transaction), and each order that still fails
    is handed to ``on_error`` with its id (the ledger's order id, else the shop's primary key) and is left out.
    Without it the first error is raised.
    """
    result = IngestionResult()

    def converted():
        for order in orders:
            try:
                order_data = to_order_data(order)
            except Exception as error:
                if on_error is None:
                    raise
                on_error(f"pk {order.pk}", error)
                continue
            if order_data is not None:
                yield order_data

    iterator = converted()
    while batch := list(islice(iterator, batch_size)):
        if on_error is None:
            result.merge(record_orders(account, batch, batch_size=batch_size))
            continue
        try:
            result.merge(record_orders(account, batch, batch_size=batch_size))
        except Exception:  # one bad order rolled its whole batch back: record them one by one
            for order_data in batch:
                try:
                    result.merge(record_orders(account, [order_data]))
                except Exception as error:
                    on_error(order_data.external_id, error)
    return result


class BackfillCommand(BaseCommand):
    """A shop's backfill command: every order of the shop (or since a date) recorded through ``backfill``."""

    #: The shop's adapter module: ``order_model()``, ``to_order_data(order)`` and ``seller_account()``.
    adapter = None
    #: The shop's order model's date field, for --since and the order of the run.
    date_field = None
    #: Relations the adapter reads, fetched per chunk of orders instead of per order.
    select_related = ()
    prefetch_related = ()

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", type=date.fromisoformat, help="only orders placed on or after this date (YYYY-MM-DD)"
        )
        parser.add_argument("--batch-size", type=int, default=500, help="orders per transaction (default 500)")

    def handle(self, *args, since=None, batch_size=500, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            account = self.adapter.seller_account()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        orders = self.adapter.order_model()._default_manager.order_by(self.date_field, "pk")
        if since:
            orders = orders.filter(**{f"{self.date_field}__date__gte": since})
        orders = orders.select_related(*self.select_related).prefetch_related(*self.prefetch_related)
        orders = orders.iterator(chunk_size=batch_size)
        failed = []

        def report(order_id, error):
            failed.append(order_id)
            reason = str(error) if isinstance(error, IngestionError) else f"{type(error).__name__}: {error}"
            self.stderr.write(f"Order {order_id} was not recorded: {reason}")

        result = backfill(orders, self.adapter.to_order_data, account, batch_size=batch_size, on_error=report)
        self.stdout.write(
            f"{account}: {result.orders_created} orders created, {result.orders_updated} updated, "
            f"{result.orders_unchanged} unchanged."
        )
        if failed:
            raise CommandError(
                f"{len(failed)} order(s) could not be recorded (listed above); the others were. Correct them and run "
                "the command again."
            )


def truncated(value, length):
    """A shop's free text cut to the ledger column's length (PostgreSQL refuses a longer value)."""
    return str(value or "").strip()[:length]
