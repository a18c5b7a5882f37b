"""Finding every buyer: the listing's search by phone, postal code and order id (issue 12).

A seller with a buyer on the phone has a number, a postal code or an order id at hand, not always a name.
The order id search is exact (case-insensitive, with or without Shopify's "#") and goes through the
listing's scoping like every other search: an order of an account the user may not view finds nothing.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import order_data
from tests.listing_support import customer, row_ids, staff_user
from wagtail_customers.models import Customer
from wagtail_customers.services.ingestion import record_order

pytestmark = pytest.mark.django_db


def search(client, term, **params):
    return client.get("/admin/customers/", {"q": term, **params})


def buyer(account, order_id, *, phone="", postal_code="", **kwargs):
    """One order with the buyer's phone and postal code; returns the ``Customer``."""
    data = order_data(order_id, **kwargs)
    data.customer.phone = phone
    data.ship_to.postal_code = postal_code
    return record_order(account, data).customer


@pytest.fixture
def buyers(account):
    """Ada (phone, London postal code, Shopify orders #1046 and #1047) and Grace (another phone and postal code)."""
    ada = buyer(account, "#1046", phone="+44 (20) 7946-0958", postal_code="SW1A 1AA")
    # An earlier order of Ada's (the latest order gives the customer's details).
    record_order(account, order_data("#1047", day=-3))
    grace = buyer(
        account, "#1050", email="grace@example.com", name="Grace Hopper", phone="+1 555 0100", postal_code="10001"
    )
    return ada, grace


def _stored(buyers):
    ada, grace = (Customer.objects.get(pk=buyer.pk) for buyer in buyers)
    assert (ada.phone, ada.postal_code) == ("+44 (20) 7946-0958", "SW1A 1AA")
    assert (grace.phone, grace.postal_code) == ("+1 555 0100", "10001")


@pytest.mark.parametrize("term", ["+44 (20) 7946-0958", "20 7946 0958", "7946-0958", "79460958", "44 20 7946"])
def test_search_by_phone_ignores_how_the_number_is_written(admin_client, buyers, term):
    _stored(buyers)
    assert row_ids(search(admin_client, term)) == [buyers[0].pk]


def test_a_short_number_is_not_a_phone_number(admin_client, buyers):
    # "0958" would be a phone search; "095" is too short to mean one (and matches no other field).
    assert row_ids(search(admin_client, "0958")) == [buyers[0].pk]
    assert row_ids(search(admin_client, "095")) == []


@pytest.mark.parametrize("term", ["SW1A 1AA", "sw1a1aa", "SW1A", "1aa"])
def test_search_by_postal_code_ignores_spaces_and_case(admin_client, buyers, term):
    assert row_ids(search(admin_client, term)) == [buyers[0].pk]


def test_search_by_a_numeric_postal_code(admin_client, buyers):
    assert row_ids(search(admin_client, "10001")) == [buyers[1].pk]


@pytest.mark.parametrize("term", ["1047", "#1047", " #1047 ", "1046", "#1046"])
def test_search_by_order_id_with_or_without_the_hash(admin_client, buyers, term):
    assert row_ids(search(admin_client, term)) == [buyers[0].pk]


def test_search_by_order_id_is_exact_and_case_insensitive(admin_client, account, buyers):
    amazon = customer(account, "114-3941689-8772232", email="bo@example.com", name="Bo", city="")
    ebay = customer(account, "EB-77-abc", email="cy@example.com", name="Cy", city="")
    assert row_ids(search(admin_client, "eb-77-ABC")) == [ebay.pk]
    assert row_ids(search(admin_client, "114-3941689-8772232")) == [amazon.pk]
    # Not a part of an order id: "104" is no order of Ada's.
    assert row_ids(search(admin_client, "#104")) == []


def test_a_name_search_does_not_read_the_orders(admin_client, buyers):
    with CaptureQueriesContext(connection) as captured:
        assert row_ids(search(admin_client, "grace")) == [buyers[1].pk]
    assert not [query for query in captured if "wagtail_customers_order" in query["sql"]]


def test_search_by_buyer_id(admin_client, account, buyers):
    buyer = customer(account, "9001", buyer_id="gid://shopify/Customer/7300", email="", name="", city="")
    assert row_ids(search(admin_client, "Customer/7300")) == [buyer.pk]


