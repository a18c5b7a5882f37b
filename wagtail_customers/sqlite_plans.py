"""Which index SQLite walks for a filtered page of the listing, chosen from a bounded probe of the rows.

SQLite's planner has no histograms (the bundled library lacks STAT4; the statistics ``ANALYZE`` keeps,
``planner_statistics.py``, count rows per index, not how they spread), so for "the newest customers with 2 orders
or more" it guesses: it takes the filter's index (``account, orders_count``) and sorts every customer it finds,
about 150,000 at 200,000 customers, when walking the sort index (``account, last_order_at``) would fill the page
after a few dozen rows. When a filter selects a handful of customers it is the other way round. PostgreSQL keeps
statistics and chooses well by itself.

So, on SQLite, the listing first probes the filtered rows (bounded counts, ``planned``) and then keeps the
database from the index it must not take: SQLite documents the no-op unary ``+`` for that
(https://sqlite.org/optoverview.html#disqualifying_where_clause_terms_using_unary_):

* one filter alone matches fewer than ``FILTER_PROBE_ROWS``: the sort key (in ORDER BY and in the keyset
  position's terms) and the other filters are written ``+column``, so that filter's index finds the rows, the
  others are tested on each, and fewer than that many are sorted (without such a filter, as for the scores and
  the watchlist, all the filters together are counted, and their indexes left to SQLite);
* more match, and enough of them near the top of the page's order: the filter terms are written ``+column``, so
  the sort index serves the page (a page of 100 then fills within about 10,000 rows);
* more match, but few near the top: broad filters that together select fewer than ``FILTER_PROBE_ROWS`` are left
  to their indexes, as in the first case; else (a filter running against the order) SQLite's own plan.

The rewrite happens when the query is compiled (``IndexPlanQuery``), so the keyset terms and the reversed
order the page view adds later are covered too. The rows and their order are the same either way.

Two plans apply to PostgreSQL as well. A count along one index (``read_along``) has its other terms written with
no-ops no index serves (``+ 0``, ``|| ''``, ``+ interval '0 seconds'``). And a search whose matches lie dense along
the page's order, which PostgreSQL cannot estimate, is walked along it (``walked_for_search``). (The Watchlist tab
was read from the watchlist's rows here until the customers carried a watched flag with a partial index of their
own, services/watched_flag.py.)
"""

import copy
import math
from functools import cache

from django.db import connections
from django.db.models import F, Func, OrderBy
from django.db.models.expressions import Col
from django.db.models.lookups import Lookup
from django.db.models.sql.query import Query
from django.db.models.sql.where import AND, WhereNode

from .conf import get_setting
from .models import Customer

#: The plans: walk the sort index and test the filters on each row, or find the rows by the filters' indexes
#: (both for an ordered read; a count or an exists is left to SQLite); read along one index, ordered or not.
WALK_SORT_INDEX, USE_FILTER_INDEXES, READ_ALONG = "sort", "filters", "along"

#: How many rows of the sort order the second probe looks at, and how many of them must match for the walk.
SORT_PROBE_ROWS, SORT_PROBE_MATCHES = 500, 5

#: How many rows of the page's order a search's probe tests on PostgreSQL (``walked_for_search``): one query of about
#: a millisecond at 200,000 customers.
SEARCH_PROBE_ROWS = 200

#: Up to how many customers an index of a tab's own (every seller account's) may hold for a search's matches to be
#: counted along it (``walked_for_search``): reading them all costs about what counting through the search's indexes
#: does (10,000 watched among 1,000,000 customers: 5 ms, against 9 ms).
COUNTED_ALONG_TAB_INDEX_ROWS = 20_000

#: Lookups an index reads as a range of its entries, so a term made of them can be counted, or lead the read, alone.
RANGE_LOOKUPS = frozenset({"exact", "gt", "gte", "lt", "lte", "range", "in"})


