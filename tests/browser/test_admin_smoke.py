import pytest

from tests.factories import order_data
from wagtail_customers.services.ingestion import record_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# version_neutral: test_tutorial takes the same login, menu and listing.
@pytest.mark.version_neutral
def test_admin_login_shows_customers_menu_and_listing(
    live_server, login_through_the_form, browser_admin, account, screenshot
):
    record_order(account, order_data("1", email="grace@example.com", name="Grace Hopper"))
    page = login_through_the_form("browseradmin", "browser-pw")
    page.get_by_role("button", name="Customers").first.click()
    page.get_by_role("link", name="Customers").last.click()
    page.wait_for_url(f"{live_server.url}/admin/customers/**")
    assert page.get_by_text("grace@example.com").first.is_visible()
    screenshot(page, "customers-listing-foundation")