def test_an_order_of_an_account_without_a_grant_finds_nothing(client, account, other_account):
    mine = customer(account, "#2001", email="mine@example.com", name="Mine")
    buyer(other_account, "#1046", email="theirs@example.com", name="Theirs", phone="+1 555 0199")
    customer(other_account, "#1047", email="other@example.com", name="Other", city="")
    client.force_login(staff_user("seller", {account: {"can_view": True}}))
    for term in ("#1046", "1046", "555 0199"):
        response = search(client, term)
        assert row_ids(response) == [], term
        assert b"data-wc-order-match" not in response.content
    assert row_ids(search(client, "2001")) == [mine.pk]


def test_the_same_order_id_in_two_accounts_finds_both_customers(admin_client, account, other_account):
    first = customer(account, "#1046", email="a@example.com", name="In A")
    second = customer(other_account, "#1046", email="b@example.com", name="In B")
    response = search(admin_client, "1046")
    assert set(row_ids(response)) == {first.pk, second.pk}
    # Two customers: no "is from" notice, the rows speak for themselves.
    assert b"data-wc-order-match" not in response.content
    only_a = search(admin_client, "1046", account=account.pk)
    assert row_ids(only_a) == [first.pk]
    assert b"data-wc-order-match" in only_a.content


def test_an_order_id_search_says_whose_order_it_is(admin_client, buyers):
    ada = buyers[0]
    response = search(admin_client, "1047")
    notice = response.content.decode().split("data-wc-order-match>", 1)[1].split("</p>", 1)[0]
    order = ada.orders.get(external_id="#1047")
    assert "#1047" in notice and "Ada Lovelace" in notice and " is from " in notice
    assert f'href="{reverse("wagtail_customers_customer:detail", args=(ada.pk,))}"' in notice
    assert f'href="{reverse("wagtail_customers_customer:order", args=(order.pk,))}"' in notice
    # The results fragment the listing refreshes in place carries it too.
    fragment = admin_client.get(reverse("wagtail_customers:index_results"), {"q": "#1047"})
    assert b"data-wc-order-match" in fragment.content


def test_no_notice_for_other_searches_or_a_buyer_known_only_by_that_order(admin_client, account, buyers):
    assert b"data-wc-order-match" not in search(admin_client, "Ada").content
    by_order = customer(account, "#2252", email="", name="", city="")
    response = search(admin_client, "2252")
    # Its row already says "Buyer of order #2252".
    assert row_ids(response) == [by_order.pk]
    assert b"data-wc-order-match" not in response.content


def test_no_notice_when_the_tab_leaves_the_customer_out(admin_client, buyers):
    response = admin_client.get("/admin/customers/most-returned/", {"q": "1047"})
    assert row_ids(response) == [] and b"data-wc-order-match" not in response.content


def test_searching_costs_the_same_queries_for_any_number_of_matches(admin_client, account, buyers):
    def queries(term):
        with CaptureQueriesContext(connection) as captured:
            assert search(admin_client, term).status_code == 200
        return len(captured)

    few = queries("#1047")
    for i in range(12):
        buyer(account, f"X{i}", email=f"x{i}@example.com", name=f"X {i}", phone="+1 555 0100")
    assert queries("555 0100") == few


@pytest.mark.parametrize(
    ("term", "found"),
    [("élodie", ["elodie"]), ("ÉLODIE", ["elodie"]), ("müller", ["muller"]), ("Zoë", ["zoe"]), ("zOË", ["zoe"])],
)
def test_search_ignores_the_case_of_letters_beyond_ascii(admin_client, account, term, found):
    """SQLite's LIKE folds ASCII letters only: 'Élodie' LIKE '%élodie%' is false there."""
    named = {
        "elodie": customer(account, "E1", name="Élodie Dupont", email="e1@example.com"),
        "muller": customer(account, "M1", name="JÜRGEN MÜLLER", email="m1@example.com"),
        "zoe": customer(account, "Z1", name="zoë martin", email="z1@example.com"),
        "ascii": customer(account, "A1", name="Elodie Muller", email="a1@example.com"),
    }
    assert row_ids(search(admin_client, term)) == [named[key].pk for key in found]


def test_an_ascii_search_on_sqlite_and_every_search_on_postgresql_keep_the_sql_of_icontains():
    """An ASCII term keeps SQLite's LIKE (no Python call per row), and PostgreSQL keeps the SQL its trigram indexes
    (on ``UPPER(col::text)``) serve."""
    from django.db.backends.postgresql.base import DatabaseWrapper
    from django.db.models import Q

    from wagtail_customers.customer_search import text_contains

    postgresql = DatabaseWrapper({**connection.settings_dict, "ENGINE": "django.db.backends.postgresql"}, "postgresql")
    for term, database in (("smith", connection), ("smith", postgresql), ("müller", postgresql)):
        ours = Customer.objects.filter(text_contains("name", term)).query
        plain = Customer.objects.filter(Q(name__icontains=term)).query
        assert ours.get_compiler(connection=database).as_sql() == plain.get_compiler(connection=database).as_sql()


