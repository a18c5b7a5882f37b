"""Answering an access request (GDPR art. 15): everything held about one customer, as one zip.

The zip holds ``personal-data.json`` (one document with every fact, nested: the customer, their orders
with lines, promo codes and feedback, the timeline, the watchlist entry, the profile the buyer-insight scores
make of them) and the same facts flat, as CSV files a spreadsheet opens: ``customer.csv``, ``orders.csv``,
``order_lines.csv``, ``timeline.csv``, ``watchlist.csv`` and ``buyer_insight.csv``.

Stable on purpose, so a seller can answer the next request the same way and a script can read it:

* the JSON keys never depend on the language; dates are ISO 8601 in UTC; every amount is a string
  (no float rounding) with its currency: ``{"amount": "12.50", "currency": "EUR"}``; a value not
  known is ``null``, never 0;
* the CSV headers are the same keys; amounts are plain decimals beside a currency column; text cells
  that a spreadsheet would run as a formula are neutralised like every other export (exports/neutralise.py).

Left out, because they are the seller's business data rather than the buyer's personal data (art. 15(4)):
costs of goods, channel fees and fulfilment costs; and the admin users who wrote a note or sent an e-mail.

One customer is small: the zip is built in memory in a fixed number of queries, whatever the number of orders.
"""

import csv
import io
import json
import zipfile
from datetime import UTC

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from django.utils import timezone

from ..exports.writers import CSV_BOM, csv_cell
from ..models import (
    CustomerMerge,
    CustomerScore,
    FitStatus,
    LifetimeValueFit,
    Order,
    OrderEvent,
    OrderLine,
    PromoCodeUsage,
)
from .ingestion import CUSTOMER_DETAIL_FIELDS

#: The document's ``format`` and ``version``: bump the version when a key changes meaning or goes.
FORMAT = "wagtail-customers access request"
VERSION = 1
JSON_NAME = "personal-data.json"

#: The customer's details: the fields the ingestion service writes from the orders.
CUSTOMER_FIELDS = CUSTOMER_DETAIL_FIELDS
SHIP_TO_FIELDS = Order.SHIP_TO_FIELDS
MILESTONE_FIELDS = Order.MILESTONE_FIELDS
#: Amounts in the order's own currency.
ORDER_AMOUNTS = ("subtotal", "discount", "shipping", "tax", "total", "refunded")
#: The same money converted into the seller account's currency (``None`` when no rate is known).
ACCOUNT_AMOUNTS = ("account_total", "account_refunded", "account_discount")
LINE_AMOUNTS = ("unit_price", "line_total", "discount")
#: Statistics that are amounts in the seller account's currency; the others are counts or dates.
STATISTIC_AMOUNTS = ("amount_spent", "discount_total")


def iso(moment):
    """ISO 8601 in UTC (``2024-01-01T12:00:00+00:00``), or ``None``."""
    return moment.astimezone(UTC).isoformat() if moment else None


def money(amount, currency):
    return None if amount is None else {"amount": str(amount), "currency": currency}


def customer_document(customer):
    """The customer's details and statistics (statistics amounts are in the seller account's currency)."""
    account = customer.account
    statistics = {}
    for name in customer.STATISTICS_FIELDS:
        value = getattr(customer, name)
        if name in STATISTIC_AMOUNTS:
            value = money(value, account.currency)
        elif name.endswith("_at"):
            value = iso(value)
        statistics[name] = value
    return {
        "id": customer.pk,
        "seller_account": {"id": account.pk, "name": account.name, "channel": account.channel},
        **{name: getattr(customer, name) for name in CUSTOMER_FIELDS},
        "created_at": iso(customer.created_at),
        # When the personal data was erased (GDPR art. 17), or ``None``: after it, only the pseudonym is left.
        "erased_at": iso(customer.erased_at),
        "statistics": statistics,
    }


def order_document(order, account_currency):
    feedback = getattr(order, "feedback", None)
    return {
        "order_id": order.external_id,
        "channel": order.channel,
        "placed_at": iso(order.placed_at),
        "status": order.status,
        "fulfilment_status": order.fulfilment_status,
        "currency": order.currency,
        **{name: money(getattr(order, name), order.currency) for name in ORDER_AMOUNTS},
        "account_currency": account_currency,
        # Every digit of the rate, as stored: it is what the converted amounts were computed with.
        "exchange_rate": None if order.exchange_rate is None else str(order.exchange_rate),
        "rate_source": order.rate_source,
        **{name: money(getattr(order, name), account_currency) for name in ACCOUNT_AMOUNTS},
        "ship_to": {name.removeprefix("ship_"): getattr(order, name) for name in SHIP_TO_FIELDS},
        **{name: iso(getattr(order, name)) for name in MILESTONE_FIELDS},
        "lines": [
            {
                "sku": line.sku,
                "product_name": line.product_name,
                "quantity": line.quantity,
                **{name: money(getattr(line, name), order.currency) for name in LINE_AMOUNTS},
                "returned_quantity": line.returned_quantity,
            }
            for line in order.lines.all()
        ],
        "promo_codes": [
            {"code": usage.code, "discount": money(usage.discount, order.currency)} for usage in order.promo_codes.all()
        ],
        "feedback": None
        if feedback is None
        else {"rating": feedback.rating, "comment": feedback.comment, "left_at": iso(feedback.left_at)},
    }


