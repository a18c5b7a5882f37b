"""The retention rule page (views/retention/) and the seller accounts listing's Retention column."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from wagtail.admin.menu import admin_menu
from wagtail.models import ModelLogEntry
from wagtail.users.models import UserProfile

from tests.factories import order_data
from tests.permission_world import grant, make_staff
from wagtail_customers.models import Customer, RetentionRule, RetentionRun, SellerAccount
from wagtail_customers.services.ingestion import record_order, record_orders
from wagtail_customers.services.retention import RULE_ACTION, apply_retention, next_run

pytestmark = pytest.mark.django_db

RULE = {"is_enabled": "on", "basis": "shipment", "days": "30"}


@pytest.fixture
def amazon(wagtail_page_tree):
    account = SellerAccount.objects.create(name="Amazon DE", channel="amazon", currency="EUR")
    now = timezone.now()
    for number, days in enumerate((45, 40, 10)):
        data = order_data(f"A{number}", email=f"buyer{number}@example.com", name=f"Buyer {number}")
        data.placed_at = now - timedelta(days=days + 2)
        data.shipped_at = now - timedelta(days=days)
        record_order(account, data)
    return account


def url(account):
    return reverse("wagtail_customers_retention:rule", args=(account.pk,))


@pytest.fixture
def manager(client, wagtail_page_tree):
    """Not a superuser: a staff user with the seller account permissions (Settings > Groups)."""
    user = make_staff("accountant")
    user.user_permissions.add(Permission.objects.get(codename="change_selleraccount"))
    client.force_login(user)
    return user


def test_a_manager_sets_the_rule_and_sees_what_it_would_erase(client, manager, amazon):
    page = client.get(url(amazon))
    assert page.status_code == 200
    assert "Amazon DE has no retention rule" in page.text
    assert "The rule has not run yet." in page.text

    # Saving an enabled rule first says what it will erase, and saves nothing.
    page = client.post(url(amazon), {**RULE, "save": "1"})
    assert page.status_code == 200
    assert not RetentionRule.objects.exists()
    when = date_format(localtime(next_run()), "DATETIME_FORMAT")
    assert (
        "“Erase personal data 30 days after the order&#x27;s shipment” will erase the personal data of 2 customers "
        f"at the next run, on {when}; this cannot be undone."
    ) in page.text
    assert '<input type="hidden" name="confirm" value="1:shipment:30">' in page.text

    response = client.post(url(amazon), {**RULE, "confirm": "1:shipment:30", "save": "1"})

    assert response.status_code == 302 and response["Location"] == url(amazon)
    rule = RetentionRule.objects.get(account=amazon)
    assert (rule.basis, rule.days, rule.is_enabled) == ("shipment", 30, True)
    entry = ModelLogEntry.objects.get(action=RULE_ACTION)
    assert entry.user == manager and entry.object_id == str(amazon.pk)
    assert entry.data == {"basis": "shipment", "days": 30, "enabled": True}
    page = client.get(url(amazon))
    assert "Erase personal data 30 days after the order&#x27;s shipment" in page.text
    # Two customers' only orders shipped 45 and 40 days ago; the third 10 days ago.
    assert "Applied now, the rule would erase the personal data of 2 customers." in page.text
    # Saving applies nothing: the daily task does.
    assert not Customer.objects.filter(erased_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("saved", "entered", "erased"),
    [
        # Shortened from a year to a day: every customer is past it.
        ({"days": 365}, {**RULE, "days": "1"}, 3),
        # Enabled again.
        ({"days": 30, "is_enabled": False}, RULE, 2),
        # Counted from the order's date instead of its shipment.
        ({"days": 42}, {**RULE, "days": "42", "basis": "order"}, 2),
    ],
)
def test_a_save_that_erases_more_asks_first(client, manager, amazon, saved, entered, erased):
    """Saving an enabled or stricter rule saved it at once: the next run erased customers nobody had counted."""
    RetentionRule.objects.create(account=amazon, **saved)
    page = client.post(url(amazon), {**entered, "save": "1"})
    assert page.status_code == 200
    assert f"will erase the personal data of {erased} customers at the next run" in page.text
    rule = RetentionRule.objects.get(account=amazon)
    assert (rule.days, rule.is_enabled) == (saved["days"], saved.get("is_enabled", True))
    assert not ModelLogEntry.objects.filter(action=RULE_ACTION).exists()

    key = f"1:{entered['basis']}:{entered['days']}"
    assert client.post(url(amazon), {**entered, "confirm": key, "save": "1"}).status_code == 302
    rule.refresh_from_db()
    assert (rule.basis, rule.days, rule.is_enabled) == (entered["basis"], int(entered["days"]), True)


def test_a_confirmation_of_other_values_asks_again_and_saves_nothing(client, manager, amazon):
    RetentionRule.objects.create(account=amazon, days=365)
    # Confirmed for 30 days, posted with 1 day: asked again, for 1 day.
    page = client.post(url(amazon), {**RULE, "days": "1", "confirm": "1:shipment:30", "save": "1"})
    assert page.status_code == 200
    assert "will erase the personal data of 3 customers at the next run" in page.text
    assert '<input type="hidden" name="confirm" value="1:shipment:1">' in page.text
    # A confirmation without the values is an invalid form.
    page = client.post(url(amazon), {"confirm": "1:shipment:1", "save": "1"})
    assert page.status_code == 200 and "days" in page.context["form"].errors
    assert RetentionRule.objects.get(account=amazon).days == 365
    assert not ModelLogEntry.objects.filter(action=RULE_ACTION).exists()


@pytest.mark.parametrize(
    ("saved", "entered"),
    [
        ({"days": 30}, {"basis": "shipment", "days": "30"}),  # disabled
        ({"days": 30}, {**RULE, "days": "60"}),  # longer
        ({"days": 30}, RULE),  # unchanged
        ({"days": 30, "is_enabled": False}, {"basis": "order", "days": "1"}),  # changed but still disabled
    ],
)
def test_a_save_that_erases_nothing_more_saves_at_once(client, manager, amazon, saved, entered):
    RetentionRule.objects.create(account=amazon, **saved)
    response = client.post(url(amazon), {**entered, "save": "1"})
    assert response.status_code == 302
    rule = RetentionRule.objects.get(account=amazon)
    assert (rule.basis, rule.days, rule.is_enabled) == (entered["basis"], int(entered["days"]), "is_enabled" in entered)
    assert ModelLogEntry.objects.filter(action=RULE_ACTION).count() == 1


def test_the_next_run_is_the_daily_tasks_next_time():
    monday = datetime(2026, 12, 7, tzinfo=UTC)
    assert next_run(monday.replace(hour=1)) == monday.replace(hour=2, minute=45)
    assert next_run(monday.replace(hour=11)) == monday.replace(day=8, hour=2, minute=45)


def test_the_page_sections_are_headed_one_level_under_the_page_title(client, manager, amazon):
    """Its sections were h3 right under the page's h1: a screen reader's outline skipped a level."""
    RetentionRule.objects.create(account=amazon, days=365)
    for page in (client.get(url(amazon)), client.post(url(amazon), {**RULE, "days": "1", "save": "1"})):
        levels = re.findall(r"<h([1-6])[\s>]", page.text.split("<main", 1)[1])
        assert levels[0] == "1" and "3" not in levels, levels
        headings = re.findall(r'<h2 [^>]*class="w-h3"[^>]*>([^<]+)</h2>', page.text)
        assert {"Current rule", "Last runs", "Change the rule"} <= set(headings)
    assert "Confirm the rule" in headings


def test_a_new_rule_starts_disabled_and_names_amazons_policy_on_an_amazon_account_only(client, manager, amazon):
    """One click on Save of a new rule started daily, irreversible erasure; the help named Amazon on every channel."""
    form = client.get(url(amazon)).context["form"]
    assert form["is_enabled"].value() is False
    assert "Amazon’s data protection policy" in str(form.fields["days"].help_text)
    ebay = SellerAccount.objects.create(name="eBay UK", channel="ebay", currency="GBP")
    form = client.get(url(ebay)).context["form"]
    assert form["is_enabled"].value() is False
    assert str(form.fields["days"].help_text) == (
        "A customer's personal data is erased once every one of their orders is more than this many days past its date."
    )


def test_preview_counts_the_rule_as_entered_and_saves_nothing(client, manager, amazon):
    RetentionRule.objects.create(account=amazon, days=60)
    page = client.post(url(amazon), {"is_enabled": "on", "basis": "shipment", "days": "5", "preview": "1"})
    assert page.status_code == 200
    assert "would erase the personal data of 3 customers now" in page.text
    assert "Preview, not saved" in page.text
    # The saved rule is still the one shown as the current rule.
    assert "Erase personal data 60 days after the order&#x27;s shipment" in page.text
    assert RetentionRule.objects.get(account=amazon).days == 60
    assert not ModelLogEntry.objects.filter(action=RULE_ACTION).exists()


def test_a_disabled_rule_says_what_it_would_erase_if_enabled(client, manager, amazon):
    RetentionRule.objects.create(account=amazon, days=30, is_enabled=False)
    page = client.get(url(amazon))
    assert "Enabled and applied now, the rule would erase the personal data of 2 customers." in page.text


@pytest.mark.parametrize("days", ["0", "-3", "36501", "abc", ""])
def test_days_out_of_range_are_refused(client, manager, amazon, days):
    page = client.post(url(amazon), {**RULE, "days": days, "save": "1"})
    assert page.status_code == 200
    assert "days" in page.context["form"].errors
    assert not RetentionRule.objects.exists()


def test_the_page_lists_the_last_runs(client, manager, amazon):
    RetentionRule.objects.create(account=amazon, days=30)
    [result] = apply_retention()
    page = client.get(url(amazon))
    assert "Last runs" in page.text
    for pk in result.run.customer_ids:
        assert reverse("wagtail_customers_customer:detail", args=(pk,)) in page.text
    assert "Applied now, the rule would erase the personal data of 0 customers." in page.text


def test_users_who_may_not_manage_accounts_are_refused_and_nothing_changes(client, amazon):
    """A grant with every action on the account is not the right to manage it."""
    user = make_staff("seller")
    grant(user, amazon, "view", "export", "erase")
    client.force_login(user)
    for response in (client.get(url(amazon)), client.post(url(amazon), {**RULE, "save": "1"})):
        assert response.status_code == 403
        assert "You do not have permission to do this." in response.content.decode()
    # The same answer for an account that does not exist: ids cannot be probed.
    assert client.get(reverse("wagtail_customers_retention:rule", args=(987654,))).status_code == 403
    assert not RetentionRule.objects.exists()


@pytest.mark.parametrize("codename", ["add_selleraccount", "delete_selleraccount"])
def test_adding_or_deleting_accounts_is_not_the_right_to_set_their_rule(client, amazon, codename):
    """The page was open to any of the seller account permissions: one to add accounts saved a rule erasing every
    customer. It needs what the account's own edit page needs, and the listing links to it only then."""
    user = make_staff("clerk")
    user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    for response in (client.get(url(amazon)), client.post(url(amazon), {**RULE, "save": "1"})):
        assert response.status_code == 403
    assert not RetentionRule.objects.exists()
    listing = client.get(reverse("wagtail_customers_accounts:index"))
    assert listing.status_code == 200 and "Amazon DE" in listing.text
    assert url(amazon) not in listing.text

    user.user_permissions.add(Permission.objects.get(codename="change_selleraccount"))
    assert client.get(url(amazon)).status_code == 200
    assert f'<a href="{url(amazon)}">No rule</a>' in client.get(reverse("wagtail_customers_accounts:index")).text


