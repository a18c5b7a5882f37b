"""Which index SQLite walks for a filtered page of the listing, chosen from a bounded probe of the rows.

SQLite's planner has no histograms (the bundled library lacks STAT4, and ``ANALYZE`` does not change these
plans), so for "the newest customers with 2 orders or more" it guesses: it takes the filter's index
(``account, orders_count``) and sorts every customer it finds, about 150,000 at 200,000 customers, when walking
the sort index (``account, last_order_at``) would fill the page after a few dozen rows. When a filter selects
a handful of customers it is the other way round. PostgreSQL keeps statistics and chooses well by itself.

So, on SQLite, the listing first counts the filtered rows up to ``FILTER_PROBE_ROWS`` (one bounded read of the
filter's index) and then keeps the database from the index it must not take: SQLite documents the no-op unary
``+`` for that (https://sqlite.org/optoverview.html#disqualifying_where_clause_terms_using_unary_):

* as many rows or more match: the filter terms are written ``+column``, so the sort index serves the page,
  which then reads about ``rows per page * customers / FILTER_PROBE_ROWS`` rows at most;
* fewer match: the sort key is written ``+column`` (in ORDER BY and in the keyset position's terms), so the
  filters' indexes find the rows and at most ``FILTER_PROBE_ROWS`` are sorted.

The rewrite happens when the query is compiled (``IndexPlanQuery``), so the keyset terms and the reversed
order the page view adds later are covered too. The rows and their order are the same either way.
"""

import copy
from functools import cache

from django.db import connections
from django.db.models import F, Func, OrderBy
from django.db.models.expressions import Col
from django.db.models.lookups import Lookup
from django.db.models.sql.query import Query
from django.db.models.sql.where import WhereNode

from .conf import get_setting
from .models import Customer

#: The two plans: walk the sort index and test the filters on each row, or find the rows by the filters' indexes.
WALK_SORT_INDEX, USE_FILTER_INDEXES = "sort", "filters"


class Unindexed(Func):
    """The column's value as an expression, which no index serves (SQLite's no-op unary ``+``; a decimal is
    further read as ``CAST(... AS NUMERIC)`` by Django, so it still compares with its text parameter as a number)."""

    template = "+%(expressions)s"

    def __init__(self, expression, field):
        # A generated column's value is read as its output field (a decimal is then CAST as one).
        super().__init__(expression, output_field=field.output_field if getattr(field, "generated", False) else field)


@cache
def indexed_fields():
    """The customer's fields an index leads with or sorts by."""
    names = {name.lstrip("-") for index in Customer._meta.indexes for name in index.fields}
    return frozenset(Customer._meta.get_field(name) for name in names)


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
    """A customers query compiled, on SQLite, with the terms of the index it must not take written ``+column``."""

    index_plan = None
    sort_path = sort_field = None

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        connection = connection or connections[using]
        if connection.vendor != "sqlite" or self.index_plan is None:
            return super().get_compiler(using, connection, elide_empty)
        planned = self.clone()
        planned.__class__ = Query
        if self.index_plan == WALK_SORT_INDEX:
            _without_index(planned.where, lambda lookup: _is_filter_term(lookup, self.sort_field))
        else:
            _without_index(planned.where, lambda lookup: lookup.lhs.target is self.sort_field)
            planned.order_by = tuple(self._unindexed_ordering(planned.order_by))
        return planned.get_compiler(using, connection, elide_empty)

    def _unindexed_ordering(self, ordering):
        for item in ordering:
            if isinstance(item, str) and item.lstrip("-") == self.sort_path:
                yield OrderBy(Unindexed(F(self.sort_path), self.sort_field), descending=item[0] == "-")
            else:
                yield item


def planned(queryset, filtered, sort_path):
    """``queryset`` (``filtered``, ordered by ``sort_path``) told which index to take, on SQLite; as it is elsewhere.

    Only when the sort key is an indexed column of the customer and a filter could be served otherwise
    (``_is_filter_term``): one query then counts ``filtered`` up to ``FILTER_PROBE_ROWS`` rows.
    """
    sort_field = None if "__" in sort_path else Customer._meta.get_field(sort_path)
    if connections[queryset.db].vendor != "sqlite" or sort_field not in indexed_fields():
        return queryset
    if not any(_is_filter_term(lookup, sort_field) for lookup in _lookups(filtered.query.where)):
        # Nothing but the sort index to walk (a country filter, say): SQLite's choice is right.
        return queryset
    probe_rows = get_setting("FILTER_PROBE_ROWS")
    matches = filtered[:probe_rows].count()
    return _told(queryset, WALK_SORT_INDEX if matches >= probe_rows else USE_FILTER_INDEXES, sort_path, sort_field)


def read_along(queryset, field_name):
    """``queryset`` read, on SQLite, along the index of the customer's ``field_name``: its terms on the other
    indexed columns written ``+column``. For a count whose one selective term is known (the new customers of a
    tab: SQLite took the Most returned tab's ``returned_units > 0`` range and read every customer with a return)."""
    if connections[queryset.db].vendor != "sqlite":
        return queryset
    return _told(queryset, WALK_SORT_INDEX, field_name, Customer._meta.get_field(field_name))


def _told(queryset, index_plan, sort_path, sort_field):
    queryset = queryset.all()
    queryset.query.__class__ = IndexPlanQuery
    queryset.query.index_plan = index_plan
    queryset.query.sort_path, queryset.query.sort_field = sort_path, sort_field
    return queryset
