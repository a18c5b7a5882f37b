"""What an export contains: the request (``ExportSpec``) and the rows it reads (``CustomerExport``).

The rows come from the listing's own queryset (``listing.CustomerListing`` with ``Action.EXPORT``),
so "all pages" is exactly what the listing shows, scoped by the user's *export* grants at the time
the rows are read (a job re-reads them when it runs).
"""

import hashlib
import json
import zoneinfo
from dataclasses import asdict, dataclass, field
from itertools import islice

from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from ..columns import DEFAULT_COLUMNS, clean_column_names
from ..conf import get_setting
from ..counts import grouped
from ..ids import parse_id
from ..listing import TRANSIENT_PARAMS, CustomerListing, as_query_dict, filtered_count_limit, get_tab
from ..local_time import local_datetime
from ..permissions import Action
from ..services.personal_data import mask_row, personal_account_ids
from .resources import customer_resource_class
from .writers import FORMATS

SCOPES = ("page", "all", "selected")
#: Parameters an export drops from the listing's query string: the form's own, and the listing's transient ones
#: (``listing.TRANSIENT_PARAMS``) but the page number. The keyset positions ``after`` / ``before`` only say how the
#: listing reached its page: an export reads a page by its number, so without them the same export asked from
#: another page has the same fingerprint (``jobs.reusable_job``).
IGNORED_PARAMS = {"csrfmiddlewaretoken", "export", "format", "scope", "ids", *TRANSIENT_PARAMS} - {"p"}
#: Only the "this page" scope reads the page parameters.
PAGE_PARAMS = {"p", "per_page"}
#: The longest listing query string an export is started with (``check_query_length``); longer is refused,
#: never cut: a cut could drop or shorten a filter, and the file would hold other customers than the listing.
MAX_QUERY_LENGTH = 4000
MAX_SELECTED_IDS = 200_000
#: The largest page number a file's name gives (``ExportSpec.filename``).
LAST_NAMED_PAGE = 999_999
#: Selected ids up to this many go into one ``pk IN (...)``; more are matched against the listing
#: order in one pass and fetched in batches of this size (no database's parameter limit is reached).
SELECTED_BATCH = 500


class ExportRequestError(ValueError):
    """An export request the user must correct (the message is shown to them)."""


