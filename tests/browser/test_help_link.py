"""The Customers header's "Help" button opens the help page in a new tab, detached from the admin."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# version_neutral: Wagtail's header button, whose markup tests/test_help_link.py checks at the floors.
@pytest.mark.version_neutral
def test_help_opens_in_a_new_tab(live_server, login, browser_admin, account, settings):
    # A page of the test server stands in for the documentation (no network here).
    help_url = f"{live_server.url}/admin/customers/exports/"
    settings.WAGTAIL_CUSTOMERS = {"HELP_URL": help_url}
    page = login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}/admin/customers/")
    button = page.get_by_role("link", name="Help (opens in a new tab)")
    expect(button).to_be_visible()
    with page.expect_popup() as popup_info:
        button.click()
    help_page = popup_info.value
    help_page.wait_for_load_state()
    assert help_page.url == help_url
    assert help_page.evaluate("window.opener") is None
    assert page.url == f"{live_server.url}/admin/customers/"
