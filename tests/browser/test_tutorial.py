"""docs/tutorial.md in a real browser: create the seller account in the admin, import the sample file, see the
customers. Saves the tutorial's screenshots."""

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from wagtail_customers.models import Customer, SellerAccount

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TUTORIAL_FILES = Path(__file__).resolve().parents[2] / "docs" / "tutorial_files"


# version_neutral: screens the other browser tests drive at the floors, its login form among them.
@pytest.mark.version_neutral
def test_the_tutorial_steps_in_the_admin(live_server, login_through_the_form, browser_admin, screenshot):
    page = login_through_the_form("browseradmin", "browser-pw")

    # Step 3: Customers > Seller accounts > Add.
    page.get_by_role("button", name="Customers").first.click()
    page.get_by_role("link", name="Seller accounts").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/accounts/")
    page.get_by_role("link", name="Add seller account").first.click()
    page.get_by_label("Name").fill("My shop")
    page.get_by_label("Channel").select_option("website")
    page.get_by_label("Currency").fill("GBP")
    screenshot(page, "tutorial-seller-account")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/accounts/")
    account = SellerAccount.objects.get(name="My shop")
    assert (account.channel, account.currency) == ("website", "GBP")

    # Step 4: the first import, with the tutorial's own file and command line.
    out = StringIO()
    call_command(
        "customers_import", str(TUTORIAL_FILES / "orders.csv"), account="My shop", format="generic", stdout=out
    )
    assert "Imported 3 order(s) from 4 row(s)" in out.getvalue()

    # Step 5: the listing shows the two customers with the figures the tutorial states.
    page.get_by_role("button", name="Customers").first.click()
    page.get_by_role("link", name="Customers").last.click()
    page.wait_for_url(f"{live_server.url}/admin/customers/**")
    ada_row = page.locator("tr", has_text="ada@example.com")
    assert ada_row.count() == 1
    assert "43.00" in ada_row.inner_text()
    assert page.locator("tr", has_text="grace@example.com").count() == 1
    ada = Customer.objects.get(email="ada@example.com")
    assert (ada.orders_count, ada.units, ada.amount_spent) == (2, 3, Decimal("43.00"))
    screenshot(page, "tutorial-customers-listing")
