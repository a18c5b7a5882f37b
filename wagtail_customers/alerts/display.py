"""What an alert says, the same in the admin list and in the e-mail digest: the kind of event, the customer
(named as the user may see them: ``services/personal_data.py``), the seller account, the order and the link
to the customer's page."""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse

from ..exports.notices import absolute_url
from ..models import AlertKind
from ..models.customers import customer_label
from ..services.personal_data import personal_account_ids


@dataclass(frozen=True)
class AlertItem:
    pk: int
    kind: str
    kind_label: str
    customer_label: str
    account_name: str
    order_number: str
    rating: int | None
    occurred_at: datetime
    path: str
    read: bool

    @property
    def url(self):
        """The absolute link for e-mails (``BASE_URL``), or None when the site has none configured."""
        return absolute_url(self.path)


def with_details(notifications):
    return notifications.select_related("event__customer", "event__account", "event__order__feedback")


def alert_items(user, notifications):
    """``AlertItem``s for loaded ``AlertNotification``s (``with_details``), personal data masked per account."""
    personal_ids = personal_account_ids(user)
    items = []
    for notification in notifications:
        event = notification.event
        customer = event.customer
        visible = event.account_id in personal_ids
        feedback = getattr(event.order, "feedback", None) if event.order_id else None
        items.append(
            AlertItem(
                pk=notification.pk,
                kind=event.kind,
                kind_label=event.get_kind_display(),
                customer_label=str(
                    customer_label(
                        customer.name if visible else "",
                        customer.email if visible else "",
                        customer.external_id if visible else "",
                        customer.identity_key,
                        customer.pk,
                    )
                ),
                account_name=event.account.name,
                order_number=event.order.external_id if event.order_id else "",
                rating=feedback.rating if feedback is not None and event.kind == AlertKind.NEGATIVE_FEEDBACK else None,
                occurred_at=event.occurred_at,
                path=reverse("wagtail_customers_customer:detail", args=[customer.pk]),
                read=notification.read_at is not None,
            )
        )
    return items
