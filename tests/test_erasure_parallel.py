"""An import of the buyer running while their erasure commits must not bring the personal data back.

The erasure holds the customer's row (``select_for_update``) until it commits; the import locks the
customers it resolves the same way, so it waits, then reads the customer as erased (PostgreSQL re-checks
the row it waited for; SQLite runs one writing transaction at a time). Without that lock, on PostgreSQL,
the import read the customer as it was, wrote the order's ship-to in clear and, once the erasure committed,
wrote the name and e-mail back. Real threads, each with its own database connection.
"""

import threading

import pytest
from django.db import transaction

from tests.factories import order_data
from tests.parallel_support import HOLD_SECONDS, in_thread
from tests.test_watchlist_parallel import parallel_database  # noqa: F401 (the fixture)
from wagtail_customers.models import Channel, Customer, Order, SellerAccount
from wagtail_customers.services import erasure
from wagtail_customers.services.ingestion import record_order, record_orders


@pytest.mark.django_db(transaction=True)
def test_an_import_during_the_erasure_waits_and_writes_no_personal_data(parallel_database):  # noqa: F811
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    customer = record_order(account, order_data("G-1", email="grace@example.com", name="Grace Hopper")).customer
    erased_uncommitted = threading.Event()
    import_started = threading.Event()
    errors = []

    def erase():
        with transaction.atomic():
            locked = Customer.objects.select_for_update().get(pk=customer.pk)
            erasure._erase_batch([locked.pk], None, erasure.erasure_key())
            erased_uncommitted.set()
            import_started.wait(10)
            # The import runs meanwhile (and must wait for this commit).
            threading.Event().wait(HOLD_SECONDS)

    def reimport():
        erased_uncommitted.wait(10)
        import_started.set()
        record_orders(account, [order_data("G-2", email="grace@example.com", name="Grace Hopper", day=3)])

    threads = [in_thread(erase, errors), in_thread(reimport, errors)]
    for thread in threads:
        thread.join(30)
    assert not errors, errors

    customer.refresh_from_db()
    assert customer.is_erased and customer.email == "" and customer.city == ""
    assert customer.name == erasure.pseudonym(customer.identity_key)
    assert Customer.objects.filter(account=account).count() == 1
    assert customer.orders_count == 2
    assert set(Order.objects.values_list("ship_name", "ship_address_line1", "ship_city")) == {(customer.name, "", "")}