class Unindexed(Func):
    """The column's value as an expression, which no index serves: SQLite's no-op unary ``+`` (a decimal is further
    read as ``CAST(... AS NUMERIC)`` by Django, so it still compares with its text parameter as a number); on
    PostgreSQL a no-op of the column's type (``as_postgresql``)."""

    template = "+%(expressions)s"

    #: PostgreSQL has no unary ``+`` for dates or text: a no-op of the column's own type, by its internal type.
    POSTGRESQL_TEMPLATES = {
        **dict.fromkeys(
            ("IntegerField", "BigIntegerField", "PositiveIntegerField", "PositiveBigIntegerField", "SmallIntegerField",
             "PositiveSmallIntegerField", "DecimalField", "FloatField"),
            "(%(expressions)s + 0)",
        ),
        **dict.fromkeys(("CharField", "TextField", "EmailField"), "(%(expressions)s || '')"),
        "DateTimeField": "(%(expressions)s + interval '0 seconds')",
    }  # fmt: skip

    def __init__(self, expression, field):
        # A generated column's value is read as its output field (a decimal is then CAST as one).
        super().__init__(expression, output_field=field.output_field if getattr(field, "generated", False) else field)

    def as_postgresql(self, compiler, connection, **extra_context):
        template = self.POSTGRESQL_TEMPLATES.get(self.output_field.get_internal_type())
        if template is None:
            # No no-op known for the type: the column itself (PostgreSQL's own plan; the same rows and order).
            return compiler.compile(self.source_expressions[0])
        return self.as_sql(compiler, connection, template=template, **extra_context)


@cache
def indexed_fields():
    """The customer's fields an index leads with or sorts by."""
    names = {name.lstrip("-") for index in Customer._meta.indexes for name in index.fields}
    return frozenset(Customer._meta.get_field(name) for name in names)


@cache
def partial_index_fields():
    """The customer's fields a partial index's condition names (``promo_codes_used`` of the Promo codes tab's)."""
    names = {
        lookup.split("__")[0]
        for index in Customer._meta.indexes
        if index.condition is not None
        for lookup, _value in index.condition.children
    }
    return frozenset(Customer._meta.get_field(name) for name in names)


def partial_index_leads(condition, sort_path):
    """Does a partial index of the customers whose condition is ``condition`` (a tab's base filter) lead with
    ``sort_path``: a walk of that order then passes the tab's customers only (the Watchlist's by its last order)."""
    return any(
        index.condition == condition and index.fields[0].lstrip("-") == sort_path
        for index in Customer._meta.indexes
        if index.condition is not None
    )


def _always_indexed(field, sort_field):
    return field in (Customer._meta.pk, Customer._meta.get_field("account"), sort_field)


def _is_filter_term(lookup, sort_field):
    """Can the database find the rows by this term instead of walking the sort index: a term on an indexed
    column of the customer, or on a joined table's (the scores, the watchlist), from which it could start."""
    field = lookup.lhs.target
    if _always_indexed(field, sort_field):
        return False
    return field in indexed_fields() or field.model is not Customer


def _lookups(node):
    for child in node.children:
        if isinstance(child, WhereNode):
            yield from _lookups(child)
        elif isinstance(child, Lookup) and isinstance(child.lhs, Col):
            yield child


def _unindexed_lookup(lookup):
    wrapped = copy.copy(lookup)
    wrapped.lhs = Unindexed(lookup.lhs, lookup.lhs.output_field)
    return wrapped


def _without_index(node, disqualified):
    """``node`` (a cloned WHERE tree, changed in place) with its ``disqualified`` lookups unindexed."""
    for position, child in enumerate(node.children):
        if isinstance(child, WhereNode):
            _without_index(child, disqualified)
        elif isinstance(child, Lookup) and isinstance(child.lhs, Col) and disqualified(child):
            node.children[position] = _unindexed_lookup(child)


