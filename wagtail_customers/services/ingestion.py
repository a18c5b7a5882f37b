"""The one way in for orders.

``record_order`` records a single order; ``record_orders`` records many in batches with a bounded
number of queries per batch (not per order). Both create or update the order's customer and bring
the customer's statistics up to date in the same transaction. Recording an order again with the
same ``(seller account, external_id)`` replaces its lines, promo codes and feedback when anything
of it differs from what is stored, and leaves it alone otherwise: re-importing a file changes
nothing, and the result counts such orders as unchanged, not updated. Each order is checked first
(``order_checks.validated``): one the service refuses is an ``IngestionError`` naming it.
"""

from dataclasses import dataclass, field
from decimal import Decimal, DecimalException
from itertools import islice

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ..conf import get_setting
from ..local_time import stored_moment
from ..models import (
    Customer,
    CustomerAlias,
    Feedback,
    Order,
    OrderLine,
    OrderStatus,
    PromoCodeUsage,
    SellerAccount,
)
from ..signals import orders_recorded
from .conversion import CONVERTED_FIELDS, convert
from .erasure import hashed_identity_key, pseudonym
from .inputs import (
    ZERO,
    AddressData,
    CustomerData,
    FeedbackData,
    LineData,
    OrderData,
    PromoCodeData,
)
from .merge import record_later_orders
from .order_checks import HALF_CENT, IngestionError, short_number, validated
from .order_figures import figures_of
from .order_news import OrderNews, ReturnState
from .rows import insert_rows, update_rows, update_values
from .statistics import StatisticsOverflow, lock_customers, refresh_statistics

__all__ = [
    "AddressData",
    "CustomerData",
    "FeedbackData",
    "IngestionError",
    "IngestionResult",
    "LineData",
    "OrderData",
    "PromoCodeData",
    "record_order",
    "record_orders",
]


ORDER_FIELDS = (
    "customer_id",
    "placed_at",
    "status",
    "fulfilment_status",
    "sync_status",
    "channel",
    "currency",
    "subtotal",
    "discount",
    "shipping",
    "tax",
    "total",
    "refunded",
    "channel_fees",
    "fulfilment_cost",
    # The money in the seller account's currency (services/conversion.py).
    *CONVERTED_FIELDS,
    *Order.SHIP_TO_FIELDS,
    *Order.MILESTONE_FIELDS,
    # Its figures, which the customers' statistics sum (services/order_figures.py).
    *Order.FIGURE_FIELDS,
    "updated_at",
)
LINE_FIELDS = (
    "order",
    "sku",
    "product_name",
    "quantity",
    "unit_price",
    "line_total",
    "discount",
    "unit_cost",
    "returned_quantity",
)
#: The order's own columns compared with the incoming order (``updated_at`` is written, not compared).
COMPARED_ORDER_FIELDS = ORDER_FIELDS[:-1]
STATUS_INDEX = COMPARED_ORDER_FIELDS.index("status")
RETURNED_AT_INDEX = COMPARED_ORDER_FIELDS.index("returned_at")
#: How ``IngestionResult.overflow_error`` names the customer's figures (``%(figure)s`` in its messages).
OVERFLOW_FIGURES = {
    "amount_spent": gettext_noop("amount spent"),
    "discount_total": gettext_noop("discount received"),
    "units": gettext_noop("units"),
    "returned_units": gettext_noop("returned units"),
    "return_rate": gettext_noop("return rate"),
}
#: The orders' unique ``(account, external_id)`` (models/orders.py).
ORDER_UNIQUE_CONSTRAINT = "wc_order_external_id_unique"
ADDRESS_FIELDS = ("address_line1", "address_line2", "postal_code", "city", "state", "country")
CUSTOMER_DETAIL_FIELDS = Customer.DETAIL_FIELDS


