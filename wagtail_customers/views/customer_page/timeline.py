"""The customer's timeline: orders with their milestones, feedback, e-mails, notes and watchlist changes.

Paged by orders, newest first. A page holds ``per_page`` orders and the events that fall between
them: events tied to one of those orders go inside that order's entry; events tied to no order go
where they happened in time. Each page costs three queries whatever the number of orders: the
count, the orders (with their feedback) plus the one just before the page, and the events.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.paginator import Paginator
from django.db.models import Q

from ...models import EventKind, OrderEvent

#: Event kinds shown as a title plus a message (the first paragraph of an e-mail is its subject).
TITLED_KINDS = {EventKind.EMAIL}


@dataclass
class TimelineEntry:
    kind: str
    label: str
    moment: datetime | None
    title: str = ""
    text: str = ""
    user: object = None
    rating: int | None = None

    @property
    def sort_key(self):
        # Undated entries (feedback without a date) read as the newest thing about their order.
        return (self.moment is None, self.moment or datetime.min)


@dataclass
class TimelineBlock:
    """One row of the timeline: an order with its entries, or an event tied to no order."""

    moment: datetime
    order: object = None
    entries: list = field(default_factory=list)

    @property
    def is_order(self):
        return self.order is not None

    @property
    def event(self):
        return None if self.is_order else self.entries[0]


def _event_entry(event):
    entry = TimelineEntry(event.kind, event.get_kind_display(), event.occurred_at, text=event.message, user=event.user)
    if event.kind in TITLED_KINDS:
        title, _, text = event.message.partition("\n\n")
        entry.title, entry.text = title, text
    return entry


def _order_entries(order, events):
    entries = [TimelineEntry(kind, kind.label, moment) for kind, moment in order.milestones()]
    feedback = getattr(order, "feedback", None)
    if feedback is not None:
        entries.append(
            TimelineEntry(
                EventKind.FEEDBACK,
                EventKind.FEEDBACK.label,
                feedback.left_at,
                text=feedback.comment,
                rating=feedback.rating,
            )
        )
    entries += [_event_entry(event) for event in events]
    return sorted(entries, key=lambda entry: entry.sort_key, reverse=True)


def timeline_page(customer, page_number, per_page=10):
    """``(page, blocks)``: the paginator page of orders and the timeline blocks to show, newest first."""
    orders = customer.orders.order_by("-placed_at", "-pk")
    paginator = Paginator(orders, per_page)
    page = paginator.get_page(page_number)

    start = (page.number - 1) * per_page
    # The order just before the page bounds its events from above, so each event shows on one page.
    window = list(orders.select_related("feedback")[max(start - 1, 0) : start + per_page])
    previous = window.pop(0) if start else None
    page_orders = window

    upper = previous.placed_at if previous else None
    lower = page_orders[-1].placed_at if page_orders and page.has_next() else None
    loose = Q(order__isnull=True)
    if upper is not None:
        loose &= Q(occurred_at__lt=upper)
    if lower is not None:
        loose &= Q(occurred_at__gte=lower)
    events = (
        OrderEvent.objects.filter(customer=customer)
        .filter(Q(order_id__in=[order.pk for order in page_orders]) | loose)
        .select_related("user")
        .order_by("-occurred_at", "-pk")
    )

    by_order, blocks = {}, []
    for event in events:
        if event.order_id is None:
            blocks.append(TimelineBlock(event.occurred_at, entries=[_event_entry(event)]))
        else:
            by_order.setdefault(event.order_id, []).append(event)
    blocks += [
        TimelineBlock(order.placed_at, order=order, entries=_order_entries(order, by_order.get(order.pk, [])))
        for order in page_orders
    ]
    # Newest first; an event at the very moment an order was placed came after it.
    blocks.sort(key=lambda block: (block.moment, not block.is_order), reverse=True)
    return page, blocks
