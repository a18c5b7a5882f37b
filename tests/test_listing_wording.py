"""Wording on the listing and around it: the heading, counts people can read, one count per page,
plurals, and "Yes"/"No" for true/false columns."""

import re

import pytest
from django.urls import reverse

from tests.listing_support import customer
from wagtail_customers.models import Customer, ExportJob, ImportJob, JobState
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