@dataclass
class ExportSpec:
    """One export request, stored in ``ExportJob.params`` (JSON) for the task."""

    file_format: str
    scope: str = "all"
    tab: str = "all"
    #: The listing's query parameters (search, filters, account selection, ordering), as lists.
    query: dict = field(default_factory=dict)
    #: Selected customer ids (scope "selected"), in the order given.
    ids: list = field(default_factory=list)
    #: The user's visible column names, in order, when the export was asked for.
    columns: list = field(default_factory=list)
    language: str = ""
    timezone: str = ""

    def __post_init__(self):
        if self.file_format not in FORMATS:
            raise ExportRequestError(_("Unknown export format."))
        if self.scope not in SCOPES:
            raise ExportRequestError(_("Unknown export scope."))
        if get_tab(self.tab) is None:
            raise ExportRequestError(_("Unknown customers tab."))
        # Values in full, as the listing reads them (a cut search term would find other customers); the start
        # view bounds the query it is sent (check_query_length), before it adds the remembered seller accounts.
        self.query = {
            key: [str(value) for value in values]
            for key, values in sorted(self.query.items())
            if key not in IGNORED_PARAMS and (self.scope == "page" or key not in PAGE_PARAMS)
        }
        self.columns = clean_column_names(self.columns) or list(DEFAULT_COLUMNS)

    def to_params(self):
        return asdict(self)

    @classmethod
    def from_params(cls, params):
        known = {name: params[name] for name in cls.__dataclass_fields__ if name in params}
        return cls(**known)

    def fingerprint(self, user):
        """Hash of the user and everything that decides the file's contents."""
        # With the accounts whose personal data the user may see: a file made before that changed is not reused.
        personal = sorted(personal_account_ids(user)) if getattr(user, "pk", None) else []
        payload = json.dumps([user.pk, self.to_params(), personal], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    @property
    def format(self):
        return FORMATS[self.file_format]

    def filename(self, moment):
        """The download's file name: what was exported and when (``moment``, in the requester's zone).

        ``customers-selected-...`` for selected rows, ``customers-<tab>-page-<n>-...`` for one page,
        ``customers-<tab>-...`` for every page of a tab."""
        with self.activate():
            stamp = local_datetime(moment).strftime("%Y%m%d-%H%M")
        if self.scope == "selected":
            what = "selected"
        elif self.scope == "page":
            # Bounded: a page number of thousands of digits (the export reads the last page) made a name as long.
            what = f"{self.tab}-page-{min(self.page_number(), LAST_NAMED_PAGE)}"
        else:
            what = self.tab
        return get_valid_filename(f"customers-{what}-{stamp}.{self.format.extension}")

    def page_number(self):
        """The page a "page" export asked for: the last ``p``, as the listing reads it (``QueryDict.get``); 1 when
        it is no page number or below 1. (``CustomerExport._page_window`` reads a page past the end as the listing
        does.)"""
        try:
            page = int((self.query.get("p") or ["1"])[-1])
        except ValueError:
            return 1
        return max(page, 1)

    def activate(self):
        """A context manager with the requester's language and time zone (headings, dates)."""
        return _Activated(self.language, self.timezone)


class _Activated:
    def __init__(self, language, tz_name):
        self.language = translation.override(language or None)
        try:
            zone = zoneinfo.ZoneInfo(tz_name) if tz_name else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        self.zone = timezone.override(zone) if zone else None

    def __enter__(self):
        self.language.__enter__()
        if self.zone:
            self.zone.__enter__()
        return self

    def __exit__(self, *exc):
        if self.zone:
            self.zone.__exit__(*exc)
        self.language.__exit__(*exc)


def query_too_long():
    """The ``ExportRequestError`` for a listing's query string longer than ``MAX_QUERY_LENGTH``."""
    return ExportRequestError(
        _(
            "This listing's search and filters are too long to export (more than %(limit)s characters). "
            "Shorten the search or choose fewer filters or seller accounts, then export again."
        )
        % {"limit": grouped(MAX_QUERY_LENGTH)}
    )


def check_query_length(query):
    """Raise ``query_too_long()`` when the listing's query string ``query`` is longer than ``MAX_QUERY_LENGTH``."""
    if len(query) > MAX_QUERY_LENGTH:
        raise query_too_long()


def parse_selected_ids(raw):
    """Customer ids from one comma-separated (or JSON list) field: never Django's 1,000-field cap."""
    raw = (raw or "").strip()
    if raw.startswith("["):
        try:
            values = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: arrays nested past the interpreter's limit
            raise ExportRequestError(_("The selected customers could not be read.")) from None
        if not isinstance(values, list):
            raise ExportRequestError(_("The selected customers could not be read."))
    else:
        values = raw.split(",") if raw else []
    ids = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        pk = parse_id(text)
        if pk is None:
            raise ExportRequestError(_("The selected customers could not be read."))
        ids.append(pk)
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_SELECTED_IDS:
        raise ExportRequestError(_("Too many customers selected."))
    return ids


class CustomerExport:
    """The rows of one export for one user: headings, count and rendered rows, read in chunks."""

    def __init__(self, user, spec, *, resource=None, personal_ids=None):
        """``personal_ids``: at most these accounts' personal data is written in full (a background job's, as the
        user might see when it was asked for: a right granted before it runs and withdrawn after would else leave
        a file in full that ``jobs.lost_permission`` does not see as lost); ``None``: the user's rights alone."""
        self.user = user
        self.spec = spec
        self.personal_ids = personal_ids
        self.listing = CustomerListing(user, spec.tab, as_query_dict(spec.query), action=Action.EXPORT)
        self.resource = resource or customer_resource_class()()
        self.field_names = self.resource.export_field_names(self.column_names())
        #: Seller accounts of the rows read so far (``rows()`` fills it).
        self.account_ids = set()
        self._selected_pks = None
        self._page_pks_cache = None
        self._total = None

    def column_names(self):
        """The columns the listing shows for this tab: the name first, then the tab's own columns
        (e.g. "Promo codes used" on the Promo codes tab), then the rest of the user's view, in order
        (as ``views.listing.index.CustomerIndexView.visible_columns``)."""
        names = list(self.spec.columns)
        if "name" not in names:
            names.insert(0, "name")
        extra = [name for name in self.listing.tab.required_columns if name not in names]
        return names[:1] + extra + names[1:]

    def headers(self):
        return self.resource.export_headers(self.field_names)

    def money_columns(self):
        """``(amount column, currency column)`` pairs of the rows (an XLSX file shows each amount with the
        decimals of its seller account's currency)."""
        return self.resource.money_columns(self.field_names)

    @property
    def queryset(self):
        return self.listing.queryset

    def scope_account_ids(self):
        """The seller accounts this export may read (its account selection within the export grants)."""
        if self.listing.asked_for_foreign_accounts_only:
            return []
        return sorted(self.listing.selected_account_ids or self.listing.allowed_account_ids)

    def count(self):
        scope = self.spec.scope
        if scope == "selected":
            if len(self.spec.ids) <= SELECTED_BATCH:
                return self.queryset.filter(pk__in=self.spec.ids).count()
            return len(self._selected_in_listing_order())
        if scope == "page":
            return len(self._page_pks())
        return self._tab_total()

    def rows(self, csv=False, pks=None):
        """Rendered rows, in the listing's order; a bounded number of queries whatever the row count.

        ``csv=True``: each cell already CSV text (``writers.write_csv(..., rendered=True)``). ``pks``: only
        these customers, in this order (one chunk of ``ordered_pks()``, see ``chunks.py``)."""
        exporter = self.resource.csv_row_exporter if csv else self.resource.row_exporter
        export_row = exporter(self.field_names)
        seen = self.account_ids
        # Personal data only of the accounts whose personal data the user may see (services/personal_data.py).
        visible = personal_account_ids(self.user)
        if self.personal_ids is not None:
            visible = set(visible) & set(self.personal_ids)
        for row in self._value_rows(pks):
            account_id = row.get("account_id")
            seen.add(account_id)
            yield export_row(row if account_id in visible else mask_row(row))
        seen.discard(None)

    def ordered_pks(self):
        """The ids of the rows ``rows()`` writes, in the same order (what a chunked export cuts into chunks)."""
        pks = self.queryset.values_list("pk", flat=True)
        scope = self.spec.scope
        if scope == "page":
            return list(self._page_pks())
        if scope == "selected" and len(self.spec.ids) <= SELECTED_BATCH:
            return list(pks.filter(pk__in=self.spec.ids))
        if scope == "selected":
            return list(self._selected_in_listing_order())
        return list(pks.iterator(chunk_size=get_setting("EXPORT_CHUNK_SIZE") * 5))

    def _value_rows(self, pks=None):
        keys = self.resource.values_for(self.field_names)
        chunk_size = get_setting("EXPORT_CHUNK_SIZE")
        values = self.queryset.values(*keys)
        scope = self.spec.scope
        if pks is not None:
            yield from _in_given_order(values, iter(pks))
        elif scope == "page":
            yield from _in_given_order(values, iter(self._page_pks()))
        elif scope == "selected" and len(self.spec.ids) <= SELECTED_BATCH:
            yield from values.filter(pk__in=self.spec.ids).iterator(chunk_size=chunk_size)
        elif scope == "selected":
            yield from _in_given_order(values, iter(self._selected_in_listing_order()))
        else:
            yield from values.iterator(chunk_size=chunk_size)

    def _tab_total(self):
        if self._total is None:
            self._total = self.queryset.count()
        return self._total

    def _selected_in_listing_order(self):
        """The selected ids the user may export, in the listing's order (one pass over the tab's ids)."""
        if self._selected_pks is None:
            wanted = set(self.spec.ids)
            chunk_size = get_setting("EXPORT_CHUNK_SIZE") * 5
            pks = self.queryset.values_list("pk", flat=True).iterator(chunk_size=chunk_size)
            self._selected_pks = [pk for pk in pks if pk in wanted]
        return self._selected_pks

    def _page_pks(self):
        """The ids of the page as the user saw it, those they may export: the page is read with their view rights,
        as the listing shows it (read with the export rights, rows of other pages filled the places of rows the
        user may view but not export, and a sort only the view rights allow was dropped)."""
        if self._page_pks_cache is None:
            shown = CustomerListing(self.user, self.spec.tab, as_query_dict(self.spec.query), action=Action.VIEW)
            total = shown.queryset.count()
            limit = filtered_count_limit()
            # As the page counted its rows: exactly, or not (filtered past FILTERED_COUNT_LIMIT, or not counted).
            exact = not shown.narrows_beyond_accounts or 0 < total <= limit
            offset, per_page = self._page_window(total, exact)
            page = list(shown.queryset.values_list("pk", flat=True)[offset : offset + per_page])
            exportable = set(self.queryset.filter(pk__in=page).values_list("pk", flat=True))
            self._page_pks_cache = [pk for pk in page if pk in exportable]
        return self._page_pks_cache

    def _page_window(self, total, exact=True):
        """``(offset, per_page)`` of the requested page, as the listing's paginator reads it: past the last page, the
        last page when the page counted its rows exactly, else the first (the page shows the first page there)."""
        per_page = listing_per_page(self.listing)
        page = self.spec.page_number()
        last_page = max(1, -(-total // per_page))
        page = max(page, 1)
        if page > last_page:
            page = last_page if exact else 1
        return (page - 1) * per_page, per_page


def _in_given_order(values, pks):
    """The rows of ``values`` with these ids, in the ids' order, fetched in batches of ``SELECTED_BATCH``
    (rows no longer in the listing are left out)."""
    while batch := list(islice(pks, SELECTED_BATCH)):
        by_pk = {row["id"]: row for row in values.filter(pk__in=batch)}
        yield from (by_pk[pk] for pk in batch if pk in by_pk)


def listing_per_page(listing):
    """Rows per page as the listing reads them (``per_page``, else the user's choice, else the default)."""
    from ..views.listing.index import resolve_per_page

    return resolve_per_page(listing.params.get("per_page"), listing.preference)
