"""The customers listing's one definition of "which customers, in which order".

``TABS`` are the six listings (each with its default ordering and base filter);
``customer_listing_queryset(user, tab, params)`` returns the ordered, scoped, filtered and searched
queryset of a tab for the listing's query parameters. The listing views and the exports both read
their rows through ``CustomerListing``, so "all pages" of an export is exactly what the listing shows.

Query parameters read (a ``QueryDict`` or a dict of values or lists):

* ``account``: seller account ids; without it, the user's remembered selection (or all);
* ``q``: search in name, e-mail, buyer id, "Buyer of order #..." label, phone, postal code and order
  ids (``customer_search``), case-insensitive, and the country it names (``countries.matching_codes``); double
  quotes around a term group it, and quotes alone are no search;
* the filters of ``CustomerFilterSet`` (``channel``, ``country``, ``last_order_from`` ...);
* ``ordering``: a sortable column name, ``-`` prefixed for descending (an allow-list).

Unknown or unreadable values are ignored, never an error.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.search import SearchForm

from . import sqlite_plans
from .columns import COLUMNS, COLUMNS_BY_NAME
from .conf import DEFAULTS, get_setting
from .countries import matching_codes
from .customer_search import order_found_by, search_box_term, search_filter
from .filters import CustomerFilterSet
from .ids import parse_ids
from .models import Customer, ListingPreference, ListingSummary, SellerAccount, SummarySegment
from .permissions import Action, accounts_for, customers_for
from .services.listing_summary import compact_summary
from .services.personal_data import PERSONAL_SORTS, personal_account_ids, personal_search_scope_of_ids

#: ``ordering`` values allowed: column name -> the model field(s) it sorts by.
SORT_FIELDS = {column.name: column.sort_field for column in COLUMNS if column.sort_field}

CENTS = Decimal("0.01")

#: Marks "the caller did not load the user's preference": ``None`` means "the user has none".
NOT_LOADED = object()

#: How far back "new customers" looks.
NEW_CUSTOMER_DAYS = 30
#: Parameters that belong to one request of the listing, never to a saved or shared listing URL, nor to an export.
# "after" / "before" are keyset positions of one page (keyset.py): never carried to another listing.
TRANSIENT_PARAMS = ("p", "after", "before", "_w_filter_fragment", "next", "id")


@dataclass(frozen=True)
class Tab:
    slug: str
    label: str
    #: The URL name within the ``wagtail_customers`` namespace.
    url_name: str
    #: Column name, ``-`` prefixed for descending; used when ``ordering`` is absent or not allowed.
    default_ordering: str
    #: Which customers the tab shows, on top of scope, filters and search.
    base_filter: Q = field(default_factory=Q)
    #: Columns the tab always shows (added after the name when the user's view hides them).
    required_columns: tuple = ()
    #: What to say when the tab is empty and nothing narrows it.
    empty_message: str = ""
    #: The ``ListingSummary`` segment holding the figures of ``base_filter``'s customers.
    summary_segment: str = SummarySegment.ALL


TABS = [
    Tab("all", _("All"), "index", "-last_order_at", empty_message=_("No customers yet.")),
    Tab(
        "highest-value",
        _("Highest value"),
        "highest_value",
        "-amount_spent",
        empty_message=_("No customers yet."),
    ),
    Tab("most-orders", _("Most orders"), "most_orders", "-orders_count", empty_message=_("No customers yet.")),
    Tab(
        "most-returned",
        _("Most returned"),
        "most_returned",
        "-returned_units",
        base_filter=Q(returned_units__gt=0),
        required_columns=("returned_units",),
        empty_message=_("No customer has returned anything."),
        summary_segment=SummarySegment.RETURNED,
    ),
    Tab(
        "promo-codes",
        _("Promo codes"),
        "promo_codes",
        "-discount_total",
        base_filter=Q(promo_codes_used__gt=0),
        required_columns=("promo_codes_used", "discount_total"),
        empty_message=_("No customer has used a promo code."),
        summary_segment=SummarySegment.PROMO,
    ),
    Tab(
        "watchlist",
        _("Watchlist"),
        "watchlist",
        "-last_order_at",
        # The flag the database keeps from the watchlist (services/watched_flag.py), read by its partial index.
        base_filter=Q(watched=True),
        empty_message=_("The watchlist is empty. Click the eye next to a customer's name to keep an eye on them here."),
        summary_segment=SummarySegment.WATCHED,
    ),
]
TABS_BY_SLUG = {tab.slug: tab for tab in TABS}


def get_tab(slug):
    """The ``Tab`` for ``slug``, or ``None``."""
    return TABS_BY_SLUG.get(slug)


def shown_account_ids(user):
    """The seller accounts the listing shows ``user`` without an ``account`` parameter: those their account selector
    remembers that they may still view; empty for every account."""
    return CustomerListing(user, TABS[0], QueryDict()).selected_account_ids


def as_query_dict(params):
    """A ``QueryDict`` from a ``QueryDict``, a dict of values or lists (e.g. stored in a job), or ``None``."""
    if isinstance(params, QueryDict):
        return params
    query_dict = QueryDict(mutable=True)
    for key, value in (params or {}).items():
        values = value if isinstance(value, list | tuple) else [value]
        query_dict.setlist(key, [str(v) for v in values if v is not None])
    return query_dict


class CustomerListing:
    """One tab of the listing for one user and one set of query parameters.

    Everything is computed lazily and at most once: the listing view reads ``queryset``,
    ``filterset``, ``ordering`` and ``selected_account_ids``; an export reads ``queryset``.

    ``accounts``: what ``accounts_for(user, action)`` gives, for a caller that has read it (the personal-data
    rules compare it with the accounts whose personal data the user sees); never the accounts of another action.
    """

    def __init__(
        self,
        user,
        tab,
        params=None,
        *,
        action=Action.VIEW,
        preference=NOT_LOADED,
        accounts=None,
        personal_account_ids=None,
    ):
        if isinstance(tab, str):
            tab_slug = tab
            tab = get_tab(tab_slug)
            if tab is None:
                raise ValueError(f"Unknown customers tab {tab_slug!r}")
        self.user = user
        self.tab = tab
        self.params = as_query_dict(params)
        self.action = Action(action)
        self._preference = preference
        self._accounts = accounts
        # A callable giving the ids of the accounts whose personal data the user may see, for callers that read
        # them anyway (the listing view, for its rows); else read here when a sort needs them.
        self._personal_account_ids = personal_account_ids

    @cached_property
    def preference(self):
        """The user's ``ListingPreference`` (or ``None``); callers that already hold it pass it in."""
        if self._preference is not NOT_LOADED:
            return self._preference
        if not getattr(self.user, "pk", None):
            return None
        return ListingPreference.objects.filter(user=self.user).first()

    @cached_property
    def allowed_account_ids(self):
        if self._accounts is not None:
            return {account.pk for account in self._accounts}
        return set(accounts_for(self.user, self.action).values_list("pk", flat=True))

    @cached_property
    def selected_account_ids(self):
        """The seller accounts in view: ``account`` from the URL, else the remembered selection;
        empty means every account the user may see. Never an account outside the user's grants."""
        if "account" in self.params:
            wanted = parse_ids(self.params.getlist("account"))
            return [pk for pk in wanted if pk in self.allowed_account_ids] if wanted else []
        remembered = parse_ids(self.preference.account_ids if self.preference else [])
        return [pk for pk in remembered if pk in self.allowed_account_ids]

    @cached_property
    def asked_for_foreign_accounts_only(self):
        """True when the URL names accounts and none of them is the user's: the listing is empty."""
        return (
            "account" in self.params
            and bool(parse_ids(self.params.getlist("account")))
            and not self.selected_account_ids
        )

    @cached_property
    def filterset(self):
        return CustomerFilterSet(self.params, queryset=self.scoped_queryset, user=self.user, action=self.action)

    @cached_property
    def search_form(self):
        return SearchForm(self.params) if "q" in self.params else SearchForm()

    @cached_property
    def search_query(self):
        if self.search_form.is_bound and self.search_form.is_valid():
            # Quotes alone are no search (customer_search.py: quotes around a term group it).
            return search_box_term(self.search_form.cleaned_data["q"])
        return ""

    @cached_property
    def ordering(self):
        """The column name the listing is sorted by, ``-`` prefixed for descending."""
        requested = self.params.get("ordering", "")
        if requested.lstrip("-") in SORT_FIELDS and requested.count("-") <= 1:
            if requested.lstrip("-") in PERSONAL_SORTS and not self.sees_every_personal_data:
                # The order of the rows would tell the masked names apart (services/personal_data.py).
                return self.tab.default_ordering
            return requested
        return self.tab.default_ordering

    @cached_property
    def personal_account_ids(self):
        """The accounts whose personal data the user may see (the view's reading, where it passed one)."""
        if self._personal_account_ids is not None:
            return self._personal_account_ids()
        return personal_account_ids(self.user)

    @cached_property
    def sees_every_personal_data(self):
        """May the user see the personal data of every account in view (sort by name, e-mail, place)?"""
        return self.allowed_account_ids <= self.personal_account_ids

    @cached_property
    def personal_search_scope(self):
        """What narrows the search's matches on personal data (``services.personal_data``), from the ids read."""
        return personal_search_scope_of_ids(self.user, self.personal_account_ids, self.allowed_account_ids)

    def sort_key(self):
        """``(field path, descending)`` of the sort key (the id breaks ties the other way)."""
        column = COLUMNS_BY_NAME[self.ordering.lstrip("-")]
        # "Days since the last order", descending, is the last order's date ascending.
        return column.sort_field, self.ordering.startswith("-") != column.inverted

    def order_by_fields(self):
        sort_field, descending = self.sort_key()
        # The tie-breaker runs the opposite way so (key DESC, id ASC) indexes serve both directions.
        return (f"-{sort_field}", "pk") if descending else (sort_field, "-pk")

    @cached_property
    def scoped_queryset(self):
        queryset = customers_for(self.user, self.action)
        if self.asked_for_foreign_accounts_only:
            return queryset.none()
        if self.selected_account_ids:
            queryset = queryset.filter(account_id__in=self.selected_account_ids)
        return queryset

    @cached_property
    def filtered_queryset(self):
        """Scope, tab, filters and search; not ordered (statistics aggregate over it)."""
        queryset = self.scoped_queryset.filter(self.tab.base_filter)
        queryset = self.filterset.filter_queryset(queryset)
        if self.search_query:
            # Personal data is searched only where the user may see it (services/personal_data.py).
            matches = search_filter(self.search_query, self.personal_search_scope)
            # "GB", "UK", "United Kingdom" or "Uni" also find the customers in that country.
            if countries := matching_codes(self.search_query):
                matches |= Q(country__in=countries)
            queryset = queryset.filter(matches)
        return queryset.order_by()

    @cached_property
    def order_match(self):
        """The order the search term names, when it is one customer's among the rows, else ``None``
        (the listing says whose it is; ``customer_search.order_found_by``). One query, when searching."""
        return order_found_by(self.search_query, self.filtered_queryset) if self.search_query else None

    @cached_property
    def queryset(self):
        # The scores come along (a LEFT JOIN on their key, for the page's rows only): the insight columns read them.
        queryset = self.filtered_queryset.select_related("account", "score").order_by(*self.order_by_fields())
        if self.narrows_beyond_accounts and not self.search_query:
            # SQLite guesses which index serves filters and sort; a bounded count tells it (sqlite_plans.py).
            queryset = sqlite_plans.planned(queryset, self.filtered_queryset, self.sort_key()[0])
        return queryset

    def page_queryset(self, per_page, *, rows=None):
        """``queryset`` for a page of ``per_page`` rows, on PostgreSQL told the cheaper read where it cannot know it:
        with a search, walk the sort index when the matches lie dense enough along it
        (``sqlite_plans.walked_for_search``; ``rows``: how many rows of the order the page reads, ``per_page`` unless
        the page is read by OFFSET).
        """
        queryset = self.queryset
        sort_path = self.sort_key()[0]
        if self.search_query and sqlite_plans.can_walk_for_search(queryset, sort_path):
            # Where an index of the tab's own customers serves the order (the Watchlist's by its last order), a walk
            # passes those of the selected accounts in the order; else any customer of those accounts.
            tab_only = sqlite_plans.partial_index_leads(self.tab.base_filter, sort_path)
            in_view, in_index = self.segment_customers(self.tab.summary_segment if tab_only else SummarySegment.ALL)
            queryset = sqlite_plans.walked_for_search(
                queryset,
                self.filtered_queryset,
                sort_path,
                rows=rows or per_page,
                in_view=in_view,
                tab_index_rows=in_index if tab_only else None,
            )
        return queryset

    def segment_customers(self, segment=SummarySegment.ALL):
        """How many customers of the listing summary's ``segment`` the selected seller accounts have, and every
        account (an index holds them all): one query of a few rows."""
        sums = dict(
            ListingSummary.objects.filter(segment=segment)
            .order_by()
            .values_list("account_id")
            .annotate(Sum("customers"))
        )
        return sum(sums.get(pk) or 0 for pk in self.account_ids_in_view), sum(value or 0 for value in sums.values())

    @cached_property
    def narrows_beyond_accounts(self):
        """Does a search or a filter narrow the tab (anything but the seller accounts)?"""
        form = self.filterset.form
        form.is_valid()
        has_filters = any(value for name, value in form.cleaned_data.items() if name != "account")
        return bool(self.search_query or has_filters)

    @cached_property
    def is_filtering(self):
        """Does the URL narrow the tab (search, filters, accounts)? The remembered selection does not count."""
        asked_for_accounts = bool(parse_ids(self.params.getlist("account")))
        return self.narrows_beyond_accounts or asked_for_accounts

    @cached_property
    def account_ids_in_view(self):
        """The ids of the seller accounts whose customers the listing shows (before search and filters)."""
        if self.asked_for_foreign_accounts_only:
            return []
        return sorted(self.selected_account_ids or self.allowed_account_ids)

    def statistics(self):
        """The statistics band: from the seller accounts' listing summary when only accounts narrow the tab
        (a handful of rows), else an aggregate over the filtered customers. The page shows the second kind
        only after its table, from its own request (``views/listing/statistics.py``)."""
        if self.narrows_beyond_accounts:
            return listing_statistics(self.filtered_queryset)
        return summary_statistics(self.account_ids_in_view, self.tab)

    @property
    def statistics_are_deferred(self):
        """Does the band cost an aggregate over the filtered customers (so it is loaded after the table)?"""
        return self.narrows_beyond_accounts

    def total(self, statistics=None):
        """The paginator's total as a ``ListingTotal``, never a scan of the whole filtered set.

        Unfiltered: the band's count from the summary (exact; pass ``statistics`` when it is read already).
        With a search or filter: not counted on the page (``count`` None; the exact count comes with the
        statistics band, after the table), or, with ``FILTERED_COUNT_LIMIT`` set, a count of at most that
        many + 1 rows, so "more than 10,000" costs what 10,001 rows do, however many match.
        """
        if not self.narrows_beyond_accounts:
            return ListingTotal((statistics or self.statistics())["customers"], exact=True)
        limit = filtered_count_limit()
        if not limit:
            return ListingTotal(None, exact=False)
        count = self.filtered_queryset[: limit + 1].count()
        return ListingTotal(min(count, limit), exact=count <= limit)


