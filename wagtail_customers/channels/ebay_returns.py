"""eBay returns from the Post-Order API v2 (``GET /post-order/v2/return/search``), merged into the orders they name.

getOrders says nothing of returned units. The Post-Order API lists the seller's return requests by creation
date (``creation_date_range_from`` / ``_to``, ``limit`` and ``offset``); each member names the order
(``orderId``), the line (``creationInfo.item``: ``itemId``, the listing's legacy id, ``transactionId``) and
``returnQuantity``, and its creation date (``creationInfo.creationDate.value``).

As for Amazon's reports (``amazon_reports``): the ingestion service takes whole orders and recording one again
replaces its lines, so the returns are kept per order in the connection's cursor (``kept``) and applied to every
order handed over; the orders a return names are fetched again (getOrder) and recorded with their returned
quantities, and an order pulled later for another change keeps them. Returns are kept by their ``returnId``,
so a return read twice (a pass's range starts where the last one ended) is counted once.
"""

from datetime import UTC, timedelta

from django.utils.translation import gettext_lazy as _

from .amazon_reports import apply_kept
from .base import MalformedResponse, parse_datetime_utc

SEARCH_PATH = "/post-order/v2/return/search"
#: The search answers at most 200 returns a page.
PAGE_SIZE = 200
#: A first pass asks for returns created this long before the pass (eBay accepts returns for 30-60 days).
FIRST_LOOKBACK = timedelta(days=90)
#: Returns kept per order (in the cursor) for this long after they were read.
KEEP_DAYS = 120


def iso(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def read_page(body):
    """(returns, more): ``returns`` as (returnId, order id, item id, transaction id, quantity, created)."""
    members = body.get("members", [])
    if not isinstance(members, list):
        raise MalformedResponse(_("eBay's return search answer has no members list."))
    found = []
    for member in members:
        info = (member or {}).get("creationInfo") or {}
        item = info.get("item") or {}
        try:
            quantity = int(item.get("returnQuantity") or 0)
        except (TypeError, ValueError):
            raise MalformedResponse(
                _("An eBay return has a quantity that is not a number: %(value)s") % {"value": str(member)[:200]}
            ) from None
        return_id, order_id = str(member.get("returnId") or ""), str(member.get("orderId") or "")
        if not return_id or not order_id or quantity <= 0:
            continue
        created = (info.get("creationDate") or {}).get("value")
        found.append(
            (
                return_id,
                order_id,
                str(item.get("itemId") or ""),
                str(item.get("transactionId") or ""),
                quantity,
                iso(parse_datetime_utc(created)) if created else None,
            )
        )
    pagination = body.get("paginationOutput") or {}
    total_pages, offset = pagination.get("totalPages"), pagination.get("offset")
    more = bool(members) and isinstance(total_pages, int) and isinstance(offset, int) and offset < total_pages
    return found, more


def remember(kept, returns, now):
    """Add returns to the kept ones (by returnId) and drop what is older than KEEP_DAYS; the order ids named."""
    named = []
    for return_id, order_id, item_id, transaction_id, quantity, created in returns:
        slot = kept.setdefault(order_id, {})
        slot.setdefault("by_id", {})[return_id] = [item_id, transaction_id, quantity, created]
        slot["seen"] = iso(now)
        named.append(order_id)
    for order_id in [
        key for key, slot in kept.items() if parse_datetime_utc(slot["seen"]) < now - timedelta(KEEP_DAYS)
    ]:
        del kept[order_id]
    return list(dict.fromkeys(named))


def apply(order, slot, line_keys):
    """Set the kept returned quantities and the last return date on an ``OrderData``.

    ``line_keys``: for each line's SKU, the key the returns name it by (``legacyItemId``; a SKU is ``sku``
    else ``legacyItemId``, see ``ebay._line``)."""
    if not slot:
        return order
    returns, dates = {}, []
    for item_id, _transaction_id, quantity, created in (slot.get("by_id") or {}).values():
        returns[item_id] = returns.get(item_id, 0) + quantity
        if created:
            dates.append(created)
    return apply_kept(order, {"returns": returns, "returned_at": max(dates, default=None)}, line_keys)