def event_document(event):
    return {
        "occurred_at": iso(event.occurred_at),
        "kind": event.kind,
        "order_id": event.order.external_id if event.order_id else None,
        # An e-mail's subject and text, a note's text.
        "message": event.message,
    }


def watchlist_documents(customer):
    try:
        watched = customer.watchlist_entry
    except ObjectDoesNotExist:
        return []
    return [{"added_at": iso(watched.created_at), "note": watched.note}]


def insight_documents(customer):
    """The profile made of the customer (GDPR art. 15(1)(h)): the figures, the RFM scores and group and the
    predicted value, with when they were worked out; empty before the first scoring."""
    score = CustomerScore.objects.filter(customer_id=customer.pk).first()
    if score is None:
        return []
    currency = customer.account.currency
    fit = LifetimeValueFit.objects.filter(account_id=customer.account_id, status=FitStatus.FITTED).first()
    return [
        {
            "scored_at": iso(score.scored_at),
            "average_order_value": money(customer.average_order_value, currency),
            "return_rate_percent": None if customer.return_rate is None else str(customer.return_rate),
            "recency_score": score.recency_score,
            "frequency_score": score.frequency_score,
            "monetary_score": score.monetary_score,
            "rfm_group": score.rfm_group,
            "expected_orders_12_months": None if score.expected_orders is None else str(score.expected_orders),
            "expected_spend_12_months": money(score.expected_spend, currency),
            "probability_active": None if score.probability_active is None else str(score.probability_active),
            "model_fitted_at": iso(fit.fitted_at) if fit and score.expected_orders is not None else None,
        }
    ]


def merged_customer_documents(customer):
    """The duplicates merged into ``customer`` (services/merge.py): the details the merge keeps of each, for undo.

    They are the same buyer's data, held as long as the merge can be undone; an undone merge keeps none."""
    merges = CustomerMerge.objects.filter(kept=customer, undone_at__isnull=True).exclude(snapshot={})
    return [
        {
            "merged_at": iso(merge.merged_at),
            "merged_customer_id": merge.merged_customer_id,
            **{name: merge.snapshot.get(name, "") for name in CUSTOMER_FIELDS},
            "watchlist_note": (merge.watchlist or {}).get("note", ""),
        }
        for merge in merges.order_by("merged_at", "pk")
    ]


def scoped_orders(customer):
    """The customer's orders with everything the document reads, in four queries whatever their number."""
    return (
        customer.orders.select_related("feedback")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("pk")),
            Prefetch("promo_codes", queryset=PromoCodeUsage.objects.order_by("pk")),
        )
        .order_by("placed_at", "pk")
    )


def access_document(customer, *, now=None):
    """Everything held about ``customer`` (fetched with ``account`` and ``watchlist_entry``), as one dict."""
    currency = customer.account.currency
    events = OrderEvent.objects.filter(customer=customer).select_related("order").order_by("occurred_at", "pk")
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": iso(now or timezone.now()),
        "customer": customer_document(customer),
        "orders": [order_document(order, currency) for order in scoped_orders(customer)],
        "timeline": [event_document(event) for event in events],
        "watchlist": watchlist_documents(customer),
        "merged_customers": merged_customer_documents(customer),
        "buyer_insight": insight_documents(customer),
    }


# --- The CSV files: the document, flat ------------------------------------------------------------------


def _amount(value):
    """A money dict as its decimal string (kept as text, never re-rounded); ``""`` when not known."""
    return "" if value is None else value["amount"]


def customer_rows(document):
    customer = document["customer"]
    statistics = customer["statistics"]
    header = [
        "id",
        "seller_account",
        *CUSTOMER_FIELDS,
        "created_at",
        "erased_at",
        *statistics,
        "currency",
    ]
    row = [
        customer["id"],
        customer["seller_account"]["name"],
        *(customer[name] for name in CUSTOMER_FIELDS),
        customer["created_at"],
        customer["erased_at"],
        *(_amount(value) if name in STATISTIC_AMOUNTS else value for name, value in statistics.items()),
        statistics["amount_spent"]["currency"],
    ]
    return header, [row]


