"""Money as the admin user reads it: Babel's currency formats in the user's admin language."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from wagtail.users.models import UserProfile

from tests.factories import order_data
from wagtail_customers.money import format_money
from wagtail_customers.services.ingestion import record_order

NBSP = "\N{NO-BREAK SPACE}"


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("de", "1234.5", "EUR", f"1.234,50{NBSP}€"),
        ("en", "1234.5", "EUR", "€1,234.50"),
        ("en-us", "1234.5", "USD", "$1,234.50"),
        ("en-gb", "-3", "GBP", "-£3.00"),
        ("de", "1234", "JPY", f"1.234{NBSP}¥"),  # the yen has no minor unit
        # A Django language Babel does not know falls back to its base language, then to English.
        ("de-xx", "1234.5", "EUR", f"1.234,50{NBSP}€"),
        ("xx", "1234.5", "EUR", "€1,234.50"),
        # A code that is no currency keeps the code after the number rather than Babel's glued "XYZ1,234.50".
        ("en", "1234.5", "XYZ", f"1,234.50{NBSP}XYZ"),
        ("de", "1234.5", "xyz", f"1.234,50{NBSP}XYZ"),
    ],
)
def test_format_money_in_a_language(language, amount, currency, expected):
    assert format_money(Decimal(amount), currency, language) == expected


def test_format_money_follows_the_active_language_and_leaves_none_empty():
    with translation.override("de"):
        assert format_money(Decimal("1234.50"), "EUR") == f"1.234,50{NBSP}€"
    with translation.override("en"):
        assert format_money(Decimal("1234.50"), "EUR") == "€1,234.50"
    assert format_money(None, "EUR") == ""


@pytest.fixture
def german_admin(admin_client, superuser):
    """The admin client of a superuser whose preferred admin language (account preferences) is German."""
    profile = UserProfile.get_for_user(superuser)
    profile.preferred_language = "de"
    profile.save()
    return admin_client


@pytest.fixture
def big_spender(other_account):
    """A customer of the EUR account with 1,234.50 € spent over two orders."""
    record_order(other_account, order_data("G-1", day=0, lines=((1, "1000.00"),)))
    return record_order(other_account, order_data("G-2", day=1, lines=((1, "234.50"),)))


@pytest.mark.django_db
def test_a_german_admin_sees_german_amounts_in_the_listing_and_band(german_admin, big_spender):
    html = german_admin.get("/admin/customers/").content.decode()
    assert f"1.234,50{NBSP}€" in html  # the Amount spent cell and the band's revenue
    assert f"617,25{NBSP}€" in html  # the band's average order value
    assert "1,234.50" not in html


@pytest.mark.django_db
def test_a_german_admin_sees_german_amounts_on_the_customer_and_order_pages(german_admin, big_spender):
    customer_url = reverse("wagtail_customers_customer:detail", args=[big_spender.customer_id])
    html = german_admin.get(customer_url).content.decode()
    assert f"1.234,50{NBSP}€" in html  # amount spent
    assert f"1.000,00{NBSP}€" in html  # the first order on the timeline, the orders tab and the spend chart
    order_html = german_admin.get(reverse("wagtail_customers_customer:order", args=[big_spender.pk])).content.decode()
    assert f"234,50{NBSP}€" in order_html
    assert "234.50" not in order_html


@pytest.mark.django_db
def test_an_english_admin_sees_english_amounts(admin_client, big_spender):
    html = admin_client.get("/admin/customers/").content.decode()
    assert "€1,234.50" in html
