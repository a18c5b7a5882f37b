"""The customer's timeline: orders with their milestones, feedback, e-mails, notes and watchlist changes.

Paged by orders, newest first. A page holds ``per_page`` orders, each with what the channel reported
(its milestones and the buyer's feedback), and the ``OrderEvent``s (e-mails, notes, watchlist
changes) that happened between those orders, each where it happened in time: an e-mail sent today
about an old order shows at the top, with a link to that order. Each page costs three queries
whatever the number of orders: the count, the orders (with their feedback) plus the one just before
the page, and the events.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.paginator import Paginator
from django.db.models import Q

from ...local_time import date_only_day
from ...models import EventKind, FulfilmentStatus, OrderEvent, OrderStatus
from ...services.personal_data import is_masked, mask_order, mask_text
from .conversion import conversion_of

#: Event kinds shown as a title plus a message (the first paragraph of an e-mail is its subject).
TITLED_KINDS = {EventKind.EMAIL}
#: Event kinds whose message is free text about the buyer (masked with their personal data).
FREE_TEXT_KINDS = {EventKind.EMAIL, EventKind.NOTE}


@dataclass
class TimelineEntry:
    kind: str
    label: str
    moment: datetime | None
    title: str = ""
    text: str = ""
    user: object = None
    rating: int | None = None
    #: The order an event is about, for events shown on their own.
    order: object = None
    #: The day of an entry whose channel gave a date without a time (Amazon's feedback), shown without a time.
    day: date | None = None

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
    #: How an order in another currency counts in the account's (``conversion.conversion_of``).
    conversion: object = None

    @property
    def is_order(self):
        return self.order is not None

    @property
    def event(self):
        return None if self.is_order else self.entries[0]


def _event_entry(event, masked=False):
    entry = TimelineEntry(
        event.kind, event.get_kind_display(), event.occurred_at, text=event.message, user=event.user, order=event.order
    )
    if event.kind in TITLED_KINDS:
        title, _, text = event.message.partition("\n\n")
        entry.title, entry.text = title, text
    if masked and event.kind in FREE_TEXT_KINDS:
        entry.title, entry.text = mask_text(entry.title), mask_text(entry.text)
    return entry


def is_returned(order):
    return order.status == OrderStatus.RETURNED or order.fulfilment_status == FulfilmentStatus.RETURNED


def _order_entries(order):
    entries = [TimelineEntry(kind, kind.label, moment) for kind, moment in order.milestones()]
    if is_returned(order) and order.returned_at is None:
        # Many channels (Amazon's reports, the demo) say an order came back but not when.
        entries.append(TimelineEntry(EventKind.RETURNED, EventKind.RETURNED.label, None))
    feedback = getattr(order, "feedback", None)
    if feedback is not None:
        entries.append(
            TimelineEntry(
                EventKind.FEEDBACK,
                EventKind.FEEDBACK.label,
                feedback.left_at,
                text=feedback.comment,
                rating=feedback.rating,
                day=date_only_day(feedback.left_at),
            )
        )
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
    window_filter = Q()
    if upper is not None:
        window_filter &= Q(occurred_at__lt=upper)
    if lower is not None:
        window_filter &= Q(occurred_at__gte=lower)
    events = (
        OrderEvent.objects.filter(window_filter, customer=customer)
        .select_related("user", "order")
        .order_by("-occurred_at", "-pk")
    )
    # A customer masked for the user (services/personal_data.py): their orders' comments and e-mails too.
    masked = is_masked(customer)
    if masked:
        for order in page_orders:
            mask_order(order)
    blocks = [TimelineBlock(event.occurred_at, entries=[_event_entry(event, masked)]) for event in events]
    blocks += [
        TimelineBlock(
            order.placed_at,
            order=order,
            entries=_order_entries(order),
            conversion=conversion_of(order, customer.currency),
        )
        for order in page_orders
    ]
    # Newest first; an event at the very moment an order was placed came after it.
    blocks.sort(key=lambda block: (block.moment, not block.is_order), reverse=True)
    return page, blocks