@dataclass(frozen=True)
class ListingTotal:
    """How many customers the listing shows: ``count`` exactly, or, when ``exact`` is false, more than
    ``count`` (the filtered count stopped there), or not counted (``count`` None)."""

    count: int | None
    exact: bool = True


def filtered_count_limit():
    """``FILTERED_COUNT_LIMIT`` (0: no count on the page), or its default when it is not a whole number >= 0."""
    value = get_setting("FILTERED_COUNT_LIMIT")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return DEFAULTS["FILTERED_COUNT_LIMIT"]


def customer_listing_queryset(user, tab, params, action=Action.VIEW):
    """The ordered, scoped, filtered, searched customers of ``tab`` (a ``Tab`` or its slug) for ``user``.

    ``params`` holds the listing's query parameters (see the module docstring). ``action`` picks
    the grants that scope it: ``Action.VIEW`` for the listing, ``Action.EXPORT`` for an export.
    Raises ``ValueError`` for an unknown tab slug.
    """
    return CustomerListing(user, tab, params, action=action).queryset


def listing_statistics(queryset):
    """The figures at the top of the listing, from the customers' statistics columns.

    One aggregate query over ``queryset`` (never over the orders), with revenue and orders summed
    per currency by seller account id (amounts are never added across currencies), plus a look-up
    of the seller accounts' currencies (a small table). Each currency's ``unconverted_orders`` counts
    the orders its revenue leaves out for want of an exchange rate (the band marks it incomplete).
    """
    since = _new_customers_since()
    account_ids_by_currency = {}
    for account_id, currency in SellerAccount.objects.order_by("currency", "pk").values_list("pk", "currency"):
        account_ids_by_currency.setdefault(currency, []).append(account_id)
    currencies = list(account_ids_by_currency)
    per_currency = {}
    for index, currency in enumerate(currencies):
        in_currency = Q(account_id__in=account_ids_by_currency[currency])
        per_currency[f"c{index}_customers"] = Count("pk", filter=in_currency)
        per_currency[f"c{index}_revenue"] = Sum("amount_spent", filter=in_currency)
        per_currency[f"c{index}_orders"] = Sum("orders_count", filter=in_currency)
        per_currency[f"c{index}_unconverted"] = Sum("unconverted_orders", filter=in_currency)
    totals = queryset.order_by().aggregate(
        customers=Count("pk"),
        new_customers=Count("pk", filter=Q(first_order_at__gte=since)),
        repeat_customers=Count("pk", filter=Q(orders_count__gte=2)),
        orders=Coalesce(Sum("orders_count"), 0),
        units=Coalesce(Sum("units"), 0),
        returned_units=Coalesce(Sum("returned_units"), 0),
        promo_customers=Count("pk", filter=Q(promo_codes_used__gt=0)),
        negative_feedbacks=Coalesce(Sum("negative_feedbacks"), 0),
        watched=Count("pk", filter=Q(watched=True)),
        **per_currency,
    )
    by_currency = {
        currency: (
            totals.pop(f"c{index}_customers"),
            totals.pop(f"c{index}_revenue") or Decimal("0.00"),
            totals.pop(f"c{index}_orders") or 0,
            totals.pop(f"c{index}_unconverted") or 0,
        )
        for index, currency in enumerate(currencies)
    }
    return _band(totals, by_currency)


