"""The example site: the admin menu, and its shop feeding orders into the ledger."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from shop.ledger import SHOP_ACCOUNT_NAME
from shop.models import ShopOrder, ShopOrderLine

from tests.celery_fixtures import mail_bodies
from wagtail_customers.models import Customer, Order

pytestmark = pytest.mark.django_db


def test_admin_menu_has_customers(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert b'"name": "customers"' in response.content or b"Customers" in response.content
    assert admin_client.get("/admin/customers/").status_code == 200


def test_staff_without_access_does_not_see_the_customers_menu(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b"/admin/customers/" not in response.content


def test_shop_orders_flow_into_the_ledger_when_placed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = ShopOrder.objects.create(
            number="W-1",
            placed_at=timezone.now(),
            customer_name="Ada Lovelace",
            customer_email="ada@example.com",
            city="London",
            shipping=Decimal("4.90"),
            promo_code="HELLO",
            discount=Decimal("2.00"),
        )
        ShopOrderLine.objects.create(order=order, product="Mug", quantity=2, unit_price=Decimal("10.00"))
    ledger_order = Order.objects.get(external_id="W-1")
    assert ledger_order.account.name == SHOP_ACCOUNT_NAME
    assert ledger_order.total == Decimal("22.90")
    customer = Customer.objects.get(email="ada@example.com")
    assert (customer.orders_count, customer.units, customer.promo_codes_used) == (1, 2, 1)
    # Editing the order (e.g. a cancellation in the shop's ModelAdmin) updates the ledger.
    with django_capture_on_commit_callbacks(execute=True):
        order.status = "cancelled"
        order.save()
    customer.refresh_from_db()
    assert (customer.orders_count, customer.units) == (1, 0)


@pytest.mark.django_db(transaction=True)
def test_an_order_added_in_the_shop_admin_is_recorded_with_its_lines(admin_client):
    """The ModelAdmin saves the order and its inline lines in one transaction: recorded once, lines included (saved
    one by one in autocommit, as here, the order was recorded with no lines and a 0.00 total until saved again)."""
    form = {
        "number": "W-2",
        "placed_at": "2026-12-01 10:00",
        "status": "refunded",
        "customer_name": "Grace Hopper",
        "customer_email": "grace@example.com",
        "shipping": "4.90",
        "discount": "0",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-product": "Mug",
        "lines-0-quantity": "3",
        "lines-0-unit_price": "10.00",
        "lines-0-ORDER": "1",
    }
    answer = admin_client.post("/admin/shop/shoporder/create/", form)
    assert answer.status_code == 302, answer.context["form"].errors if answer.context else answer
    ledger_order = Order.objects.get(external_id="W-2")
    assert (ledger_order.lines.count(), ledger_order.total, ledger_order.refunded) == (
        1,
        Decimal("34.90"),
        Decimal("34.90"),
    )
    customer = ledger_order.customer
    assert (customer.units, customer.amount_spent) == (3, Decimal("0.00"))  # refunded: its money given back


def test_the_demo_shows_the_background_export_path(
    client, superuser, account, settings, capsys, django_capture_on_commit_callbacks
):
    """Issue 11, item 7: with the demo's settings, exporting all of the demo's customers takes the background path
    (notice, Exports page) and the e-mailed link appears in the console, as the README says."""
    from example_project import settings as example
    from tests.export_support import make_customers
    from wagtail_customers.management.commands.customers_demo_data import Command as DemoData
    from wagtail_customers.models import ExportJob

    sync_limit = example.WAGTAIL_CUSTOMERS["EXPORT_SYNC_MAX_ROWS"]
    demo_customers = DemoData().create_parser("manage.py", "customers_demo_data").parse_args([]).customers
    assert sync_limit < demo_customers
    assert example.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"more than {sync_limit} customers" in readme and "/admin/customers/exports/" in readme

    settings.WAGTAIL_CUSTOMERS = example.WAGTAIL_CUSTOMERS
    settings.EMAIL_BACKEND = example.EMAIL_BACKEND
    make_customers(account, sync_limit + 1)
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/customers/exports/start/", {"tab": "all", "scope": "all", "format": "csv"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/customers/exports/#job-{job.pk}"
    assert "is being prepared" in str(list(response.wsgi_request._messages)[0])
    assert f"job-{job.pk}" in client.get("/admin/customers/exports/").content.decode()
    [body] = mail_bodies(capsys.readouterr().out)
    assert f"{example.WAGTAIL_CUSTOMERS['BASE_URL']}/admin/customers/exports/{job.pk}/download/" in body
