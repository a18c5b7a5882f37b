"""Amazon's returns and seller-feedback reports (Reports API 2021-06-30), merged into the orders they name.

The Orders API says nothing of returns or feedback; Amazon gives them as reports only:
``GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE`` (the merchant-fulfilled returns, by return date),
``GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA`` (the returns of orders Amazon fulfilled: ``amazon_fba_returns``)
and ``GET_SELLER_FEEDBACK_DATA`` (feedback by the date it was left). A report is asked for (createReport), made
by Amazon in the background (getReport: IN_QUEUE, IN_PROGRESS, then DONE, CANCELLED or FATAL), and its document
fetched (getReportDocument: a URL, possibly gzip-compressed) as tab-separated text.

The ingestion service takes whole orders, and recording an order again replaces its lines and feedback.
So the rows are kept, per order, in the connection's cursor (``kept``), and every order the adapter hands
over carries them: the orders a report names are fetched again (getOrder) and recorded with their returned
quantities and feedback, and an order pulled again later for another change keeps them. Kept rows are
dropped after ``KEEP_DAYS`` (by then an order is no longer changed on Amazon).
"""

import csv
import gzip
import io
import logging
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

import httpx
from django.utils.translation import gettext_lazy as _
from sp_api.api import Reports

from ..local_time import date_only_moment
from ..services.inputs import FeedbackData
from . import amazon_fba_returns
from .amazon_fba_returns import FBA_RETURNS
from .base import ChannelError, MalformedResponse, parse_datetime_utc

logger = logging.getLogger(__name__)

RETURNS = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
FEEDBACK = "GET_SELLER_FEEDBACK_DATA"
REPORT_TYPES = {"returns": RETURNS, "feedback": FEEDBACK, "fba_returns": FBA_RETURNS}
#: A first pass asks for this much of the past (Amazon keeps report data for a limited time anyway).
FIRST_LOOKBACK = timedelta(days=90)
#: Within a pass the adapter asks how a report is getting on up to REPORT_POLLS times, REPORT_POLL_SECONDS
#: apart; a report not done by then is looked at again by the next pass (its id is kept in the cursor), so
#: a slow report never holds the worker long. (getReport allows 2 requests a second, bursts of 15.)
REPORT_POLLS = 6
REPORT_POLL_SECONDS = 10
#: Returns and feedback kept per order (in the cursor) for this long after they were read.
KEEP_DAYS = 120

# The columns, by the names Amazon uses (normalised: lower case, hyphens). The merchant-fulfilled returns
# report uses Seller Central's names ("Order ID", "Merchant SKU", "Return quantity", "Return request date",
# "Return reason"); the flat-file layout uses order-id, sku, quantity, return-date, reason. Both are read.
RETURN_COLUMNS = {
    "order": ("order-id",),
    "sku": ("sku", "merchant-sku", "seller-sku"),
    "asin": ("asin",),
    "quantity": ("quantity", "return-quantity"),
    "date": ("return-date", "return-request-date"),
    "reason": ("reason", "return-reason"),
    "status": ("return-request-status",),
    "delivered": ("return-delivery-date",),
    "refunded": ("refunded-amount",),
}
FEEDBACK_COLUMNS = {
    "date": ("date",),
    "rating": ("rating",),
    "comment": ("comments", "comment"),
    "order": ("order-id",),
}
#: Marketplaces whose feedback report writes dates month first (the others: day first).
MONTH_FIRST = {"US", "CA", "MX", "BR"}


def report_state(state, pass_start, now):
    """The cursor's report part, with a start for each report on a first pass (the pass's own start, at
    most FIRST_LOOKBACK ago)."""
    reports = state.setdefault("reports", {})
    start = max(parse_datetime_utc(pass_start), now - FIRST_LOOKBACK)
    for kind in REPORT_TYPES:
        reports.setdefault(kind, {"since": iso(start)})
    return reports


def run_report(adapter, kind, entry, now, sleep):
    """Ask for (or look in on) one report; return its rows when done, [] when there is nothing, None when
    Amazon is still making it. ``entry`` (the cursor's part for this report) is updated in place. ``sleep`` waits
    between polls: the adapter's ``pause``, which keeps the running sync's lease meanwhile."""
    if not entry.get("id"):
        payload = adapter._call(
            Reports,
            "create_report",
            reportType=REPORT_TYPES[kind],
            dataStartTime=entry["since"],
            dataEndTime=iso(now),
            marketplaceIds=[adapter.marketplace.marketplace_id],
        )
        if not payload.get("reportId"):
            raise MalformedResponse(_("Amazon's createReport answer has no reportId."))
        entry.update(id=str(payload["reportId"]), upto=iso(now))
    for poll in range(REPORT_POLLS):
        if poll:
            sleep(REPORT_POLL_SECONDS)
        report = adapter._call(Reports, "get_report", entry["id"])
        status = report.get("processingStatus")
        if status == "DONE":
            document_id = report.get("reportDocumentId")
            if not document_id:
                raise MalformedResponse(_("Amazon's finished report has no reportDocumentId."))
            text = download(adapter, document_id)
            _advance(entry, report)
            return rows_of(text)
        if status == "CANCELLED":
            # Cancelled by Amazon when there is no data for the period: nothing to read, the period is done.
            _advance(entry, report)
            return []
        if status == "FATAL":
            # Amazon could not make it; the next pass asks again for the same period.
            logger.warning("Amazon report %s (%s) failed (FATAL); asked again next pass.", entry["id"], kind)
            entry.pop("id", None)
            entry.pop("upto", None)
            return []
        if status not in ("IN_QUEUE", "IN_PROGRESS"):
            raise MalformedResponse(
                _("Amazon's report has an unknown processing status: %(status)s") % {"status": status}
            )
    return None


