"""Refreshing the exchange-rate table: ``customers_refresh_rates`` and the beat task.

The rates files are small ECB-format files written here, for days after the embedded table's last day (so
orders of those days have no rate until the refresh), served from a path or by a real HTTP server on
127.0.0.1 (pytest-httpserver).
"""

import datetime
import functools
import io
import os
import stat
import zipfile
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.factories import order_data
from wagtail_customers.exchange_rates import STAGED_NAME, STORED_NAME, ECBRateTable, get_rate_table, rate_for
from wagtail_customers.models import Customer, Order, RateSource
from wagtail_customers.services.ingestion import record_order
from wagtail_customers.storage import private_storage
from wagtail_customers.tasks import refresh_exchange_rates_task

pytestmark = pytest.mark.django_db
CENT = Decimal("0.01")


@functools.cache
def embedded_last_date():
    # Read once: the embedded table takes about half a second to load.
    return ECBRateTable().last_date()


@pytest.fixture
def days():
    """Two working days, three weeks after the embedded table's last quote (so past its 7-day use)."""
    last = embedded_last_date()
    first = last + datetime.timedelta(days=21)
    return first, first + datetime.timedelta(days=1)


def ecb_csv(days, usd=("1.1000", "1.2000"), gbp=("0.8500", "N/A")):
    # The ECB's own layout: a trailing comma on every line, newest day first.
    lines = ["Date,USD,JPY,GBP,"]
    for day, usd_rate, gbp_rate in sorted(zip(days, usd, gbp, strict=True), reverse=True):
        lines.append(f"{day.isoformat()},{usd_rate},N/A,{gbp_rate},")
    return ("\n".join(lines) + "\n").encode()


def zipped(content, name="eurofxref-hist.csv"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def placed(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@pytest.fixture
def eur_account(db):
    from wagtail_customers.models import SellerAccount

    return SellerAccount.objects.create(name="EU shop", channel="shopify", currency="EUR")


def record_usd_orders(account, days):
    for number, day in enumerate(days, start=1):
        data = order_data(str(number), lines=((1, "110.00"),), currency="USD", refunded="11.00")
        data.placed_at = placed(day)
        record_order(account, data)


def test_orders_without_a_rate_are_converted_after_a_refresh_from_a_file(eur_account, days, tmp_path):
    record_usd_orders(eur_account, days)
    assert set(Order.objects.values_list("rate_source", flat=True)) == {RateSource.UNKNOWN}
    customer = Customer.objects.get()
    assert (customer.amount_spent, customer.unconverted_orders) == (0, 2)

    rates_file = tmp_path / "eurofxref-hist.csv"
    rates_file.write_bytes(ecb_csv(days))
    out = io.StringIO()
    call_command("customers_refresh_rates", str(rates_file), stdout=out)
    assert "Orders converted: 2; still without a rate: 0; customers updated: 1." in out.getvalue()
    assert "(2 new)" in out.getvalue()

    # EUR per USD = 1 / (USD per EUR), each amount rounded half up.
    for order, usd_per_eur in zip(Order.objects.order_by("external_id"), ("1.1", "1.2"), strict=True):
        rate = 1 / Decimal(usd_per_eur)
        assert order.rate_source == RateSource.TABLE
        assert order.exchange_rate == rate.quantize(Decimal("1E-10"))
        assert order.account_total == (Decimal("110.00") * rate).quantize(CENT, ROUND_HALF_UP)
        assert order.account_refunded == (Decimal("11.00") * rate).quantize(CENT, ROUND_HALF_UP)
    customer.refresh_from_db()
    assert customer.unconverted_orders == 0 and customer.amount_spent_is_complete
    assert customer.amount_spent == Decimal("90.00") + Decimal("82.50")  # 99/1.1 + 99/1.2
    # The history is kept (merged), and the table is stored in the private storage.
    assert rate_for("USD", "EUR", datetime.date(2024, 1, 5)) is not None
    assert get_rate_table().origin == STORED_NAME or get_rate_table().origin.endswith(STORED_NAME)
    assert private_storage.exists(STORED_NAME)


def test_refresh_from_a_url_served_zip(eur_account, days, httpserver):
    record_usd_orders(eur_account, days[:1])
    httpserver.expect_request("/stats/eurofxref/eurofxref-hist.zip").respond_with_data(
        zipped(ecb_csv(days)), content_type="application/zip"
    )
    call_command(
        "customers_refresh_rates", httpserver.url_for("/stats/eurofxref/eurofxref-hist.zip"), stdout=io.StringIO()
    )
    order = Order.objects.get()
    assert order.account_total == Decimal("100.00")  # 110 / 1.1
    assert rate_for("GBP", "USD", days[0]) == Decimal("1.1") / Decimal("0.85")
    # GBP has no quote on the second day: the rates of the last day that quotes both currencies.
    assert rate_for("GBP", "USD", days[1]) == Decimal("1.1") / Decimal("0.85")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"Day,USD\n2026-01-01,1.1\n", "not 'Date'"),
        (b"Date,USD,EURO\n2026-01-01,1.1,1\n", "not ISO 4217"),
        (b"Date,USD\n01/02/2026,1.1\n", "not a date written YYYY-MM-DD"),
        (b"Date,USD\n2026-01-01,abc\n", "not a number"),
        (b"Date,USD\n2026-01-01,-1\n", "not a positive number"),
        (b"Date,USD\n2026-01-01,N/A\n", "no rates"),
        (b"PK\x03\x04 broken", "not a readable zip"),
    ],
)
def test_an_invalid_file_changes_nothing(tmp_path, content, message, eur_account, days):
    record_usd_orders(eur_account, days[:1])
    rates_file = tmp_path / "rates.csv"
    rates_file.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("customers_refresh_rates", str(rates_file))
    assert get_rate_table().origin == "embedded"
    assert not private_storage.exists(STORED_NAME)
    assert Order.objects.get().rate_source == RateSource.UNKNOWN


