"""Downloading a customer's personal data (access request) from the customer page, in Chromium."""

import csv
import io
import json
import zipfile

import pytest
from playwright.sync_api import expect
from wagtail.models import ModelLogEntry

from tests.customer_page_support import staff_user
from tests.factories import moment, order_data
from wagtail_customers.models import EventKind, OrderEvent, WatchlistEntry
from wagtail_customers.services.ingestion import record_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_download_personal_data_from_the_customer_page(live_server, login, account, other_account):
    record_orders(account, [order_data("GH-1", email="grace@example.com", name="Grace Hopper", promo_codes=("NAVY",))])
    record_orders(account, [order_data("GH-2", email="grace@example.com", name="Grace Hopper", day=30)])
    record_orders(account, [order_data("AL-1", email="ada@example.com", name="Ada Lovelace")])
    record_orders(other_account, [order_data("X-1", email="grace@example.com", name="Grace Elsewhere")])
    grace = account.customers.get(email="grace@example.com")
    OrderEvent.objects.create(customer=grace, kind=EventKind.NOTE, occurred_at=moment(31), message="=Prefers e-mail")
    WatchlistEntry.objects.create(customer=grace, note="Big spender")
    user = staff_user("exporter", {account: {"can_export": True}})
    user.set_password("exporter-pw")
    user.save()

    page = login("exporter", "exporter-pw")
    page.goto(f"{live_server.url}/admin/customers/{grace.pk}/")
    page.get_by_role("button", name="Actions").click()
    link = page.get_by_role("link", name="Download personal data (access request)")
    expect(link).to_be_visible()
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"personal-data-Shop_A-{grace.pk}-")
    assert download.suggested_filename.endswith(".zip")

    with zipfile.ZipFile(download.path()) as archive:
        document = json.loads(archive.read("personal-data.json"))
        orders_csv = archive.read("orders.csv").decode("utf-8-sig")
        timeline_csv = archive.read("timeline.csv").decode("utf-8-sig")
        everything = "".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    assert document["customer"]["email"] == "grace@example.com"
    assert [order["order_id"] for order in document["orders"]] == ["GH-1", "GH-2"]
    assert document["orders"][0]["promo_codes"][0]["code"] == "NAVY"
    assert document["watchlist"][0]["note"] == "Big spender"
    assert [row["order_id"] for row in csv.DictReader(io.StringIO(orders_csv))] == ["GH-1", "GH-2"]
    assert [row["message"] for row in csv.DictReader(io.StringIO(timeline_csv))] == ["'=Prefers e-mail"]
    for other in ("Ada Lovelace", "AL-1", "Grace Elsewhere", "X-1"):
        assert other not in everything

    # The page is still the customer page (a download, not a navigation), and the download is in the history.
    expect(page.locator("h1")).to_contain_text("Grace Hopper")
    assert ModelLogEntry.objects.filter(action="wagtail_customers.export.access_request", user=user).count() == 1


# version_neutral: the same page as the test above, for another user.
@pytest.mark.version_neutral
def test_no_download_link_without_the_export_action(live_server, login, account):
    record_orders(account, [order_data("GH-1", email="grace@example.com", name="Grace Hopper")])
    grace = account.customers.get()
    user = staff_user("viewer", {account: {"can_view": True}})
    user.set_password("viewer-pw")
    user.save()
    page = login("viewer", "viewer-pw")
    page.goto(f"{live_server.url}/admin/customers/{grace.pk}/")
    expect(page.locator("h1")).to_contain_text("Grace Hopper")
    expect(page.get_by_role("link", name="Download personal data (access request)")).to_have_count(0)
