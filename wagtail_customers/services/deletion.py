"""Deleting customers: the one path every deletion of customers takes (the listing's row menu and bulk action,
the customer page), and the history scrub a seller account's deletion does for the customers it takes along.

Wagtail's history keeps the entries about a deleted customer. Deleting scrubs them as erasing does
(``erasure.scrub_history``): labelled by id, without the recipient and subject of the e-mails sent.
"""

from ..log_actions import log_each
from ..models import Customer
from . import search_index
from .deadlocks import atomic_with_retries
from .erasure import scrub_history

#: Customers deleted per transaction in a bulk delete (each with its history entry).
DELETE_BATCH_SIZE = 500
#: Customers whose history is scrubbed per query set when their seller account is deleted.
ACCOUNT_SCRUB_BATCH_SIZE = 2000


def delete_customers(customers, user):
    """Delete the customers (with their orders, lines, promo codes, feedback, timeline and watchlist
    entry), scrubbing their history and logging ``wagtail.delete`` for each; returns how many were deleted."""
    pks = list(customers.order_by().values_list("pk", flat=True))
    deleted = 0
    for start in range(0, len(pks), DELETE_BATCH_SIZE):
        batch = customers.model.objects.filter(pk__in=pks[start : start + DELETE_BATCH_SIZE])
        deleted += atomic_with_retries(lambda batch=batch: _delete_batch(batch, user))
    if deleted:
        search_index.compact()
    return deleted


def _delete_batch(batch, user):
    # Locked before their orders are gathered, as writers take customers then orders: an order being recorded for
    # one of them is waited for, then deleted with the rest (read before it committed, the deletion left it pointing
    # at a deleted customer, and failed). A deadlock with a writer that locks an order before its customer
    # (docs/concepts/statistics.md) is run again.
    locked = batch.select_for_update(of=("self",)).select_related("account").order_by("pk")
    customers = list(locked)
    scrub_history(customers)
    log_each(customers, "wagtail.delete", user=user, deleted=True)
    batch.delete()
    return len(customers)


def scrub_account_history(account):
    """Scrub the history of ``account``'s customers, as deleting them does, in the transaction that deletes the
    seller account (its customers go with it): ``pre_delete`` of every deletion of a seller account, the admin's
    or a site's own code (``connect``)."""
    customers = Customer.objects.filter(account=account).order_by("pk")
    chunk = []
    for customer in customers.iterator(chunk_size=ACCOUNT_SCRUB_BATCH_SIZE):
        chunk.append(customer)
        if len(chunk) == ACCOUNT_SCRUB_BATCH_SIZE:
            scrub_history(chunk)
            chunk = []
    scrub_history(chunk)


def _scrub_history_of_deleted_account(sender, instance, using, **kwargs):
    # Django sends it in the deletion's transaction, once the rows to delete are gathered. The account's row is locked
    # first, as the admin's deletion does before gathering them: the ingestion batches under way (which hold it) are
    # waited for, and a customer one of them added after the gathering makes the deletion fail whole at commit.
    list(sender.objects.using(using).select_for_update().filter(pk=instance.pk).values_list("pk", flat=True))
    scrub_account_history(instance)


def connect():
    from django.db.models.signals import pre_delete

    from ..models import SellerAccount

    pre_delete.connect(
        _scrub_history_of_deleted_account, sender=SellerAccount, dispatch_uid="wagtail_customers:account_history"
    )