def test_an_unreachable_url_or_missing_file_changes_nothing(httpserver, tmp_path, db):
    httpserver.expect_request("/missing.zip").respond_with_data("no", status=404)
    with pytest.raises(CommandError, match="Could not download"):
        call_command("customers_refresh_rates", httpserver.url_for("/missing.zip"))
    with pytest.raises(CommandError, match="Could not read"):
        call_command("customers_refresh_rates", str(tmp_path / "nowhere.csv"))
    with pytest.raises(CommandError, match="EXCHANGE_RATES_URL"):
        call_command("customers_refresh_rates")
    assert get_rate_table().origin == "embedded"


def test_replace_makes_the_file_the_whole_table_at_the_configured_path(days, tmp_path, settings, db):
    target = tmp_path / "rates" / "table.csv"
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXCHANGE_RATES_FILE": str(target)}
    rates_file = tmp_path / "new.zip"
    rates_file.write_bytes(zipped(ecb_csv(days)))
    call_command("customers_refresh_rates", str(rates_file), "--replace", stdout=io.StringIO())
    assert target.exists() and get_rate_table().origin == str(target)
    assert rate_for("USD", "EUR", datetime.date(2024, 1, 5)) is None  # the history went with --replace
    assert rate_for("USD", "EUR", days[1]) == 1 / Decimal("1.2")


def test_every_process_reloads_the_table_when_the_stored_file_changes(days, db):
    table = get_rate_table()
    assert rate_for("USD", "EUR", days[0]) is None
    # Another process (a worker's refresh) writes the stored table; this one's kept copy follows it.

    private_storage.save(STORED_NAME, ContentFile(ecb_csv(days)))
    assert get_rate_table() is table
    assert rate_for("USD", "EUR", days[0]) == 1 / Decimal("1.1")


def test_the_beat_task_refreshes_from_the_configured_url(eur_account, days, httpserver, settings):
    assert refresh_exchange_rates_task.delay().get() is None  # no URL: no scheduled refresh
    record_usd_orders(eur_account, days)
    httpserver.expect_request("/eurofxref.zip").respond_with_data(zipped(ecb_csv(days), "eurofxref.csv"))
    settings.WAGTAIL_CUSTOMERS = {
        **settings.WAGTAIL_CUSTOMERS,
        "EXCHANGE_RATES_URL": httpserver.url_for("/eurofxref.zip"),
    }
    assert refresh_exchange_rates_task.delay().get() == 2
    assert Customer.objects.get().unconverted_orders == 0


def test_the_beat_schedule_offers_the_daily_refresh():
    from wagtail_customers.beat import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["wagtail-customers-refresh-exchange-rates"]
    assert entry["task"] == refresh_exchange_rates_task.name == "wagtail_customers.refresh_exchange_rates"


