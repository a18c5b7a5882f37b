"""What a batch of recorded orders brought that was not there before: orders new to the ledger, returns
(more units returned, or the order newly marked returned) and negative feedback (none or positive before).

The ingestion service notes it while it compares each incoming order with the stored one (it holds the
stored state then, and it is gone once the batch commits) and sends it with ``orders_recorded``
(docs/reference/signals.md). An order recorded again unchanged is never news, so a re-import tells nothing.
"""

from dataclasses import dataclass, field

from ..conf import get_setting
from ..models import OrderStatus


def is_negative(rating):
    return rating is not None and rating <= get_setting("NEGATIVE_FEEDBACK_MAX_RATING")


@dataclass(frozen=True)
class ReturnState:
    """How much of an order is returned: units over its lines, and whether the order as a whole is returned."""

    units: int = 0
    marked: bool = False

    @classmethod
    def of_incoming(cls, order_data):
        return cls(
            units=sum(line.returned_quantity for line in order_data.lines),
            marked=order_data.status == OrderStatus.RETURNED or order_data.returned_at is not None,
        )

    def is_more_than(self, before):
        return self.units > before.units or (self.marked and not before.marked)


@dataclass
class OrderNews:
    """Order ids (external, per seller account) of a batch, by what is new about them."""

    created: list = field(default_factory=list)
    returned: list = field(default_factory=list)
    negative_feedback: list = field(default_factory=list)

    def note(self, order_data, *, before_returns=None, before_rating=None):
        """Note an order being written: new (``before_returns`` None) or changed from what was stored."""
        external_id = order_data.external_id
        if before_returns is None:
            self.created.append(external_id)
            before_returns = ReturnState()
        if ReturnState.of_incoming(order_data).is_more_than(before_returns):
            self.returned.append(external_id)
        rating = order_data.feedback.rating if order_data.feedback is not None else None
        if is_negative(rating) and not is_negative(before_rating):
            self.negative_feedback.append(external_id)

    def signal_arguments(self, order_ids):
        """The ``orders_recorded`` arguments, with ``order_ids`` mapping external ids to primary keys."""
        return {
            "created_order_ids": [order_ids[external_id] for external_id in self.created],
            "returned_order_ids": [order_ids[external_id] for external_id in self.returned],
            "negative_feedback_order_ids": [order_ids[external_id] for external_id in self.negative_feedback],
        }
