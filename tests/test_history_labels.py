"""Wagtail's history names customers by id (wagtail_customers/history_labels.py): the site history report shows
no customer's name or e-mail to anyone, masked or not, and keeps none after an erasure."""

import pytest
from django.contrib.contenttypes.models import ContentType
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from tests.factories import order_data
from wagtail_customers.models import Customer, WatchlistEntry
from wagtail_customers.services.ingestion import record_order
from wagtail_customers.services.watchlist import add_to_watchlist, remove_from_watchlist

pytestmark = pytest.mark.django_db


def test_every_entry_about_a_customer_or_a_watchlist_entry_is_labelled_by_id(admin_client, account, superuser):
    ada = record_order(account, order_data("H-1", email="ada@example.com", name="Ada Lovelace")).customer
    add_to_watchlist([ada], superuser, note="Asks for refunds")
    entry = WatchlistEntry.objects.get(customer=ada)
    log(entry, "wagtail.edit", user=superuser)  # as Wagtail's snippet views log it
    remove_from_watchlist([ada], superuser)

    labels = set(
        ModelLogEntry.objects.filter(
            content_type__in=ContentType.objects.get_for_models(Customer, WatchlistEntry).values()
        ).values_list("label", flat=True)
    )
    assert labels == {f"Customer #{ada.pk}", f"Watchlist entry #{entry.pk}"}

    page = admin_client.get("/admin/reports/site-history/").content.decode()
    assert f"Customer #{ada.pk}" in page
    # The surname, not "Ada": a page's random CSRF token may hold any three letters.
    assert "Lovelace" not in page and "ada@example.com" not in page
