"""eBay feedback from the Commerce Feedback API v1 (``GET /commerce/feedback/v1/feedback``), merged into orders.

getFeedback lists the feedback a user received (``user_id``, ``feedback_type=FEEDBACK_RECEIVED``, ``limit`` and
``offset``; the reference does not say in which order); each entry (``feedbackEntries[]``) has its
``feedbackId``, ``commentType`` (POSITIVE, NEUTRAL, NEGATIVE), ``feedbackComment.commentText``,
``feedbackEnteredDate`` and the order line it is about (``orderLineItemSummary.orderLineItemId``), not the
order. getOrders names the same line ``lineItems[].lineItemId``, so the adapter remembers, in the connection's
cursor (``lines``), which order each line of a recent order belongs to (for ``LINE_DAYS`` after the order: eBay
takes feedback for a limited time after the sale) and the seller's user id (``sellerId``), which getFeedback
asks for.

Feedback is kept per order in the cursor (``kept``, beside the returns of ``ebay_returns``) by ``feedbackId``, so
feedback read twice counts once, and is applied to every order handed over. An order has one feedback: when the
buyer left feedback on several of its lines, the lowest rating stands (the latest of equal ones).
"""

from datetime import UTC, timedelta

from django.utils.translation import gettext_lazy as _

from ..services.inputs import FeedbackData
from .base import MalformedResponse, parse_datetime_utc
from .ebay_returns import KEEP_DAYS

FEEDBACK_PATH = "/commerce/feedback/v1/feedback"
#: Asked for a separate access token, so a refresh token without it loses the feedback only.
SCOPE = "https://api.ebay.com/oauth/api_scope/commerce.feedback.readonly"
PAGE_SIZE = 100
#: A pass reads at most this many pages; it stops sooner at a page with only feedback older than the last pass.
MAX_PAGES = 20
#: A first pass reads the feedback left this long before it; each later one back to where the last one began.
FIRST_LOOKBACK = timedelta(days=90)
#: Read again at the start of a pass, against clocks that differ (feedback read twice counts once).
OVERLAP = timedelta(hours=1)
#: How long the order of a line is remembered after the order was placed (eBay takes feedback for 60 days).
LINE_DAYS = 90
#: eBay's rating -> the 1-5 scale of ``Feedback.rating``.
RATINGS = {"POSITIVE": 5, "NEUTRAL": 3, "NEGATIVE": 1}


def iso(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def note_lines(state, raw_orders, now):
    """Remember the order of each line of the recent orders in ``raw_orders`` and the seller's user id."""
    lines = state.setdefault("lines", {})
    oldest = now - timedelta(days=LINE_DAYS)
    for raw in raw_orders:
        if raw.get("sellerId"):
            state["seller"] = str(raw["sellerId"])
        placed = raw.get("creationDate")
        if not placed or parse_datetime_utc(placed) < oldest:
            continue
        for item in raw.get("lineItems") or []:
            if item.get("lineItemId"):
                lines[str(item["lineItemId"])] = [str(raw["orderId"]), placed]
    for line_id in [key for key, (_order, placed) in lines.items() if parse_datetime_utc(placed) < oldest]:
        del lines[line_id]
    if not lines:
        state.pop("lines")


def read_page(body, since):
    """(entries, more): ``entries`` as (feedbackId, line id, rating, comment, left at); ``more`` while there is
    a next page and this one has feedback left since ``since``."""
    entries = body.get("feedbackEntries", [])
    if not isinstance(entries, list) or not isinstance(body.get("pagination", {}), dict):
        raise MalformedResponse(_("eBay's getFeedback answer has no feedbackEntries list."))
    found, dates = [], []
    for entry in entries:
        if not isinstance(entry, dict):
            raise MalformedResponse(
                _("eBay sent a feedback entry that is not an object: %(value)s") % {"value": str(entry)[:200]}
            )
        left = entry.get("feedbackEnteredDate")
        try:
            left_at = parse_datetime_utc(left) if left else None
        except (TypeError, ValueError):
            raise MalformedResponse(
                _("An eBay feedback has a date that is not a date: %(value)s") % {"value": str(left)[:100]}
            ) from None
        dates.append(left_at)
        rating = RATINGS.get(entry.get("commentType"))
        feedback_id = str(entry.get("feedbackId") or "")
        if rating is None or not feedback_id:
            # Withdrawn or of a kind not rated: nothing to count.
            continue
        line_id = str((entry.get("orderLineItemSummary") or {}).get("orderLineItemId") or "")
        comment = str((entry.get("feedbackComment") or {}).get("commentText") or "")
        found.append((feedback_id, line_id, rating, comment, iso(left_at) if left_at else None))
    # ``pagination``: count, limit, offset, total, and ``next`` while there is a next page.
    pagination = body.get("pagination") or {}
    total, offset = pagination.get("total"), pagination.get("offset")
    counted = isinstance(total, int) and isinstance(offset, int) and offset + len(entries) < total
    # Reading stops at a page with only older feedback, whatever order eBay lists it in (the newest first
    # ends it soonest); a next pass reads from where this one began.
    all_older = bool(dates) and all(left_at is not None and left_at < since for left_at in dates)
    return found, bool(entries) and not all_older and (bool(pagination.get("next")) or counted)


def read(get, seller, since):
    """The entries of the feedback ``seller`` received since ``since`` (at most ``MAX_PAGES`` pages, newest
    first); ``get(path, params)`` answers a page."""
    found = []
    for page in range(MAX_PAGES):
        params = {
            "user_id": seller,
            "feedback_type": "FEEDBACK_RECEIVED",
            "limit": PAGE_SIZE,
            "offset": page * PAGE_SIZE,
        }
        entries, more = read_page(get(FEEDBACK_PATH, params), since - OVERLAP)
        found.extend(entries)
        if not more:
            break
    return found


def remember(state, kept, entries, now):
    """Keep the feedback whose line is known, by order and feedbackId; (the order ids named, entries skipped)."""
    lines = state.get("lines") or {}
    named, skipped = [], 0
    for feedback_id, line_id, rating, comment, left_at in entries:
        if line_id not in lines:
            skipped += 1
            continue
        order_id = lines[line_id][0]
        slot = kept.setdefault(order_id, {})
        slot.setdefault("feedback", {})[feedback_id] = [rating, comment, left_at]
        slot["seen"] = iso(now)
        named.append(order_id)
    for order_id in [
        key for key, slot in kept.items() if parse_datetime_utc(slot["seen"]) < now - timedelta(KEEP_DAYS)
    ]:
        del kept[order_id]
    return list(dict.fromkeys(named)), skipped


def apply(order, slot):
    """Set the kept feedback (the lowest rating, the latest of equal ones) on an ``OrderData``."""
    kept = list(((slot or {}).get("feedback") or {}).values())
    if not kept:
        order.keep_stored_feedback = True  # none read lately: the stored feedback stays
        return order
    rating, comment, left_at = min(kept, key=_worst_first)
    order.keep_stored_feedback = False
    order.feedback = FeedbackData(
        rating=rating, comment=comment, left_at=parse_datetime_utc(left_at) if left_at else None
    )
    return order


def _worst_first(entry):
    """The lowest rating first, then the latest (undated last)."""
    rating, _comment, left_at = entry
    return (rating, -parse_datetime_utc(left_at).timestamp() if left_at else 0)