class IndexPlanQuery(Query):
    """A customers query compiled with the terms of the index it must not take written ``+column`` (on SQLite; the
    two plans PostgreSQL is told, ``_postgresql_compiler``, with a no-op of the column's type)."""

    index_plan = None
    sort_path = sort_field = None
    #: Under ``USE_FILTER_INDEXES``, the one filter's field whose index leads the read (its terms alone are left
    #: indexed), or None to let SQLite choose among the filters'.
    leading_field = None

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        if connection is None and using is not None:
            connection = connections[using]
        unordered = not self.order_by and self.index_plan != READ_ALONG
        if connection is None or self.index_plan is None or unordered:
            # A count or an exists of the listing (exports, bulk actions) sorts nothing: the database's own choice.
            return super().get_compiler(using, connection, elide_empty)
        if connection.vendor == "postgresql":
            return self._postgresql_compiler(using, connection, elide_empty)
        if connection.vendor != "sqlite":
            return super().get_compiler(using, connection, elide_empty)
        planned = self.clone()
        planned.__class__ = Query
        if self.index_plan == WALK_SORT_INDEX:
            _without_index(planned.where, lambda lookup: _is_filter_term(lookup, self.sort_field))
        elif self.index_plan == READ_ALONG:
            _without_index(planned.where, self._not_along)
        else:
            _without_index(planned.where, self._not_leading)
            planned.order_by = tuple(self._unindexed_ordering(planned.order_by))
        return planned.get_compiler(using, connection, elide_empty)

    def _postgresql_compiler(self, using, connection, elide_empty):
        """The plans PostgreSQL is told too: a count along one index (``read_along``; it combined the new customers'
        range with the whole Promo codes index, 4.6 ms for 1.4), and a search's page walked along the sort index
        (``walked_for_search``). ``planned`` tells PostgreSQL nothing else."""
        planned = self.clone()
        planned.__class__ = Query
        if self.index_plan == READ_ALONG:
            _without_index(planned.where, self._not_along)
        elif self.index_plan == WALK_SORT_INDEX:
            # A search's terms too: the trigram indexes are on expressions of the columns (``upper(name)``).
            _without_index(planned.where, lambda lookup: not _walk_term(lookup, self.sort_field))
        return planned.get_compiler(using, connection, elide_empty)

    def _not_along(self, lookup):
        """Is ``lookup`` a term an index other than the one read along could serve: a filter's, or a partial
        index's condition (``promo_codes_used > 0`` opens the Promo codes tab's index, a walk's own)?"""
        field = lookup.lhs.target
        return field is not self.sort_field and (
            _is_filter_term(lookup, self.sort_field) or field in partial_index_fields()
        )

    def _not_leading(self, lookup):
        field = lookup.lhs.target
        if field is self.sort_field:
            return True
        return (
            self.leading_field is not None
            and field is not self.leading_field
            and _is_filter_term(lookup, self.sort_field)
        )

    def _unindexed_ordering(self, ordering):
        for item in ordering:
            if isinstance(item, str) and item.lstrip("-") == self.sort_path:
                yield OrderBy(Unindexed(F(self.sort_path), self.sort_field), descending=item[0] == "-")
            else:
                yield item


def _walk_term(node, sort_field, partial=True):
    """Is ``node`` (a WHERE child) about the customer's account, id or sort key alone, which a walk keeps (or, unless
    ``partial`` is False, a partial index's condition, which bounds the index walked)?"""
    if isinstance(node, WhereNode):
        return bool(node.children) and all(_walk_term(child, sort_field, partial) for child in node.children)
    return (
        isinstance(node, Lookup)
        and isinstance(node.lhs, Col)
        and node.lhs.alias == Customer._meta.db_table
        and (_always_indexed(node.lhs.target, sort_field) or (partial and node.lhs.target in partial_index_fields()))
    )


def _visited_by_walk(filtered, sort_field, partial=True):
    """The customers a walk of the sort index passes: ``filtered`` with only its conditions on the account, the
    id and the sort key (the scope, the accounts, a channel) and, unless ``partial`` is False, a partial index's
    condition (the tab's own customers); None when its conditions are not a plain AND."""
    where = filtered.query.where
    if where.connector != AND or where.negated:
        return None
    visited = Customer._base_manager.using(filtered.db).all()
    for child in where.children:
        if _walk_term(child, sort_field, partial):
            visited.query.where.add(child, AND)
    return visited


def _tested_field(node):
    """The customer's field a WHERE child tests, alone and by ranges of its index (``RANGE_LOOKUPS``, joined by
    AND, not negated), or None."""
    if isinstance(node, WhereNode):
        if node.negated or node.connector != AND or not node.children:
            return None
        fields = {_tested_field(child) for child in node.children}
        return fields.pop() if len(fields) == 1 else None
    if isinstance(node, Lookup) and isinstance(node.lhs, Col) and node.lookup_name in RANGE_LOOKUPS:
        return node.lhs.target if node.lhs.alias == Customer._meta.db_table else None
    return None


def _terms_by_field(filtered, sort_field):
    """``{field: [WHERE children on it alone]}`` for the filters an index of the customer could lead the read by."""
    terms = {}
    where = filtered.query.where
    if where.connector != AND or where.negated:
        return terms
    for child in where.children:
        field = _tested_field(child)
        if field is not None and field in indexed_fields() and not _always_indexed(field, sort_field):
            terms.setdefault(field, []).append(child)
    return terms


