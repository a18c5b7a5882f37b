"""Keyset (seek) paging for the customers listing: the next page starts after the last row shown.

``OFFSET 50000`` makes the database walk past 50,000 rows; "rows after (value, id)" walks an index
straight to the spot, so page 2,000 costs what page 2 does. The listing orders by one sort key and
the id as a tie-breaker running the other way (``listing.CustomerListing.order_by_fields``), which
the (key DESC, id) indexes serve in both directions.

A position is a URL token naming the listing it belongs to and the row's (key, id); a token for
another listing, or one that does not decode, is ignored (the page number's OFFSET serves it), never
an error. When the key is personal data (a name, an e-mail, an address part), the token carries only
the id and the view reads the key from the row (``LOOK_UP``): a buyer's name must not travel in URLs,
access logs and Referer headers, where no erasure can reach it.

NULL keys sort as the database sorts them: above every value on PostgreSQL, below on SQLite; the seek
condition follows suit so both databases page exactly like their ORDER BY.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import Q

from .filters import MAX_DATE_YEAR, MIN_DATE_YEAR
from .models import Customer

#: Sort keys that are personal data: their tokens carry the id only (services/personal_data.py).
PERSONAL_KEYS = frozenset({"name", "email", "postal_code", "city", "state"})
#: A position's value still to be read from its row (a personal key).
LOOK_UP = object()


@dataclass(frozen=True)
class Position:
    """A row of the listing in its ordering: the sort key's value and the customer id."""

    value: object
    pk: int


def _key_field(path):
    """The model field at the end of a ``__`` path (``account__name`` -> SellerAccount.name); for a column the
    database computes (``GeneratedField``), the field it is read as."""
    model, field = Customer, None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        model = field.related_model or model
    return field.output_field if getattr(field, "generated", False) else field


def _key_is_nullable(path):
    """Can the key be NULL: a nullable field, or one read through a row that may be missing (a customer's
    scores, ``score__…``: a customer no refresh has scored yet has none, and the LEFT JOIN gives NULL)."""
    *relations, last = path.split("__")
    model = Customer
    for part in relations:
        relation = model._meta.get_field(part)
        if relation.null or (relation.one_to_one and not relation.concrete):
            return True
        model = relation.related_model
    return model._meta.get_field(last).null


def _row_value(row, path):
    value = row
    for part in path.split("__"):
        # A missing one-to-one row (no scores yet) reads as NULL, as the query's LEFT JOIN gives it.
        value = getattr(value, part, None) if value is not None else None
    return value


def encode(ordering, key_path, row):
    """The token for "after / before ``row``" in ``ordering`` (the ``ordering`` URL value)."""
    if key_path in PERSONAL_KEYS:
        raw = json.dumps({"o": ordering, "id": row.pk}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    value = _row_value(row, key_path)
    if value is not None and not isinstance(value, (int, str)):
        value = value.isoformat() if hasattr(value, "isoformat") else str(value)
    raw = json.dumps({"o": ordering, "v": value, "id": row.pk}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token, ordering, key_path):
    """The ``Position`` in ``token``, or None when it is unreadable or made for another ordering."""
    if not token or len(token) > 1000:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(data, dict) or data.get("o") != ordering:
            return None
        pk = data["id"]
        if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63:
            return None
        if key_path in PERSONAL_KEYS:
            return Position(LOOK_UP, pk)
        value = data["v"]
        if value is not None:
            if not isinstance(value, (int, str)) or isinstance(value, bool):
                return None
            field = _key_field(key_path)
            value = field.to_python(value)
            if isinstance(value, date) and not _is_sane_date(value):
                return None
            # What the column can hold, or PostgreSQL refuses the query (a 500): a text with a NUL, a decimal of
            # 1E+1001, an integer past the column's range. A position the listing made always passes.
            if isinstance(value, str):
                if "\x00" in value:
                    return None
                # A lone surrogate (JSON's "\ud800"): no UTF-8 carries it to any database, SQLite's driver included.
                # ``encode`` raises UnicodeEncodeError, a ValueError: refused below.
                value.encode()
            field.run_validators(value)
    except (ValueError, TypeError, KeyError, binascii.Error, ValidationError, FieldDoesNotExist):
        return None
    return Position(value, pk)


def _is_sane_date(value):
    """Is a decoded date or datetime one the seek query can use: in the years the filters accept, and for an aware
    datetime, in range once converted to UTC (``0001-01-01T00:00:00+01:00`` is not: an ``OverflowError``)?"""
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            return False
    return MIN_DATE_YEAR <= value.year <= MAX_DATE_YEAR


def with_looked_up_value(position, queryset, key_path):
    """``position`` with its key read from its row in ``queryset`` (the user's scope), or None if gone."""
    if position.value is not LOOK_UP:
        return position
    found = queryset.filter(pk=position.pk).values_list(key_path, flat=True)[:1]
    return Position(found[0], position.pk) if found else None


def nulls_sort_high(using="default"):
    """Does the database sort NULL above every value (PostgreSQL) or below it (SQLite)?"""
    return connections[using].vendor == "postgresql"


def seek(key_path, descending, position, *, forwards=True, nulls_high=True):
    """The rows "after ``position``" in (key DESC, id ASC) or (key ASC, id DESC) order, as conditions each read in
    the listing's order: ``(rest_of_run, beyond_run)``, the rows sharing the position's key whose id comes after
    it, then the rows whose key comes after; where NULL sorts after the values, the NULLs are a third. Every row of
    a condition comes before every row of the next.

    Separate reads, because the index cannot start inside a run of equal keys from one condition: the tie-breaker
    runs the other way from the key, so "(key, id) after (value, id)" is no row comparison, and
    ``key < value OR (key = value AND id > last id)`` walks the run from its start. Near the end of the Promo
    codes and Most returned tabs a run is hundreds of thousands of customers long (one returned unit; the
    smallest discounts): a page there cost 4x page 1 at 1M customers. Each condition alone is one index range.

    ``forwards=False`` is "comes before": the same conditions in the reversed order.
    """
    if not forwards:
        descending = not descending
    # Where the key's values lie "beyond" the position, as the database orders NULL among them.
    beyond = "lt" if descending else "gt"
    # NULL sorts after every value in this direction (a key that cannot be NULL has none to place).
    null_is_beyond_values = nulls_high != descending and _key_is_nullable(key_path)
    # The id runs the other way from the key (listing.order_by_fields).
    past_id = Q(pk__gt=position.pk) if descending else Q(pk__lt=position.pk)
    if position.value is None:
        beyond_run = Q(**{f"{key_path}__isnull": False}) if not null_is_beyond_values else Q(pk__in=[])
        return Q(**{f"{key_path}__isnull": True}) & past_id, beyond_run
    same_key = Q(**{key_path: position.value}) & past_id
    beyond_values = Q(**{f"{key_path}__{beyond}": position.value})
    if null_is_beyond_values:
        # The NULLs after the values as a read of their own: ``key < value OR key IS NULL`` is no index range,
        # and SQLite walked the whole index for it (a last page of All at 200,000 customers: 20 ms, now under 0.2).
        return same_key, beyond_values, Q(**{f"{key_path}__isnull": True})
    return same_key, beyond_values