def summary_statistics(account_ids, tab):
    """The same figures as ``listing_statistics`` over the customers of ``account_ids`` in ``tab``'s base
    filter, read from the listing summary (one row per account) instead of the customers.

    Only "new customers" is counted on the customers, live (a date cannot be a counter): the
    ``(account, first_order_at)`` index bounds that count by the new customers, not all of them.
    """
    totals = dict.fromkeys(SUMMED_FIGURES, 0)
    by_currency = {}
    rows = (
        ListingSummary.objects.filter(account_id__in=account_ids, segment=tab.summary_segment)
        .order_by()
        .values("account__currency")
        .annotate(delta_rows=Count("pk"), **{name: Sum(name) for name in ListingSummary.FIGURES})
    )
    delta_rows = 0
    for row in rows:
        currency = row.pop("account__currency")
        delta_rows += row.pop("delta_rows")
        for name in SUMMED_FIGURES:
            totals[name] += row[name]
        customers, revenue, orders, unconverted = by_currency.get(currency, (0, Decimal("0.00"), 0, 0))
        by_currency[currency] = (
            customers + row["customers"],
            revenue + row["amount_spent"],
            orders + row["orders"],
            unconverted + row["unconverted_orders"],
        )
    if delta_rows > SUMMARY_ROWS_BEFORE_COMPACTING * len(account_ids):
        # The triggers append a row per write: fold them while a page reading them is still cheap.
        compact_summary(account_ids)
    new_customers = Customer.objects.filter(account_id__in=account_ids, first_order_at__gte=_new_customers_since())
    new_customers = sqlite_plans.read_along(new_customers.filter(tab.base_filter), "first_order_at")
    totals["new_customers"] = new_customers.count() if account_ids else 0
    return _band(totals, dict(sorted(by_currency.items())))