@dataclass
class IngestionResult:
    orders_created: int = 0
    #: Orders already stored that differed from the incoming data in anything (and were rewritten).
    orders_updated: int = 0
    #: Orders already stored exactly as they came in (left alone).
    orders_unchanged: int = 0
    customers_created: int = 0
    customer_ids: set = field(default_factory=set)
    order_ids: list = field(default_factory=list)
    #: Customers created by this run, and customers with a new, changed or moved order or new details.
    created_customer_ids: set = field(default_factory=set)
    changed_customer_ids: set = field(default_factory=set)
    #: Customers whose orders this run wrote: created, changed, or moved to or away from them (what
    #: ``refresh_statistics`` takes as ``orders_written``).
    orders_written_customer_ids: set = field(default_factory=set)
    #: ``{customer id: external id}``: an order of this run for each customer it changed (``overflow_error``).
    named_by: dict = field(default_factory=dict)

    def merge(self, other):
        self.orders_created += other.orders_created
        self.orders_updated += other.orders_updated
        self.orders_unchanged += other.orders_unchanged
        self.customers_created += other.customers_created
        self.customer_ids |= other.customer_ids
        self.order_ids += other.order_ids
        self.created_customer_ids |= other.created_customer_ids
        self.changed_customer_ids |= other.changed_customer_ids
        self.orders_written_customer_ids |= other.orders_written_customer_ids
        self.named_by.update(other.named_by)

    def overflow_error(self, error):
        """The ``IngestionError`` for a ``StatisticsOverflow`` (from ``refresh_statistics``): the customer's figure
        would not fit its column, named by an order of this run that changed that customer. A caller that refreshes
        the statistics itself (``refresh_stats=False``: an import, once at its end) turns the error into this."""
        external_id = self.named_by.get(error.customer_id)
        figure = OVERFLOW_FIGURES.get(error.field)
        values = {
            "order": external_id,
            "customer": error.customer_id,
            "figure": _(figure) if figure else error.field.replace("_", " "),
            "value": short_number(error.value),
        }
        if external_id:
            message = _(
                # Translators: %(figure)s is one of "amount spent", "discount received", "units", "returned units",
                # "return rate". (Inside the call: xgettext gives a comment only to a string on the next line.)
                "Order %(order)s: the customer's %(figure)s would be %(value)s, more than can be stored; the "
                "customer's orders together must stay below that."
            )
        else:
            # A customer none of whose orders this run wrote (figures stored over the limit before the check) is
            # named by their id: there is no order, or row, to name.
            message = _(
                # Translators: %(figure)s is one of "amount spent", "discount received", "units", "returned units",
                # "return rate". (Inside the call: xgettext gives a comment only to a string on the next line.)
                "Customer #%(customer)s: the %(figure)s would be %(value)s, more than can be stored; the customer's "
                "orders together must stay below that."
            )
        return IngestionError(message % values, order_id=external_id)

    @property
    def customers_updated(self):
        """Customers that existed before and changed (details, or an order created, changed or moved)."""
        return len(self.changed_customer_ids - self.created_customer_ids)

    @property
    def customers_unchanged(self):
        return len(self.customer_ids - self.changed_customer_ids - self.created_customer_ids)


def normalise_email(email):
    return (email or "").strip().lower()


def identity_key(order_data):
    """How a customer is recognised within a seller account: buyer id, else e-mail, else the order."""
    customer = order_data.customer
    if customer.external_id.strip():
        return "id:" + customer.external_id.strip()
    if normalise_email(customer.email):
        return "email:" + normalise_email(customer.email)
    return "order:" + order_data.external_id


def record_order(account, order_data):
    """Record one order; returns the saved ``Order``."""
    result = record_orders(account, [order_data])
    return Order.objects.get(pk=result.order_ids[0])


def record_orders(account, orders, *, batch_size=None, refresh_stats=True):
    """Record an iterable of ``OrderData`` for one seller account, in batches.

    With ``refresh_stats=False`` the caller takes over keeping the statistics current (the demo data
    command rebuilds them set-based once at the end; an import refreshes its customers once, after its last
    batch); every other caller keeps the default.
    """
    if not isinstance(account, SellerAccount):
        raise TypeError("record_orders() takes a SellerAccount")
    batch_size = batch_size or get_setting("INGEST_BATCH_SIZE")
    result = IngestionResult()
    iterator = iter(orders)
    while batch := list(islice(iterator, batch_size)):
        with transaction.atomic():
            batch_result = _record_batch(account, batch, refresh_stats)
        result.merge(batch_result)
    return result


