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

Which returns count (``counts``): the search answers only open returns unless asked for ``return_state``
(eBay's ``ReturnCountFilterEnum``; the default is ``ALL_OPEN``). An open return counts, except ``ITEM_KEPT``
(the buyer keeps the item). A ``CLOSED`` one counts only when the seller refunded it
(``sellerTotalRefund.actualRefundAmount``, which eBay gives only once a refund was issued): closed without a
refund, the buyer cancelled it (``BUYER_CLOSED``) or never sent the item (``BUYER_NO_ACTION``), and nothing came
back. So that a return read while open stops counting once cancelled, each pass also searches the ``CLOSED``
returns created since the oldest one kept, and drops the kept ones that no longer count.
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


#: The states (``ReturnStateEnum``) of a return whose item does not come back even though it is not closed.
NOT_RETURNED_STATES = {"ITEM_KEPT"}


def counts(member):
    """Whether a return's units came back, from its summary (``state``, ``status``, ``sellerTotalRefund``)."""
    state, status = member.get("state"), member.get("status")
    if state in NOT_RETURNED_STATES:
        return False
    if "CLOSED" in (state, status):
        refund = ((member.get("sellerTotalRefund") or {}).get("actualRefundAmount") or {}).get("value")
        try:
            return float(refund or 0) > 0
        except (TypeError, ValueError):
            return False
    return True


def search(get, start, end, return_state=None):
    """All the returns created from ``start`` to ``end`` (ISO strings), page after page, as ``read_page``
    gives them; the open ones unless ``return_state`` says otherwise. ``get(path, params)`` asks eBay."""
    found, page = [], 1
    while True:
        params = {"creation_date_range_from": start, "creation_date_range_to": end, "limit": PAGE_SIZE}
        if return_state:
            params["return_state"] = return_state
        returns, more = read_page(get(SEARCH_PATH, {**params, "offset": page}))
        found.extend(returns)
        if not more:
            return found
        page += 1


def oldest_kept(kept, since):
    """Where the search for closed returns starts: the creation date of the oldest return kept, else ``since``."""
    dates = [entry[3] for slot in kept.values() for entry in (slot.get("by_id") or {}).values() if entry[3]]
    return min([since, *dates])


def read_page(body):
    """(returns, more): ``returns`` as (returnId, order id, item id, transaction id, quantity, created,
    whether it counts)."""
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
                counts(member),
            )
        )
    pagination = body.get("paginationOutput") or {}
    total_pages, offset = pagination.get("totalPages"), pagination.get("offset")
    more = bool(members) and isinstance(total_pages, int) and isinstance(offset, int) and offset < total_pages
    return found, more


def remember(kept, returns, now):
    """Add returns to the kept ones (by returnId), drop the kept ones that no longer count (cancelled, closed
    without a refund) and what is older than KEEP_DAYS; the ids of the orders whose returns changed."""
    named = []
    for return_id, order_id, item_id, transaction_id, quantity, created, counted in returns:
        if not counted:
            # Recorded again without it only if it was counted before.
            if (kept.get(order_id) or {}).get("by_id", {}).pop(return_id, None):
                named.append(order_id)
            continue
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
    else ``legacyItemId``, see ``ebay._line``). With no returns kept for the order (none read, or read more
    than KEEP_DAYS ago) it keeps the stored ones; a kept return that no longer counts (cancelled) leaves the
    order's returns known, and zero."""
    if not slot or "by_id" not in slot:
        order.keep_stored_returns = True
        return order
    returns, dates = {}, []
    for item_id, _transaction_id, quantity, created in (slot.get("by_id") or {}).values():
        returns[item_id] = returns.get(item_id, 0) + quantity
        if created:
            dates.append(created)
    apply_kept(order, {"returns": returns, "returned_at": max(dates, default=None)}, line_keys)
    order.keep_stored_returns = False  # read lately: the kept returns say it, none where all were cancelled
    return order