#: Rows of deltas per seller account and segment that reading the summary tolerates before folding them.
SUMMARY_ROWS_BEFORE_COMPACTING = 50

#: The band's figures that are plain sums of the summary's columns (money is summed per currency).
SUMMED_FIGURES = tuple(name for name in ListingSummary.FIGURES if name not in ("amount_spent", "unconverted_orders"))


def _new_customers_since():
    return timezone.now() - timedelta(days=NEW_CUSTOMER_DAYS)


def _band(totals, by_currency):
    """Finish the band from the summed ``totals`` and ``{currency: (customers, revenue, orders,
    unconverted orders)}`` in display order: revenue per currency and the rates."""
    totals["currencies"] = []
    for currency, (customers, revenue, orders, unconverted) in by_currency.items():
        # Revenue leaves out the orders with no exchange rate (marked incomplete); the average is over the
        # orders it does count, as each customer's is.
        converted = orders - unconverted
        if customers:
            totals["currencies"].append(
                {
                    "currency": currency,
                    "revenue": revenue,
                    "orders": orders,
                    "unconverted_orders": unconverted,
                    # Half up, as the customer's own average (the database's Round) rounds it.
                    "average_order_value": (revenue / converted).quantize(CENTS, rounding=ROUND_HALF_UP)
                    if converted > 0
                    else None,
                }
            )
    customers = totals["customers"]
    # Rates as percentages with one decimal, None when there is nothing to divide by.
    totals["repeat_rate"] = _percent(totals["repeat_customers"], customers)
    totals["return_rate"] = _percent(totals["returned_units"], totals["units"])
    return totals


def _percent(part, whole):
    # Half up, as the database's Round gives each customer's return rate.
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if whole else None
