"""The code the how-to guides show runs: docs/examples/ is included in the pages verbatim and exercised here."""

import importlib.util
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from wagtail_customers.importers import ImportFileError, registry, run_import
from wagtail_customers.models import Channel, Customer, Order, SellerAccount

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
SAMPLE = EXAMPLES / "EtsySoldOrders2025.csv"


@pytest.fixture
def etsy_format(monkeypatch):
    """The how-to's format module, registered the way its ``AppConfig.ready()`` does (undone afterwards)."""
    spec = importlib.util.spec_from_file_location("etsy_format_example", EXAMPLES / "etsy_format.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(registry.FORMATS, module.EtsySoldOrdersFormat.name, module.EtsySoldOrdersFormat)
    return module.EtsySoldOrdersFormat


@pytest.fixture
def etsy_account(db):
    return SellerAccount.objects.create(name="Etsy shop", channel=Channel.ETSY, currency="USD")


def test_the_registration_snippet_is_the_one_the_fixture_runs():
    text = (EXAMPLES / "etsy_apps.py").read_text()
    assert "FORMATS[EtsySoldOrdersFormat.name] = EtsySoldOrdersFormat" in text


def test_the_etsy_example_imports_the_sample_file(etsy_format, etsy_account):
    report = run_import(etsy_account, SAMPLE.read_bytes(), format_name="etsy_sold_orders", filename=SAMPLE.name)

    assert (report.orders, report.orders_created, report.customers_created) == (3, 3, 2)
    assert report.unknown_columns == ["Payment Method"]
    ada = Customer.objects.get(account=etsy_account, external_id="buyer-ada")
    assert (ada.name, ada.city, ada.country) == ("Ada Lovelace", "London", "GB")
    # The cancelled order counts as an order, but neither its units nor its (refunded) money.
    assert (ada.orders_count, ada.units, ada.amount_spent) == (2, 2, Decimal("41.00"))
    assert (ada.promo_codes_used, ada.discount_total) == (1, Decimal("4.00"))
    grace = Customer.objects.get(account=etsy_account, external_id="buyer-grace")
    assert (grace.orders_count, grace.units, grace.amount_spent) == (1, 1, Decimal("23.08"))
    assert Order.objects.get(account=etsy_account, external_id="3001").channel_fees == Decimal("1.53")
    assert Order.objects.get(account=etsy_account, external_id="3003").status == "cancelled"


def test_the_etsy_example_reports_a_bad_row_and_writes_nothing(etsy_format, etsy_account):
    content = SAMPLE.read_text().replace("03/05/25", "March 5th").encode()

    with pytest.raises(ImportFileError) as error:
        run_import(etsy_account, content, format_name="etsy_sold_orders")

    assert error.value.row == 3
    assert "Sale Date" in error.value.message
    assert not Order.objects.exists()


def test_the_management_command_offers_the_registered_format(etsy_format, etsy_account):
    out = StringIO()
    call_command("customers_import", str(SAMPLE), "--account", "Etsy shop", "--format", "etsy_sold_orders", stdout=out)
    assert "Imported 3 order(s) from 3 row(s)" in out.getvalue()


@pytest.mark.parametrize("example", ["etsy_format.py", "etsy_apps.py", "EtsySoldOrders2025.csv"])
def test_the_how_to_includes_the_example_files(example):
    page = (EXAMPLES.parent / "howto" / "add-channel.md").read_text()
    assert f"../examples/{example}" in page
