"""The Python the developer pages show inline runs as written, and prints what their comments say it prints.

docs/howto/feed-orders.md walks one seller account through four snippets (record an order, a batch in a
transaction, a cancellation and a return, a refused order): they run here in turn, in one namespace, as a
developer pastes them into ``manage.py shell``. Its ``ledger.py`` functions are run on a saved example-shop order,
and the ``OrderData`` of docs/reference/order-data.md is recorded.
"""

import re
from contextlib import redirect_stdout
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.db import transaction

from wagtail_customers.models import Channel, Customer, Order, SellerAccount
from wagtail_customers.services.ingestion import record_order

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[1] / "docs"
CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.S)
#: ``print(...)  # what it prints``: the comment on the print line, or alone on the line after it.
PRINTED = re.compile(r"^\s*print\(.*?\)(?:  # (?P<same>.+))?\n(?:\s*# (?P<next>.+)\n)?", re.M)


def snippets(page):
    return CODE_BLOCK.findall((DOCS / page).read_text())


def expected_output(code):
    return [match["same"] or match["next"] for match in PRINTED.finditer(code)]


def run(code, namespace):
    output = StringIO()
    with redirect_stdout(output):
        exec(compile(code, "<docs snippet>", "exec"), namespace)  # noqa: S102 - the docs' own code
    return output.getvalue().splitlines()


@pytest.fixture
def my_shop(db):
    return SellerAccount.objects.create(name="My shop", channel=Channel.WEBSITE, currency="USD")


def test_the_feed_orders_snippets_run_in_turn_and_print_what_they_say(my_shop):
    record, batch, cancel_and_return, refused, *_registration = snippets("howto/feed-orders.md")
    assert all(expected_output(code) for code in (batch, cancel_and_return, refused))
    namespace = {}
    for code in (record, batch, cancel_and_return, refused):
        assert run(code, namespace) == expected_output(code), code
    assert namespace["account"] == my_shop
    assert Order.objects.filter(account=my_shop).count() == 102
    ada = Customer.objects.get(account=my_shop, email="ada@example.com")
    assert (ada.orders_count, ada.units, ada.returned_units) == (2, 2, 1)


def test_the_ledger_functions_turn_a_saved_shop_order_into_a_recorded_order(my_shop):
    from shop.models import ShopOrder, ShopOrderLine

    ledger = next(code for code in snippets("howto/feed-orders.md") if code.startswith("# shop/ledger.py"))
    namespace = {}
    run(ledger, namespace)
    with transaction.atomic():
        shop_order = ShopOrder.objects.create(
            number="1005", customer_name="Ada Lovelace", customer_email="ada@example.com"
        )
        ShopOrderLine.objects.create(
            order=shop_order, product="Mug", sku="MUG-01", quantity=2, unit_price=Decimal("12.50")
        )
    order = record_order(namespace["seller_account"](shop_order), namespace["to_order_data"](shop_order))
    assert (order.account, order.external_id, order.total) == (my_shop, "1005", Decimal("25.00"))
    assert order.customer.units == 2


def test_the_order_data_reference_example_is_recorded(my_shop):
    [example] = snippets("reference/order-data.md")
    namespace = {}
    run(example, namespace)
    order = record_order(my_shop, namespace["order_data"])
    assert (order.customer.name, order.customer.promo_codes_used) == ("Ada Lovelace", 1)
    assert order.lines.get().quantity == 2
