"""Countries as ISO 3166-1 codes: recognition, ingestion, the import preview, the data migration, the
listing's country filter and search, and names in the admin user's language."""

import csv
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.users.models import UserProfile

from tests.factories import order_data
from tests.listing_support import row_ids, staff_user
from wagtail_customers.countries import (
    country_code,
    country_name,
    matching_codes,
    normalise_country,
    unrecognised_countries,
)
from wagtail_customers.importers.runner import run_import
from wagtail_customers.models import Customer, Order
from wagtail_customers.services.ingestion import record_order, record_orders
from wagtail_customers.services.inputs import AddressData

#: Columns of the real files that hold a country (read from the files themselves, not copied).
COUNTRY_COLUMNS = {"Country", "Country Code", "Billing Country", "Shipping Country", "ship-country"}
#: Values in the real files that name no single country: kept as written.
NOT_A_COUNTRY = {"Channel Islands", "Unspecified", "European Community"}

ALIASES = {
    "UK": "GB",
    "U.K.": "GB",
    "Great Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Northern Ireland": "GB",
    "United Kingdom": "GB",
    "USA": "US",
    "U.S.A.": "US",
    "United States of America": "US",
    "United States": "US",
    "America": "US",
    "UAE": "AE",
    "Czech Republic": "CZ",
    "Czechia": "CZ",
    "Holland": "NL",
    "the Netherlands": "NL",
    "South Korea": "KR",
    "Russia": "RU",
    "Vietnam": "VN",
    "EIRE": "IE",
    "Türkiye": "TR",
    "Turkey": "TR",
    "Ivory Coast": "CI",
    "Côte d’Ivoire": "CI",
    "St. Lucia": "LC",
    "Trinidad & Tobago": "TT",
}
LOCAL_NAMES = {
    "Deutschland": "DE",
    "España": "ES",
    "Österreich": "AT",
    "Italia": "IT",
    "Nederland": "NL",
    "Schweiz": "CH",
    "Suisse": "CH",
    "Polska": "PL",
    "Sverige": "SE",
    "Danmark": "DK",
    "Norge": "NO",
    "Suomi": "FI",
    "België": "BE",
    "Belgique": "BE",
    "日本": "JP",
}
CODES = {"DE": "DE", "de": "DE", "DEU": "DE", "gbr": "GB", "CAN": "CA", "IN": "IN", "USA": "US"}


def real_country_values(folder):
    """Every distinct value of a country column in the real files."""
    values = set()
    for path in sorted(folder.rglob("*.csv")):
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as file:
            reader = csv.DictReader(file)
            columns = [column for column in reader.fieldnames or [] if column.strip() in COUNTRY_COLUMNS]
            for row in reader:
                values.update(row[column].strip() for column in columns if (row[column] or "").strip())
    return values


def test_every_country_spelling_in_the_real_files_is_recognised(realdata):
    values = real_country_values(realdata)
    # The files hold codes (Shopify, Amazon) and English names (Online Retail, Shopify's customers export).
    assert {"GB", "US", "IN", "AU", "United Kingdom", "EIRE", "USA", "Channel Islands"} <= values
    unrecognised = {value for value in values if not country_code(value)}
    assert unrecognised == values & NOT_A_COUNTRY
    assert country_code("EIRE") == "IE"
    assert country_code("United Arab Emirates") == "AE"
    assert country_code("South Korea") == country_code("KR") == "KR"
    assert {country_code(value) for value in values if len(value) == 2} == {
        value for value in values if len(value) == 2
    }


@pytest.mark.parametrize("spellings", [ALIASES, LOCAL_NAMES, CODES], ids=["aliases", "local names", "codes"])
def test_aliases_local_names_and_codes_are_recognised(spellings):
    for value, code in spellings.items():
        assert country_code(value) == code, value
        # Case, accents, spaces and punctuation do not matter.
        assert country_code(f"  {value.upper()} ") == code, value
    assert country_code("oesterreich") == ""  # a spelling no one uses is not guessed at


@pytest.mark.parametrize("value", ["Channel Islands", "Unspecified", "N/A", "Korea", "xx", "Atlantis", "-"])
def test_unrecognised_values_are_kept_as_written(value):
    assert country_code(value) == ""
    assert normalise_country(f" {value} ") == value


def test_unrecognised_values_are_counted_most_frequent_first():
    values = ["Channel Islands", "DE", "", None, "Atlantis", "Channel Islands", "Germany"]
    assert unrecognised_countries(values) == [
        {"value": "Channel Islands", "count": 2},
        {"value": "Atlantis", "count": 1},
    ]