def _fewest_alone(visited, terms, probe_rows):
    """The field among ``terms`` whose terms alone (in the scope ``visited``) match the fewest customers, if fewer
    than ``probe_rows``: each counted up to that along its own index, so no count reads more than that many.

    ``visited`` without a partial index's condition (``_visited_by_walk(..., partial=False)``): a filter's index reads
    the matches of every customer in the accounts, not only the tab's (2 orders or more on the Watchlist, 354 of its
    587 customers in an account but 16,000 of the account's: its index led, and a page took 19 ms where a walk of
    the Watchlist's own index takes 1)."""
    counts = {}
    for field, children in terms.items():
        alone = visited.order_by()  # unordered, or the customer's default order would lead the read
        for child in children:
            alone.query.where.add(child, AND)
        counts[field] = read_along(alone, field.name)[:probe_rows].count()
    field = min(counts, key=counts.get, default=None)
    return field if field is not None and counts[field] < probe_rows else None


def planned(queryset, filtered, sort_path):
    """``queryset`` (``filtered``, ordered by ``sort_path``) told which index to take, on SQLite; as it is elsewhere.

    Only when the sort key is an indexed column of the customer and a filter could be served otherwise
    (``_is_filter_term``). Bounded probes decide, in turn:

    * each filter the customer's indexes can lead by (``_terms_by_field``) counted alone up to
      ``FILTER_PROBE_ROWS``: the one with the fewest matches, if fewer, leads the read (its index finds them, the
      other filters are tested on each, and sorting them is cheap). Counted together instead, SQLite took the
      index of the broader term ("2 orders or more" with a country held by 3.5 % of customers: 76 ms to count);
    * without such a filter (the scores, the watchlist), ``filtered`` counted up to ``FILTER_PROBE_ROWS``: fewer
      match, so the filters' indexes find them all;
    * else, how many of the first ``SORT_PROBE_ROWS`` customers the walk would pass (``_visited_by_walk``, in the
      page's order) match: ``SORT_PROBE_MATCHES`` or more, and walking the sort index fills a page of 100 within
      about 10,000 rows;
    * else, where each filter alone matched more, ``filtered`` counted up to ``FILTER_PROBE_ROWS``: broad filters
      that together select few, found by their indexes. Otherwise the matches lie further down the order (a filter
      against it, such as a low amount spent on the Most orders tab): SQLite's own plan, which sorts them.
    """
    sort_field = None if "__" in sort_path else Customer._meta.get_field(sort_path)
    if connections[queryset.db].vendor != "sqlite" or sort_field not in indexed_fields():
        return queryset
    if not any(_is_filter_term(lookup, sort_field) for lookup in _lookups(filtered.query.where)):
        # Nothing but the sort index to walk (negative feedback has no index, say): SQLite's choice is right.
        return queryset
    probe_rows = get_setting("FILTER_PROBE_ROWS")
    visited = _visited_by_walk(filtered, sort_field)
    terms = _terms_by_field(filtered, sort_field) if visited is not None else {}
    if terms:
        leading_field = _fewest_alone(_visited_by_walk(filtered, sort_field, partial=False), terms, probe_rows)
        if leading_field is not None:
            return _told(queryset, USE_FILTER_INDEXES, sort_path, sort_field, leading_field)
    elif _few_match(filtered, probe_rows):
        return _told(queryset, USE_FILTER_INDEXES, sort_path, sort_field)
    if visited is not None:
        top_of_order = visited.order_by(*queryset.query.order_by).values("pk")[:SORT_PROBE_ROWS]
        # Read by the ids (the filter terms disqualified, so SQLite does not walk a filter's index to test them).
        matches_on_top = _told(filtered.filter(pk__in=top_of_order), READ_ALONG, "pk", Customer._meta.pk)
        if matches_on_top[:SORT_PROBE_MATCHES].count() >= SORT_PROBE_MATCHES:
            return _told(queryset, WALK_SORT_INDEX, sort_path, sort_field)
    # Broad filters that together select few (each counted alone above): counted together only now, as SQLite may
    # take the broader one's index for this count (76 ms for "2 orders or more" with a country, which the walk
    # above serves).
    if terms and _few_match(filtered, probe_rows):
        return _told(queryset, USE_FILTER_INDEXES, sort_path, sort_field)
    return queryset


@cache
def leading_fields():
    """The customer's fields an index starts with (not after the account): the indexes that serve an order over
    several seller accounts."""
    names = {index.fields[0].lstrip("-") for index in Customer._meta.indexes if index.fields}
    return frozenset(Customer._meta.get_field(name) for name in names)