def test_not_an_id_is_not_found(admin_client, amazon):
    for bad in ("\u00b2", "99999999999999999999", "-1"):
        assert admin_client.get(reverse("wagtail_customers_retention:rule", args=(bad,))).status_code == 404


# --- The seller accounts listing ------------------------------------------------------------------------


def test_the_listing_shows_the_rule_and_the_last_run(admin_client, amazon):
    other = SellerAccount.objects.create(name="Shop B", channel="shopify", currency="USD")
    RetentionRule.objects.create(account=amazon, days=30)
    apply_retention()
    page = admin_client.get(reverse("wagtail_customers_accounts:index"))
    assert page.status_code == 200
    assert f'<a href="{url(amazon)}">Erase personal data 30 days after the order&#x27;s shipment</a>' in page.text
    assert "2 customers erased" in page.text
    assert f'<a href="{url(other)}">No rule</a>' in page.text


def test_the_listing_shows_the_rule_without_a_link_to_viewers(client, amazon):
    RetentionRule.objects.create(account=amazon, days=30)
    user = make_staff("viewer")
    grant(user, amazon, "view")
    client.force_login(user)
    page = client.get(reverse("wagtail_customers_accounts:index"))
    assert page.status_code == 200
    assert "Erase personal data 30 days after the order&#x27;s shipment" in page.text
    assert url(amazon) not in page.text


