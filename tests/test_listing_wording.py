"""Wording on the listing and around it: the heading, counts people can read, one count per page,
plurals, and "Yes"/"No" for true/false columns."""

import html
import re

import pytest
from django.urls import reverse

from tests.export_support import START_URL, export_headings, exporter, read_csv, response_bytes
from tests.factories import order_data
from tests.listing_support import column_labels, customer
from wagtail_customers.models import Customer, ExportJob, ImportJob, JobState, ListingPreference, WatchlistEntry
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.scores import refresh_scores
from wagtail_customers.views.exports.jobs import job_status_data
from wagtail_customers.views.imports.views import job_status as import_job_status

pytestmark = pytest.mark.django_db


def text_of(content):
    """The visible text of a page, roughly: tags removed, whitespace collapsed."""
    content = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", content, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", content))


@pytest.fixture
def thousands(account):
    """1,200 customers, made directly (the listing reads only the customers' own rows)."""
    Customer.objects.bulk_create(
        Customer(account=account, identity_key=f"id:k{i}", external_id=f"k{i}", name=f"K {i}", orders_count=1)
        for i in range(1200)
    )
    return account


def test_the_heading_says_customers_and_the_tab(admin_client, account):
    customer(account, "A1", email="ada@example.com", name="Ada")
    content = admin_client.get("/admin/customers/highest-value/").content.decode()
    crumbs = content[content.index("w-breadcrumbs") : content.index("</nav>", content.index("w-breadcrumbs"))]
    last = crumbs[crumbs.rindex("<li") :]
    # Collapsed breadcrumbs show only their last item: "Customers" with the tab as its sublabel.
    assert re.search(r">\s*Customers\s*<", last)
    assert re.search(r"w-breadcrumbs__sublabel[^>]*>\s*Highest value\s*<", last)


def test_counts_have_thousands_separators_and_the_page_counts_once(admin_client, thousands):
    content = admin_client.get("/admin/customers/?per_page=10").content.decode()
    page = text_of(content)
    assert "Showing 1–10 of 1,200 customers" in page
    assert "1200" not in page
    # Wagtail's own "1200 customers" next to the page links is gone: one count.
    assert re.search(r'class="pagination__end">\s*</div>', content)
    assert page.count("of 1,200 customers") == 1 and "1,200 customers Next" not in page


def test_bulk_messages_group_thousands(admin_client, thousands):
    url = reverse("wagtail_customers:bulk_action", args=("all", "watchlist-add"))
    response = admin_client.post(f"{url}?id=all&next=/admin/customers/", follow=True)
    assert "1,200 customers added to the watchlist." in response.content.decode()


def test_deletion_warning_is_plural_for_several_customers(admin_client, account):
    one = customer(account, "A1", email="ada@example.com", name="Ada")
    two = customer(account, "B1", email="bob@example.com", name="Bob")
    url = reverse("wagtail_customers:bulk_action", args=("all", "delete"))
    several = text_of(admin_client.get(url, {"id": [one.pk, two.pk]}).content.decode())
    assert "would bring the customers back" in several
    single = text_of(admin_client.get(reverse("wagtail_customers:delete", args=(one.pk,))).content.decode())
    assert "would bring the customer back" in single


def test_the_exports_page_groups_its_numbers(admin_client, superuser, settings):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXPORT_SYNC_MAX_ROWS": 5000}
    page = text_of(admin_client.get(reverse("wagtail_customers_exports:index")).content.decode())
    assert "Exports of more than 5,000 customers" in page
    job = ExportJob.objects.create(user=superuser, file_format="csv", fingerprint="f", total_rows=12000)
    job.rows_written = 2500
    assert job_status_data(job)["progress_label"] == "2,500 of 12,000 rows"


def test_the_import_progress_groups_its_numbers(superuser, account):
    job = ImportJob(user=superuser, account=account, format_name="generic", rows_total=12000, rows_done=2500)
    assert import_job_status(job)["progress_label"] == "2,500 of 12,000 rows"