def _advance(entry, report):
    since = report.get("dataEndTime") or entry.get("upto") or entry["since"]
    entry.clear()
    entry["since"] = iso(parse_datetime_utc(since))


def download(adapter, document_id):
    """The report document's text. getReportDocument (through the library) gives a short-lived URL and the
    compression; the document is fetched here so that an error answer (an expired URL) is not read as data."""
    meta = adapter._call(Reports, "get_report_document", document_id)
    url = meta.get("url")
    if not url:
        raise MalformedResponse(_("Amazon's getReportDocument answer has no url."))
    try:
        response = httpx.get(url, timeout=60, follow_redirects=True)
    except httpx.HTTPError as error:
        raise ChannelError(
            _("Amazon's report document could not be fetched: %(error)s") % {"error": type(error).__name__}
        ) from None
    if response.status_code != 200:
        raise ChannelError(
            _("Amazon's report document could not be fetched (HTTP %(status)s).") % {"status": response.status_code}
        )
    content = response.content
    if (meta.get("compressionAlgorithm") or "").upper() == "GZIP":
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError):
            raise MalformedResponse(_("Amazon's report document is not the gzip file it says it is.")) from None
    # Amazon writes reports in the marketplace's encoding (Cp1252 in Europe, UTF-8 elsewhere, Shift_JIS in Japan).
    for encoding in ("utf-8-sig", response.charset_encoding or "cp1252", "cp1252"):
        try:
            return content.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return content.decode("latin-1")


def rows_of(text):
    """The tab-separated rows, keyed by normalised column names ("Order ID" -> "order-id")."""
    reader = csv.reader(io.StringIO(text), delimiter="\t")
    header = next(reader, None)
    if not header:
        return []
    names = [name.strip().lower().replace("_", "-").replace(" ", "-") for name in header]
    return [dict(zip(names, row, strict=False)) for row in reader if any(cell.strip() for cell in row)]


def _column(row, names):
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return value.strip()
    return ""


def _not_returned(row):
    """A return request that brought nothing back: rejected, or closed with no item delivered and no refund
    (the report lists every request, whatever its "Return request status")."""
    status = _column(row, RETURN_COLUMNS["status"]).lower()
    if "reject" in status:
        return True
    if "closed" not in status or _column(row, RETURN_COLUMNS["delivered"]):
        return False
    refunded = _column(row, RETURN_COLUMNS["refunded"])
    try:
        return not refunded or Decimal(refunded.replace(",", ".")) == 0
    except InvalidOperation:
        return False  # an amount in a form not understood: a refund, as far as can be told


def read_returns(rows):
    """{order id: {"lines": {sku or asin: quantity}, "at": last return date}} from the returns report.

    Rejected requests, and requests closed with no item delivered back and nothing refunded, are not returns:
    they are skipped (and the number logged)."""
    found = {}
    not_returned = 0
    for row in rows:
        order_id = _column(row, RETURN_COLUMNS["order"])
        key = _column(row, RETURN_COLUMNS["sku"]) or _column(row, RETURN_COLUMNS["asin"])
        try:
            quantity = int(float(_column(row, RETURN_COLUMNS["quantity"]) or 0))
        except ValueError:
            raise MalformedResponse(
                _("Amazon's returns report has a quantity that is not a number for order %(order)s.")
                % {"order": order_id}
            ) from None
        if not order_id or not key or quantity <= 0:
            continue
        if _not_returned(row):
            not_returned += 1
            continue
        entry = found.setdefault(order_id, {"lines": {}, "at": None})
        entry["lines"][key] = entry["lines"].get(key, 0) + quantity
        returned = report_date(_column(row, RETURN_COLUMNS["date"]))
        if returned and (entry["at"] is None or returned > entry["at"]):
            entry["at"] = returned
    if not_returned:
        logger.info(
            "Amazon's returns report: %s rejected or closed request(s) with nothing returned or refunded skipped.",
            not_returned,
        )
    return found