def can_walk_for_search(queryset, sort_path):
    """Can ``walked_for_search`` apply: on PostgreSQL, sorted by a column an index of the customer starts with (the
    country's index starts with the account, so a sort by country over several accounts has none to walk)?"""
    sort_field = None if "__" in sort_path else Customer._meta.get_field(sort_path)
    return sort_field in leading_fields() and connections[queryset.db].vendor == "postgresql"


def walked_for_search(queryset, filtered, sort_path, *, rows, in_view, tab_index_rows=None):
    """``queryset`` (a search's page: ``filtered``, ordered by ``sort_path``) read along the sort index where that
    fills the page sooner, on PostgreSQL (``can_walk_for_search``): every term but the scope, the id, the sort key
    and a partial index's condition is then written so that no index serves it.

    PostgreSQL cannot tell how many customers a search term matches (``LIKE '%smith%'``: at 1,000,000 customers it
    expected 125 and found 24,956, fetched them all through the trigram indexes and sorted them: 76 ms for 10 rows).
    So the first ``SEARCH_PROBE_ROWS`` customers of the page's order are probed (by id, one bounded query): with m of
    them matching, a walk passes about ``rows`` x ``SEARCH_PROBE_ROWS`` / m rows (``rows``: those the page reads, the
    pages before it too when it is read by OFFSET), and the other read fetches about m / ``SEARCH_PROBE_ROWS`` x
    ``in_view`` matches, each costing about what three walked rows do. A term matching none of them (a name, an
    order number) is left to the indexes that find it. When some match, all the matches are counted too, through
    those indexes, up to where the walk pays (M x M > ``rows`` x ``in_view`` / 3): a term matching a few customers
    who all ordered lately (an e-mail address) would otherwise walk every customer after them.

    ``tab_index_rows``: how many customers the order's index holds where it holds the tab's only (the Watchlist's by
    its last order, every seller account's), else None. Up to ``COUNTED_ALONG_TAB_INDEX_ROWS`` the matches are
    counted along that index, so the count reads no more than those: through the search's indexes PostgreSQL
    misjudged how many watched customers matched and read all 200,000 customers for it (42 ms for 41 Smiths). The
    same queries run either way.
    """
    sort_field = Customer._meta.get_field(sort_path) if can_walk_for_search(queryset, sort_path) else None
    visited = _visited_by_walk(filtered, sort_field) if sort_field is not None else None
    if visited is None:
        return queryset
    top_of_order = visited.order_by(*queryset.query.order_by).values("pk")[:SEARCH_PROBE_ROWS]
    on_top = _told(filtered.filter(pk__in=top_of_order), READ_ALONG, "pk", Customer._meta.pk).count()
    if not on_top:
        return queryset
    # Counted whenever one of the first customers matches, whatever the page's size and depth, so a term's pages run
    # the same queries (a term matching nobody, through its indexes, would cost as much again as the page's read).
    bound = math.isqrt(rows * in_view // 3) + 1
    if tab_index_rows is not None and tab_index_rows <= COUNTED_ALONG_TAB_INDEX_ROWS:
        counted = _told(filtered.order_by(*queryset.query.order_by), WALK_SORT_INDEX, sort_path, sort_field)
    else:
        counted = filtered.order_by()
    many = counted[:bound].count() >= bound
    if not many or 3 * on_top * on_top * in_view <= rows * SEARCH_PROBE_ROWS * SEARCH_PROBE_ROWS:
        return queryset
    return _told(queryset, WALK_SORT_INDEX, sort_path, sort_field)


def _few_match(filtered, probe_rows):
    return filtered[:probe_rows].count() < probe_rows


def read_along(queryset, field_name):
    """``queryset`` read, on SQLite and PostgreSQL, along the index of the customer's ``field_name``: its terms on
    the other indexed columns written so that no index serves them (``Unindexed``). For a count whose one selective
    term is known (the new customers of a tab: SQLite took the Most returned tab's ``returned_units > 0`` range and
    read every customer with a return; PostgreSQL combined the new customers' range with the Promo codes tab's whole
    partial index, 106,000 entries at 200,000 customers)."""
    if connections[queryset.db].vendor not in ("sqlite", "postgresql"):
        return queryset
    return _told(queryset, READ_ALONG, field_name, Customer._meta.get_field(field_name))


def _told(queryset, index_plan, sort_path, sort_field, leading_field=None):
    queryset = queryset.all()
    queryset.query.__class__ = IndexPlanQuery
    queryset.query.index_plan, queryset.query.leading_field = index_plan, leading_field
    queryset.query.sort_path, queryset.query.sort_field = sort_path, sort_field
    return queryset
