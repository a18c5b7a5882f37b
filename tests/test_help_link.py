"""The "Help" link in the Customers header (``HELP_URL``)."""

import pytest
from bs4 import BeautifulSoup

from wagtail_customers.conf import DEFAULTS

pytestmark = pytest.mark.django_db


def help_links(admin_client):
    response = admin_client.get("/admin/customers/highest-value/")
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser").select("[data-wc-help-link]")


def test_the_header_links_to_the_documentation_by_default(admin_client, account):
    (link,) = help_links(admin_client)
    assert link["href"] == DEFAULTS["HELP_URL"]
    assert link["target"] == "_blank"
    assert "noopener" in link["rel"]
    assert link.get_text(strip=True) == "Help"
    assert link["aria-label"] == "Help (opens in a new tab)"


def test_the_site_can_point_it_to_its_own_support_page(admin_client, account, settings):
    settings.WAGTAIL_CUSTOMERS = {"HELP_URL": "https://support.example.com/customers"}
    (link,) = help_links(admin_client)
    assert link["href"] == "https://support.example.com/customers"


@pytest.mark.parametrize("value", [None, ""])
def test_no_url_hides_it(admin_client, account, settings, value):
    settings.WAGTAIL_CUSTOMERS = {"HELP_URL": value}
    assert help_links(admin_client) == []
