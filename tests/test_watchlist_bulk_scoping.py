"""The watchlist snippet's bulk delete must not reveal entries outside the user's scope."""

import pytest
from django.contrib.auth.models import Permission

from tests.factories import order_data
from wagtail_customers.models import AccessGrant, WatchlistEntry
from wagtail_customers.services.ingestion import record_order

pytestmark = pytest.mark.django_db


def test_bulk_delete_confirmation_does_not_name_other_accounts_customers(
    client, django_user_model, account, other_account
):
    mine = record_order(account, order_data("1", email="mine@example.com", name="Mine Alpha")).customer
    theirs = record_order(other_account, order_data("1", email="zed@example.com", name="Zed Bravomarker")).customer
    my_entry = WatchlistEntry.objects.create(customer=mine)
    their_entry = WatchlistEntry.objects.create(customer=theirs)
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    # With "See personal data" on their own account, so that their own customer is named (without it, "Customer
    # #<id>": tests/test_personal_data_in_messages.py).
    AccessGrant.objects.create(
        user=user, account=account, can_view=True, can_manage_watchlist=True, can_see_personal_data=True
    )
    client.force_login(user)
    response = client.get(f"/admin/bulk/wagtail_customers/watchlistentry/delete/?id={my_entry.pk}&id={their_entry.pk}")
    assert response.status_code == 200
    assert b"Mine Alpha" in response.content
    assert b"Zed Bravomarker" not in response.content
