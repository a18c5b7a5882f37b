"""The search box's index (``services.search_index``): a term matching few customers or none is answered by an index,
not by reading every customer, and the index follows every write to the customers.

On SQLite the index is an FTS5 trigram table kept by triggers: these tests search after each way a name, an e-mail
or a buyer id changes (ingestion, an edit, erasure, merge, delete, a migration that dropped the triggers) and compare
with what a plain substring match over the customers' own columns finds. On PostgreSQL they check the search's
query is one the trigram indexes serve.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import order_data
from tests.migration_support import back_to_the_latest_schema, migrate  # noqa: F401 (a fixture)
from wagtail_customers.customer_search import found_only_in_indexed_texts, search_filter
from wagtail_customers.models import Customer
from wagtail_customers.models.customers import ORDER_KEY_PREFIX
from wagtail_customers.services import search_index
from wagtail_customers.services.erasure import erase_customer
from wagtail_customers.services.ingestion import record_order
from wagtail_customers.services.merge import merge_customers

pytestmark = pytest.mark.django_db

# Each database has its own index: `make test` runs this file in its SQLite pass and in its PostgreSQL pass, so
# every test below runs in one of them.
sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'")
postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'")

TERMS = ["lovelace", "ADA", "hopper", "example.com", "zz-no-such-customer", 'qu"ote', "ümlaut", "b-42x", "ace"]
#: Terms that are FTS5 syntax or that FTS5 cannot read (a NUL ends its query text): searched, never an error.
HOSTILE_TERMS = ['"', '""', "ab\x00cd", "NEAR(ada lovelace)", "ada*", "a OR b", "-lovelace", "{name}: ada", "^ada"]


def found(term):
    return set(Customer.objects.filter(search_filter(term)).values_list("pk", flat=True))


def plainly_found(term):
    """The customers whose name, e-mail, buyer id or order key contains ``term``, ASCII case folded as SQLite's
    ``LIKE`` and PostgreSQL's ``UPPER`` both do for these texts; the index must find exactly these."""
    lowered = term.lower()
    matches = set()
    rows = Customer.objects.values_list("pk", "name", "email", "external_id", "identity_key")
    for pk, name, email, buyer_id, key in rows:
        order_key = key if key.startswith(ORDER_KEY_PREFIX) else ""
        if any(lowered in text.lower() for text in (name, email, buyer_id, order_key)):
            matches.add(pk)
    return matches


def assert_index_agrees():
    for term in TERMS:
        if found_only_in_indexed_texts(term):
            assert found(term) == plainly_found(term), term


@pytest.fixture
def buyers(account, other_account):
    ada = record_order(account, order_data("1", name="Ada Lovelace", email="ada@example.com")).customer
    grace = record_order(account, order_data("2", name="Grace Hopper", email="grace@example.com")).customer
    quote = record_order(other_account, order_data("3", name='Jo "Qu"ote', email="", buyer_id="B-42X")).customer
    unknown = record_order(account, order_data("ACE-77", name="", email="")).customer
    return ada, grace, quote, unknown


def test_terms_that_only_indexed_texts_can_match():
    assert found_only_in_indexed_texts("lovelace")
    assert found_only_in_indexed_texts("zz-no-such-customer")
    # Digits may be a phone, a postal code or an order id; words of the order label match every order-keyed buyer.
    assert not found_only_in_indexed_texts("ada99")
    assert not found_only_in_indexed_texts("buyer of")
    assert not found_only_in_indexed_texts("order #A")


@sqlite_only
def test_the_sqlite_search_reads_the_index_not_every_customer(buyers):
    found("lovelace")  # the first search asks whether the index exists
    with CaptureQueriesContext(connection) as queries:
        assert found("zz-no-such-customer") == set()
    # How many customers the index finds (up to SEARCH_INDEX_MAX_CANDIDATES), then the search.
    probe, sql = [query["sql"] for query in queries.captured_queries]
    assert "LIMIT" in probe
    assert f"{search_index.TABLE} MATCH" in sql
    plan = " ".join(str(row) for row in connection.cursor().execute(f"EXPLAIN QUERY PLAN {sql}").fetchall())
    assert "SCAN wagtail_customers_customer" not in plan, plan


@sqlite_only
def test_short_terms_and_terms_with_digits_search_without_the_index(buyers):
    for term, buyer in (("ad", buyers[0]), ("ace-77", buyers[3])):
        with CaptureQueriesContext(connection) as queries:
            assert buyer.pk in found(term)
        assert "MATCH" not in queries.captured_queries[-1]["sql"]


@sqlite_only
def test_a_term_the_index_finds_for_many_customers_is_searched_in_the_listings_order(buyers, settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "SEARCH_INDEX_MAX_CANDIDATES": 2}
    found("lovelace")
    with CaptureQueriesContext(connection) as queries:
        assert found("example.com") == plainly_found("example.com") == {buyers[0].pk, buyers[1].pk}
    assert "MATCH" not in queries.captured_queries[-1]["sql"]
    with CaptureQueriesContext(connection) as queries:
        assert found("lovelace") == {buyers[0].pk}
    assert "MATCH" in queries.captured_queries[-1]["sql"]


def test_the_index_finds_what_a_plain_match_finds(buyers):
    ada, grace, quote, unknown = buyers
    assert found("lovelace") == {ada.pk}
    assert found("EXAMPLE.COM") == {ada.pk, grace.pk}
    assert found('qu"ote') == {quote.pk}
    assert found("b-42x") == {quote.pk}
    # The customer known only by order ACE-77 is found by the order key.
    assert found("ace-7") == {unknown.pk}
    assert_index_agrees()


