"""django-oscar's orders in the ledger: placed by Oscar's OrderCreator from a real basket with a voucher,
moved along the status pipeline, refunded through a payment source, backfilled.

Runs with ``--ds=tests.contrib.oscar_settings`` (``make test-contrib``): the real django-oscar, its catalogue,
stock records, UK tax strategy, offers and vouchers, order placement and payment sources.
"""

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from oscar.apps.offer.applicator import Applicator
from oscar.apps.partner.strategy import UK
from oscar.apps.shipping.methods import FixedPrice
from oscar.core.loading import get_class, get_model
from oscar.test.factories import create_offer, create_product

from wagtail_customers.models import Customer, Order, OrderStatus, SellerAccount
from wagtail_customers.services.statistics import rebuild_statistics

OrderCreator = get_class("order.utils", "OrderCreator")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
Basket = get_model("basket", "Basket")
OscarOrder = get_model("order", "Order")
Benefit = get_model("offer", "Benefit")
Range = get_model("offer", "Range")
Voucher = get_model("voucher", "Voucher")
Country = get_model("address", "Country")
ShippingAddress = get_model("order", "ShippingAddress")
SourceType = get_model("payment", "SourceType")
Source = get_model("payment", "Source")

# Oscar indexes products for search on save; haystack's simple backend (no search server) says it cannot.
pytestmark = pytest.mark.filterwarnings("ignore:update is not implemented in this backend:UserWarning")


@pytest.fixture
def shop_account(db):
    return SellerAccount.objects.create(name="Oscar shop", currency="GBP")


@pytest.fixture
def products(db):
    mug = create_product(title="Mug", partner_sku="MUG-01", price=Decimal("10.00"), num_in_stock=100)
    towel = create_product(title="Tea towel", partner_sku="TOWEL-02", price=Decimal("5.00"), num_in_stock=100)
    return mug, towel


@pytest.fixture
def voucher(db):
    everything = Range.objects.create(name="Everything", includes_all_products=True)
    offer = create_offer(
        name="10 % off",
        offer_type="Voucher",
        product_range=everything,
        benefit=Benefit.objects.create(range=everything, type=Benefit.PERCENTAGE, value=10),
    )
    voucher = Voucher.objects.create(
        name="Save 10", code="SAVE10", usage=Voucher.MULTI_USE, start_datetime=offer.start_datetime,
        end_datetime=offer.end_datetime,
    )  # fmt: skip
    voucher.offers.add(offer)
    return voucher


def place_order(products, *, email="ada@example.com", voucher=None, quantities=(2, 1), user=None):
    """What Oscar's checkout does once the payment is taken: place the order, then record its payment source."""
    basket = Basket.objects.create()
    basket.strategy = UK()
    for product, quantity in zip(products, quantities, strict=True):
        basket.add_product(product, quantity)
    if voucher is not None:
        basket.vouchers.add(voucher)
    user = user or AnonymousUser()  # a guest checkout: the checkout passes request.user
    Applicator().apply(basket, user)
    shipping = FixedPrice(charge_excl_tax=Decimal("4.00"), charge_incl_tax=Decimal("4.80"))
    charge = shipping.calculate(basket)
    total = OrderTotalCalculator().calculate(basket, charge)
    country, _ = Country.objects.get_or_create(iso_3166_1_a2="GB", defaults={"name": "United Kingdom"})
    # The checkout saves the shipping address before placing the order (OrderPlacementMixin).
    address = ShippingAddress.objects.create(
        first_name="Ada",
        last_name="Lovelace",
        line1="12 St James's Square",
        line4="London",
        postcode="SW1Y 4JH",
        country=country,
        phone_number="+442079460000",
    )
    order = OrderCreator().place_order(
        basket=basket,
        total=total,
        shipping_method=shipping,
        shipping_charge=charge,
        shipping_address=address,
        user=user,
        guest_email="" if user.is_authenticated else email,
    )
    basket.submit()
    card, _ = SourceType.objects.get_or_create(name="Card")
    Source.objects.create(
        order=order, source_type=card, amount_allocated=order.total_incl_tax, amount_debited=order.total_incl_tax
    )
    return order


