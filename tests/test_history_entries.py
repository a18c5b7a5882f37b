"""One action on several objects in one admin request: each object's history shows it.

Wagtail gives every entry of an admin request the request's uuid, and Wagtail 8's history views keep only the latest
entry of each uuid and action, whichever object it is about: an export of two seller accounts showed in the history
of one, a watchlist change of two customers in one customer's (``log_actions.log_each``)."""

import pytest
from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests.export_support import START_URL, make_customers
from wagtail_customers.models import Customer

pytestmark = pytest.mark.django_db


def test_an_export_of_two_accounts_is_in_the_history_of_each(admin_client, account, other_account):
    make_customers(account, 3)
    make_customers(other_account, 2, prefix="x")
    assert admin_client.post(START_URL, {"tab": "all", "scope": "all", "format": "csv"}).status_code == 200
    for seller_account in (account, other_account):
        page = admin_client.get(reverse("wagtail_customers_accounts:history", args=[seller_account.pk]))
        assert page.status_code == 200
        assert "Export started" in page.content.decode(), seller_account.name


def test_a_watchlist_change_of_two_customers_gives_each_its_own_entry(admin_client, account):
    make_customers(account, 2)
    ids = list(Customer.objects.values_list("pk", flat=True))
    url = reverse("wagtail_customers:bulk_action", args=("all", "watchlist-add"))
    answer = admin_client.post(f"{url}?{'&'.join(f'id={pk}' for pk in ids)}&next=/admin/customers/")
    assert answer.status_code == 302
    entries = ModelLogEntry.objects.filter(action="wagtail_customers.watchlist.add")
    assert sorted(int(entry.object_id) for entry in entries) == sorted(ids)
    assert len({entry.uuid for entry in entries}) == 2
