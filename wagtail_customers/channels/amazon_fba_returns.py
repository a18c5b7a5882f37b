"""Amazon's FBA customer returns report (``GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA``), for the orders Amazon
fulfilled (``FulfillmentChannel`` ``AFN``).

The merchant-fulfilled returns report (``amazon_reports.RETURNS``) lists only the returns the seller handles; a
buyer returns an Amazon-fulfilled order to an Amazon fulfilment centre, and those returns are in this report: one
tab-separated row per returned unit group, with the columns ``return-date``, ``order-id``, ``sku``, ``asin``,
``fnsku``, ``product-name``, ``quantity``, ``fulfillment-center-id``, ``detailed-disposition``, ``reason``,
``status``, ``license-plate-number`` and ``customer-comments``. It is asked for, polled and downloaded as the other
reports (``amazon_reports.run_report``); a seller without FBA gets it empty, CANCELLED or FATAL, and nothing
comes of it.

Its rows are kept per order in the same cursor slot as the other reports' (``kept[order id]["fba"]``), each by a
stable key, so a row read twice (a report asked for again after FATAL, overlapping periods) counts once: the
``license-plate-number`` Amazon gives each returned unit, else the row's order id, SKU, date and quantity.
"""

from django.utils.translation import gettext_lazy as _

from .base import MalformedResponse

FBA_RETURNS = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"


def _cell(row, name):
    return (row.get(name) or "").strip()


def read(rows, report_date, iso):
    """{order id: {key: [sku or asin, quantity, return date (ISO) or None]}} from the report's rows.

    ``report_date`` and ``iso`` read and write dates as the other reports do (``amazon_reports``)."""
    found = {}
    for row in rows:
        order_id = _cell(row, "order-id")
        line = _cell(row, "sku") or _cell(row, "asin")
        try:
            quantity = int(float(_cell(row, "quantity") or 0))
        except ValueError:
            raise MalformedResponse(
                _("Amazon's FBA returns report has a quantity that is not a number for order %(order)s.")
                % {"order": order_id}
            ) from None
        if not order_id or not line or quantity <= 0:
            continue
        returned = report_date(_cell(row, "return-date"))
        date = iso(returned) if returned else None
        key = _cell(row, "license-plate-number") or "|".join((order_id, line, date or "", str(quantity)))
        found.setdefault(order_id, {})[key] = [line, quantity, date]
    return found


def remember(kept, found, seen):
    """Add the rows read to the kept ones (by key: a row read again replaces itself)."""
    for order_id, rows in found.items():
        slot = kept.setdefault(order_id, {})
        slot.setdefault("fba", {}).update(rows)
        slot["seen"] = seen


def totals(slot):
    """({sku or asin: units returned}, the latest return date (ISO) or None) of an order's kept FBA rows."""
    lines, dates = {}, []
    for line, quantity, date in (slot.get("fba") or {}).values():
        lines[line] = lines.get(line, 0) + quantity
        if date:
            dates.append(date)
    return lines, max(dates, default=None)
