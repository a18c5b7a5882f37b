"""``toggle_watchlist``: one lock of the customer's row and one read of its watched state serve both the decision
and the change (a quarter of the load test's requests are toggles), whatever the state asked for."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.listing_support import customer as make_customer
from wagtail_customers.models import Customer, EventKind, OrderEvent, WatchlistDismissal, WatchlistEntry
from wagtail_customers.services.watchlist import add_to_watchlist, toggle_watchlist

pytestmark = pytest.mark.django_db

LOCK = f'SELECT "{Customer._meta.db_table}"."id" AS "pk" FROM "{Customer._meta.db_table}"'
ENTRIES = WatchlistEntry._meta.db_table
# Reads of the customer's watched state: its entries' ids, or whether it has one.
STATE = (f'SELECT "{ENTRIES}"."customer_id"', f'SELECT 1 AS "a" FROM "{ENTRIES}"')


def _toggle(customer, user, watch):
    with CaptureQueriesContext(connection) as queries:
        state = toggle_watchlist(customer, user, watch)
    return state, [query["sql"] for query in queries]


@pytest.mark.parametrize("watch", [None, True, False])
def test_a_toggle_locks_and_reads_once_whatever_it_asks(account, superuser, watch):
    customer = make_customer(account, "c1", email="c1@example.com")
    if watch is False:
        add_to_watchlist([customer], superuser)
    for expected in [True, False] if watch is None else [watch, watch]:
        state, sqls = _toggle(customer, superuser, watch)
        assert state is expected
        assert len([sql for sql in sqls if sql.startswith(LOCK)]) == 1, sqls
        assert len([sql for sql in sqls if sql.startswith(STATE)]) == 1, sqls
        if expected:
            # One transaction (a savepoint inside the test's): none nested for the change.
            assert len([sql for sql in sqls if sql.startswith("SAVEPOINT")]) == 1, sqls
        assert WatchlistEntry.objects.filter(customer=customer).exists() is expected
        # Taken off by a user: the dismissal that keeps the rules from putting the customer back.
        assert WatchlistDismissal.objects.filter(customer=customer).exists() is (not expected)
    # A second request for the state already there changes nothing and writes no history.
    events = OrderEvent.objects.filter(customer=customer, kind=EventKind.WATCHLIST).count()
    assert events == (1 if watch is True else 2)


def test_a_customer_gone_before_the_lock_is_not_found_and_nothing_is_written(account, superuser):
    """A deletion (or a merge) that committed while the toggle or the bulk action waited for the customer's lock:
    nothing is written for the customer. Before, the entry and its timeline event were inserted for a customer no
    longer there, and the transaction failed the foreign key at commit (a 500)."""
    gone = make_customer(account, "c1", email="c1@example.com")
    kept = make_customer(account, "c2", email="c2@example.com")
    Customer.objects.filter(pk=gone.pk).delete()  # the instance is the one the view read before

    for watch in (None, True, False):
        with pytest.raises(Customer.DoesNotExist):
            toggle_watchlist(gone, superuser, watch)
    assert add_to_watchlist([gone, kept], superuser) == [kept]
    assert list(WatchlistEntry.objects.values_list("customer_id", flat=True)) == [kept.pk]
    assert list(OrderEvent.objects.values_list("customer_id", flat=True)) == [kept.pk]
    assert not WatchlistDismissal.objects.exists()