def test_a_storage_without_local_paths_keeps_the_table(eur_account, days, tmp_path, settings):
    # A bucket-like storage: Django's in-memory storage has no path() either.
    storage = bucket(settings, "django.core.files.storage.InMemoryStorage")

    record_usd_orders(eur_account, days[:1])
    rates_file = tmp_path / "rates.csv"
    rates_file.write_bytes(ecb_csv(days))
    call_command("customers_refresh_rates", str(rates_file), stdout=io.StringIO())
    assert storage.exists(STORED_NAME) and get_rate_table().origin == STORED_NAME
    assert not storage.exists(STAGED_NAME)
    assert Order.objects.get().account_total == Decimal("100.00")


class BucketRefusingTheTable(InMemoryStorage):
    """A bucket whose save of the table's own name fails (a network error half-way through a refresh)."""

    def _save(self, name, content):
        if name == STORED_NAME:
            raise OSError("Connection reset while uploading")
        return super()._save(name, content)


def bucket(settings, backend):
    settings.STORAGES = {**settings.STORAGES, "wagtail_customers": {"BACKEND": backend}}
    from wagtail_customers.storage import private_storage as storage

    return storage


def test_a_bucket_refresh_failing_half_way_keeps_the_new_table_readable(eur_account, days, tmp_path, settings):
    storage = bucket(settings, f"{__name__}.BucketRefusingTheTable")
    record_usd_orders(eur_account, days[:1])
    rates_file = tmp_path / "rates.csv"
    rates_file.write_bytes(ecb_csv(days))
    with pytest.raises(OSError, match="Connection reset"):
        call_command("customers_refresh_rates", str(rates_file), stdout=io.StringIO())
    # The table was deleted and not saved again: the copy saved first is read, not the embedded table.
    assert not storage.exists(STORED_NAME) and get_rate_table().origin == STAGED_NAME
    assert rate_for("USD", "EUR", days[0]) == 1 / Decimal("1.1")


def test_a_bucket_reader_takes_the_staged_table_while_the_stored_one_is_replaced(days, settings, db):
    storage = bucket(settings, "django.core.files.storage.InMemoryStorage")
    storage.save(STORED_NAME, ContentFile(ecb_csv(days, usd=("1.1000", "1.2000"))))
    assert rate_for("USD", "EUR", days[0]) == 1 / Decimal("1.1")
    # Another process's refresh between its delete and its save of the table: its staged copy is whole.
    storage.save(STAGED_NAME, ContentFile(ecb_csv(days, usd=("1.3000", "1.2000"))))
    storage.delete(STORED_NAME)
    get_rate_table()._remote_stamp = None  # this process's next check of the bucket, without the wait
    assert get_rate_table().origin == STAGED_NAME
    assert rate_for("USD", "EUR", days[0]) == 1 / Decimal("1.3")


def test_a_file_of_some_currencies_keeps_the_other_currencies_quotes_of_its_days(days, tmp_path, db):
    first = tmp_path / "first.csv"
    first.write_bytes(ecb_csv(days))
    call_command("customers_refresh_rates", str(first), stdout=io.StringIO())
    assert rate_for("GBP", "EUR", days[0]) == 1 / Decimal("0.85")
    # A later file with the dollar alone, for the same day: its quote wins, the pound's stays.
    dollar_only = tmp_path / "usd.csv"
    dollar_only.write_bytes(f"Date,USD,\n{days[0].isoformat()},1.1500,\n".encode())
    call_command("customers_refresh_rates", str(dollar_only), stdout=io.StringIO())
    assert rate_for("USD", "EUR", days[0]) == 1 / Decimal("1.15")
    assert rate_for("GBP", "EUR", days[0]) == 1 / Decimal("0.85")


def test_the_table_in_the_private_folder_gets_the_mode_the_storage_gives_its_files(days, tmp_path, settings):
    # Renamed into place rather than saved by the storage: the web processes and the workers may be different users.
    settings.FILE_UPLOAD_PERMISSIONS = 0o640
    rates_file = tmp_path / "rates.csv"
    rates_file.write_bytes(ecb_csv(days))
    call_command("customers_refresh_rates", str(rates_file), stdout=io.StringIO())
    stored = ECBRateTable.stored_file_path()
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o640
