"""Erasing personal data in the admin: the customer page's button, its confirmation page, the bulk action."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests.listing_support import customer, staff_user
from wagtail_customers.listing import listing_statistics
from wagtail_customers.models import Customer, Order
from wagtail_customers.services.erasure import ERASE_ACTION
from wagtail_customers.services.merge import merge_customers

pytestmark = pytest.mark.django_db


def erase_url(customer):
    return reverse("wagtail_customers:erase", args=(customer.pk,))


def bulk_url(action="erase", tab="all"):
    return reverse("wagtail_customers:bulk_action", args=(tab, action))


def page_url(customer):
    return reverse("wagtail_customers_customer:detail", args=(customer.pk,))


@pytest.fixture
def ada(account):
    customer(account, "A0", email="ada@example.com", name="Ada Lovelace", day=1)
    return customer(account, "A1", email="ada@example.com", name="Ada Lovelace", day=2)


@pytest.fixture
def dan(other_account):
    return customer(other_account, "D1", email="dan@example.com", name="Dan Brown")


def test_customer_page_offers_erase_to_who_may(client, account, ada):
    eraser = staff_user("eraser", {account: {"can_view": True, "can_erase": True}})
    viewer = staff_user("viewer", {account: {"can_view": True, "can_delete": True}})
    client.force_login(eraser)
    assert f'href="{erase_url(ada)}?next=' in client.get(page_url(ada)).content.decode()
    client.force_login(viewer)
    content = client.get(page_url(ada)).content.decode()
    assert erase_url(ada) not in content and "Erase personal data" not in content


def test_confirm_then_erase_keeps_the_books(client, account, ada):
    client.force_login(staff_user("eraser", {account: {"can_view": True, "can_erase": True}}))
    before = listing_statistics(Customer.objects.all())
    confirm = client.get(f"{erase_url(ada)}?next={page_url(ada)}")
    content = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Erase the personal data of the customer <strong>Ada Lovelace</strong>" in content
    assert "2 orders" in content and "Yes, erase" in content
    assert not Customer.objects.get(pk=ada.pk).is_erased  # a GET changes nothing

    response = client.post(erase_url(ada), {"next": page_url(ada)})

    assert response.status_code == 302 and response.url == page_url(ada)
    ada.refresh_from_db()
    assert ada.is_erased and ada.email == "" and ada.name.startswith("Erased customer ")
    assert listing_statistics(Customer.objects.all()) == before
    page = client.get(page_url(ada)).content.decode()
    assert "Ada Lovelace" not in page and "ada@example.com" not in page and ada.name in page
    assert "data-wc-erased" in page and "Personal data erased on" in page
    assert erase_url(ada) not in page  # nothing left to erase
    entry = ModelLogEntry.objects.get(action=ERASE_ACTION)
    assert entry.object_id == str(ada.pk) and "Ada" not in repr((entry.label, entry.data))


def test_erase_needs_the_erase_action(client, account, ada, dan):
    client.force_login(staff_user("deleter", {account: {"can_view": True, "can_delete": True}}))
    assert client.get(erase_url(ada)).status_code == 403
    assert client.post(erase_url(ada)).status_code == 403
    assert client.get(erase_url(dan)).status_code == 404  # another account's customer is not found
    client.force_login(staff_user("eraser", {account: {"can_view": True, "can_erase": True}}))
    assert client.post(erase_url(dan)).status_code == 404
    assert not Customer.objects.filter(erased_at__isnull=False).exists()


def test_the_erase_permission_gives_it_on_every_account(client, account, dan):
    user = staff_user("dpo")
    group = Group.objects.create(name="Data protection")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="wagtail_customers", codename__in=["view_customer", "erase_customer"]
        )
    )
    user.groups.add(group)
    client.force_login(user)
    assert client.post(erase_url(dan), {"next": page_url(dan)}).status_code == 302
    assert Customer.objects.get(pk=dan.pk).is_erased


def test_erase_answers_405_to_other_methods_and_refuses_csrf_less_posts(admin_client, ada, superuser):
    for method in ("put", "patch", "delete"):
        assert getattr(admin_client, method)(erase_url(ada)).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(superuser)
    assert strict.post(erase_url(ada)).status_code == 403
    assert not Customer.objects.get(pk=ada.pk).is_erased


def test_bulk_erase_confirms_then_erases_only_what_the_user_may(client, account, other_account, ada, dan):
    bob = customer(account, "B1", email="bob@example.com", name="Bob Stone")
    user = staff_user("eraser", {account: {"can_view": True, "can_erase": True}, other_account: {"can_view": True}})
    client.force_login(user)
    listing = client.get(reverse("wagtail_customers:index")).content.decode()
    assert "Erase personal data" in listing
    before = listing_statistics(Customer.objects.all())
    url = f"{bulk_url()}?id={ada.pk}&id={bob.pk}&id={dan.pk}"
    confirm = client.get(url).content.decode()
    assert "Erase the personal data of these 2 customers?" in confirm
    assert "3 orders" in confirm  # Ada's two and Bob's one
    assert "You may not do this for 1 selected customer" in confirm and "Dan Brown" in confirm

    response = client.post(url)

    assert response.status_code == 302
    assert set(Customer.objects.filter(erased_at__isnull=False).values_list("pk", flat=True)) == {ada.pk, bob.pk}
    assert not Customer.objects.get(pk=dan.pk).is_erased
    assert listing_statistics(Customer.objects.all()) == before
    assert ModelLogEntry.objects.filter(action=ERASE_ACTION).count() == 2


def test_bulk_erase_is_not_offered_without_the_action(client, account, ada):
    client.force_login(staff_user("deleter", {account: {"can_view": True, "can_delete": True}}))
    assert "Erase personal data" not in client.get(reverse("wagtail_customers:index")).content.decode()
    assert client.get(f"{bulk_url()}?id={ada.pk}").status_code == 403
    assert client.post(f"{bulk_url()}?id={ada.pk}").status_code == 403
    assert not Customer.objects.get(pk=ada.pk).is_erased


# --- customers_erase --------------------------------------------------------------------------------


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("customers_erase", *args, stdout=out)
    return out.getvalue()


def test_command_by_id_with_dry_run_first(account, ada):
    before = list(Order.objects.values_list("pk", "total", "customer_id"))
    out = run(str(ada.pk), "--dry-run")
    assert "1 customer(s) would be erased (2 order(s)" in out
    assert not Customer.objects.get(pk=ada.pk).is_erased
    out = run(str(ada.pk))
    assert "Erased 1 customer(s)" in out and "Ada" not in out
    assert Customer.objects.get(pk=ada.pk).is_erased
    assert list(Order.objects.values_list("pk", "total", "customer_id")) == before
    assert ModelLogEntry.objects.get(action=ERASE_ACTION).user_id is None


def test_command_by_email_and_buyer_id_within_an_account(account, other_account, ada, dan):
    customer(account, "X1", email="", buyer_id="BUYER-9", name="Nine")
    out = run("--account", account.name, "--email", "ADA@example.com", "--external-id", "BUYER-9")
    assert "Erased 2 customer(s)" in out
    assert Customer.objects.filter(erased_at__isnull=False).count() == 2
    # Once erased, the same e-mail still finds the customer (through the keyed hash): nothing more to do.
    again = run("--account", account.name, "--email", "ada@example.com")
    assert "1 customer(s) already erased" in again and "Erased 0 customer(s)" in again
    # dan@example.com is in the other account.
    with pytest.raises(CommandError, match="No such customer: e-mail dan@example.com"):
        run("--account", account.name, "--email", "dan@example.com")
    with pytest.raises(CommandError, match="need --account"):
        run("--email", "dan@example.com")
    with pytest.raises(CommandError, match="No such customer: id 987654"):
        run("987654", str(dan.pk))
    assert not Customer.objects.get(pk=dan.pk).is_erased


@pytest.mark.parametrize(
    "merged_details, names",
    [
        ({"email": "bob@example.com"}, ["--email", "Bob@example.com"]),
        ({"email": "", "buyer_id": "B-7"}, ["--external-id", "B-7"]),
    ],
    ids=["by-email", "by-buyer-id"],
)
def test_command_finds_a_buyer_merged_into_another_customer(account, merged_details, names):
    kept = customer(account, "K1", email="kept@example.com", name="Kept")
    merged = customer(account, "M1", name="Bob Merged", **merged_details)
    merge_customers(kept, merged)
    out = run("--account", account.name, *names)
    # The merged buyer's orders and data are the kept customer's now: that is the customer erased.
    assert "Erased 1 customer(s)" in out
    assert Customer.objects.get(pk=kept.pk).is_erased
    # Asked again (the merge's alias is hashed now), and by the merged-away customer's id: already erased.
    for again in (run("--account", account.name, *names), run(str(merged.pk))):
        assert "1 customer(s) already erased" in again and "Erased 0 customer(s)" in again


def test_command_asked_again_for_a_buyer_known_by_buyer_id(account):
    grace = customer(account, "G1", email="grace@example.com", buyer_id="7726184", name="Grace")
    assert "Erased 1 customer(s)" in run("--account", account.name, "--email", "grace@example.com")
    assert Customer.objects.get(pk=grace.pk).is_erased
    again = run("--account", account.name, "--external-id", "7726184")
    assert "1 customer(s) already erased" in again and "Erased 0 customer(s)" in again
    # The erased buyer's e-mail is not kept (only the keyed hash of their identity, the buyer id): the command
    # cannot tell it from a typo, and says how to ask.
    with pytest.raises(CommandError, match="found by that buyer id only"):
        run("--account", account.name, "--email", "grace@example.com", "--external-id", "7726184")


def test_after_erasure_no_screen_shows_the_erased_data(admin_client, account, ada):
    order = Order.objects.filter(customer=ada).first()
    admin_client.post(erase_url(ada), {"next": page_url(ada)})
    ada.refresh_from_db()
    screens = [
        page_url(ada),
        reverse("wagtail_customers_customer:order", args=(order.pk,)),
        reverse("wagtail_customers_customer:email", args=(ada.pk,)),
        reverse("wagtail_customers:index"),
        reverse("wagtail_customers:index") + "?q=ada",
        reverse("wagtail_customers:index") + "?q=" + ada.name.split()[-1],
    ]
    for url in screens:
        response = admin_client.get(url)
        assert response.status_code in (200, 302), url
        content = response.content.decode()
        for value in ("Ada Lovelace", "ada@example.com", "1 Main St"):
            assert value not in content, (url, value)
    assert ada.name in admin_client.get(screens[-1]).content.decode()


def test_an_erased_customer_is_not_offered_to_be_e_mailed_and_the_page_says_why(admin_client, account, ada, mailoutbox):
    email_url = reverse("wagtail_customers_customer:email", args=[ada.pk])
    order = ada.orders.first()
    assert email_url in admin_client.get(page_url(ada)).content.decode()
    admin_client.post(erase_url(ada))
    ada.refresh_from_db()
    assert ada.erased_at is not None
    for page in (page_url(ada), reverse("wagtail_customers_customer:order", args=[order.pk])):
        assert email_url not in admin_client.get(page).content.decode(), page
    # Reached by its address: the reason is the erasure, not a channel that gave no e-mail; nothing can be sent.
    content = admin_client.get(email_url).content.decode()
    assert "personal data was erased on" in content and "did not give one" not in content
    response = admin_client.post(email_url, {"subject": "Hello", "message": "Hi"})
    assert response.status_code == 400 and not mailoutbox
