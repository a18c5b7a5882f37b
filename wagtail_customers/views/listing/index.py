"""One tab of the customers listing: Wagtail's generic ``IndexView`` fed by ``listing.CustomerListing``.

The queryset, filters, search and ordering all come from ``CustomerListing`` (the one definition
the exports use too); this view adds what is only about the screen: statistics, tabs, the account
selector, the user's columns, rows per page, bulk actions and the empty states.

Queries per page do not depend on the number of rows: the rows come with their account and
watchlist entry, per-account permissions are read once, and the paginator takes its total from the
listing (``CustomerListing.total``) instead of running its own COUNT. The previous / next links carry a
keyset position (``keyset.py``), so paging on costs what the first page does; a page number typed or
linked from afar is served by OFFSET, counted from the nearer end of the listing.

No work that grows with the number of customers holds the table back: unfiltered, the band and the
total come from the per-account listing summary; with a search or filter the page counts nothing (or at most
``FILTERED_COUNT_LIMIT`` rows, ``pagination.py``), and the band, with the count, is loaded after the table from its
own URL (``statistics.py``).
"""

import hashlib
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.views.generic import IndexView

from ... import keyset
from ...columns import COLUMNS, COLUMNS_BY_NAME, PREDICTION_COLUMNS, columns_for_preference
from ...compat import FILTER_PARTIALS_TEMPLATES
from ...conf import get_setting
from ...db_router import reading_from_replica
from ...listing import TABS, CustomerListing, filtered_count_limit
from ...models import Customer, LifetimeValueFit, ListingPreference
from ...parallel_plans import without_parallel_workers
from ...permissions import Action, account_ids_by_action, accounts_for, actions_for_request, has_module_permission
from ...services.personal_data import mask_customers, mask_order
from ...services.saved_views import COLUMNS_PARAM, VIEW_PARAM, opened_view_columns
from ..sharing.header import sharing_header_actions
from .access import forbidden, listing_params, may_open_listing, with_params
from .column_picker import column_picker_url
from .filters_drawer import ActiveFilterFields, filters_drawer_url, listing_filters
from .help import help_header_buttons
from .media import listing_media
from .pagination import MAX_PAGE_NUMBER, KnownCountPaginator, open_page_range
from .table import CustomerTable, table_columns

EXPORT_START_URL_NAME = "wagtail_customers_exports:start"


def resolve_per_page(value, preference):
    """Rows per page: ``value`` if it is one of the choices, else the remembered one, else the default."""
    choices = tuple(get_setting("PER_PAGE_CHOICES"))
    for candidate in (value, preference.per_page if preference else None):
        try:
            number = int(str(candidate).strip())
        except (TypeError, ValueError):
            continue
        if number in choices:
            return number
    return get_setting("DEFAULT_PER_PAGE")


def export_start_url():
    """The exports feature's start URL, or ``None`` while that feature is not installed."""
    try:
        return reverse(EXPORT_START_URL_NAME)
    except NoReverseMatch:
        return None