def _record_batch(account, batch, refresh_stats):
    _hold_account(account)
    result = IngestionResult()
    # The last occurrence of an order id in a batch wins, as it would across batches.
    by_order_id = {}
    for order_data in batch:
        order_data = validated(account, order_data)
        by_order_id[order_data.external_id] = order_data
    batch = list(by_order_id.values())

    customers, aliased, locked_ids = _resolve_customers(account, batch, result)
    stored = _stored_orders(account, by_order_id)
    moved_meanwhile = {order.customer_id for order in stored.values()} - locked_ids
    if moved_meanwhile:
        # Moved, or recorded, by another writer between the two reads: locked now, after the orders (one of the cases
        # docs/concepts/statistics.md lists where a customer is locked out of the usual order).
        lock_customers(moved_meanwhile)
    stale_customer_ids, changed_customer_ids = set(), set()
    # An order of the batch for each customer it changes, to name should the customer's figures not fit.
    named_by = {}
    new_rows, updated_rows, written = [], [], []
    unchanged = 0
    news = OrderNews()
    rates = {}  # (from, to, date) -> rate, for this batch
    for order_data in batch:
        customer = customers[identity_key(order_data)]
        customer_id = customer.pk
        before = stored.get(order_data.external_id)
        if before is not None:
            _keep_stored_returns_and_feedback(order_data, before)
        if customer.erased_at is not None:
            _without_personal_data(order_data, pseudonym(customer.identity_key))
        values = _order_values(order_data, customer_id, account.currency, rates)
        if before is None:
            new_rows.append((account.pk, order_data.external_id, *values))
            news.note(order_data)
        elif _same_order(before, values, order_data):
            unchanged += 1
            continue
        else:
            if before.customer_id != customer_id:
                stale_customer_ids.add(before.customer_id)
                named_by[before.customer_id] = order_data.external_id
            updated_rows.append((account.pk, order_data.external_id, *values))
            news.note(order_data, before_returns=before.return_state(), before_rating=before.rating)
        written.append(order_data)
        changed_customer_ids.add(customer_id)
        named_by[customer_id] = order_data.external_id

    # Orders are written as plain rows, then their ids read back in one query: building a model
    # instance per order costs more than the database's own work at a million orders.
    _insert_orders(account, new_rows)
    order_ids = {external_id: before.pk for external_id, before in stored.items()}
    if new_rows:
        order_ids.update(
            Order.objects.filter(account=account, external_id__in=[row[1] for row in new_rows]).values_list(
                "external_id", "id"
            )
        )
    if updated_rows:
        update_values(Order, ORDER_FIELDS, [(*row[2:], order_ids[row[1]]) for row in updated_rows])
        updated_ids = [order_ids[row[1]] for row in updated_rows]
        OrderLine.objects.filter(order_id__in=updated_ids).delete()
        PromoCodeUsage.objects.filter(order_id__in=updated_ids).delete()
        Feedback.objects.filter(order_id__in=updated_ids).delete()

    lines, promo_codes, feedback = [], [], []
    for order_data in written:
        order_id = order_ids[order_data.external_id]
        lines += [(order_id, *_line_row(line)) for line in order_data.lines]
        promo_codes += [(order_id, promo.code[:100], promo.discount) for promo in order_data.promo_codes]
        if order_data.feedback is not None:
            feedback.append(
                (order_id, order_data.feedback.rating, order_data.feedback.comment, order_data.feedback.left_at)
            )
    insert_rows(OrderLine, LINE_FIELDS, lines)
    if aliased:
        # Orders of a merged buyer (services/merge.py): noted on the merge, so that undoing it moves them back.
        later = {}
        for order_data in written:
            merge_id = aliased.get(identity_key(order_data))
            if merge_id is not None:
                later.setdefault(merge_id, []).append(order_ids[order_data.external_id])
        record_later_orders(later)
    insert_rows(PromoCodeUsage, ("order", "code", "discount"), promo_codes)
    insert_rows(Feedback, ("order", "rating", "comment", "left_at"), feedback)

    result.orders_written_customer_ids = changed_customer_ids | stale_customer_ids
    result.named_by = named_by
    changed_customer_ids |= _update_customer_details(customers, batch)
    result.orders_created = len(new_rows)
    result.orders_updated = len(updated_rows)
    result.orders_unchanged = unchanged
    result.order_ids = [order_ids[order_data.external_id] for order_data in batch]
    result.customer_ids = {customer.pk for customer in customers.values()} | stale_customer_ids
    result.changed_customer_ids = changed_customer_ids | stale_customer_ids
    if refresh_stats:
        try:
            refresh_statistics(result.customer_ids, orders_written=result.orders_written_customer_ids)
        except StatisticsOverflow as error:
            raise result.overflow_error(error) from None
    news_arguments = news.signal_arguments(order_ids)
    transaction.on_commit(
        lambda: orders_recorded.send(
            sender=SellerAccount,
            account=account,
            order_ids=result.order_ids,
            customer_ids=result.customer_ids,
            **news_arguments,
        )
    )
    return result