def read_feedback(rows, marketplace_code):
    """{order id: (rating, comment, left at)} from the seller-feedback report (the latest per order)."""
    found = {}
    for row in rows:
        order_id = _column(row, FEEDBACK_COLUMNS["order"])
        try:
            rating = int(float(_column(row, FEEDBACK_COLUMNS["rating"])))
        except ValueError:
            continue
        if not order_id or not 1 <= rating <= 5:
            continue
        left_at = report_date(_column(row, FEEDBACK_COLUMNS["date"]), month_first=marketplace_code in MONTH_FIRST)
        previous = found.get(order_id)
        if previous is None or (left_at and (previous[2] is None or left_at >= previous[2])):
            found[order_id] = (rating, _column(row, FEEDBACK_COLUMNS["comment"]), left_at)
    return found


#: A report's date written ISO 8601 without a time ("2026-12-25"): a day, kept as ``date_only_moment`` does.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def report_date(value, *, month_first=True):
    """A report's date: ISO 8601 (returns) or the short local form of the feedback report (12/25/26 in the
    US, 25/12/26 in Europe). None when empty or unreadable.

    A date without a time is kept at noon UTC (``local_time.date_only_moment``): shown as that calendar day in any
    time zone from UTC-12 to UTC+11, and as a date without a time on the customer's timeline. (Midnight UTC showed
    feedback left on 25 December as 24 December, 7 p.m. in New York.) Not midnight in the marketplace's zone: one
    marketplace (the US) spans several zones, and the report does not say which one its dates are in."""
    if not value:
        return None
    if ISO_DATE.fullmatch(str(value).strip()):
        try:
            return date_only_moment(date.fromisoformat(str(value).strip()))
        except ValueError:  # 0000-00-00, 2026-02-30
            return None
    try:
        return parse_datetime_utc(value)
    except ValueError:
        pass
    day_month = ("%m/%d/%y", "%m/%d/%Y") if month_first else ("%d/%m/%y", "%d/%m/%Y")
    for pattern in (*day_month, "%d.%m.%y", "%d.%m.%Y"):
        try:
            return date_only_moment(datetime.strptime(value, pattern).date())
        except ValueError:
            continue
    return None


def kept_feedback_date(value):
    """A kept feedback row's date. The feedback report gives dates only: one kept at midnight UTC (before they were
    kept at noon UTC, ``report_date``) is that day's noon UTC, so an order pulled again does not move it back."""
    left_at = parse_datetime_utc(value)
    if left_at is not None and left_at.astimezone(UTC).time() == time.min:
        left_at = date_only_moment(left_at.astimezone(UTC).date())
    return left_at


def iso(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def remember(kept, returns, feedback, now, fba_returns=None):
    """Add a report's rows to the kept rows (returns add up across reports: each covers its own period; FBA
    returns are kept by their key, see ``amazon_fba_returns``)."""
    amazon_fba_returns.remember(kept, fba_returns or {}, iso(now))
    for order_id, entry in returns.items():
        slot = kept.setdefault(order_id, {})
        lines = slot.setdefault("returns", {})
        for key, quantity in entry["lines"].items():
            lines[key] = lines.get(key, 0) + quantity
        if entry["at"] and (not slot.get("returned_at") or iso(entry["at"]) > slot["returned_at"]):
            slot["returned_at"] = iso(entry["at"])
        slot["seen"] = iso(now)
    for order_id, (rating, comment, left_at) in feedback.items():
        slot = kept.setdefault(order_id, {})
        slot["feedback"] = [rating, comment, iso(left_at) if left_at else None]
        slot["seen"] = iso(now)
    for order_id in [
        key for key, slot in kept.items() if parse_datetime_utc(slot["seen"]) < now - timedelta(KEEP_DAYS)
    ]:
        del kept[order_id]


def apply_kept(order, slot, asins):
    """Set the kept returned quantities (capped at each line's quantity) and feedback on an ``OrderData``.

    ``asins``: the line's ASIN by SKU, for returns rows that name only the ASIN. Without kept returns (none read,
    or read more than KEEP_DAYS ago), or feedback, the order keeps what is stored of them (an order changed on
    Amazon after KEEP_DAYS, a late refund, would otherwise lose its returns and feedback)."""
    order.keep_stored_returns = order.keep_stored_feedback = True
    if not slot:
        return order
    remaining = dict(slot.get("returns") or {})
    fba_lines, fba_returned_at = amazon_fba_returns.totals(slot)
    for key, quantity in fba_lines.items():
        remaining[key] = remaining.get(key, 0) + quantity
    order.keep_stored_returns = not remaining
    returned_at = max(filter(None, (slot.get("returned_at"), fba_returned_at)), default=None)
    for line in order.lines:
        line.returned_quantity = 0
    for line in order.lines:
        for key in (line.sku, asins.get(line.sku, "")):
            if key and remaining.get(key):
                taken = min(remaining[key], line.quantity - line.returned_quantity)
                line.returned_quantity += taken
                remaining[key] -= taken
    if returned_at and any(line.returned_quantity for line in order.lines):
        order.returned_at = parse_datetime_utc(returned_at)
    if slot.get("feedback"):
        order.keep_stored_feedback = False
        rating, comment, left_at = slot["feedback"]
        order.feedback = FeedbackData(rating=rating, comment=comment, left_at=kept_feedback_date(left_at))
    return order