class CustomerIndexView(IndexView):
    #: The ``listing.Tab`` this view shows.
    tab = None
    model = Customer
    table_class = CustomerTable
    template_name = "wagtail_customers/listing/index.html"
    results_template_name = "wagtail_customers/listing/index_results.html"
    # Access is checked per seller account (``dispatch``), not by Wagtail's model-wide policy.
    permission_policy = None
    any_permission_required = None
    permission_required = None
    search_fields = ["name", "email"]
    paginator_class = KnownCountPaginator
    page_title = gettext_lazy("Customers")
    header_icon = "group"
    add_url_name = None
    edit_url_name = None
    delete_url_name = None
    inspect_url_name = None
    copy_url_name = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        # Wagtail's spreadsheet export of listings (``?export=csv``) is off: exports go through the
        # exports feature, which checks the export permission.
        self.is_export = False

    def dispatch(self, request, *args, **kwargs):
        if not may_open_listing(request):
            return forbidden(request, _("You do not have access to any customers."))
        return super().dispatch(request, *args, **kwargs)

    # -- the listing ---------------------------------------------------------------------------

    @cached_property
    def preference(self):
        return ListingPreference.objects.filter(user=self.request.user).first()

    @cached_property
    def viewable_accounts(self):
        return list(accounts_for(self.request.user, Action.VIEW))

    @cached_property
    def listing(self):
        return CustomerListing(
            self.request.user,
            self.tab,
            self.request.GET,
            preference=self.preference,
            accounts=self.viewable_accounts,
            personal_account_ids=lambda: self.personal_account_ids,
        )

    @cached_property
    def statistics(self):
        """The band's figures, or ``None`` when they need an aggregate over the filtered customers: the
        page then shows a placeholder the band fills after the table (``statistics_url``)."""
        if self.listing.statistics_are_deferred:
            return None
        with reading_from_replica(self.request):
            return self.listing.statistics()

    @cached_property
    def statistics_scope(self):
        """What the band's figures cover, for its heading: ``"found"`` when a search or filter narrows the customers,
        ``"tab"`` when only the tab does (Most returned, Promo codes, Watchlist), else ``"all"`` (every customer of
        the accounts in view; a tab that only sorts, as Highest value, narrows nothing)."""
        if self.listing.narrows_beyond_accounts:
            return "found"
        return "tab" if self.tab.base_filter else "all"

    @cached_property
    def total(self):
        """How many customers match: a ``listing.ListingTotal`` (exact, or "more than" past the limit)."""
        with reading_from_replica(self.request):
            return self.listing.total(self.statistics)

    @cached_property
    def statistics_url(self):
        """Where the deferred band is loaded from: this tab's band fragment with the listing's parameters."""
        url = reverse("wagtail_customers:statistics", args=(self.tab.slug,))
        return with_params(url, self.current_params)

    @cached_property
    def filters(self):
        # A page holds the filters in force only; a results refresh may re-render the whole drawer
        # (Wagtail's ``_w_filter_fragment``).
        return listing_filters(self.listing, self.tab, self.request.GET, whole_drawer=self.results_only)

    def header_filters(self):
        """The header's drawer: the fields in force only, the others fetched when it is about to open."""
        return ActiveFilterFields(self.filters) if self.filters else None

    @cached_property
    def is_filtering(self):
        return self.listing.is_filtering

    @cached_property
    def search_query(self):
        return self.listing.search_query

    def get_table_kwargs(self):
        # Names the table for screen readers (shown to them only): "Customers: Highest value".
        caption = _("Customers: %(tab)s") % {"tab": self.tab.label}
        return {**super().get_table_kwargs(), "caption": caption}

    def get_ordering(self):
        return self.listing.ordering

    def get_valid_orderings(self):
        return [key for column in COLUMNS if column.sort_field for key in (column.name, f"-{column.name}")]

    def get_base_queryset(self):
        # On the primary, as the rows are: the listing's scope and grants are read on the way.
        per_page = self.get_paginate_by(None)
        queryset = self.listing.page_queryset(per_page, rows=self.rows_read(per_page))
        return queryset.select_related("watchlist_entry")

    def rows_read(self, per_page):
        """How many rows of the order the page's read passes: its own when it is page 1 or sought from a position,
        the pages before it too when it is read by its number (OFFSET); a number it cannot read ("last", say) as the
        deepest."""
        params = self.request.GET
        if params.get("after") or params.get("before"):
            return per_page
        number = params.get("p", "1")
        try:
            page = int(number) if len(number) <= 7 else MAX_PAGE_NUMBER
        except ValueError:
            page = MAX_PAGE_NUMBER
        return per_page * (page if 0 < page <= MAX_PAGE_NUMBER else MAX_PAGE_NUMBER)

    @cached_property
    def header_buttons(self):
        return [*super().header_buttons, *help_header_buttons()]

    @cached_property
    def header_more_buttons(self):
        # The header's "..." menu: the Sharing feature's "Permissions" (for users who may share).
        return [*super().header_more_buttons, *sharing_header_actions(self.request)]

    def get_queryset(self):
        # Scope, tab, filters, search and ordering are already in the listing's queryset.
        return self.get_base_queryset()

    def get_paginate_by(self, queryset):
        return resolve_per_page(self.request.GET.get("per_page"), self.preference)

    def get_paginator(self, queryset, per_page, orphans=0, allow_empty_first_page=True, **kwargs):
        return self.paginator_class(
            queryset,
            per_page,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
            known_count=self.total.count,
            count_is_exact=self.total.exact,
        )

    def paginate_queryset(self, queryset, page_size):
        # The total and the statistics band first, outside the block below: their counts and the summary's
        # compaction (a write) stay out of the page's transaction and keep their parallel plans.
        self.total  # noqa: B018 - read for its side effect (a cached property)
        # The page's rows without PostgreSQL's parallel workers, which mostly slow a page's read (parallel_plans.py).
        with without_parallel_workers(queryset.db):
            paginator, page, object_list, is_paginated = super().paginate_queryset(queryset, page_size)
            rows = self.rows_by_position(queryset, page, page_size)
            # A list either way: the footer's links read the first and the last row.
            page.object_list = rows if rows is not None else list(page.object_list)
            if not paginator.count_is_exact and not page.object_list and page.number > 1:
                # A page number past the end, whose place the bounded count cannot tell: the first page.
                page = paginator.page(1)
                page.object_list = list(page.object_list)
        if not paginator.count_is_exact:
            # One row more was read (or the page sought backwards came from a next one).
            page.has_more = len(page.object_list) > page_size or getattr(page, "came_back", False)
            page.object_list = page.object_list[:page_size]
        # Each row masked unless the user may see its account's personal data (services/personal_data.py):
        # every column, label and menu of the row reads the masked instance.
        mask_customers(self.request.user, page.object_list, visible_ids=self.personal_account_ids)
        return paginator, page, page.object_list, is_paginated

    @cached_property
    def page_key(self):
        """What a keyset position is valid for: this tab, ordering, rows per page, accounts and filters."""
        params = sorted((name, value) for name, values in self.current_params.lists() for value in values)
        listing = self.listing
        per_page = self.get_paginate_by(None)
        material = repr((self.tab.slug, listing.ordering, per_page, listing.selected_account_ids, params))
        return hashlib.sha256(material.encode()).hexdigest()[:16]

    def rows_by_position(self, queryset, page, page_size):
        """The page's rows sought from the ``after`` / ``before`` position, or None to use OFFSET."""
        if page.number == 1:
            return None
        key_path, descending = self.listing.sort_key()
        position, forwards = keyset.decode(self.request.GET.get("after"), self.page_key, key_path), True
        if position is None:
            position, forwards = keyset.decode(self.request.GET.get("before"), self.page_key, key_path), False
        if position is not None:
            # A personal sort key is not in the URL: one query reads it from the row, within the user's scope.
            position = keyset.with_looked_up_value(position, queryset.order_by(), key_path)
        if position is None:
            return self.rows_from_the_end(queryset, page, page_size)
        conditions = keyset.seek(
            key_path, descending, position, forwards=forwards, nulls_high=keyset.nulls_sort_high(queryset.db)
        )
        # With a bounded total, one more row forwards tells whether a next page exists.
        limit = page_size + (0 if self.total.exact or not forwards else 1)
        rows = []
        # The rest of the position's run of equal keys, then the keys beyond it (keyset.seek): each read
        # every time, so a sought page runs the same queries wherever it falls.
        for condition in conditions:
            sought = queryset.filter(condition)
            rows += list((sought if forwards else sought.reverse())[:limit])
        rows = rows[:limit]
        if not forwards:
            rows.reverse()
            # Reached from the page after it: there is a next page.
            page.came_back = bool(rows)
        # Nothing there any more (rows deleted meanwhile): the page number's OFFSET shows what is.
        return rows or None

    def rows_from_the_end(self, queryset, page, page_size):
        """A numbered page in the later half of a counted listing, read in the reversed order: its OFFSET
        counts from the end, so the last page costs what the first does and no page walks more than half
        the rows. None for the pages the forward OFFSET reaches sooner."""
        count = page.paginator.count if page.paginator.count_is_exact else None
        start = (page.number - 1) * page_size
        if not count or start >= count or start <= count - start:
            return None
        end = min(start + page_size, count)
        rows = list(queryset.reverse()[count - end : count - start])
        rows.reverse()
        return rows or None

    def page_url(self, number, position_name=None, position=None):
        params = self.current_params.copy()
        if number > 1:
            params["p"] = number
            if position:
                params[position_name] = position
        return with_params(self.index_url, params)

    def pagination(self, paginator, page):
        """The footer's page links: the neighbours by keyset position, the others by number."""
        rows = page.object_list
        key_path, _descending = self.listing.sort_key()
        after = keyset.encode(self.page_key, key_path, rows[-1]) if rows else None
        before = keyset.encode(self.page_key, key_path, rows[0]) if rows else None

        def url(number):
            if number == page.number + 1:
                return self.page_url(number, "after", after)
            if number == page.number - 1:
                return self.page_url(number, "before", before)
            return self.page_url(number)

        if paginator.count_is_exact:
            numbers = paginator.get_elided_page_range(page.number)
        else:
            numbers = open_page_range(page.number, page.has_next(), paginator.ELLIPSIS)
        return {
            "number": page.number,
            # None when the total is a lower bound: the links name no last page.
            "num_pages": paginator.num_pages if paginator.count_is_exact else None,
            "previous_url": url(page.number - 1) if page.has_previous() else None,
            "next_url": url(page.number + 1) if page.has_next() else None,
            "pages": [
                {"number": number, "is_ellipsis": number == paginator.ELLIPSIS, "url": None}
                if number == paginator.ELLIPSIS
                else {"number": number, "is_ellipsis": False, "url": url(number), "is_current": number == page.number}
                for number in numbers
            ],
        }

    # -- permissions read once per page --------------------------------------------------------

    @cached_property
    def account_ids_by_action(self):
        """The accounts the user may act on for each action the rows need, in one or two queries."""
        actions = (Action.MANAGE_WATCHLIST, Action.DELETE, Action.ERASE, Action.SEE_PERSONAL_DATA)
        user = self.request.user
        # A user who may view every account has them all read already (``viewable_accounts``): no second query.
        everywhere = has_module_permission(user, Action.VIEW)
        enabled_ids = [account.pk for account in self.viewable_accounts] if everywhere else None
        return account_ids_by_action(user, actions, enabled_ids=enabled_ids)

    @cached_property
    def manage_account_ids(self):
        return self.account_ids_by_action[Action.MANAGE_WATCHLIST]

    @cached_property
    def delete_account_ids(self):
        return self.account_ids_by_action[Action.DELETE]

    @cached_property
    def erase_account_ids(self):
        return self.account_ids_by_action[Action.ERASE]

    @cached_property
    def personal_account_ids(self):
        """The accounts whose personal data the user may see (as services/personal_data.personal_account_ids)."""
        return self.account_ids_by_action[Action.SEE_PERSONAL_DATA]

    def order_match(self):
        match = self.listing.order_match
        if match is not None and match.account_id not in self.personal_account_ids:
            mask_order(match)
        return match

    @cached_property
    def export_url(self):
        url = export_start_url()
        return url if url and Action.EXPORT in actions_for_request(self.request) else None

    def bulk_action_url(self, action):
        # With a query string already, as Wagtail 7's bulk-actions.js appends "&id=..." to it
        # (Wagtail 8's replaces the query string and adds its own "next").
        url = reverse("wagtail_customers:bulk_action", args=(self.tab.slug, action))
        return f"{url}?{urlencode({'next': self.current_url})}"

    @cached_property
    def bulk_actions(self):
        """``(label, url, css classes)`` of the bulk actions the user may use."""
        actions = []
        if self.manage_account_ids:
            actions.append((_("Add to watchlist"), self.bulk_action_url("watchlist-add"), ""))
            actions.append((_("Remove from watchlist"), self.bulk_action_url("watchlist-remove"), ""))
        if self.export_url:
            actions.append((_("Export selected"), self.bulk_action_url("export"), ""))
        if self.erase_account_ids:
            actions.append((_("Erase personal data"), self.bulk_action_url("erase"), "serious"))
        if self.delete_account_ids:
            # Two selected customers of one account: the merge screen (a merge deletes one row: the delete action).
            actions.append((_("Merge…"), self.bulk_action_url("merge"), ""))
            actions.append((_("Delete"), self.bulk_action_url("delete"), "serious"))
        return actions

    # -- the screen ----------------------------------------------------------------------------

    @cached_property
    def current_params(self):
        return listing_params(self.request.GET)

    @cached_property
    def current_url(self):
        """This tab's page URL with the current parameters (also when serving a results refresh)."""
        return with_params(self.index_url, self.current_params)

    @cached_property
    def this_page_url(self):
        """This page's URL with its position in the listing (``p``, ``after``, ``before``), which ``current_url``
        leaves out: where a row's watchlist eye goes back to without JavaScript, so the seller stays on the page."""
        params = self.current_params.copy()
        for name in ("p", "after", "before"):
            if name in self.request.GET:
                params.setlist(name, self.request.GET.getlist(name))
        return with_params(self.index_url, params)

    @cached_property
    def visible_columns(self):
        # The page's ``columns`` or an opened saved view's, for this page only (the user's preference is left as it is).
        columns = opened_view_columns(self.request) or columns_for_preference(self.preference)
        names = [column.name for column in columns]
        if "name" not in names:
            columns.insert(0, COLUMNS_BY_NAME["name"])
            names.insert(0, "name")
        extra = [COLUMNS_BY_NAME[name] for name in self.tab.required_columns if name not in names]
        return columns[:1] + extra + columns[1:]

    @cached_property
    def columns(self):
        context = {
            "request": self.request,
            "manage_account_ids": self.manage_account_ids,
            "delete_account_ids": self.delete_account_ids,
            "erase_account_ids": self.erase_account_ids,
            "next_url": self.current_url,
            "page_url": self.this_page_url,
            # The listing's own answer for its sort (no query: both sets are read already).
            "sorts_personal": self.listing.sees_every_personal_data,
        }
        return table_columns(self.visible_columns, context, with_checkboxes=bool(self.bulk_actions))

    def tab_links(self):
        params = self.current_params.copy()
        params.pop("ordering", None)
        return [
            {
                "tab": tab,
                "url": with_params(reverse(f"wagtail_customers:{tab.url_name}"), params),
                "is_current": tab.slug == self.tab.slug,
            }
            for tab in TABS
        ]

    def account_selector(self):
        selected = set(self.listing.selected_account_ids)
        return {
            "accounts": [
                {"account": account, "selected": account.pk in selected} for account in self.viewable_accounts
            ],
            "selected_count": len(selected),
            "is_override": "account" in self.request.GET,
            # The URL names seller accounts and none is the user's: the listing is empty, not "all your accounts".
            "names_none_of_yours": self.listing.asked_for_foreign_accounts_only,
            # An empty account= is every account (without it, the remembered selection would be read).
            "all_accounts_url": with_params(self.index_url, self.params_for_every_account()),
        }

    def params_for_every_account(self):
        params = self.current_params.copy()
        params.setlist("account", [""])
        return params

    def hidden_search_params(self):
        """Parameters the header's search form must carry along (it only submits its own fields)."""
        return [
            (name, value)
            for name in ("ordering", "per_page", VIEW_PARAM, COLUMNS_PARAM)
            for value in self.request.GET.getlist(name)
        ]

    def get_page_subtitle(self):
        return self.tab.label

    def get_breadcrumbs_items(self):
        # Collapsed, the breadcrumbs show only their last item: "Customers" with the tab as its
        # sublabel ("Customers: Highest value"), not the tab's name alone.
        return self.breadcrumbs_items + [{"url": "", "label": _("Customers"), "sublabel": self.tab.label}]

    def prediction_fits(self):
        """When a predicted-value column is shown: each seller account in view with its model's fit (one query),
        so the page says how old the predictions are; else nothing (no query)."""
        shown = {column.name for column in self.visible_columns}
        if not shown & PREDICTION_COLUMNS:
            return []
        return list(
            LifetimeValueFit.objects.filter(account_id__in=self.listing.account_ids_in_view)
            .select_related("account")
            .order_by("account__name", "account_id")
        )

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        page = context.get("page_obj")
        context.update(
            tab=self.tab,
            tabs=self.tab_links(),
            statistics=self.statistics,
            statistics_url=self.statistics_url,
            statistics_scope=self.statistics_scope,
            total=self.total,
            filter_partials_templates=FILTER_PARTIALS_TEMPLATES,
            filtered_count_limit=filtered_count_limit(),
            order_match=self.order_match(),
            account_selector=self.account_selector(),
            column_picker_url=column_picker_url(self.current_url),
            per_page=self.get_paginate_by(None),
            per_page_choices=get_setting("PER_PAGE_CHOICES"),
            current_url=self.current_url,
            tab_url=self.index_url,
            bulk_actions=self.bulk_actions,
            hidden_search_params=self.hidden_search_params(),
            header_filters=self.header_filters(),
            filters_drawer_url=filters_drawer_url(self.tab),
            has_accounts=bool(self.viewable_accounts),
            can_add_account=self.request.user.has_perm("wagtail_customers.add_selleraccount"),
            add_account_url=reverse("wagtail_customers_accounts:add"),
            pagination=self.pagination(context["paginator"], page) if page else None,
            first_row=page.start_index() if page and page.object_list else 0,
            last_row=page.end_index() if page and page.object_list else 0,
            prediction_fits=self.prediction_fits(),
        )
        context["media"] = context["media"] + listing_media()
        return context