def _insert_orders(account, new_rows):
    """Insert the batch's new orders; an order another batch recorded meanwhile (under another customer: a buyer id
    in one, an e-mail in the other, so neither batch held the other's customer) is an ``IngestionError`` naming it.
    The batch is recorded again (a sync's next page or pull does), and then finds the order stored."""
    try:
        insert_rows(Order, ("account", "external_id", *ORDER_FIELDS), new_rows)
    except IntegrityError as error:
        if ORDER_UNIQUE_CONSTRAINT not in str(error) and ORDER_UNIQUE_CONSTRAINT != _constraint_name(error):
            raise
        external_ids = [row[1] for row in new_rows]
        recorded = set(
            Order.objects.filter(account=account, external_id__in=external_ids).values_list("external_id", flat=True)
        )
        external_id = next((external_id for external_id in external_ids if external_id in recorded), external_ids[0])
        raise IngestionError(
            _("Order %(order)s was being recorded by another import or sync at the same moment; record it again.")
            % {"order": external_id},
            order_id=external_id,
        ) from None


def _constraint_name(error):
    """The name of the constraint ``error`` (Django's, from the driver's) broke, where the driver tells it."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _hold_account(account):
    """Hold the seller account's row until the batch commits, or raise ``IngestionError`` if it is gone.

    On PostgreSQL a ``FOR KEY SHARE`` lock (one row, by its primary key): other batches of the account go on beside
    it, while a deletion of the account, which locks the row first (``FOR UPDATE``), waits for the batches under way
    and is waited for by those after it, which then find the account gone. Without it, customers and orders a batch
    committed while the deletion ran failed the account's foreign key. SQLite runs one writing transaction at a
    time: a plain read tells whether the account is still there."""
    using = router.db_for_write(SellerAccount)
    db = connections[using]
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {db.ops.quote_name(SellerAccount._meta.db_table)} WHERE id = %s FOR KEY SHARE",
                [account.pk],
            )
            found = cursor.fetchone() is not None
    else:
        found = SellerAccount.objects.using(using).filter(pk=account.pk).exists()
    if not found:
        raise IngestionError(
            _(
                "The seller account “%(account)s” was deleted while its orders were being recorded; they were not "
                "recorded."
            )
            % {"account": account.name}
        )


def _resolve_customers(account, batch, result):
    """Fetch or create the batch's customers in a bounded number of queries.

    Returns ``(key -> Customer, key -> merge id, ids of the customers locked)``; the second holds the keys found
    through a merged customer's alias (services/merge.py). Raises ``IngestionError`` when a new customer another
    batch created meanwhile was deleted, merged or erased before this batch could lock it (record the batch again).

    An erased customer is stored under the keyed hash of its identity key (services/erasure.py): each
    key is looked up hashed too, so the buyer's orders come back to the erased customer, not a new one.
    A key no customer has may be a merged customer's: its alias names the customer it was merged into.
    """
    keys = {identity_key(order_data): order_data for order_data in batch}
    hashed = {hashed_identity_key(account.pk, key): key for key in keys}
    found = {}
    # Locked (in id order, as erasure locks them) until the batch commits: an erasure committing meanwhile
    # is waited for and then seen, so its personal data is not written back (tests/test_erasure_parallel.py).
    # The batch writes these rows anyway (details, statistics). Erased customers last, so that they win
    # over a same-key customer made before the erasure. The customers the batch's stored orders belong to are
    # locked in the same statement, before those orders (_stored_orders): an order moving to another customer
    # leaves one of them, whose statistics the batch then writes.
    # (Ids, not a subquery: PostgreSQL would test a subquery in an OR against every customer.)
    owners = Order.objects.filter(account=account, external_id__in=[order_data.external_id for order_data in batch])
    owner_ids = set(owners.values_list("customer_id", flat=True))
    # The money figures are not read: refresh_statistics reads them (wide: SQLite may hold one over the limit).
    locked = (
        Customer.objects.select_for_update()
        .filter(Q(account=account, identity_key__in=[*keys, *hashed]) | Q(pk__in=owner_ids))
        .defer("amount_spent", "discount_total")
    )
    locked_ids = set()
    for customer in sorted(locked.order_by("pk"), key=lambda customer: customer.erased_at is not None):
        locked_ids.add(customer.pk)
        key = hashed.get(customer.identity_key, customer.identity_key)
        if key in keys:
            found[key] = customer
    aliased = _aliased_customers(account, [key for key in keys if key not in found], found)
    locked_ids.update(customer.pk for customer in found.values())
    # In the order the batch meets them (customer ids follow a file's order), not sorted: two batches creating the
    # same new buyers in opposite orders at the same moment can deadlock (docs/concepts/statistics.md).
    missing = [key for key in keys if key not in found]
    if not missing:
        return found, aliased, locked_ids
    Customer.objects.bulk_create(
        [Customer(account=account, identity_key=key, **_customer_details(keys[key])) for key in missing],
        # Another batch may create the same customer meanwhile; the unique key settles it.
        ignore_conflicts=True,
    )
    # Locked as they are read: one another batch created meanwhile (the insert waited for it, then left it) is then
    # held, like those found above, before the batch's orders. That batch committed its orders with it, so a
    # customer with orders already is not counted as created here (this batch's own have none yet).
    created = {
        customer.identity_key: customer
        for customer in Customer.objects.select_for_update()
        .filter(account=account, identity_key__in=missing)
        .annotate(created_elsewhere=Exists(Order.objects.filter(customer=OuterRef("pk"))))
        .order_by("pk")
    }
    if len(created) < len(missing):
        # Created by another batch, then deleted, merged or erased before this lock: looking it up again means every
        # step above again, so the batch stops and is recorded again (a sync's next page or pull does).
        raise IngestionError(_("A customer changed while their orders were being recorded; record the orders again."))
    result.created_customer_ids = {customer.pk for customer in created.values() if not customer.created_elsewhere}
    result.customers_created = len(result.created_customer_ids)
    found.update(created)
    locked_ids.update(customer.pk for customer in created.values())
    return found, aliased, locked_ids


def _aliased_customers(account, missing, found):
    """Find keys no customer has among the aliases of merged customers (services/merge.py); adds the customers
    they were merged into to ``found`` (locked) and returns ``{key: merge id}`` for those keys.

    Looked up after the lock above: a merge of one of these buyers that committed while this batch waited for
    the lock is seen here (its alias), so the buyer is not created again beside the customer it was merged into.
    """
    if not missing:
        return {}
    hashed = {hashed_identity_key(account.pk, key): key for key in missing}
    aliases = {
        hashed.get(alias_key, alias_key): (customer_id, merge_id)
        for alias_key, customer_id, merge_id in CustomerAlias.objects.filter(
            account=account, identity_key__in=[*missing, *hashed]
        ).values_list("identity_key", "customer_id", "merge_id")
    }
    if not aliases:
        return {}
    targets = Customer.objects.select_for_update().filter(
        account=account, pk__in={customer_id for customer_id, _ in aliases.values()}
    )
    by_pk = {customer.pk: customer for customer in targets.order_by("pk")}
    # Read again under the targets' lock: an undo of the merge deletes the alias and re-creates the merged customer
    # under that lock, and was waited for above. A key whose alias is gone now is the re-created customer's, looked up
    # (and locked) again rather than sent to the merge target.
    still_aliased = {
        (hashed.get(alias_key, alias_key), customer_id)
        for alias_key, customer_id in CustomerAlias.objects.filter(
            account=account, identity_key__in=[*missing, *hashed], customer_id__in=by_pk
        ).values_list("identity_key", "customer_id")
    }
    undone = [key for key, (customer_id, _merge) in aliases.items() if (key, customer_id) not in still_aliased]
    if undone:
        _found_again(account, undone, found)
        aliases = {key: target for key, target in aliases.items() if key not in undone}
    aliased = {}
    for key, (customer_id, merge_id) in aliases.items():
        if customer_id in by_pk:
            found[key] = by_pk[customer_id]
            aliased[key] = merge_id
    return aliased


def _found_again(account, keys, found):
    """Adds to ``found`` (locked) the customers of ``keys`` whose merge was undone while the batch waited for it:
    the re-created customer has the key again (hashed, if it was erased). One not there (deleted since) is left to
    the caller, which creates it as any new buyer."""
    hashed = {hashed_identity_key(account.pk, key): key for key in keys}
    customers = Customer.objects.select_for_update().filter(account=account, identity_key__in=[*keys, *hashed])
    # Erased customers last, as in _resolve_customers: they win over a same-key customer made before the erasure.
    for customer in sorted(customers.order_by("pk"), key=lambda customer: customer.erased_at is not None):
        found[hashed.get(customer.identity_key, customer.identity_key)] = customer


def _order_values(order_data, customer_id, account_currency, rates):
    """The order's column values, in ``ORDER_FIELDS`` order."""
    ship_to = order_data.ship_to
    cancelled_at = order_data.cancelled_at
    if cancelled_at is None and order_data.status == OrderStatus.CANCELLED:
        cancelled_at = order_data.placed_at
    try:
        converted = convert(
            currency=order_data.currency,
            account_currency=account_currency,
            placed_at=order_data.placed_at,
            total=order_data.total,
            refunded=order_data.refunded,
            # What the customer's "discount received" counts: the order discount and its lines' discounts.
            discount=order_data.discount + sum((line.discount for line in order_data.lines), ZERO),
            channel_rate=order_data.exchange_rate,
            channel_total=order_data.account_total,
            channel_refunded=order_data.account_refunded,
            channel_discount=order_data.account_discount,
            rates=rates,
        )
    except DecimalException:
        # A channel's rate (given, or implied by its converted total) that multiplies an amount past any number
        # of digits: nothing sensible to store.
        raise IngestionError(
            _("Order %(order)s: converted into %(currency)s, its amounts are too large.")
            % {"order": order_data.external_id, "currency": account_currency},
            order_id=order_data.external_id,
        ) from None
    return (
        customer_id,
        order_data.placed_at,
        order_data.status,
        order_data.fulfilment_status,
        order_data.sync_status,
        order_data.channel,
        order_data.currency,
        order_data.subtotal,
        order_data.discount,
        order_data.shipping,
        order_data.tax,
        order_data.total,
        order_data.refunded,
        order_data.channel_fees,
        order_data.fulfilment_cost,
        *converted.as_tuple(),
        ship_to.name[:255],
        ship_to.line1[:255],
        ship_to.line2[:255],
        ship_to.postal_code[:32],
        ship_to.city[:128],
        ship_to.state[:128],
        ship_to.country[:64],
        ship_to.phone[:64],
        order_data.paid_at,
        order_data.shipped_at,
        order_data.delivered_at,
        cancelled_at,
        order_data.returned_at,
        order_data.refunded_at,
        *figures_of(order_data),
        timezone.now(),
    )


