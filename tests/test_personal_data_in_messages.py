"""Customers named in confirmations, replies and errors as the user may see them.

A user without "See personal data" on a seller account sees its customers as "Customer #<id>" in every listing
and page (tests/test_personal_data.py). These are the places that named a customer some other way: the watchlist
eye's reply and message, the bulk confirmation's list of customers the action leaves out, the Watchlist
snippet's bulk delete page and its message, and the merge's and undo's refusals. Each showed the real name before.
"""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import order_data
from tests.permission_world import grant, make_staff
from wagtail_customers.models import Channel, CustomerMerge, SellerAccount, WatchlistEntry
from wagtail_customers.services.erasure import erase_customer
from wagtail_customers.services.ingestion import record_order
from wagtail_customers.services.merge import merge_customers

pytestmark = pytest.mark.django_db

SECRETS = (b"Ada Secretname", b"ada@secret.example", b"Bob Hiddenname", b"bob@secret.example")


@pytest.fixture
def shop_a():
    return SellerAccount.objects.create(name="Shop A", channel=Channel.SHOPIFY, currency="USD")


@pytest.fixture
def shop_b():
    return SellerAccount.objects.create(name="Shop B", channel=Channel.SHOPIFY, currency="USD")


@pytest.fixture
def ada(shop_a):
    return record_order(shop_a, order_data("A-1", email="ada@secret.example", name="Ada Secretname")).customer


@pytest.fixture
def bob(shop_a):
    return record_order(shop_a, order_data("A-2", email="bob@secret.example", name="Bob Hiddenname")).customer


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def masked_user(shop_a, *actions):
    """A staff member with ``actions`` on shop A and no "See personal data" there."""
    user = make_staff("masked")
    grant(user, shop_a, "view", *actions)
    return user


def assert_no_personal_data(content):
    for secret in SECRETS:
        assert secret not in content, secret


@pytest.mark.parametrize("json", [True, False])
def test_the_watchlist_eye_names_the_customer_as_the_user_may_see_them(shop_a, ada, json):
    client = logged_in(masked_user(shop_a, "manage_watchlist"))
    url = reverse("wagtail_customers:watchlist_toggle", args=[ada.pk])
    headers = {"HTTP_ACCEPT": "application/json"} if json else {}
    response = client.post(url, {"watch": "1", "next": reverse("wagtail_customers:index")}, follow=not json, **headers)
    assert response.status_code == 200
    assert WatchlistEntry.objects.filter(customer=ada).exists()
    assert_no_personal_data(response.content)
    text = response.json()["message"] if json else response.content.decode()
    assert f"Customer #{ada.pk}" in text


def test_the_bulk_confirmation_names_the_customers_it_leaves_out_as_the_user_may_see_them(shop_a, shop_b, ada):
    zed = record_order(shop_b, order_data("B-1", email="zed@b.example", name="Zed Visible")).customer
    user = make_staff("eraser")
    grant(user, shop_a, "view")
    grant(user, shop_b, "view", "erase", "see_personal_data")
    response = logged_in(user).get(
        reverse("wagtail_customers:bulk_action", args=["all", "erase"]) + f"?id={ada.pk}&id={zed.pk}"
    )
    assert response.status_code == 200
    assert_no_personal_data(response.content)
    assert f"Customer #{ada.pk}".encode() in response.content
    # The customer the user may see personal data of keeps their name.
    assert b"Zed Visible" in response.content


def test_the_watchlist_snippets_bulk_delete_names_customers_as_the_user_may_see_them(shop_a, ada):
    entry = WatchlistEntry.objects.create(customer=ada, note="")
    client = logged_in(masked_user(shop_a, "manage_watchlist"))
    url = reverse("wagtail_bulk_action", args=["wagtail_customers", "watchlistentry", "delete"])
    response = client.get(f"{url}?next=/admin/&id={entry.pk}")
    assert response.status_code == 200
    assert_no_personal_data(response.content)
    assert f"Customer #{ada.pk}".encode() in response.content
    # Deleting still works, and Wagtail's message naming the one entry deleted names it the same way.
    response = client.post(f"{url}?next=/admin/&id={entry.pk}", follow=True)
    assert response.status_code == 200
    assert not WatchlistEntry.objects.filter(pk=entry.pk).exists()
    assert_no_personal_data(response.content)
    assert f"Customer #{ada.pk}".encode() in response.content


def test_a_refused_merge_names_the_customers_as_the_user_may_see_them(shop_a, ada, bob):
    erase_customer(bob, None)
    client = logged_in(masked_user(shop_a, "delete"))
    page = client.get(reverse("wagtail_customers_customer:merge", args=[ada.pk]) + f"?other={bob.pk}")
    assert page.status_code == 200
    assert b"was erased" in page.content
    assert_no_personal_data(page.content)
    refused = client.post(reverse("wagtail_customers_customer:merge", args=[ada.pk]), {"other": bob.pk}, follow=True)
    assert refused.status_code == 200
    assert b"was erased" in refused.content
    assert_no_personal_data(refused.content)


def test_a_refused_undo_names_the_customer_as_the_user_may_see_them(shop_a, ada, bob):
    carl = record_order(shop_a, order_data("A-3", email="carl@example.com", name="Carl")).customer
    first = merge_customers(ada, bob)
    merge_customers(ada, carl)
    client = logged_in(masked_user(shop_a, "delete"))
    url = reverse("wagtail_customers_customer:merge_undo", args=[ada.pk])
    page = client.get(f"{url}?merge={first.pk}")
    assert page.status_code == 200
    assert b"undo that later merge first" in page.content
    assert_no_personal_data(page.content)
    refused = client.post(url, {"merge": first.pk}, follow=True)
    assert b"undo that later merge first" in refused.content
    assert_no_personal_data(refused.content)
    assert CustomerMerge.objects.filter(pk=first.pk, undone_at__isnull=True).exists()