def test_the_ready_notice_groups_its_numbers(admin_client, superuser):
    ExportJob.objects.create(
        user=superuser, file_format="csv", fingerprint="f", state=JobState.DONE, total_rows=1234, rows_written=1234
    )
    page = text_of(admin_client.get("/admin/customers/").content.decode())
    assert "Your export of 1,234 customers is ready." in page


def test_the_seller_accounts_listing_says_yes_not_true(admin_client, account):
    content = text_of(admin_client.get(reverse("wagtail_customers_accounts:index")).content.decode())
    assert "True" not in content and " Yes " in content


def test_the_seller_accounts_listing_names_each_channel_by_its_label_and_sorts_by_channel(admin_client, db):
    from wagtail_customers.models import SellerAccount

    SellerAccount.objects.create(name="B store", channel="woocommerce", currency="EUR")
    SellerAccount.objects.create(name="A store", channel="ebay", currency="GBP")
    url = reverse("wagtail_customers_accounts:index")
    content = text_of(admin_client.get(url).content.decode())
    assert " eBay " in content and " WooCommerce " in content and " ebay " not in content
    by_channel = text_of(admin_client.get(url, {"ordering": "-channel"}).content.decode())
    assert by_channel.index("B store") < by_channel.index("A store")


def statistics_heading(content):
    """The text of the statistics band's heading (``#wc-statistics-heading``)."""
    match = re.search(r'<h2 class="wc-overview__title" id="wc-statistics-heading">(.*?)</h2>', content, re.S)
    assert match, "no statistics heading"
    return html.unescape(" ".join(match.group(1).split()))


ALL_ACCOUNTS = "Statistics for all your seller accounts"
FOUND = "Statistics for the customers found in all your seller accounts"
TAB = "Statistics for this tab's customers in all your seller accounts"


@pytest.mark.parametrize(
    ("tab", "query", "heading"),
    [
        ("index", "", ALL_ACCOUNTS),
        # These tabs only sort: the figures are every customer's.
        ("highest_value", "", ALL_ACCOUNTS),
        ("most_orders", "", ALL_ACCOUNTS),
        # These narrow the customers to their own.
        ("most_returned", "", TAB),
        ("promo_codes", "", TAB),
        ("watchlist", "", TAB),
        # A search or a filter, on any tab.
        ("index", "?q=ada", FOUND),
        ("index", "?repeat_buyer=yes", FOUND),
        ("highest_value", "?q=ada", FOUND),
        ("watchlist", "?orders_min=1", FOUND),
    ],
)
def test_the_statistics_heading_says_which_customers_the_figures_are_for(admin_client, account, tab, query, heading):
    ada = customer(account, "A1", email="ada@example.com", name="Ada", promo_codes=("WELCOME",))
    WatchlistEntry.objects.create(customer=ada)
    customer(account, "B1", email="bob@example.com", name="Bob")
    content = admin_client.get(reverse(f"wagtail_customers:{tab}") + query).content.decode()
    assert statistics_heading(content) == heading
    # The band (in the page, or its placeholder) is still named by the heading.
    assert 'aria-labelledby="wc-statistics-heading"' in content or "data-wc-deferred-statistics" in content


def test_the_statistics_heading_counts_the_selected_seller_accounts(admin_client, account, other_account):
    customer(account, "A1", email="ada@example.com", name="Ada")
    customer(other_account, "B1", email="bob@example.com", name="Bob")
    index, watchlist = reverse("wagtail_customers:index"), reverse("wagtail_customers:watchlist")
    cases = [
        (f"{index}?account={account.pk}", "Statistics for 1 seller account"),
        (f"{index}?account={account.pk}&account={other_account.pk}", "Statistics for 2 seller accounts"),
        (f"{index}?account={account.pk}&q=ada", "Statistics for the customers found in 1 seller account"),
        (
            f"{index}?account={account.pk}&account={other_account.pk}&q=ada",
            "Statistics for the customers found in 2 seller accounts",
        ),
        (f"{watchlist}?account={account.pk}", "Statistics for this tab's customers in 1 seller account"),
    ]
    for url, heading in cases:
        assert statistics_heading(admin_client.get(url).content.decode()) == heading, url