def _update_customer_details(customers, batch):
    """Take name, e-mail, phone and address from the customer's latest order that has them.

    Returns the ids of the customers whose details changed.
    """
    latest = {}
    for order_data in batch:
        key = identity_key(order_data)
        if key not in latest or order_data.placed_at >= latest[key].placed_at:
            latest[key] = order_data
    # The customer's latest order among all recorded so far (this batch's are written already);
    # read from the orders, not from ``last_order_at``, which a caller may refresh only later.
    latest_placed = dict(
        Order.objects.filter(customer_id__in=[customers[key].pk for key in latest])
        .order_by()
        .values("customer_id")
        .annotate(latest=Max("placed_at"))
        .values_list("customer_id", "latest")
    )
    changed = []
    for key, order_data in latest.items():
        customer = customers[key]
        if customer.erased_at is not None:
            continue  # an erased customer's details stay erased, whatever the channel sends
        if order_data.placed_at < latest_placed.get(customer.pk, order_data.placed_at):
            continue
        dirty = False
        has_address = not order_data.ship_to.is_empty()
        for name, value in _customer_details(order_data).items():
            # An address is replaced as a whole (an empty line 2 clears the old one); other details
            # only when the order has them.
            keep_empty = has_address and name in ADDRESS_FIELDS
            if (value or keep_empty) and getattr(customer, name) != value:
                setattr(customer, name, value)
                dirty = True
        if dirty:
            changed.append(customer)
    if changed:
        update_rows(Customer, changed, CUSTOMER_DETAIL_FIELDS)
    return {customer.pk for customer in changed}


