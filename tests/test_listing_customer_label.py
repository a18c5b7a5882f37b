"""Customers with no name and no e-mail: a readable label everywhere, and found by it.

Amazon's reports give neither a name nor an e-mail for many buyers; such a customer is known by the
channel's buyer id, or only by its order. It was shown as "#2252" and no search could find it.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.export_support import START_URL, read_csv
from tests.listing_support import customer, row_ids, row_names
from wagtail_customers.models import Customer, WatchlistEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def nameless(account):
    """One buyer known only by an Amazon order, one known by a buyer id, one with a name."""
    by_order = customer(account, "114-3941689-8772232", email="", name="", city="")
    by_buyer_id = customer(account, "114-0000000-0000001", email="", name="", buyer_id="AMZN-BUYER-7", city="")
    named = customer(account, "114-0000000-0000002", email="ada@example.com", name="Ada Lovelace")
    return by_order, by_buyer_id, named


def test_the_label_says_who_the_customer_is(nameless):
    by_order, by_buyer_id, named = nameless
    assert str(by_order) == "Buyer of order #114-3941689-8772232"
    assert str(by_buyer_id) == "AMZN-BUYER-7"
    assert str(named) == "Ada Lovelace"
    assert str(Customer(pk=7, identity_key="")) == "Customer #7"


def test_the_listing_and_the_customer_page_show_the_label(admin_client, nameless):
    by_order = nameless[0]
    names = row_names(admin_client.get("/admin/customers/"))
    assert "Buyer of order #114-3941689-8772232" in names and "AMZN-BUYER-7" in names
    assert not [name for name in names if name.startswith("#")]
    page = admin_client.get(reverse("wagtail_customers_customer:detail", args=(by_order.pk,))).content.decode()
    assert "Buyer of order #114-3941689-8772232" in page


@pytest.mark.parametrize(
    "term",
    [
        "Buyer of order #114-3941689-8772232",
        "order #114-3941",
        "#114-3941689",
        "3941689",
        "114-3941689-8772232",
    ],
)
def test_search_finds_a_buyer_known_only_by_an_order(admin_client, nameless, term):
    by_order = nameless[0]
    assert row_ids(admin_client.get("/admin/customers/", {"q": term})) == [by_order.pk]


def test_search_finds_a_buyer_by_the_channels_buyer_id(admin_client, nameless):
    assert row_ids(admin_client.get("/admin/customers/", {"q": "amzn-buyer"})) == [nameless[1].pk]


def test_search_for_the_labels_words_finds_every_buyer_known_by_an_order(admin_client, account, nameless):
    other = customer(account, "205-1111111-2222222", email="", name="", city="")
    found = set(row_ids(admin_client.get("/admin/customers/", {"q": "buyer of order"})))
    assert found == {nameless[0].pk, other.pk}


def test_the_search_costs_the_same_queries_for_any_number_of_rows(admin_client, account, nameless):
    def queries(term):
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/admin/customers/", {"q": term}).status_code == 200
        return len(captured)

    few = queries("order #114")
    for i in range(12):
        customer(account, f"114-5555555-{i:07d}", email="", name="", city="")
    assert queries("order #114") == few


def test_the_export_names_the_buyer_by_the_label(admin_client, nameless):
    response = admin_client.post(START_URL, {"tab": "all", "scope": "all", "format": "csv"})
    rows = read_csv(b"".join(response.streaming_content))
    names = [row[0] for row in rows[1:]]
    assert "Buyer of order #114-3941689-8772232" in names and "AMZN-BUYER-7" in names and "Ada Lovelace" in names


def test_the_watchlist_entries_are_found_by_the_buyers_order_or_buyer_id(admin_client, nameless, superuser):
    for buyer in nameless:
        WatchlistEntry.objects.create(customer=buyer, added_by=superuser)
    for term, expected in (("3941689", "Buyer of order #114-3941689-8772232"), ("AMZN-BUYER", "AMZN-BUYER-7")):
        content = admin_client.get("/admin/customers/watchlist-entries/", {"q": term}).content.decode()
        assert expected in content and "Ada Lovelace" not in content


def test_a_shopify_order_name_keeps_one_hash(admin_client, account):
    buyer = customer(account, "#1058", email="", name="", city="")
    assert str(buyer) == "Buyer of order #1058"
    for term in ("Buyer of order #1058", "#1058", "order #105"):
        assert row_ids(admin_client.get("/admin/customers/", {"q": term})) == [buyer.pk], term