def test_names_in_a_language_and_values_that_are_not_codes():
    assert country_name("DE", "de") == "Deutschland"
    assert country_name("GB", "de") == "Vereinigtes Königreich"
    assert country_name("GB", "en") == "United Kingdom"
    assert country_name("BR", "pt-br") == "Brasil"
    assert country_name("Channel Islands", "de") == "Channel Islands"
    assert country_name("", "de") == ""


def test_search_terms_name_countries():
    assert matching_codes("GB") == {"GB"}
    assert matching_codes("United Kingdom") == {"GB"}
    assert matching_codes("uk") == {"GB"}
    assert {"GB", "US", "AE"} <= matching_codes("Uni")
    assert "GB" in matching_codes("verein", "de")
    assert matching_codes("zz") == set()


@pytest.mark.django_db
def test_ingestion_stores_codes_and_keeps_unrecognised_values(account):
    spellings = {"1": "Deutschland", "2": "U.S.A.", "3": "united kingdom", "4": "Channel Islands", "5": ""}
    record_orders(account, [ordered_from(f"buyer{number}", country) for number, country in spellings.items()])
    stored = dict(Order.objects.values_list("external_id", "ship_country"))
    assert stored == {"buyer1": "DE", "buyer2": "US", "buyer3": "GB", "buyer4": "Channel Islands", "buyer5": ""}
    customers = dict(Customer.objects.values_list("email", "country"))
    assert customers["buyer1@example.com"] == "DE"
    assert customers["buyer4@example.com"] == "Channel Islands"


@pytest.mark.django_db
def test_the_import_preview_reports_unrecognised_countries(admin_client, account, realdata):
    content = (realdata / "online_retail" / "online_retail_random2709rows.csv").read_bytes()
    report = run_import(account, content, format_name="online_retail", dry_run=True)
    unrecognised = {item["value"]: item["count"] for item in report.unrecognised_countries}
    assert list(unrecognised) == ["Channel Islands"]
    assert unrecognised["Channel Islands"] > 0

    csv_file = (
        "order_id,placed_at,customer_email,customer_name,city,country,sku,quantity,unit_price\n"
        "1,2024-03-01,ada@example.com,Ada,London,UK,MUG,1,5.00\n"
        "2,2024-03-02,bob@example.com,Bob,St Helier,Channel Islands,MUG,1,5.00\n"
        "3,2024-03-03,cy@example.com,Cy,St Peter Port,Channel Islands,MUG,1,5.00\n"
    )
    response = admin_client.post(
        reverse("wagtail_customers_imports:index"),
        {
            "account": account.pk,
            "format": "generic",
            "encoding": "utf-8",
            "import_file": SimpleUploadedFile("orders.csv", csv_file.encode(), content_type="text/csv"),
        },
    )
    html = admin_client.get(response["Location"]).content.decode()
    assert "Countries not recognised (kept as written)" in html
    assert "<td>Channel Islands</td><td>2</td>" in html
    assert "<td>UK</td>" not in html


def ordered_from(key, country):
    """An order of customer ``key`` shipped to ``country`` (as written)."""
    data = order_data(key, email=f"{key}@example.com", name=key.upper())
    data.ship_to = AddressData(city="Town", country=country)
    return data


def migration_function():
    return importlib.import_module("wagtail_customers.migrations.0006_country_codes").convert_country_values


@pytest.mark.django_db
def test_the_data_migration_converts_stored_spellings_to_codes(account):
    names = {"a": "Germany", "b": "United Kingdom", "c": "Channel Islands", "d": "usa", "e": "", "f": "FR"}
    for key in names:
        record_order(account, order_data(key, email=f"{key}@example.com"))
    # Rows as the plugin stored them before countries became codes.
    for key, country in names.items():
        Customer.objects.filter(email=f"{key}@example.com").update(country=country)
        Order.objects.filter(external_id=key).update(ship_country=country)

    migration_function()(django_apps, None)

    expected = {"a": "DE", "b": "GB", "c": "Channel Islands", "d": "US", "e": "", "f": "FR"}
    assert dict(Order.objects.values_list("external_id", "ship_country")) == expected
    assert {email[0]: country for email, country in Customer.objects.values_list("email", "country")} == expected


def german(user):
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "de"
    profile.save()
    return user