def _without_personal_data(order_data, name):
    """Strip an erased customer's order of personal data as erasure does: the pseudonym for the ship-to
    name and the feedback comment, the ship-to country only. Amounts, lines and status stay."""
    order_data.ship_to = AddressData(name=name, country=order_data.ship_to.country)
    if order_data.feedback is not None and order_data.feedback.comment:
        order_data.feedback.comment = name


def _customer_details(order_data):
    """The contact details an order gives; address fields only when the order has an address."""
    buyer, ship_to = order_data.customer, order_data.ship_to
    values = {
        "external_id": buyer.external_id.strip()[:255],
        "name": (buyer.name or ship_to.name).strip()[:255],
        "email": buyer.email.strip()[:254],
        "phone": (buyer.phone or ship_to.phone).strip()[:64],
    }
    if not ship_to.is_empty():
        values.update(
            address_line1=ship_to.line1[:255],
            address_line2=ship_to.line2[:255],
            postal_code=ship_to.postal_code[:32],
            city=ship_to.city[:128],
            state=ship_to.state[:128],
            country=ship_to.country[:64],
        )
    return values


@dataclass
class _StoredOrder:
    """An order as stored: its columns (``COMPARED_ORDER_FIELDS`` order), lines, promo codes, feedback."""

    pk: int
    values: tuple
    lines: list = field(default_factory=list)
    promo_codes: list = field(default_factory=list)
    feedback: tuple | None = None

    @property
    def customer_id(self):
        return self.values[0]

    @property
    def rating(self):
        return self.feedback[0] if self.feedback is not None else None

    def return_state(self):
        # ``returned_quantity`` is the last of a stored line's values (``LINE_FIELDS``).
        return ReturnState(
            units=sum(line[-1] for line in self.lines),
            marked=self.values[STATUS_INDEX] == OrderStatus.RETURNED or self.values[RETURNED_AT_INDEX] is not None,
        )


