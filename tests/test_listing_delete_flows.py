"""Deleting one customer from every way in: the listing row's menu and the customer page's header.

The links are taken from the rendered pages, as a browser would follow them, so a ``next`` that is
built or read wrongly shows up here (it once came through as ``_2Fadmin_2Fcustomers_2F``).
"""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from tests.listing_support import customer
from wagtail_customers.models import Customer, SellerAccount, WatchlistEntry
from wagtail_customers.services.contact import send_customer_email
from wagtail_customers.views.listing.access import next_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(account):
    return customer(account, "A1", email="ada@example.com", name="Ada Lovelace")


def delete_link(content, pk):
    """The href of the delete link for customer ``pk`` in a rendered page."""
    path = reverse("wagtail_customers:delete", args=(pk,))
    match = re.search(rf'href="({re.escape(path)}[^"]*)"', content)
    assert match, f"no delete link for {pk}"
    return html.unescape(match.group(1))


def cancel_link(content):
    match = re.search(r'<a href="([^"]*)" class="button button-secondary">', content)
    return html.unescape(match.group(1))


def test_row_menu_delete_keeps_the_listing_url_readable(admin_client, ada):
    listing = admin_client.get("/admin/customers/most-orders/?q=ada&per_page=10")
    link = delete_link(listing.content.decode(), ada.pk)
    assert parse_qs(urlsplit(link).query)["next"] == ["/admin/customers/most-orders/?q=ada&per_page=10"]

    confirm = admin_client.get(link)
    assert confirm.status_code == 200
    content = confirm.content.decode()
    # "No, don't delete" goes back to the listing as it was.
    assert cancel_link(content) == "/admin/customers/most-orders/?q=ada&per_page=10"
    assert 'name="next" value="/admin/customers/most-orders/?q=ada&amp;per_page=10"' in content

    response = admin_client.post(link, {"next": "/admin/customers/most-orders/?q=ada&per_page=10"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/customers/most-orders/?q=ada&per_page=10"
    assert not Customer.objects.filter(pk=ada.pk).exists()
    assert "Ada Lovelace" in admin_client.get(response["Location"]).content.decode()  # the message


def test_customer_page_delete_cancels_back_to_the_page_and_deletes_to_the_listing(admin_client, ada):
    detail = reverse("wagtail_customers_customer:detail", args=(ada.pk,))
    link = delete_link(admin_client.get(detail).content.decode(), ada.pk)
    content = admin_client.get(link).content.decode()
    assert cancel_link(content) == detail
    response = admin_client.post(link, {"next": detail})
    assert response["Location"] == reverse("wagtail_customers:index")
    assert not Customer.objects.filter(pk=ada.pk).exists()


@pytest.mark.parametrize(
    "value",
    ["_2Fadmin_2Fcustomers_2F", "admin/customers/", "//evil.example/", "https://evil.example/", "javascript:x"],
)
def test_a_next_that_is_not_a_path_on_this_site_falls_back_to_the_listing(admin_client, ada, rf, value):
    # A bare word would make ``redirect()`` try it as a URL name (a 500), a relative path a 404.
    assert next_url(rf.get("/", {"next": value})) == "/admin/customers/"
    url = reverse("wagtail_customers:delete", args=(ada.pk,))
    assert cancel_link(admin_client.get(url, {"next": value}).content.decode()) == "/admin/customers/"
    response = admin_client.post(url, {"next": value})
    assert response.status_code == 302 and response["Location"] == "/admin/customers/"


# --- What the history keeps of a deleted customer -------------------------------------------------------------

PERSONAL = ("ada@example.com", "Ada Lovelace", "Your refund")


def with_history(ada, user):
    """An e-mail sent to Ada (its entry holds the recipient and subject), and entries logged, before the
    neutral labels (history_labels.py), under her name: one of hers, one of her watchlist entry's."""
    send_customer_email(ada, subject="Your refund", message="It is on its way.", user=user)
    entry = WatchlistEntry.objects.create(customer=ada, added_by=user)
    log(ada, "wagtail_customers.watchlist.add", user=user)
    log(entry, "wagtail.create", user=user)
    ModelLogEntry.objects.exclude(action="wagtail_customers.email.sent").update(label="Ada Lovelace")
    assert any(value in str(list(ModelLogEntry.objects.values("label", "data"))) for value in PERSONAL)


def assert_history_scrubbed(ada):
    history = str(list(ModelLogEntry.objects.values("label", "data")))
    assert not [value for value in PERSONAL if value in history], history
    sent = ModelLogEntry.objects.get(action="wagtail_customers.email.sent", object_id=str(ada.pk))
    assert sent.label == f"Customer #{ada.pk}" and "to" not in sent.data and "subject" not in sent.data


@pytest.mark.parametrize(
    "delete",
    [
        # The listing row's menu and the customer page's header link to this page.
        lambda client, ada: client.post(reverse("wagtail_customers:delete", args=(ada.pk,))),
        lambda client, ada: client.post(
            reverse("wagtail_customers:bulk_action", args=("all", "delete")) + f"?id={ada.pk}"
        ),
        lambda client, ada: client.post(reverse("wagtail_customers_accounts:delete", args=(ada.account_id,))),
    ],
    ids=["one-customer", "bulk", "seller-account"],
)
def test_deleting_a_customer_scrubs_their_history_as_erasing_does(admin_client, superuser, ada, delete):
    with_history(ada, superuser)
    assert delete(admin_client, ada).status_code == 302
    assert not Customer.objects.filter(pk=ada.pk).exists()
    assert_history_scrubbed(ada)


@pytest.mark.parametrize(
    "delete",
    [lambda account: account.delete(), lambda account: SellerAccount.objects.filter(pk=account.pk).delete()],
    ids=["instance", "queryset"],
)
def test_a_seller_account_deleted_by_a_sites_code_scrubs_its_customers_history(superuser, ada, delete):
    with_history(ada, superuser)
    delete(ada.account)
    assert not Customer.objects.filter(pk=ada.pk).exists()
    assert_history_scrubbed(ada)