def order_rows(document):
    header = [
        "order_id",
        "channel",
        "placed_at",
        "status",
        "fulfilment_status",
        "currency",
        *ORDER_AMOUNTS,
        "account_currency",
        "exchange_rate",
        "rate_source",
        *ACCOUNT_AMOUNTS,
        *SHIP_TO_FIELDS,
        *MILESTONE_FIELDS,
        "promo_codes",
        "feedback_rating",
        "feedback_comment",
        "feedback_left_at",
    ]
    rows = []
    for order in document["orders"]:
        feedback = order["feedback"] or {}
        rows.append(
            [
                order["order_id"],
                order["channel"],
                order["placed_at"],
                order["status"],
                order["fulfilment_status"],
                order["currency"],
                *(_amount(order[name]) for name in ORDER_AMOUNTS),
                order["account_currency"],
                order["exchange_rate"] or "",
                order["rate_source"],
                *(_amount(order[name]) for name in ACCOUNT_AMOUNTS),
                *(order["ship_to"][name.removeprefix("ship_")] for name in SHIP_TO_FIELDS),
                *(order[name] for name in MILESTONE_FIELDS),
                "; ".join(usage["code"] for usage in order["promo_codes"]),
                feedback.get("rating"),
                feedback.get("comment", ""),
                feedback.get("left_at"),
            ]
        )
    return header, rows


def line_rows(document):
    header = ["order_id", "sku", "product_name", "quantity", *LINE_AMOUNTS, "currency", "returned_quantity"]
    rows = [
        [
            order["order_id"],
            line["sku"],
            line["product_name"],
            line["quantity"],
            *(_amount(line[name]) for name in LINE_AMOUNTS),
            order["currency"],
            line["returned_quantity"],
        ]
        for order in document["orders"]
        for line in order["lines"]
    ]
    return header, rows


def timeline_rows(document):
    header = ["occurred_at", "kind", "order_id", "message"]
    return header, [[event[name] for name in header] for event in document["timeline"]]


def watchlist_rows(document):
    header = ["added_at", "note"]
    return header, [[entry[name] for name in header] for entry in document["watchlist"]]


def merged_customer_rows(document):
    header = ["merged_at", "merged_customer_id", *CUSTOMER_FIELDS, "watchlist_note"]
    return header, [[entry[name] for name in header] for entry in document["merged_customers"]]


#: The money keys of a ``buyer_insight`` entry (their CSV cells are the amount; the currency is the customer's).
INSIGHT_AMOUNTS = ("average_order_value", "expected_spend_12_months")


def insight_rows(document):
    header = [
        "scored_at",
        "average_order_value",
        "return_rate_percent",
        "recency_score",
        "frequency_score",
        "monetary_score",
        "rfm_group",
        "expected_orders_12_months",
        "expected_spend_12_months",
        "probability_active",
        "model_fitted_at",
        "currency",
    ]
    currency = document["customer"]["statistics"]["amount_spent"]["currency"]
    return header, [
        [
            *(_amount(entry[name]) if name in INSIGHT_AMOUNTS else entry[name] for name in header[:-1]),
            currency,
        ]
        for entry in document["buyer_insight"]
    ]


#: File name -> the function that flattens the document into ``(header, rows)``.
CSV_FILES = {
    "customer.csv": customer_rows,
    "orders.csv": order_rows,
    "order_lines.csv": line_rows,
    "timeline.csv": timeline_rows,
    "watchlist.csv": watchlist_rows,
    "merged_customers.csv": merged_customer_rows,
    "buyer_insight.csv": insight_rows,
}


def csv_text(header, rows):
    """UTF-8 CSV text with a BOM (Excel reads accents), cells neutralised like the exports'.

    Amounts and dates are written as they are: they are the document's own strings, and a negative
    amount ("-5.00") is a number, not a formula, so only the free-text columns go through ``csv_cell``.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(name, value) for name, value in zip(header, row, strict=True)])
    return CSV_BOM + out.getvalue()


#: Columns whose text comes from the document's own formatting (numbers, dates, codes): never a formula.
_FORMATTED_COLUMNS = {
    *ORDER_AMOUNTS,
    *ACCOUNT_AMOUNTS,
    *LINE_AMOUNTS,
    *STATISTIC_AMOUNTS,
    "exchange_rate",
}


def _cell(name, value):
    if name in _FORMATTED_COLUMNS and isinstance(value, str):
        return value
    return csv_cell(value)


def access_zip(customer, *, now=None):
    """``(document, zip bytes)`` for ``customer``."""
    document = access_document(customer, now=now)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(JSON_NAME, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        for name, flatten in CSV_FILES.items():
            archive.writestr(name, csv_text(*flatten(document)))
    return document, buffer.getvalue()