def test_an_order_placed_through_oscar_appears_with_its_customer_and_statistics(
    shop_account, products, voucher, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        shop_order = place_order(products, voucher=voucher)

    # Lines 2 x 10.00 + 5.00 = 25.00 before tax (30.00 with UK VAT at 20 %); Oscar takes the voucher's 10 % of
    # the prices with tax (3.00) off the prices before tax: 22.00, 26.40 with tax; shipping 4.00, 4.80 with tax.
    assert (shop_order.total_excl_tax, shop_order.total_incl_tax) == (Decimal("26.00"), Decimal("31.20"))
    order = Order.objects.get(account=shop_account, external_id=str(shop_order.number))
    assert order.status == OrderStatus.PAID
    assert order.currency == "GBP"
    assert (order.subtotal, order.discount, order.shipping, order.tax, order.total) == (
        Decimal("25.00"),
        Decimal("0.00"),  # Oscar gives each line its share of the discount: on the lines below
        Decimal("4.00"),
        Decimal("5.20"),
        Decimal("31.20"),
    )
    assert order.paid_at == shop_order.date_placed
    assert (order.ship_name, order.ship_address_line1, order.ship_city, order.ship_postal_code, order.ship_country) == (
        "Ada Lovelace",
        "12 St James's Square",
        "London",
        "SW1Y 4JH",
        "GB",
    )
    assert sorted(order.lines.values_list("sku", "product_name", "quantity", "unit_price", "discount")) == [
        ("MUG-01", "Mug", 2, Decimal("10.00"), Decimal("2.40")),
        ("TOWEL-02", "Tea towel", 1, Decimal("5.00"), Decimal("0.60")),
    ]
    assert list(order.promo_codes.values_list("code", "discount")) == [("SAVE10", Decimal("3.00"))]

    customer = Customer.objects.get(account=shop_account)
    assert (customer.email, customer.name, customer.phone) == ("ada@example.com", "Ada Lovelace", "+442079460000")
    assert (customer.orders_count, customer.amount_spent, customer.discount_total) == (
        1,
        Decimal("31.20"),
        Decimal("3.00"),
    )
    assert (customer.units, customer.promo_codes_used) == (3, 1)


def test_status_changes_and_a_refund_through_oscar_update_the_order(
    shop_account, products, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        shop_order = place_order(products)
    with django_capture_on_commit_callbacks(execute=True):
        shop_order.set_status("Being processed")
        shop_order.set_status("Complete")
    order = Order.objects.get(account=shop_account, external_id=str(shop_order.number))
    assert order.status == OrderStatus.SHIPPED
    assert order.fulfilment_status == "fulfilled"
    assert order.shipped_at == shop_order.status_changes.get(new_status="Complete").date_created

    # A partial refund through the payment source, as Oscar's payment code records one.
    with django_capture_on_commit_callbacks(execute=True):
        shop_order.sources.get().refund(Decimal("10.00"), reference="refund-1")
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    assert order.refunded == Decimal("10.00")
    assert order.refunded_at is not None
    customer = Customer.objects.get(account=shop_account)
    assert customer.amount_spent == shop_order.total_incl_tax - Decimal("10.00")

    with django_capture_on_commit_callbacks(execute=True):
        source = shop_order.sources.get()
        source.refund(source.amount_debited - source.amount_refunded, reference="refund-2")
    order.refresh_from_db()
    assert (order.status, order.refunded) == (OrderStatus.REFUNDED, shop_order.total_incl_tax)
    assert Customer.objects.get(account=shop_account).amount_spent == Decimal("0.00")


def test_backfill_imports_existing_orders_once(shop_account, products, voucher):
    # Placed before the integration was installed: no on-commit callbacks run in this test's transaction.
    placed = [place_order(products, email=f"buyer{n}@example.com", quantities=(n, 1)) for n in (1, 2, 3)]
    placed.append(place_order(products, email="buyer1@example.com", voucher=voucher))
    placed[1].set_status("Cancelled")
    assert not Order.objects.exists()

    out = StringIO()
    call_command("customers_oscar_backfill", stdout=out)
    assert "4 orders created, 0 updated, 0 unchanged" in out.getvalue()
    assert set(Order.objects.values_list("external_id", flat=True)) == {str(order.number) for order in placed}
    assert Order.objects.get(external_id=str(placed[1].number)).status == OrderStatus.CANCELLED
    assert Customer.objects.filter(account=shop_account).count() == 3
    before = list(Order.objects.order_by("pk").values())

    out = StringIO()
    call_command("customers_oscar_backfill", stdout=out)
    assert "0 orders created, 0 updated, 4 unchanged" in out.getvalue()
    assert list(Order.objects.order_by("pk").values()) == before
    assert rebuild_statistics() == 0


def test_the_seller_account_setting_is_checked(shop_account, settings):
    assert not [m for m in run_checks(databases=["default"]) if m.id == "wagtail_customers.E071"]
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "OSCAR_SELLER_ACCOUNT": "No such shop"}
    assert [m.id for m in run_checks(databases=["default"]) if m.id == "wagtail_customers.E071"] == [
        "wagtail_customers.E071"
    ]
    settings.WAGTAIL_CUSTOMERS = {k: v for k, v in settings.WAGTAIL_CUSTOMERS.items() if k != "OSCAR_SELLER_ACCOUNT"}
    assert [m.id for m in run_checks() if m.id == "wagtail_customers.E071"] == ["wagtail_customers.E071"]


def test_a_signed_in_buyer_is_the_customer_with_their_account_details(
    shop_account, products, django_capture_on_commit_callbacks
):
    buyer = get_user_model().objects.create_user(
        "grace", "grace@example.com", "pw", first_name="Grace", last_name="Hopper"
    )
    with django_capture_on_commit_callbacks(execute=True):
        shop_order = place_order(products, user=buyer)
    assert shop_order.user == buyer
    customer = Order.objects.get(external_id=str(shop_order.number)).customer
    assert (customer.email, customer.name) == ("grace@example.com", "Grace Hopper")


@pytest.mark.django_db(transaction=True)
def test_an_order_placed_in_real_transactions_is_recorded_with_its_lines(shop_account, products, voucher):
    """No test transaction around it: the order is recorded when place_order's transaction commits, with its
    lines and voucher, and again when its payment source is saved."""
    shop_order = place_order(products, voucher=voucher)
    order = Order.objects.get(account=shop_account, external_id=str(shop_order.number))
    assert (order.total, order.lines.count(), order.promo_codes.count()) == (shop_order.total_incl_tax, 2, 1)
    assert Customer.objects.get(account=shop_account).orders_count == 1


@pytest.mark.django_db(transaction=True)
def test_a_status_change_outside_a_transaction_records_its_milestone_date(shop_account, products):
    """The dashboard's status change is not atomic: set_status() saves the order, then adds its status change,
    so the order's own save is recorded before the change exists; saving the change records the order again."""
    shop_order = place_order(products)
    shop_order.set_status("Being processed")
    shop_order.set_status("Complete")
    order = Order.objects.get(account=shop_account, external_id=str(shop_order.number))
    assert order.status == OrderStatus.SHIPPED
    assert order.shipped_at == shop_order.status_changes.get(new_status="Complete").date_created

    cancelled = place_order(products, email="grace@example.com")
    cancelled.set_status("Cancelled")
    order = Order.objects.get(account=shop_account, external_id=str(cancelled.number))
    assert order.status == OrderStatus.CANCELLED
    assert order.cancelled_at == cancelled.status_changes.get(new_status="Cancelled").date_created
    assert order.cancelled_at != cancelled.date_placed


def test_a_cancelled_order_never_charged_spent_nothing(shop_account, products, django_capture_on_commit_callbacks):
    # A payment source that only holds an authorisation: nothing was debited when the order is cancelled.
    with django_capture_on_commit_callbacks(execute=True):
        shop_order = place_order(products)
    Source.objects.filter(order=shop_order).update(amount_debited=Decimal("0.00"))
    charged = place_order(products, email="grace@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        shop_order.set_status("Cancelled")
        charged.set_status("Cancelled")
    order = Order.objects.get(account=shop_account, external_id=str(shop_order.number))
    assert (order.status, order.total, order.paid_at) == (OrderStatus.CANCELLED, Decimal("0.00"), None)
    assert Customer.objects.get(account=shop_account, email="ada@example.com").amount_spent == Decimal("0.00")
    # One whose source was debited keeps its total: the money was taken.
    order = Order.objects.get(account=shop_account, external_id=str(charged.number))
    assert (order.status, order.total) == (OrderStatus.CANCELLED, charged.total_incl_tax)


def test_a_signed_in_buyers_recorded_orders_stay_with_their_customer(
    shop_account, products, django_capture_on_commit_callbacks
):
    # Oscar keeps no e-mail on a signed-in buyer's order: Order.email is the user's current one. Before, an e-mail
    # change moved each old order to a new customer at its next save, and once the user was deleted (no user, no
    # guest e-mail) each order recorded again became a nameless customer of its own.
    buyer = get_user_model().objects.create_user(
        "grace", "grace@example.com", "pw", first_name="Grace", last_name="Hopper"
    )
    with django_capture_on_commit_callbacks(execute=True):
        first, second = place_order(products, user=buyer), place_order(products, user=buyer)
    customer = Customer.objects.get(account=shop_account)
    buyer.email = "grace@new.example.com"
    buyer.save()
    with django_capture_on_commit_callbacks(execute=True):
        first.set_status("Being processed")
    assert Customer.objects.filter(account=shop_account).count() == 1
    customer.refresh_from_db()
    assert (customer.email, customer.name, customer.orders_count) == ("grace@example.com", "Grace Hopper", 2)

    buyer.delete()
    first.refresh_from_db()
    assert (first.user, first.email) == (None, "")
    with django_capture_on_commit_callbacks(execute=True):
        first.set_status("Complete")
    out = StringIO()
    call_command("customers_oscar_backfill", stdout=out)
    assert "0 orders created" in out.getvalue()
    # The user's name is gone with the user: the shipping address's name is the one left (the test's address).
    assert list(Customer.objects.filter(account=shop_account).values_list("pk", "name", "orders_count")) == [
        (customer.pk, "Ada Lovelace", 2)
    ]
    assert Order.objects.get(external_id=str(first.number)).status == OrderStatus.SHIPPED
    assert Order.objects.get(external_id=str(second.number)).customer_id == customer.pk


def test_an_erased_buyers_order_stays_erased_once_the_user_is_deleted(
    shop_account, products, django_capture_on_commit_callbacks
):
    from wagtail_customers.services.erasure import erase_customer

    buyer = get_user_model().objects.create_user("grace", "grace@example.com", "pw")
    with django_capture_on_commit_callbacks(execute=True):
        shop_order = place_order(products, user=buyer)
    erase_customer(Customer.objects.get(account=shop_account))
    buyer.delete()
    shop_order.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        shop_order.set_status("Being processed")
    # Its customer's key is a hash the adapter cannot hand back: the order is left as it was, not given a new
    # nameless customer.
    assert Customer.objects.filter(account=shop_account).count() == 1
    assert Order.objects.get(external_id=str(shop_order.number)).customer.erased_at is not None


def test_backfill_records_the_other_orders_past_one_that_fails(shop_account, products):
    # Before, the first order the service refused stopped the whole backfill with a traceback, at the same place on
    # every run.
    placed = [place_order(products, email=f"buyer{n}@example.com") for n in (1, 2, 3)]
    OscarOrder.objects.filter(pk=placed[1].pk).update(currency="POUNDS")  # no signal: recorded by the backfill only
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match=r"1 order\(s\) could not be recorded"):
        call_command("customers_oscar_backfill", stdout=out, stderr=err)
    assert f"Order {placed[1].number} was not recorded: " in err.getvalue()
    assert "is not a 3-letter ISO 4217 code" in err.getvalue()
    assert "2 orders created, 0 updated, 0 unchanged" in out.getvalue()
    assert set(Order.objects.values_list("external_id", flat=True)) == {str(placed[0].number), str(placed[2].number)}

    OscarOrder.objects.filter(pk=placed[1].pk).update(currency="GBP")
    out = StringIO()
    call_command("customers_oscar_backfill", "--batch-size", "2", stdout=out)
    assert "1 orders created, 0 updated, 2 unchanged" in out.getvalue()