def test_the_listing_reads_rules_and_runs_without_a_query_per_row(admin_client, amazon):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(reverse("wagtail_customers_accounts:index")).status_code == 200
        return len(captured)

    RetentionRule.objects.create(account=amazon, days=30)
    apply_retention()
    first = queries()
    for number in range(3):
        account = SellerAccount.objects.create(name=f"More {number}", channel="ebay", currency="USD")
        RetentionRule.objects.create(account=account, days=10 + number)
        apply_retention(account=account)
    assert queries() == first


def test_the_account_edit_page_links_to_its_rule(client, manager, amazon):
    page = client.get(reverse("wagtail_customers_accounts:edit", args=(amazon.pk,)))
    assert page.status_code == 200
    assert f'href="{url(amazon)}"' in page.text
    assert "Retention rule" in page.text


# --- The admin menu ---------------------------------------------------------------------------------------


def test_a_manager_without_customer_actions_reaches_seller_accounts_from_the_menu(client, manager, amazon):
    """The Customers submenu showed only to users holding a customer action: an accountant had no menu path to
    Seller accounts, nor so to the accounts' retention rules and connections."""
    home = client.get(reverse("wagtailadmin_home")).text
    props = re.search(r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>', home, re.S)
    urls = set(re.findall(r'"url": "([^"]+)"', json.dumps(json.loads(props.group(1)))))
    assert reverse("wagtail_customers_accounts:index") in urls
    # Only what they may use: no Customers listing, watchlist or alerts.
    assert reverse("wagtail_customers:index") not in urls
    assert reverse("wagtailsnippets_wagtail_customers_watchlistentry:list") not in urls
    assert client.get(reverse("wagtail_customers_accounts:index")).status_code == 200
    # A user with no access at all still has no Customers submenu.
    request = RequestFactory().get("/admin/")
    request.user = make_staff("nobody")
    assert "customers" not in [item.name for item in admin_menu.menu_items_for_request(request)]
    request.user = manager
    assert "customers" in [item.name for item in admin_menu.menu_items_for_request(request)]


def in_german(user):
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "de"
    profile.save()


def test_the_counts_are_grouped_in_the_users_language(client, manager, superuser):
    """ "will erase the personal data of 1000 customers" beside the listing's "1.000" for a German manager."""
    in_german(manager)
    account = SellerAccount.objects.create(name="Amazon DE", channel="amazon", currency="EUR")
    shipped = timezone.now() - timedelta(days=45)
    orders = []
    for number in range(1000):
        data = order_data(f"A{number}", email=f"buyer{number}@example.com")
        data.placed_at, data.shipped_at = shipped - timedelta(days=2), shipped
        orders.append(data)
    record_orders(account, orders)

    page = " ".join(client.post(url(account), {**RULE, "save": "1"}).text.split())
    assert "will erase the personal data of 1.000 customers at the next run" in page
    page = " ".join(client.post(url(account), {**RULE, "preview": "1"}).text.split())
    assert "would erase the personal data of 1.000 customers now." in page
    RetentionRule.objects.create(account=account, days=30, is_enabled=False)
    page = " ".join(client.get(url(account)).text.split())
    assert "Enabled and applied now, the rule would erase the personal data of 1.000 customers." in page

    # A run that erased them (erasing 1,000 customers took most of this test's time; the runs' own tests erase).
    rule = RetentionRule.objects.get(account=account)
    ran_at = timezone.now()
    RetentionRun.objects.create(
        account=account,
        rule=rule,
        basis=rule.basis,
        days=rule.days,
        ran_at=ran_at,
        cutoff=ran_at,
        customers_erased=1000,
    )
    page = " ".join(client.get(url(account)).text.split())
    assert "<td>1.000</td>" in page
    in_german(superuser)
    client.force_login(superuser)
    assert "1.000 customers erased" in client.get(reverse("wagtail_customers_accounts:index")).text