def test_terms_that_are_fts_syntax_are_searched_as_text(buyers):
    for term in HOSTILE_TERMS:
        result = found(term)  # never an error
        if found_only_in_indexed_texts(term):
            assert result == plainly_found(term), term
    assert found("NEAR(ada lovelace)") == set()
    assert found("love\x00lace") == found("lovelace") == {buyers[0].pk}


def test_the_listing_and_the_merge_search_answer_any_term(admin_client, buyers):
    ada = buyers[0]
    for term in HOSTILE_TERMS:
        assert admin_client.get("/admin/customers/", {"q": term}).status_code == 200, term
        merge_search = admin_client.get(reverse("wagtail_customers_customer:merge", args=(ada.pk,)), {"q": term})
        assert merge_search.status_code == 200, term


def test_the_index_follows_edits_erasure_merges_and_deletes(buyers, account):
    ada, grace, quote, unknown = buyers
    Customer.objects.filter(pk=grace.pk).update(name="Grace Brewster Murray")
    assert found("hopper") == set()
    assert found("brewster") == {grace.pk}
    record_order(account, order_data("5", name="Ada King", email="ada@example.com"))
    assert found("ada king") == {ada.pk}
    erase_customer(grace)
    assert found("grace") == set()
    twin = record_order(account, order_data("6", name="Ada Twin", email="twin@example.com")).customer
    merge_customers(ada, twin)
    assert found("twin") <= {ada.pk}
    Customer.objects.filter(pk=quote.pk).delete()
    assert found("b-42x") == set()
    assert_index_agrees()


@sqlite_only
def test_a_migration_that_dropped_the_triggers_leaves_the_index_current(buyers):
    """SQLite drops a table's triggers when Django remakes it; ``migrate`` ends by recreating them and refilling."""
    ada = buyers[0]
    with connection.cursor() as cursor:
        for statement in search_index._drop_trigger_sql():
            cursor.execute(statement)
    Customer.objects.filter(pk=ada.pk).update(name="Augusta Byron")
    search_index.ensure_search_index()
    assert found("augusta") == {ada.pk}
    Customer.objects.filter(pk=ada.pk).update(name="Ada Lovelace")
    assert found("augusta") == set()
    assert_index_agrees()


@sqlite_only
def test_migrate_creates_a_missing_index_once_this_sqlite_can(buyers):
    """Migration 0020 ran on a SQLite without the trigram tokenizer (nothing created); a later migrate creates it."""
    with connection.cursor() as cursor:
        search_index.drop_sqlite_index(cursor)
    search_index.ensure_search_index()
    assert found("lovelace") == {buyers[0].pk}
    assert search_index.sqlite_index_available(connection)


@sqlite_only
def test_an_erasure_compacts_the_index(buyers):
    """A contentless FTS5 index only marks deleted texts, which stay in its pages beside the marks until the pages
    are merged; an erasure merges them, so compacting again afterwards finds nothing left to drop."""

    def index_bytes():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT SUM(LENGTH(block)) FROM {search_index.TABLE}_data")
            return cursor.fetchone()[0]

    erase_customer(buyers[1])
    after_erasure = index_bytes()
    search_index.compact()
    assert index_bytes() == after_erasure
    assert found("hopper") == set()


@postgresql_only
def test_the_postgresql_search_is_served_by_the_trigram_indexes(buyers):
    """With sequential scans priced out, the plan of a term matching nobody reads the four trigram indexes; were an
    expression not the indexed one, PostgreSQL would still have to scan the table."""
    query = Customer.objects.filter(search_filter("zz-no-such-customer")).values("pk")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    for index in ("wc_cust_name_trgm", "wc_cust_email_trgm", *search_index.POSTGRESQL_INDEXES):
        assert index in plan, plan


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_migration_0020_indexes_the_customers_already_there():
    apps = migrate([("wagtail_customers", "0019_customer_figures")])
    SellerAccount = apps.get_model("wagtail_customers", "SellerAccount")
    HistoricalCustomer = apps.get_model("wagtail_customers", "Customer")
    account = SellerAccount.objects.create(name="Shop", currency="EUR")
    ada = HistoricalCustomer.objects.create(account=account, identity_key="email:ada@example.com", name="Ada Lovelace")
    known_by_order = HistoricalCustomer.objects.create(account=account, identity_key=f"{ORDER_KEY_PREFIX}XK-9")
    migrate([("wagtail_customers", "0020_search_index")])
    assert found("lovelace") == {ada.pk}
    assert found("r:xk-") == {known_by_order.pk}
    assert found("zz-no-such-customer") == set()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_migration_0020_builds_again_an_index_a_failed_concurrent_build_left_invalid():
    """The migration builds its indexes CONCURRENTLY (the customers stay writable); a build that failed leaves an
    invalid index of the name, which ``IF NOT EXISTS`` alone would keep for good."""
    index = "wc_cust_extid_trgm"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", [index])
    assert search_index._is_invalid_postgresql_index(connection, index)
    with connection.schema_editor(atomic=False) as editor:
        search_index.create_index(None, editor)
    assert not search_index._is_invalid_postgresql_index(connection, index)
    assert found("zz-no-such-customer") == set()


def test_this_sqlite_has_what_the_index_needs():
    from wagtail_customers.checks import check_sqlite_search_index

    assert check_sqlite_search_index() == []