def _stored_orders(account, external_ids):
    """The batch's orders already stored, with what they hold, in four queries at most (not per order).

    Locked until the batch commits (PostgreSQL; after the customers, in pk order): another batch moving one of these
    orders to another customer meanwhile is waited for and then seen, so the customer the order leaves is the one
    refreshed. ``FOR NO KEY UPDATE``, the lock the batch's own update of the order would take: lines of the order
    written elsewhere are not held up."""
    locked = Order.objects.select_for_update(no_key=True).filter(account=account, external_id__in=external_ids)
    stored = {
        row[0]: _StoredOrder(pk=row[1], values=row[2:])
        for row in locked.order_by("pk").values_list("external_id", "id", *COMPARED_ORDER_FIELDS)
    }
    if not stored:
        return stored
    by_pk = {order.pk: order for order in stored.values()}
    line_fields = LINE_FIELDS[1:]
    for order_id, *values in (
        OrderLine.objects.filter(order_id__in=by_pk).order_by("pk").values_list("order_id", *line_fields)
    ):
        by_pk[order_id].lines.append(tuple(values))
    for order_id, *values in (
        PromoCodeUsage.objects.filter(order_id__in=by_pk).order_by("pk").values_list("order_id", "code", "discount")
    ):
        by_pk[order_id].promo_codes.append(tuple(values))
    for order_id, *values in Feedback.objects.filter(order_id__in=by_pk).values_list(
        "order_id", "rating", "comment", "left_at"
    ):
        by_pk[order_id].feedback = tuple(values)
    return stored