def test_the_statistics_heading_follows_a_results_refresh(admin_client, account):
    """Filters applied without a page load re-render the heading with the table (Wagtail's results URL)."""
    customer(account, "A1", email="ada@example.com", name="Ada")
    results = reverse("wagtail_customers:index_results")
    assert statistics_heading(admin_client.get(results).content.decode()) == ALL_ACCOUNTS
    assert statistics_heading(admin_client.get(f"{results}?repeat_buyer=no").content.decode()) == FOUND


def test_a_customer_with_two_orders_is_a_repeat_customer_in_the_column_and_the_filter(admin_client, superuser, account):
    record_orders(account, [order_data("A1", day=0), order_data("A2", day=5)])
    ListingPreference.objects.create(user=superuser, columns=["name", "repeat_buyer"])
    response = admin_client.get("/admin/customers/?repeat_buyer=yes")
    content = response.content.decode()
    # The per-customer yes/no field, in the column header and the filter (its field and its chip)...
    assert "Repeat customer" in column_labels(response)
    assert re.search(r"<label[^>]*>\s*Repeat customer\s*</label>", content)
    assert "Repeat buyer" not in content
    # ... beside the band's rate of them.
    assert re.search(r"<dt>Repeat customers</dt>", admin_client.get("/admin/customers/").content.decode())


SCORE_COLUMNS = ["rfm_group", "rfm_score", "expected_orders", "expected_spend", "probability_active"]


def row_of(content, customer_id):
    return next(row for row in content.split("<tr")[1:] if f"customer_{customer_id}_title" in row)


def test_a_customer_not_scored_yet_says_so_in_the_score_and_prediction_columns(admin_client, superuser, account):
    ada = customer(account, "A1", email="ada@example.com", name="Ada")
    ListingPreference.objects.create(user=superuser, columns=["name", *SCORE_COLUMNS, "repeat_buyer"])
    row = row_of(admin_client.get("/admin/customers/").content.decode(), ada.pk)
    # As the customer page says it, in short, muted: one a score or prediction column, nothing blank.
    assert row.count('<td><span class="wc-muted">Not scored yet</span></td>') == len(SCORE_COLUMNS)
    assert "<td></td>" not in row
    # The daily refresh scores her: her RFM figures show (no model fitted: no predictions, which stay empty).
    refresh_scores()
    row = row_of(admin_client.get("/admin/customers/").content.decode(), ada.pk)
    assert "Not scored yet" not in row
    assert 'class="w-status wc-rfm wc-rfm--' in row
    assert row.count("<td></td>") == 3


def test_an_export_leaves_a_customer_not_scored_yet_empty(client, account):
    customer(account, "A1", email="ada@example.com", name="Ada")
    client.force_login(exporter("scores", account, columns=["name", *SCORE_COLUMNS]))
    response = client.post(START_URL, {"format": "csv", "scope": "all", "tab": "all"})
    headings, cells = read_csv(response_bytes(response))
    by_heading = dict(zip(headings, cells, strict=True))
    scores = [by_heading[export_headings([name])[0]] for name in SCORE_COLUMNS]
    assert scores == [""] * len(SCORE_COLUMNS)


def test_scores_and_rates_are_rounded_not_cut():
    # Django's number_format cuts the digits beyond the places it writes: 1.99 expected orders read 1.9, a
    # probability of being active of 86.99 % read 86 %.
    from decimal import Decimal

    from django.utils import translation

    from wagtail_customers.insight.display import decimal_text, percent_text

    assert decimal_text(Decimal("1.99"), 1) == "2.0"
    assert decimal_text(Decimal("-1.25"), 1) == "-1.3"
    assert percent_text(Decimal("86.99"), decimals=0) == "87 %"
    assert percent_text(Decimal("12.345")) == "12.3 %"
    with translation.override("de"):
        assert decimal_text(Decimal("1.96"), 1) == "2,0"
