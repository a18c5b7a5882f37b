"""django-salesman's orders in the ledger: placed through salesman's own API, updated, refunded, backfilled.

Runs with ``--ds=tests.contrib.salesman_settings`` (``make test-contrib``): the real django-salesman, its
basket, checkout and orders API, and the example shop's modifiers and payment method in tests/contrib.
"""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient
from salesman.core.utils import get_salesman_model

from tests.contrib.salesman_shop.models import Product
from wagtail_customers.contrib.salesman.adapter import row_amount
from wagtail_customers.models import Customer, Order, OrderStatus, SellerAccount
from wagtail_customers.services.statistics import rebuild_statistics

SalesmanOrder = get_salesman_model("Order")


@pytest.fixture
def shop_account(db):
    return SellerAccount.objects.create(name="Salesman shop", currency="EUR")


@pytest.fixture
def products(db):
    return (
        Product.objects.create(name="Mug", code="MUG-01", price=Decimal("12.50")),
        Product.objects.create(name="Tea towel", code="TOWEL-02", price=Decimal("8.00")),
    )


def place_order(products, *, email="ada@example.com", coupon=None, quantities=(2, 1)):
    """Basket -> checkout through salesman's REST API, as the shop's front end does; returns the order."""
    buyer = APIClient()
    for product, quantity in zip(products, quantities, strict=True):
        response = buyer.post(
            "/api/basket/",
            {"product_type": "salesman_shop.Product", "product_id": product.pk, "quantity": quantity},
            format="json",
        )
        assert response.status_code == 201, response.content
    if coupon:  # the shop's coupon field: salesman's basket "extra", which the coupon modifier reads
        response = buyer.put("/api/basket/extra/", {"extra": {"coupon": coupon}}, format="json")
        assert response.status_code == 200, response.content
    response = buyer.post(
        "/api/checkout/",
        {
            "email": email,
            "shipping_address": "Ada Lovelace\n12 St James's Square\nLondon SW1Y 4JH",
            "billing_address": "Ada Lovelace\n12 St James's Square\nLondon SW1Y 4JH",
            "payment_method": "pay-on-placement",
            "extra": {"name": "Ada Lovelace", "country": "GB"} if coupon else {},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return SalesmanOrder.objects.get(ref=response.json()["ref"])


@pytest.fixture
def staff_api(superuser):
    client = APIClient()
    client.force_authenticate(superuser)
    return client


def test_an_order_placed_through_salesman_appears_with_its_customer_and_statistics(
    shop_account, products, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        shop_order = place_order(products, coupon="SAVE10")

    # 2 x 12.50 + 8.00 = 33.00; coupon -3.30; shipping 5.00; tax 20 % of 34.70 = 6.94; total 41.64
    assert shop_order.total == Decimal("41.64")
    order = Order.objects.get(account=shop_account, external_id=shop_order.ref)
    assert order.status == OrderStatus.PAID
    assert order.currency == "EUR"
    assert (order.subtotal, order.discount, order.shipping, order.tax, order.total) == (
        Decimal("33.00"),
        Decimal("3.30"),
        Decimal("5.00"),
        Decimal("6.94"),
        Decimal("41.64"),
    )
    assert order.paid_at is not None
    assert (order.ship_name, order.ship_address_line1, order.ship_country) == (
        "Ada Lovelace",
        "Ada Lovelace",
        "GB",
    )
    assert sorted(order.lines.values_list("sku", "product_name", "quantity", "unit_price")) == [
        ("MUG-01", "Mug", 2, Decimal("12.50")),
        ("TOWEL-02", "Tea towel", 1, Decimal("8.00")),
    ]
    assert list(order.promo_codes.values_list("code", "discount")) == [("SAVE10", Decimal("3.30"))]

    customer = Customer.objects.get(account=shop_account)
    assert (customer.email, customer.name) == ("ada@example.com", "Ada Lovelace")
    assert (customer.orders_count, customer.amount_spent, customer.discount_total) == (
        1,
        Decimal("41.64"),
        Decimal("3.30"),
    )
    assert (customer.units, customer.promo_codes_used) == (3, 1)


def test_status_changes_and_a_refund_through_salesman_update_the_order(
    shop_account, products, staff_api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        shop_order = place_order(products)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.put(f"/api/orders/{shop_order.ref}/status/", {"status": "SHIPPED"}, format="json")
    assert response.status_code == 200, response.content
    order = Order.objects.get(account=shop_account, external_id=shop_order.ref)
    assert order.status == OrderStatus.SHIPPED
    assert order.fulfilment_status == "fulfilled"

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(f"/api/orders/{shop_order.ref}/refund/", format="json")
    assert response.status_code == 200, response.content
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.refunded == order.total
    assert order.refunded_at is not None
    customer = Customer.objects.get(account=shop_account)
    assert (customer.orders_count, customer.amount_spent) == (1, Decimal("0.00"))


def test_backfill_imports_existing_orders_once(shop_account, products):
    # Placed before the integration was installed: no on-commit callbacks run in this test's transaction.
    placed = [place_order(products, email=f"buyer{n}@example.com", quantities=(n, 1)) for n in (1, 2, 3)]
    placed.append(place_order(products, email="buyer1@example.com"))
    assert not Order.objects.exists()

    out = StringIO()
    call_command("customers_salesman_backfill", stdout=out)
    assert "4 orders created, 0 updated, 0 unchanged" in out.getvalue()
    assert set(Order.objects.values_list("external_id", flat=True)) == {order.ref for order in placed}
    assert Customer.objects.filter(account=shop_account).count() == 3
    before = list(Order.objects.order_by("pk").values())

    out = StringIO()
    call_command("customers_salesman_backfill", stdout=out)
    assert "0 orders created, 0 updated, 4 unchanged" in out.getvalue()
    assert list(Order.objects.order_by("pk").values()) == before
    # The statistics the service kept equal a rebuild from the orders.
    assert rebuild_statistics() == 0


def test_the_seller_account_setting_is_checked(shop_account, settings):
    assert not [m for m in run_checks(databases=["default"]) if m.id == "wagtail_customers.E070"]
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "SALESMAN_SELLER_ACCOUNT": "No such shop"}
    assert [m.id for m in run_checks(databases=["default"]) if m.id == "wagtail_customers.E070"] == [
        "wagtail_customers.E070"
    ]
    settings.WAGTAIL_CUSTOMERS = {k: v for k, v in settings.WAGTAIL_CUSTOMERS.items() if k != "SALESMAN_SELLER_ACCOUNT"}
    assert [m.id for m in run_checks() if m.id == "wagtail_customers.E070"] == ["wagtail_customers.E070"]


def test_salesmans_wagtail_admin_shows_the_orders(shop_account, products, admin_client):
    """Salesman's own order admin (wagtail-modeladmin) runs on this Wagtail beside the plugin."""
    shop_order = place_order(products)
    index = admin_client.get(reverse("salesmanorders_order_modeladmin_index"))
    assert index.status_code == 200
    assert shop_order.ref in index.content.decode()
    edit = admin_client.get(reverse("salesmanorders_order_modeladmin_edit", args=[shop_order.pk]))
    assert edit.status_code == 200
    assert "ada@example.com" in edit.content.decode()


@pytest.mark.parametrize(
    "written, amount",
    [
        ("-3.30", Decimal("-3.30")),
        ("5.00", Decimal("5.00")),
        (None, Decimal("0")),
        ("-€3.30", Decimal("-3.30")),
        ("3,30 € -", Decimal("-3.30")),
        ("$1,234.50", Decimal("1234.50")),
        ("1.234,5 €", Decimal("1234.5")),
        ("(12.00)", Decimal("-12.00")),
    ],
)
def test_extra_row_amounts_are_read_as_a_price_formatter_writes_them(written, amount):
    assert row_amount(written) == amount


def test_a_ledger_problem_never_fails_the_checkout(products, settings, django_capture_on_commit_callbacks, caplog):
    """No seller account by that name: the buyer's checkout still succeeds; the problem is logged."""
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "SALESMAN_SELLER_ACCOUNT": "No such shop"}
    with django_capture_on_commit_callbacks(execute=True):
        shop_order = place_order(products)
    assert shop_order.status == "PROCESSING"
    assert not Order.objects.exists()
    assert "names the seller account 'No such shop', which does not exist" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_checkout_in_real_transactions_records_the_order_with_its_items(shop_account, products):
    """No test transaction around it: each save commits as on a live site, and the order is recorded when
    salesman's populate_from_basket transaction commits, its items already saved."""
    shop_order = place_order(products, coupon="SAVE10")
    order = Order.objects.get(account=shop_account, external_id=shop_order.ref)
    assert (order.status, order.total, order.lines.count()) == (OrderStatus.PAID, shop_order.total, 2)
    assert Customer.objects.get(account=shop_account).orders_count == 1


def test_an_order_cancelled_before_it_was_paid_counts_nothing_spent(
    shop_account, products, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        shop_order = place_order(products)
    # Salesman cancels only orders not paid (created, on hold, failed): one whose payment never came.
    shop_order.payments.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        shop_order.status = "CANCELLED"
        shop_order.save()
    order = Order.objects.get(account=shop_account, external_id=shop_order.ref)
    assert (order.status, order.total) == (OrderStatus.CANCELLED, Decimal("0.00"))
    assert Customer.objects.get(account=shop_account).amount_spent == Decimal("0.00")


def test_an_order_whose_payment_failed_counts_nothing_spent(shop_account, products, django_capture_on_commit_callbacks):
    # Before, FAILED was pending with the whole total: a payment that never went through counted as spent.
    with django_capture_on_commit_callbacks(execute=True):
        shop_order = place_order(products)
    shop_order.payments.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        shop_order.status = "FAILED"
        shop_order.save()
    order = Order.objects.get(account=shop_account, external_id=shop_order.ref)
    assert (order.status, order.total, order.paid_at) == (OrderStatus.CANCELLED, Decimal("0.00"), None)
    assert Customer.objects.get(account=shop_account).amount_spent == Decimal("0.00")


@pytest.mark.parametrize("shop_status", ["CANCELLED", "FAILED"])
@pytest.mark.parametrize(
    ("payments", "spent"),
    [
        # A deposit, then the order cancelled (or the rest's payment failed): the deposit is what was spent.
        (["10.00"], "10.00"),
        # Two payments, and a refund the payments panel records as a negative payment.
        (["10.00", "5.00", "-4.00"], "11.00"),
        # Payments that took more than the order's total (a double charge) spend its total, not more.
        (["30.00", "30.00"], "total"),
    ],
)
def test_a_cancelled_or_failed_order_with_payments_spends_what_was_paid(
    shop_account, products, django_capture_on_commit_callbacks, shop_status, payments, spent
):
    """Before, a cancelled or failed order with any payment counted its whole total as spent."""
    with django_capture_on_commit_callbacks(execute=True):
        shop_order = place_order(products)
    shop_order.payments.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        shop_order.status = "HOLD"
        shop_order.save()
    for number, amount in enumerate(payments):
        with django_capture_on_commit_callbacks(execute=True):
            shop_order.pay(Decimal(amount), transaction_id=f"part-{number}", payment_method="pay-on-placement")
    with django_capture_on_commit_callbacks(execute=True):
        shop_order.status = shop_status
        shop_order.save()
    spent = shop_order.total if spent == "total" else Decimal(spent)
    assert Decimal("10.00") < shop_order.total < Decimal("60.00")
    order = Order.objects.get(account=shop_account, external_id=shop_order.ref)
    first_payment = shop_order.payments.order_by("date_created").first()
    assert (order.status, order.total, order.refunded) == (OrderStatus.CANCELLED, spent, Decimal("0.00"))
    assert order.paid_at == first_payment.date_created
    assert Customer.objects.get(account=shop_account).amount_spent == spent
    rebuild_statistics()
    assert Customer.objects.get(account=shop_account).amount_spent == spent


@pytest.mark.django_db(transaction=True)
def test_a_payment_saved_after_the_order_outside_a_transaction_records_its_date(shop_account, products):
    """Order.pay() adds a payment without saving the order, and salesman's order admin saves the order before
    the payments of its inline panel, neither in a transaction: the order's save is recorded before the payment
    exists, so saving the payment records the order again."""
    shop_order = place_order(products)
    # An order whose payment has not come yet (a bank transfer, say).
    shop_order.payments.all().delete()
    shop_order.status = "CREATED"
    shop_order.save()
    order = Order.objects.get(account=shop_account, external_id=shop_order.ref)
    assert (order.status, order.paid_at) == (OrderStatus.PENDING, None)

    shop_order.status = "PROCESSING"
    shop_order.save()
    payment = shop_order.pay(shop_order.total, transaction_id="transfer-1", payment_method="pay-on-placement")
    order.refresh_from_db()
    assert (order.status, order.paid_at) == (OrderStatus.PAID, payment.date_created)


@pytest.mark.django_db(transaction=True)
def test_a_payment_deleted_records_its_order_again(shop_account, products, caplog):
    """Salesman's order admin deletes a payment from its inline panel without a change to the order: the
    deletion records the order again, so the paid date goes with it."""
    shop_order = place_order(products)
    order = Order.objects.get(account=shop_account, external_id=shop_order.ref)
    assert order.paid_at is not None

    shop_order.payments.get().delete()
    order.refresh_from_db()
    assert order.paid_at is None

    # An order deleted in the shop takes its payments with it: nothing is left to record, and nothing is logged.
    shop_order.pay(shop_order.total, transaction_id="again", payment_method="pay-on-placement")
    shop_order.delete()
    assert Order.objects.filter(account=shop_account, external_id=shop_order.ref).exists()
    assert "not recorded" not in caplog.text