@pytest.fixture
def kellys(account):
    """Mary Kelly, Grace Kelly and Mary Smith."""
    return {
        "mary kelly": customer(account, "K1", name="Mary Kelly", email="mk@example.com"),
        "grace kelly": customer(account, "K2", name="Grace Kelly", email="gk@example.com"),
        "mary smith": customer(account, "K3", name="Mary Smith", email="ms@example.com"),
    }


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ('"Kelly"', {"mary kelly", "grace kelly"}),
        ('"Mary Kelly"', {"mary kelly"}),
        ('Mary "Kelly"', {"mary kelly"}),
        ('"Mary" "Kelly"', {"mary kelly"}),
        # Typographic quotes, as phones and word processors write them.
        ("\N{LEFT DOUBLE QUOTATION MARK}Mary Kelly\N{RIGHT DOUBLE QUOTATION MARK}", {"mary kelly"}),
        ("\N{DOUBLE LOW-9 QUOTATION MARK}Kelly\N{LEFT DOUBLE QUOTATION MARK}", {"mary kelly", "grace kelly"}),
        # Stray and unbalanced quotes are left out.
        ('"Mary Kelly', {"mary kelly"}),
        ('Mary Kelly"', {"mary kelly"}),
        ('Mary " Kelly', {"mary kelly"}),
        ('Kel"ly', {"mary kelly", "grace kelly"}),
    ],
)
def test_double_quotes_group_a_term_and_are_not_searched_for(admin_client, kellys, term, found):
    """Users type quotes around a name from habit: the search compares the text between them (issue: "Kelly",
    quotes included, found nobody). Terms of 3 letters or more go through the search index on SQLite too."""
    assert set(row_ids(search(admin_client, term))) == {kellys[name].pk for name in found}


@pytest.mark.parametrize("term", ['Robert "Bob" Smith', '"Bob" Smith', '"Bob"', "Bob"])
def test_a_name_holding_quotes_is_found_by_the_term_as_typed_too(admin_client, account, kellys, term):
    bob = customer(account, "K5", name='Robert "Bob" Smith', email="rs@example.com")
    assert row_ids(search(admin_client, term)) == [bob.pk]


@pytest.mark.parametrize(
    "term", ['""', '"', '" "', ' "" ', "\N{LEFT DOUBLE QUOTATION MARK}\N{RIGHT DOUBLE QUOTATION MARK}"]
)
def test_a_term_of_quotes_only_is_no_search(admin_client, kellys, term):
    response = search(admin_client, term)
    assert set(row_ids(response)) == {buyer.pk for buyer in kellys.values()}
    assert set(row_ids(response)) == set(row_ids(admin_client.get("/admin/customers/")))


@pytest.mark.parametrize("term", ['"#1046"', '"1046"', '"SW1A 1AA"', '"7946-0958"'])
def test_quotes_around_an_order_id_phone_or_postal_code(admin_client, buyers, term):
    response = search(admin_client, term)
    assert row_ids(response) == [buyers[0].pk]


def test_quotes_around_an_order_id_still_say_whose_order_it_is(admin_client, buyers):
    response = search(admin_client, '"#1047"')
    assert row_ids(response) == [buyers[0].pk]
    assert b"data-wc-order-match" in response.content


def test_quotes_around_a_country_find_its_customers(admin_client, account, kellys):
    abroad = customer(account, "K4", name="Jean Dupont", email="jd@example.com")
    Customer.objects.filter(pk=abroad.pk).update(country="FR")
    assert row_ids(search(admin_client, '"France"')) == [abroad.pk]


@pytest.mark.parametrize("term", ["1" * 60_000, "#1046" + "7" * 60_000, "+44 " + "20 " * 20_000])
def test_a_term_longer_than_every_searched_text_finds_nothing_not_an_error(admin_client, buyers, term):
    """SQLite refuses a LIKE pattern over 50,000 bytes ("LIKE or GLOB pattern too complex": a 500)."""
    response = search(admin_client, term)
    assert response.status_code == 200
    assert row_ids(response) == []