@pytest.fixture
def world(account, other_account):
    """Account A: two German customers and a British one; account B: a French one and a Swiss one."""
    people = [
        (account, "a1", "Deutschland"),
        (account, "a2", "Germany"),
        (account, "a3", "GB"),
        (other_account, "b1", "France"),
        (other_account, "b2", "CH"),
    ]
    for shop, key, country in people:
        record_order(shop, ordered_from(key, country))
    return {key: Customer.objects.get(email=f"{key}@example.com") for _shop, key, _country in people}


def country_select(response):
    """``(attributes, [(value, label), ...])`` of the country ``<select>`` a listing page renders."""
    html = response.content.decode()
    attributes, options = re.search(r'<select name="country"([^>]*)>(.*?)</select>', html, re.S).groups()
    return attributes, [
        (value, label.strip()) for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', options)
    ]


def country_choices(client, query=""):
    """The country filter's choices as the page's ``<select>`` loads them (views/listing/country_choices.py)."""
    response = client.get(f"{reverse('wagtail_customers:country_choices', args=['all'])}{query}")
    assert response.status_code == 200
    return [tuple(choice) for choice in response.json()]


@pytest.mark.django_db
def test_the_country_filter_lists_the_countries_in_the_users_scope_with_counts(client, account, world):
    user = staff_user("seller", {account: {"can_view": True}})
    client.force_login(user)
    assert country_choices(client) == [("DE", "Germany (2)"), ("GB", "United Kingdom (1)")]
    # The filters drawer renders only "Any country" (and the selected one), with where to load the rest from.
    drawer = client.get("/admin/customers/filters/all/", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert country_select(drawer)[1] == [("", "Any country")]
    # The selected country is named (no count, no query), an old bookmark's too.
    for value, label in (("DE", "Germany"), ("Germany", "Germany"), ("Channel Islands", "Channel Islands")):
        assert country_select(client.get(f"/admin/customers/?country={value}"))[1] == [
            ("", "Any country"),
            (value, label),
        ]
    assert sorted(row_ids(client.get("/admin/customers/?country=DE"))) == sorted([world["a1"].pk, world["a2"].pk])
    # An old bookmark written with the name still selects the country.
    assert len(row_ids(client.get("/admin/customers/?country=Germany"))) == 2
    # A country of another account's customers selects nobody here.
    assert row_ids(client.get("/admin/customers/?country=FR")) == []


@pytest.mark.django_db
def test_the_country_filter_counts_every_account_for_a_superuser(admin_client, world):
    assert [label for _value, label in country_choices(admin_client)] == [
        "France (1)",
        "Germany (2)",
        "Switzerland (1)",
        "United Kingdom (1)",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "country=%00",
        "country=" + "x" * 5000,
        "country=%3Cscript%3Ealert(7)%3C/script%3E",
        "country=DE&country=GB",
        "country=",
    ],
)
def test_hostile_country_values_never_fail(admin_client, world, query):
    for suffix in ("", "results/"):
        response = admin_client.get(f"/admin/customers/{suffix}?{query}")
        assert response.status_code == 200
        assert "<script>alert(7)" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("term", ["GB", "gb", "UK", "United Kingdom", "Uni"])
def test_search_finds_customers_by_country(admin_client, world, term):
    ids = row_ids(admin_client.get(f"/admin/customers/?q={term}"))
    assert world["a3"].pk in ids
    assert world["a1"].pk not in ids


@pytest.mark.django_db
def test_a_german_admin_sees_country_names_in_german(client, account, world):
    user = german(staff_user("sellerin", {account: {"can_view": True}}))
    client.force_login(user)
    assert ("DE", "Deutschland (2)") in country_choices(client)  # the filter
    listing = client.get("/admin/customers/").content.decode()
    assert re.search(r"<td[^>]*>\s*Vereinigtes Königreich\s*</td>", listing)
    customer = client.get(reverse("wagtail_customers_customer:detail", args=[world["a1"].pk])).content.decode()
    assert "Deutschland" in customer
    order = Order.objects.get(external_id="a3")
    order_page = client.get(reverse("wagtail_customers_customer:order", args=[order.pk])).content.decode()
    assert "Vereinigtes Königreich" in order_page


@pytest.mark.django_db
def test_an_english_admin_sees_english_names_in_the_country_column(admin_client, world):
    html = admin_client.get("/admin/customers/").content.decode()
    assert "Switzerland" in html
    assert "Schweiz" not in html
