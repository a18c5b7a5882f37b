"""Deleting a seller account while its orders are being recorded (a sync page, a webhook, an import batch).

The account's row is the meeting point: a batch holds it (``FOR KEY SHARE`` on PostgreSQL) while it records, and the
deletion locks it first. Before, the deletion collected the account's customers and orders, then deleted them and
the account; a batch that committed customers or orders meanwhile made the deletion fail the foreign key at commit,
and the page answered 500. A batch that came after the deletion failed the same way, with a database error.
"""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models.signals import pre_delete
from django.test import Client
from django.urls import reverse

from tests.factories import order_data
from tests.parallel_support import run_while_held
from tests.test_watchlist_parallel import parallel_database  # noqa: F401 (the fixture)
from wagtail_customers.models import Channel, ChannelConnection, Customer, Order, SellerAccount
from wagtail_customers.services.ingestion import IngestionError, record_order, record_orders


def delete_url(account):
    return reverse("wagtail_customers_accounts:delete", args=(account.pk,))


@pytest.fixture
def shop(transactional_db):
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency="USD")
    record_order(account, order_data("1", email="ada@example.com"))
    return account


def test_orders_of_an_account_deleted_meanwhile_are_refused(account):
    record_order(account, order_data("1", email="ada@example.com"))
    SellerAccount.objects.filter(pk=account.pk).delete()  # the instance is the one the sync or import read before
    with pytest.raises(IngestionError, match="The seller account “Shop A” was deleted while its orders were being"):
        record_orders(account, [order_data("2", email="bob@example.com")])
    assert not Customer.objects.exists() and not Order.objects.exists()


@pytest.mark.parametrize("atomic_requests", [False, True])
def test_rows_arriving_while_the_account_is_deleted_are_a_clear_message_not_a_500(
    admin_client, shop, monkeypatch, atomic_requests
):
    """A writer that takes no lock of the account adds a customer after the deletion gathered the account's rows:
    the deletion fails at commit, rolled back whole, and the page says so. With ATOMIC_REQUESTS too: there the
    deletion was a savepoint, its foreign keys checked when the request committed, after the view (a 500)."""
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", atomic_requests)
    admin_client.raise_request_exception = False

    def arrives(sender, instance, **kwargs):
        Customer.objects.create(account=instance, identity_key="email:late@example.com")

    pre_delete.connect(arrives, sender=SellerAccount)
    try:
        response = admin_client.post(delete_url(shop))
    finally:
        pre_delete.disconnect(arrives, sender=SellerAccount)

    assert response.status_code == 302 and response["Location"] == delete_url(shop)
    assert [str(message).strip() for message in get_messages(response.wsgi_request)] == [
        "Orders arrived while the account was being deleted, so nothing was deleted. Try again."
    ]
    assert SellerAccount.objects.filter(pk=shop.pk).exists()
    assert Customer.objects.filter(account=shop).count() == 1 and Order.objects.filter(account=shop).count() == 1
    # Asked again, with nothing arriving meanwhile, it goes through.
    assert admin_client.post(delete_url(shop)).status_code == 302
    assert not SellerAccount.objects.exists() and not Customer.objects.exists()


def delete_in_the_admin(account):
    """``work`` for ``run_while_held``: a superuser confirms the account's deletion; the response."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("deleting", "deleting@example.com", "pw")
    responses = []

    def confirm():
        browser = Client()
        browser.force_login(user)
        responses.append(browser.post(delete_url(account)))

    return confirm, responses


def test_a_sync_page_under_way_is_waited_for_and_deleted_with_the_account(parallel_database, shop):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("threads writing at once: PostgreSQL (SQLite runs one writing transaction at a time)")
    ChannelConnection.objects.create(account=shop, state="live")
    confirm, responses = delete_in_the_admin(shop)

    def page():
        # As a sync's page commits (services/channel_sync.py): the lease renewed on the connection's row first, then
        # the page's orders.
        ChannelConnection.objects.filter(account=shop).update(locked_until=None)
        record_orders(shop, [order_data("2", email="new@example.com")])

    errors, waited = run_while_held(page, confirm)

    assert not errors, errors
    assert waited
    assert [response.status_code for response in responses] == [302]
    assert not SellerAccount.objects.exists()
    assert not Customer.objects.exists() and not Order.objects.exists() and not ChannelConnection.objects.exists()


def test_a_batch_after_the_deletion_began_finds_the_account_gone(parallel_database, shop):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("threads writing at once: PostgreSQL (SQLite runs one writing transaction at a time)")

    errors, waited = run_while_held(
        lambda: SellerAccount.objects.filter(pk=shop.pk).delete(),
        lambda: record_orders(shop, [order_data("2", email="new@example.com")]),
    )

    assert waited
    # Before, the batch inserted its customer and failed the account's foreign key: a database error.
    assert [type(error) for error in errors] == [IngestionError], errors
    assert "was deleted while its orders were being recorded" in str(errors[0])
    assert not SellerAccount.objects.exists() and not Customer.objects.exists() and not Order.objects.exists()
