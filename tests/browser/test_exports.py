"""Export all pages of the Highest value tab as Excel through the Celery path, in Chromium.

The export is bigger than ``EXPORT_SYNC_MAX_ROWS``, so it becomes a job queued on Celery (an in-memory broker
here); the test then runs the queued task as a worker would, while the Exports page is open, and watches the
page follow the job to "Done" without a reload, then downloads the file and opens it with openpyxl.
"""

import io

import openpyxl
import pytest

from tests.celery_fixtures import _reset_publisher, use_celery_settings
from tests.export_support import make_customers
from wagtail_customers.exports.tasks import run_export_job
from wagtail_customers.models import Customer, ExportJob, JobState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queued_celery(settings):
    """Celery publishes to an in-memory broker instead of running tasks eagerly: jobs wait, as with a busy worker."""
    app = use_celery_settings(settings, broker_url="memory://", task_always_eager=False)
    yield
    _reset_publisher(app)


def test_export_highest_value_as_excel_through_a_job(
    live_server, login, browser_admin, account, settings, queued_celery, screenshot
):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "EXPORT_SYNC_MAX_ROWS": 5}
    make_customers(account, 30)
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/highest-value/")
    page.get_by_text("Export", exact=True).click()
    page.get_by_label("Excel (XLSX)").check()
    screenshot(page, "exports-listing-controls")
    page.get_by_role("button", name="Export all 30 customers").click()

    page.wait_for_url(f"{live_server.url}/admin/customers/exports/**")
    assert page.get_by_text("Your export of 30 customers is being prepared.").is_visible()
    job = ExportJob.objects.get()
    row = page.locator(f"#job-{job.pk}")
    assert row.get_by_text("Waiting").is_visible()
    assert row.get_by_role("link", name="Download").is_hidden()

    # A worker picks the job up; the open page follows it (no reload).
    run_export_job.apply(args=[str(job.pk)])
    row.get_by_text("Done").wait_for()
    row.get_by_text("30 of 30 rows").wait_for()
    download_link = row.get_by_role("link", name="Download")
    download_link.wait_for()
    screenshot(page, "exports-page-done")

    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(open(download.path(), "rb").read()), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    header = rows[0]
    assert header[0] == "Customer" and "Amount spent" in header
    amount = header.index("Amount spent")
    expected = Customer.objects.filter(account=account).order_by("-amount_spent", "pk")
    assert [row[0] for row in rows[1:]] == [customer.name for customer in expected]
    assert [row[amount] for row in rows[1:]] == [float(customer.amount_spent) for customer in expected]

    # The notice on the next admin page, once.
    page.goto(f"{live_server.url}/admin/customers/")
    assert page.get_by_text("Your export of 30 customers is ready.").is_visible()
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.notified
