"""An admin shares account A with a colleague for "view" only; the colleague sees A's customers and nothing more."""

import re

import pytest
from django.urls import reverse

from tests.factories import order_data
from tests.permission_world import PASSWORD, make_staff
from wagtail_customers.models import AccessGrant, Channel, Customer, SellerAccount
from wagtail_customers.permissions import GRANT_FLAGS, Action
from wagtail_customers.services.ingestion import record_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_shops(db):
    shop_a = SellerAccount.objects.create(name="Alpha Store", channel=Channel.SHOPIFY, currency="USD")
    shop_b = SellerAccount.objects.create(name="Bravo Store", channel=Channel.AMAZON, currency="EUR")
    record_order(shop_a, order_data("A-1", email="ada@alpha.example", name="Ada Alpha"))
    record_order(shop_a, order_data("A-2", email="alan@alpha.example", name="Alan Alpha"))
    record_order(shop_b, order_data("B-1", email="zed@bravo.example", name="Zed Bravo"))
    return shop_a, shop_b


def test_shared_view_only_access(live_server, browser, login, page, browser_admin, two_shops, screenshot):
    shop_a, shop_b = two_shops
    colleague = make_staff("grace", email="grace@example.com", first_name="Grace", last_name="Hopper")

    # The admin opens the Share access screen from the Customers header's "..." menu.
    login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}{reverse('wagtail_customers:index')}")
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Permissions").click()
    page.wait_for_url(f"{live_server.url}{reverse('wagtail_customers_sharing:index')}")
    page.get_by_role("link", name="Share access").first.click()

    # Finds the colleague by part of her name, picks her from the suggestions, ticks account A and "view" only.
    user_field = page.get_by_role("combobox", name="User")
    user_field.press_sequentially("hopp", delay=30)
    suggestion = page.get_by_role("option", name=re.compile("Grace Hopper"))
    suggestion.wait_for()
    screenshot(page, "sharing-share-form")
    suggestion.click()
    assert user_field.input_value() == "grace"
    page.get_by_label("Alpha Store").check()
    assert page.get_by_label("View customers").is_checked()
    assert page.get_by_label("Bravo Store").is_checked() is False
    # Personal data is private by default: ticked by hand, so that she can tell the customers apart.
    assert page.get_by_label("See personal data").is_checked() is False
    page.get_by_label("See personal data").check()
    page.get_by_role("button", name="Share access").click()
    page.wait_for_url(f"{live_server.url}{reverse('wagtail_customers_sharing:index')}")
    assert page.get_by_text("Access shared with grace on Alpha Store.").is_visible()
    row = page.get_by_role("row", name=re.compile("Grace Hopper"))
    row.wait_for()
    screenshot(page, "sharing-index")
    row.get_by_role("button", name=re.compile("More options")).click()
    row.get_by_role("link", name="Change").wait_for()
    assert row.get_by_role("link", name="Revoke").is_visible()
    page.keyboard.press("Escape")

    grant = AccessGrant.objects.get(user=colleague)
    assert grant.account == shop_a
    assert {action for action, flag in GRANT_FLAGS.items() if getattr(grant, flag)} == {
        Action.VIEW,
        Action.SEE_PERSONAL_DATA,
    }

    # The colleague signs in (her own browser) and sees only account A's customers.
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    try:
        other = context.new_page()
        other.set_default_timeout(15_000)
        other.goto(f"{live_server.url}/admin/login/")
        other.fill("input[name=username]", "grace")
        other.fill("input[name=password]", PASSWORD)
        other.click("button[type=submit]")
        other.wait_for_url(f"{live_server.url}/admin/**")
        other.goto(f"{live_server.url}{reverse('wagtail_customers:index')}")
        listing = other.locator("#listing-results")
        listing.get_by_text("ada@alpha.example").wait_for()
        assert listing.get_by_text("alan@alpha.example").is_visible()
        assert "zed@bravo.example" not in other.content()
        assert "Bravo Store" not in other.content()

        # No export, no delete, no sharing: not as buttons, not in the "..." menus, not as bulk actions.
        for name in ("Export", "Delete", "Permissions"):
            for role in ("button", "link", "menuitem"):
                assert other.get_by_role(role, name=re.compile(name), include_hidden=True).count() == 0, name

        # Posting the delete form by hand is refused, and the customer stays.
        ada = Customer.objects.get(email="ada@alpha.example")
        token = next(cookie["value"] for cookie in context.cookies() if cookie["name"] == "csrftoken")
        response = other.request.post(
            f"{live_server.url}{reverse('wagtail_customers:delete', args=(ada.pk,))}",
            form={"csrfmiddlewaretoken": token},
            headers={"X-CSRFToken": token},
            max_redirects=0,
        )
        assert response.status == 403
        assert Customer.objects.filter(pk=ada.pk).exists()
    finally:
        context.close()


# version_neutral: the same share form and sign-in as the test above; the group
# membership is the plugin's own (tests/test_sharing*.py check it at every version).
@pytest.mark.version_neutral
def test_sharing_with_someone_who_cannot_sign_in_lets_them_in(
    live_server, browser, login, page, browser_admin, two_shops, settings
):
    """The "also let them sign in" box: the person is added to ADMIN_ACCESS_GROUP and sees the Customers menu."""
    from django.contrib.auth import get_user_model

    from tests.permission_world import admin_access_group

    group = admin_access_group()
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "ADMIN_ACCESS_GROUP": group.name}
    get_user_model().objects.create_user("linus", "linus@example.com", PASSWORD, first_name="Linus")

    login("browseradmin", "browser-pw")
    page.goto(f"{live_server.url}{reverse('wagtail_customers_sharing:share')}")
    user_field = page.get_by_role("combobox", name="User")
    # A whole e-mail address finds them, and shows the address typed; part of it finds nobody.
    user_field.press_sequentially("linus@exam", delay=20)
    page.get_by_text("No user found.").wait_for(state="attached")
    user_field.press_sequentially("ple.com", delay=20)
    page.get_by_role("option", name=re.compile(r"Linus \(linus\) · linus@example\.com")).click()
    page.get_by_label("Alpha Store").check()
    # Off by default (private by default): ticked, so that Linus reads the buyers' e-mails below.
    page.get_by_label("See personal data").check()
    page.get_by_label("Also let them sign in to the Wagtail admin").check()
    page.get_by_role("button", name="Share access").click()
    page.wait_for_url(f"{live_server.url}{reverse('wagtail_customers_sharing:index')}")
    assert page.get_by_text("linus can now sign in to the Wagtail admin").is_visible()

    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    try:
        other = context.new_page()
        other.set_default_timeout(15_000)
        other.goto(f"{live_server.url}/admin/login/")
        other.fill("input[name=username]", "linus")
        other.fill("input[name=password]", PASSWORD)
        other.click("button[type=submit]")
        other.wait_for_url(f"{live_server.url}/admin/**")
        other.goto(f"{live_server.url}{reverse('wagtail_customers:index')}")
        other.locator("#listing-results").get_by_text("ada@alpha.example").wait_for()
    finally:
        context.close()