def _keep_stored_returns_and_feedback(order_data, stored):
    """Give ``order_data`` the stored order's returns, or feedback, where its channel no longer says them
    (``OrderData.keep_stored_returns``, ``keep_stored_feedback``): the returned units go back on the lines of the
    same SKU, in order and each up to its quantity, as an adapter puts a report's returns on them."""
    if order_data.keep_stored_returns:
        # A stored line is LINE_FIELDS without the order: its SKU first, its returned quantity last.
        returned_by_sku = {}
        for line in stored.lines:
            returned_by_sku[line[0]] = returned_by_sku.get(line[0], 0) + line[-1]
        for line in order_data.lines:
            taken = min(returned_by_sku.get(line.sku[:100], 0), line.quantity - line.returned_quantity)
            if taken > 0:
                line.returned_quantity += taken
                returned_by_sku[line.sku[:100]] -= taken
        # The return date only with units back on the lines (as the adapters date a return): a stored return whose
        # SKU is no longer on the order would else leave it returned with nothing returned.
        if order_data.returned_at is None and any(line.returned_quantity for line in order_data.lines):
            order_data.returned_at = stored.values[RETURNED_AT_INDEX]
    if order_data.keep_stored_feedback and order_data.feedback is None and stored.feedback is not None:
        rating, comment, left_at = stored.feedback
        order_data.feedback = FeedbackData(rating=rating, comment=comment, left_at=left_at)


def _line_row(line):
    """An order line as stored (without its order id): what is written, and what an update is compared with."""
    return (
        line.sku[:100],
        line.product_name[:500],
        line.quantity,
        line.unit_price,
        line.line_total,
        line.discount,
        line.unit_cost,
        line.returned_quantity,
    )


def _same_order(stored, values, order_data):
    """Whether the incoming order would store exactly what is stored (header, lines, promo codes, feedback)."""
    if not _same_values(stored.values, values[:-1]):
        return False
    lines = [_line_row(line) for line in order_data.lines]
    promo_codes = [(promo.code[:100], promo.discount) for promo in order_data.promo_codes]
    feedback = order_data.feedback
    if (feedback is None) != (stored.feedback is None):
        return False
    if feedback is not None:
        if not _same_values(stored.feedback, (feedback.rating, feedback.comment, feedback.left_at)):
            return False
    return _same_rows(stored.lines, lines) and _same_rows(stored.promo_codes, promo_codes)


def _same_rows(stored_rows, incoming_rows):
    # In order: a file that lists an order's lines differently is rewritten, which is harmless.
    return len(stored_rows) == len(incoming_rows) and all(
        _same_values(a, b) for a, b in zip(stored_rows, incoming_rows, strict=True)
    )


def _same_values(stored, incoming):
    return all(_same_value(a, b) for a, b in zip(stored, incoming, strict=True))


def _same_value(stored, incoming):
    if isinstance(stored, Decimal) and isinstance(incoming, Decimal | int):
        # The database keeps cents: 0.425 comes back as 0.42 or 0.43 depending on the backend.
        return abs(stored - incoming) <= HALF_CENT
    return stored == stored_moment(incoming)
