"""What an export request keeps of the listing's query: a query too long is refused (never cut), values are kept in
full, the page is read from the last ``p`` (file name and rows alike), and the listing's page positions do not make
an "all pages" export another job."""

import re
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from tests.export_support import START_URL, exporter, make_customers, read_csv, response_bytes
from tests.factories import order_data
from wagtail_customers.exports.query import IGNORED_PARAMS, MAX_QUERY_LENGTH, PAGE_PARAMS, ExportSpec
from wagtail_customers.listing import TRANSIENT_PARAMS, customer_listing_queryset
from wagtail_customers.models import ExportJob, JobState
from wagtail_customers.permissions import Action
from wagtail_customers.services.ingestion import record_orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(account, other_account):
    make_customers(account, 30)
    make_customers(other_account, 5, prefix="x")
    return account


@pytest.fixture
def small_sync_limit(settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXPORT_SYNC_MAX_ROWS": 5}


def post(client, **data):
    return client.post(START_URL, {"tab": "all", "scope": "all", "format": "csv", **data})


def messages_of(response):
    return [str(message) for message in response.wsgi_request._messages]


def names(response):
    return [row[0] for row in read_csv(response_bytes(response))[1:]]


def query_of_length(length, last):
    """A listing query string of ``length`` characters ending with ``last`` (a parameter the listing ignores pads
    it)."""
    tail = f"&ordering=name&{last}"
    return "x=" + "y" * (length - 2 - len(tail)) + tail


# --- the query's length ---------------------------------------------------------------------------------------


def test_a_query_longer_than_the_limit_is_refused_not_cut(client, account, other_account):
    make_customers(account, 3)
    make_customers(other_account, 3, prefix="x")
    user = exporter("longquery", account, other_account, columns=["name"])
    client.force_login(user)
    # One character more than the limit: a cut would have read the account id without its last digit.
    query = query_of_length(MAX_QUERY_LENGTH + 1, f"account={other_account.pk}")
    response = post(client, query=query)
    assert response.status_code == 302
    assert any("too long to export" in message for message in messages_of(response))
    assert not ExportJob.objects.exists()
    # Up to the limit it is read whole, its last parameter too.
    response = post(client, query=query_of_length(MAX_QUERY_LENGTH, f"account={other_account.pk}"))
    assert response.status_code == 200
    assert names(response) == [f"Customer x{i}" for i in range(3)]


def test_the_parameters_an_export_drops_do_not_count_toward_the_limit(client, account, other_account, settings):
    make_customers(other_account, 3, prefix="x")
    client.force_login(exporter("droppedquery", account, other_account, columns=["name"]))
    # The listing's keyset position of a later page: an export reads pages by number, so it is dropped.
    kept = query_of_length(MAX_QUERY_LENGTH, f"account={other_account.pk}")
    response = post(client, query=f"{kept}&after={'k' * 300}")
    assert response.status_code == 200
    assert names(response) == [f"Customer x{i}" for i in range(3)]
    # More fields than Django parses in one query string: the same message, never a server error.
    many = "&".join(f"f{number}=1" for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = post(client, query=many)
    assert response.status_code == 302
    assert any("too long to export" in message for message in messages_of(response))
    assert not ExportJob.objects.exists()
    # Back to the tab without that query, which the listing would refuse too: the message is shown.
    assert response.url == "/admin/customers/"
    assert "too long to export" in client.get(response.url).content.decode()


def test_listing_parameters_as_fields_are_bounded_as_their_query_string(client, account):
    make_customers(account, 3)
    client.force_login(exporter("longfields", account, columns=["name"]))
    response = post(client, q="a" * MAX_QUERY_LENGTH)
    assert response.status_code == 302
    assert any("too long to export" in message for message in messages_of(response))
    response = post(client, q="Customer c", ordering="name")
    assert response.status_code == 200 and names(response) == [f"Customer c{i}" for i in range(3)]


def test_a_long_search_term_exports_what_the_listing_finds(client, account):
    """The listing searches the whole term: an export cutting it at 200 characters found more customers."""
    stem = "z" * 230
    record_orders(
        account,
        [
            order_data("1", email="one@example.com", name=f"Customer {stem}a"),
            order_data("2", email="two@example.com", name=f"Customer {stem}b"),
        ],
    )
    user = exporter("longterm", account, columns=["name"])
    client.force_login(user)
    term = f"{stem}a"
    listed = [customer.name for customer in customer_listing_queryset(user, "all", {"q": term}, Action.EXPORT)]
    assert listed == [f"Customer {term}"]
    response = post(client, query=urlencode({"q": term}))
    assert response.status_code == 200 and names(response) == listed


def test_every_value_of_a_parameter_is_kept():
    """More than 100 seller accounts selected: the export reads them all, as the listing does."""
    accounts = [str(pk) for pk in range(1, 151)]
    spec = ExportSpec(file_format="csv", query={"account": accounts, "q": ["w" * 300]})
    assert spec.query == {"account": accounts, "q": ["w" * 300]}


# --- the page -----------------------------------------------------------------------------------------------


def test_a_page_export_reads_and_names_the_last_page_number(client, shop):
    """``QueryDict.get`` reads the last ``p``, as the listing does: the file's rows and name agree."""
    user = exporter("lastp", shop, columns=["name"])
    client.force_login(user)
    response = post(client, scope="page", query="per_page=10&p=2&p=3")
    assert re.search(r'filename="customers-all-page-3-\d{8}-\d{4}\.csv"', response["Content-Disposition"])
    listed = [customer.name for customer in customer_listing_queryset(user, "all", {}, Action.EXPORT)]
    assert names(response) == listed[20:30]


@pytest.mark.parametrize(
    ("values", "page"),
    [
        (["2", "3"], "3"),
        (["3", "2"], "2"),
        (["x"], "1"),
        (["0"], "1"),
        (["-4"], "1"),
        ([], "1"),
        (["9" * 3000], "999999"),  # a name of bounded length (the export reads the last page)
    ],
)
def test_the_file_name_names_the_page_the_export_reads(values, page):
    spec = ExportSpec(file_format="csv", scope="page", query={"p": values} if values else {})
    assert f"customers-all-page-{page}-" in spec.filename(timezone.now())


# --- page positions and duplicate jobs ------------------------------------------------------------------------


def test_the_listings_transient_parameters_but_the_page_number_are_ignored():
    assert set(TRANSIENT_PARAMS) - PAGE_PARAMS <= IGNORED_PARAMS


def listing_link(client, url, number):
    """The listing's link to page ``number`` from the page at ``url`` (with its keyset position)."""
    html = client.get(url).content.decode()
    links = re.findall(r'href="(/admin/customers/\?[^"]*)"', html)
    query = next(link for link in links if f"p={number}&" in link.replace("&amp;", "&") + "&")
    return query.replace("&amp;", "&").split("?", 1)[1]


def test_an_all_pages_export_asked_from_two_pages_is_one_job(
    client, shop, small_sync_limit, django_capture_on_commit_callbacks
):
    client.force_login(exporter("twopages", shop, columns=["name"]))
    page_2 = listing_link(client, "/admin/customers/?per_page=10", 2)
    page_3 = listing_link(client, f"/admin/customers/?{page_2}", 3)
    assert "after=" in page_2 and "after=" in page_3
    with django_capture_on_commit_callbacks(execute=True):
        post(client, query=page_2)
    job = ExportJob.objects.get()
    assert job.state == JobState.DONE, job.error
    assert not {"p", "after", "before", "per_page"} & set(job.params["query"])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, query=page_3 + "&_w_filter_fragment=true")
    assert ExportJob.objects.count() == 1
    assert "the file is still available" in messages_of(response)[-1]


def test_a_page_export_keeps_its_page_but_not_how_the_listing_reached_it(
    client, shop, small_sync_limit, django_capture_on_commit_callbacks
):
    client.force_login(exporter("onepage", shop, columns=["name"]))
    with django_capture_on_commit_callbacks(execute=True):
        post(client, scope="page", query="per_page=10&p=2&after=eyJvIjoiLWlkIn0")
        # The same page reached backwards from page 3: the same file.
        post(client, scope="page", query="per_page=10&p=2&before=eyJvIjoibmFtZSJ9")
    job = ExportJob.objects.get()
    assert job.params["query"] == {"p": ["2"], "per_page": ["10"], "account": []}  # every account
    with django_capture_on_commit_callbacks(execute=True):
        post(client, scope="page", query="per_page=10&p=3&after=eyJvIjoiLWlkIn0")
    assert ExportJob.objects.count() == 2


# --- the seller accounts the account selector remembers ----------------------------------------------------------


def remember_accounts(user, *accounts):
    from wagtail_customers.models import ListingPreference

    ListingPreference.objects.update_or_create(user=user, defaults={"account_ids": [a.pk for a in accounts]})


def test_an_export_of_a_remembered_account_the_user_may_not_export_is_empty_not_another_accounts(
    client, account, other_account
):
    make_customers(account, 3)
    make_customers(other_account, 2, prefix="x")
    # May view both accounts, export only the first; the selector shows the second alone.
    user = exporter("viewsboth", account, columns=["name"])
    user.customer_access_grants.create(account=other_account, can_view=True)
    remember_accounts(user, other_account)
    client.force_login(user)
    response = post(client)
    assert response.status_code == 302 and not ExportJob.objects.exists()
    assert any("no customers to export" in message for message in messages_of(response))
    # With the first account remembered, its customers.
    remember_accounts(user, account)
    assert sorted(names(post(client))) == [f"Customer c{i}" for i in range(3)]


def test_a_job_keeps_the_remembered_accounts_it_was_asked_for(
    client, shop, other_account, small_sync_limit, django_capture_on_commit_callbacks
):
    user = exporter("remembers", shop, other_account, columns=["name"])
    client.force_login(user)
    remember_accounts(user, shop, other_account)
    with django_capture_on_commit_callbacks(execute=True):
        post(client)
    first = ExportJob.objects.get()
    assert sorted(first.params["query"]["account"]) == sorted([str(shop.pk), str(other_account.pk)])
    assert first.total_rows == 35
    # Another selection is another file, not the first one handed back.
    remember_accounts(user, shop)
    with django_capture_on_commit_callbacks(execute=True):
        post(client)
    second = ExportJob.objects.exclude(pk=first.pk).get()
    assert second.params["query"]["account"] == [str(shop.pk)] and second.total_rows == 30


def test_a_page_export_is_the_rows_on_screen_that_the_user_may_export(client, account, other_account):
    make_customers(account, 12)
    make_customers(other_account, 12, prefix="x")
    # May view both accounts, export only the first: page 2 on screen mixes both.
    user = exporter("pageofboth", account, columns=["name"])
    user.customer_access_grants.create(account=other_account, can_view=True)
    client.force_login(user)
    on_screen = list(
        customer_listing_queryset(user, "all", {"per_page": "10"}).values_list("name", "account_id")[10:20]
    )
    assert {account_id for _name, account_id in on_screen} == {account.pk, other_account.pk}
    response = post(client, scope="page", query="per_page=10&p=2")
    assert names(response) == [name for name, account_id in on_screen if account_id == account.pk]


def test_a_page_past_the_end_of_a_filtered_listing_is_the_page_shown_there(client, shop):
    user = exporter("pastend", shop, columns=["name"])
    client.force_login(user)

    def shown(params):
        return list(customer_listing_queryset(user, "all", {"per_page": "10", **params}).values_list("name", flat=True))

    # Filtered, the page does not count its rows (FILTERED_COUNT_LIMIT 0): a page past the end shows page 1.
    assert names(post(client, scope="page", query="q=Customer+c&per_page=10&p=9")) == shown({"q": "Customer c"})[:10]
    # Unfiltered, it counts them: a page past the end is the last page, as on screen.
    assert names(post(client, scope="page", query="per_page=10&p=9")) == shown({})[20:30]


def test_a_remembered_account_the_user_may_no_longer_view_exports_what_the_page_shows(client, account, other_account):
    make_customers(account, 3)
    make_customers(other_account, 2, prefix="x")
    user = exporter("revoked", account, columns=["name"])
    # The selector remembers an account whose grant was taken back: the page shows every account left, as does the file.
    remember_accounts(user, other_account)
    client.force_login(user)
    assert sorted(names(post(client))) == [f"Customer c{i}" for i in range(3)]
