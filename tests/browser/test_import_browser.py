"""The Import screen in Chromium: upload a real Shopify export, read the preview, confirm; a job page follows."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from wagtail_customers.importers import jobs
from wagtail_customers.models import Customer, ImportJob, Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STORE_B = "shopify/storeB_orders_export_1.pseudonymised.csv"


def test_upload_preview_and_confirm_a_shopify_export(
    live_server, login_through_the_form, browser_admin, account, realdata, screenshot
):
    page = login_through_the_form("browseradmin", "browser-pw")
    page.get_by_role("button", name="Customers").first.click()
    page.get_by_role("link", name="Import orders").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/import/")
    page.get_by_label("Seller account").select_option(label=account.name)
    page.get_by_label("File layout").select_option("shopify")
    page.get_by_label("File to import").set_input_files(str(realdata / STORE_B))
    screenshot(page, "import-form")
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/import/*/")

    assert page.get_by_text("Preview: what the import will change").is_visible()
    assert page.locator("[data-wc-figure=orders_created]").inner_text() == "81"
    assert page.locator("[data-wc-figure=customers_created]").inner_text() == "77"
    assert not Order.objects.exists()
    screenshot(page, "import-preview")

    page.get_by_role("button", name="Import 81 orders").click()
    page.wait_for_selector("text=What was imported")
    assert page.get_by_text("Imported 81 orders").first.is_visible()
    assert Order.objects.count() == 81 and Customer.objects.count() == 77


# version_neutral: the plugin's own polling script and the preview page the upload test above reaches.
@pytest.mark.version_neutral
def test_a_job_page_follows_a_background_check_and_shows_the_preview(live_server, login, browser_admin, account):
    content = b"order_id,placed_at,customer_email\n1,2024-01-01,a@example.com\n2,2024-01-02,b@example.com\n"
    job = jobs.create_job(browser_admin, account, "generic", SimpleUploadedFile("queued.csv", content))
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/import/{job.pk}/")
    assert page.get_by_text("Waiting to be checked").first.is_visible()
    assert page.locator("progress").is_visible()

    jobs.run_phase(job.pk, jobs.CHECK)  # what the worker does; the page notices and reloads by itself
    page.wait_for_selector("text=Preview: what the import will change")
    assert page.get_by_role("button", name="Import 2 orders").is_visible()
    assert ImportJob.objects.get().state == "pending" and not Order.objects.exists()


# version_neutral: the plugin's own polling script, as above.
@pytest.mark.version_neutral
def test_a_job_page_keeps_following_its_job_through_server_errors(live_server, login, browser_admin, account):
    content = b"order_id,placed_at,customer_email\n1,2024-01-01,a@example.com\n2,2024-01-02,b@example.com\n"
    job = jobs.create_job(browser_admin, account, "generic", SimpleUploadedFile("queued.csv", content))
    page = login("browseradmin", "browser-pw")
    answered = []

    def bad_gateway_twice(route):
        # What a proxy answers while the site restarts during a deploy.
        answered.append(route.request.url)
        if len(answered) <= 2:
            route.fulfill(status=502, body="Bad Gateway")
        else:
            route.continue_()

    page.route(f"**/admin/customers/import/{job.pk}/status/", bad_gateway_twice)
    page.goto(f"{live_server.url}/admin/customers/import/{job.pk}/")
    assert page.get_by_text("Waiting to be checked").first.is_visible()

    jobs.run_phase(job.pk, jobs.CHECK)
    page.wait_for_selector("text=Preview: what the import will change", timeout=30_000)
    assert len(answered) >= 3  # polled again after each 502, and the third answer moved it on


# version_neutral: the plugin's own error list on the job page the upload test above reaches.
@pytest.mark.version_neutral
def test_errors_are_listed_with_their_rows(live_server, login, browser_admin, account, screenshot):
    content = b"order_id,placed_at,customer_email\n1,2024-01-01,a@example.com\n2,soon,b@example.com\n3,2024-01-01,\n"
    job = jobs.create_job(browser_admin, account, "generic", SimpleUploadedFile("broken.csv", content))
    jobs.run_phase(job.pk, jobs.CHECK)
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/import/{job.pk}/")
    assert page.get_by_role("alert").filter(has_text="it has 2 errors").is_visible()
    rows = page.get_by_role("table", name="Errors").locator("tbody tr")
    assert rows.nth(0).inner_text().split("\t")[0] == "3"
    assert "'soon' in placed_at is not a date" in rows.nth(0).inner_text()
    assert rows.nth(1).inner_text().startswith("4")
    assert page.get_by_role("button", name="Import 1 order").count() == 0
    screenshot(page, "import-errors")
