"""The access request's zip (GDPR art. 15): its JSON and CSV files, what it leaves out, who may download it."""

import csv
import io
import json
import zipfile
from datetime import UTC
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests.customer_page_support import staff_user
from tests.factories import moment, order_data
from wagtail_customers.models import CustomerScore, EventKind, Order, OrderEvent, WatchlistEntry
from wagtail_customers.services.access_request import CSV_FILES, JSON_NAME
from wagtail_customers.services.erasure import erase_customer
from wagtail_customers.services.ingestion import record_orders
from wagtail_customers.services.inputs import FeedbackData
from wagtail_customers.services.lifetime_value_fit import refit_account
from wagtail_customers.services.scores import refresh_scores

pytestmark = pytest.mark.django_db

#: Text that belongs to other buyers: never in Ada's zip.
OTHERS = ("Bob Other", "bob@example.com", "B-1", "Bob's note", "bob-secret", "Cleo Elsewhere", "C-1", "cleo@example")


def url(customer_id):
    return reverse("wagtail_customers_customer:personal_data", args=[customer_id])


@pytest.fixture
def ada(account):
    """Two orders (one with two lines, a promo code and feedback), a note, an e-mail sent, a watchlist note."""
    first = order_data(
        "A-1",
        day=0,
        lines=((2, "10.00"), (1, "5.00")),
        promo_codes=("WELCOME10",),
        discount="1.00",
        paid_at=moment(0, 13),
        shipped_at=moment(1),
        city="Bristol",
    )
    first.ship_to.phone = "+44 117 496 0000"
    # A comment a spreadsheet would run as a formula.
    first.feedback = FeedbackData(
        rating=2, comment='=HYPERLINK("http://evil.example","Box crushed")', left_at=moment(4)
    )
    first.lines[0].returned_quantity = 1
    second = order_data("A-2", day=40, lines=((1, "30.00"),), status="refunded", refunded="30.00")
    record_orders(account, [first, second])
    customer = account.customers.get()
    order = customer.orders.get(external_id="A-1")
    OrderEvent.objects.create(
        customer=customer, order=order, kind=EventKind.NOTE, occurred_at=moment(2), message="@Called about the box"
    )
    OrderEvent.objects.create(
        customer=customer,
        kind=EventKind.EMAIL,
        occurred_at=moment(5),
        message="Your refund\n\nDear Ada, your refund is on its way.",
    )
    WatchlistEntry.objects.create(customer=customer, note="-Asked for a refund twice")
    return account.customers.select_related("account").get()


@pytest.fixture
def others(account, other_account):
    """Bob in Ada's account and Cleo in another one, with notes and watchlist entries of their own."""
    record_orders(account, [order_data("B-1", email="bob@example.com", name="Bob Other", day=3)])
    record_orders(other_account, [order_data("C-1", email="cleo@example.com", name="Cleo Elsewhere", day=3)])
    bob = account.customers.get(email="bob@example.com")
    OrderEvent.objects.create(customer=bob, kind=EventKind.NOTE, occurred_at=moment(3), message="Bob's note")
    WatchlistEntry.objects.create(customer=bob, note="bob-secret")
    return bob, other_account.customers.get()


def download(client, customer_id):
    response = client.get(url(customer_id))
    assert response.status_code == 200
    return response, zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def read_csv(archive, name):
    text = archive.read(name).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the accents
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_zip_holds_one_json_document_and_seven_csv_files(admin_client, ada, others):
    response, archive = download(admin_client, ada.pk)
    assert sorted(archive.namelist()) == sorted([JSON_NAME, *CSV_FILES])
    assert response["Content-Type"] == "application/zip"
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="personal-data-Shop_A-') and disposition.endswith('.zip"')
    assert "Ada" not in disposition and "@" not in disposition


def test_json_document(admin_client, ada, others):
    _, archive = download(admin_client, ada.pk)
    document = json.loads(archive.read(JSON_NAME))
    assert list(document) == [
        "format", "version", "generated_at", "customer", "orders", "timeline", "watchlist", "merged_customers",
        "buyer_insight",
    ]  # fmt: skip
    assert document["format"] == "wagtail-customers access request" and document["version"] == 1
    assert document["generated_at"].endswith("+00:00")

    customer = document["customer"]
    assert customer["id"] == ada.pk
    assert customer["seller_account"] == {"id": ada.account_id, "name": "Shop A", "channel": "shopify"}
    assert customer["erased_at"] is None
    # The customer's address is their latest order's; the first order went to Bristol.
    assert (customer["name"], customer["email"], customer["city"]) == ("Ada Lovelace", "ada@example.com", "London")
    statistics = customer["statistics"]
    assert statistics["orders_count"] == 2
    assert statistics["amount_spent"] == {"amount": str(ada.amount_spent), "currency": "USD"}
    assert statistics["first_order_at"] == "2024-01-01T12:00:00+00:00"

    first, second = document["orders"]  # oldest first
    assert (first["order_id"], second["order_id"]) == ("A-1", "A-2")
    assert first["placed_at"] == "2024-01-01T12:00:00+00:00"
    assert first["paid_at"] == "2024-01-01T13:00:00+00:00" and first["delivered_at"] is None
    order = Order.objects.get(external_id="A-1")
    assert first["currency"] == "USD" and first["account_currency"] == "USD"
    assert first["total"] == {"amount": str(order.total), "currency": "USD"}
    assert first["discount"] == {"amount": "1.00", "currency": "USD"}
    # The money fields of migration 0007: the rate as stored, the converted amounts in the account's currency.
    assert first["exchange_rate"] == str(order.exchange_rate)
    assert first["rate_source"] == order.rate_source
    assert first["account_total"] == {"amount": str(order.account_total), "currency": "USD"}
    assert first["ship_to"]["city"] == "Bristol" and first["ship_to"]["phone"] == "+44 117 496 0000"
    assert [line["sku"] for line in first["lines"]] == ["SKU0", "SKU1"]
    assert first["lines"][0] == {
        "sku": "SKU0",
        "product_name": "",
        "quantity": 2,
        "unit_price": {"amount": "10.00", "currency": "USD"},
        "line_total": {"amount": str(order.lines.order_by("pk")[0].line_total), "currency": "USD"},
        "discount": {"amount": "0.00", "currency": "USD"},
        "returned_quantity": 1,
    }
    assert first["promo_codes"] == [{"code": "WELCOME10", "discount": {"amount": "1.00", "currency": "USD"}}]
    assert first["feedback"]["rating"] == 2 and first["feedback"]["comment"].startswith("=HYPERLINK")
    assert second["refunded"] == {"amount": "30.00", "currency": "USD"} and second["feedback"] is None
    # The seller's own figures are not the buyer's personal data.
    assert "unit_cost" not in json.dumps(document) and "channel_fees" not in first

    note, email = document["timeline"]
    assert note == {
        "occurred_at": "2024-01-03T12:00:00+00:00",
        "kind": "note",
        "order_id": "A-1",
        "message": "@Called about the box",
    }
    assert email["kind"] == "email" and email["message"] == "Your refund\n\nDear Ada, your refund is on its way."
    assert document["watchlist"] == [
        {"added_at": document["watchlist"][0]["added_at"], "note": "-Asked for a refund twice"}
    ]


def test_csv_files(admin_client, ada, others):
    _, archive = download(admin_client, ada.pk)
    [customer] = read_csv(archive, "customer.csv")
    assert customer["id"] == str(ada.pk) and customer["email"] == "ada@example.com"
    assert customer["amount_spent"] == str(ada.amount_spent) and customer["currency"] == "USD"
    assert customer["orders_count"] == "2"

    orders = read_csv(archive, "orders.csv")
    assert [row["order_id"] for row in orders] == ["A-1", "A-2"]
    first = orders[0]
    order = Order.objects.get(external_id="A-1")
    assert first["placed_at"] == "2024-01-01T12:00:00+00:00"
    assert Decimal(first["total"]) == order.total and first["currency"] == "USD"
    assert first["exchange_rate"] == str(order.exchange_rate) and first["rate_source"] == order.rate_source
    assert Decimal(first["account_total"]) == order.account_total and first["account_currency"] == "USD"
    assert first["promo_codes"] == "WELCOME10" and first["feedback_rating"] == "2"
    # Neutralised like every export: the spreadsheet shows the text, it never runs it.
    assert first["feedback_comment"] == '\'=HYPERLINK("http://evil.example","Box crushed")'
    assert orders[1]["refunded"] == "30.00" and orders[1]["feedback_comment"] == ""

    lines = read_csv(archive, "order_lines.csv")
    assert [(row["order_id"], row["sku"], row["quantity"]) for row in lines] == [
        ("A-1", "SKU0", "2"),
        ("A-1", "SKU1", "1"),
        ("A-2", "SKU0", "1"),
    ]
    assert lines[0]["unit_price"] == "10.00" and lines[0]["currency"] == "USD" and lines[0]["returned_quantity"] == "1"

    timeline = read_csv(archive, "timeline.csv")
    assert [(row["kind"], row["order_id"]) for row in timeline] == [("note", "A-1"), ("email", "")]
    assert timeline[0]["message"] == "'@Called about the box"
    assert timeline[1]["message"] == "Your refund\n\nDear Ada, your refund is on its way."

    [watch] = read_csv(archive, "watchlist.csv")
    assert watch["note"] == "'-Asked for a refund twice" and watch["added_at"].endswith("+00:00")


def test_no_other_buyers_data_in_any_file(admin_client, ada, others):
    _, archive = download(admin_client, ada.pk)
    for name in archive.namelist():
        text = archive.read(name).decode("utf-8")
        for value in OTHERS:
            assert value not in text, (name, value)


def test_an_erased_customer_gets_what_is_left_the_pseudonym_and_the_orders(admin_client, ada, others):
    erase_customer(ada)
    ada.refresh_from_db()
    _, archive = download(admin_client, ada.pk)
    document = json.loads(archive.read(JSON_NAME))
    assert document["customer"]["name"] == ada.name and ada.name.startswith("Erased customer ")
    assert document["customer"]["erased_at"] == ada.erased_at.astimezone(UTC).isoformat()
    assert [order["order_id"] for order in document["orders"]] == ["A-1", "A-2"]
    [customer] = read_csv(archive, "customer.csv")
    assert customer["erased_at"] == document["customer"]["erased_at"] and customer["email"] == ""
    for name in archive.namelist():
        text = archive.read(name).decode("utf-8")
        for erased in (
            "Ada Lovelace",
            "ada@example.com",
            "Bristol",
            "+44 117",
            "HYPERLINK",
            "Called about",
            "refund twice",
        ):
            assert erased not in text, (name, erased)


def test_a_customer_with_nothing_but_one_order_gets_empty_files_with_headers(admin_client, others):
    bob, _ = others
    WatchlistEntry.objects.filter(customer=bob).delete()
    OrderEvent.objects.filter(customer=bob).delete()
    _, archive = download(admin_client, bob.pk)
    document = json.loads(archive.read(JSON_NAME))
    assert document["timeline"] == [] and document["watchlist"] == []
    assert archive.read("watchlist.csv").decode("utf-8") == "\ufeffadded_at,note\r\n"
    assert read_csv(archive, "timeline.csv") == []


def test_queries_do_not_grow_with_the_orders(admin_client, account, ada):
    def count():
        with CaptureQueriesContext(connection) as queries:
            download(admin_client, ada.pk)
        return len(queries)

    before = count()
    record_orders(account, [order_data(f"A-{n}", day=50 + n, promo_codes=("MORE",), rating=5) for n in range(3, 9)])
    assert count() == before


def test_recorded_in_history_without_personal_data(admin_client, ada, superuser):
    download(admin_client, ada.pk)
    entry = ModelLogEntry.objects.get(action="wagtail_customers.export.access_request")
    assert entry.object_id == str(ada.pk) and entry.user_id == superuser.pk
    assert entry.data == {"account_id": ada.account_id, "version": 1, "orders": 2, "timeline": 2}
    # Labelled by id (history_labels.py): the site history names no one.
    assert entry.label == f"Customer #{ada.pk}"


def test_nothing_written_to_media(admin_client, ada, settings):
    download(admin_client, ada.pk)
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(media.rglob("*"))


# --- Who may download ---------------------------------------------------------------------------


def test_the_export_action_on_the_account_is_needed(client, account, other_account, ada, others):
    _, cleo = others
    exporter = staff_user("exporter", {account: {"can_export": True}})
    viewer = staff_user("viewer", {account: {"can_view": True}})
    stranger = staff_user("stranger")
    client.force_login(exporter)
    assert client.get(url(ada.pk)).status_code == 200
    assert client.get(url(cleo.pk)).status_code == 404  # another seller account's customer
    assert client.get(url(987654321)).status_code == 404  # no such customer
    assert client.get(f"/admin/customers/{ada.pk}x/personal-data/").status_code == 404
    client.force_login(viewer)
    assert client.get(url(ada.pk)).status_code == 403  # may see Ada, may not export her
    client.force_login(stranger)
    assert client.get(url(ada.pk)).status_code == 404
    assert (
        not ModelLogEntry.objects.filter(action="wagtail_customers.export.access_request")
        .exclude(user=exporter)
        .exists()
    )


def test_get_only(admin_client, ada):
    assert admin_client.post(url(ada.pk)).status_code == 405
    assert admin_client.delete(url(ada.pk)).status_code == 405
    # Like the customer's orders export: a HEAD would build the zip and record a download for nothing.
    assert admin_client.head(url(ada.pk)).status_code == 405
    assert not ModelLogEntry.objects.filter(action="wagtail_customers.export.access_request").exists()


def test_the_button_is_on_the_customer_page_for_exporters_only(client, account, ada):
    page = reverse("wagtail_customers_customer:detail", args=[ada.pk])
    client.force_login(staff_user("exporter", {account: {"can_export": True}}))
    assert url(ada.pk) in client.get(page).content.decode()
    client.force_login(staff_user("viewer", {account: {"can_view": True}}))
    html = client.get(page).content.decode()
    assert client.get(page).status_code == 200 and url(ada.pk) not in html


def test_a_duplicate_merged_into_the_customer_is_included_until_the_merge_is_undone(admin_client, ada, account):
    """The merge keeps the duplicate's details (for undo): they are the buyer's data too (services/merge.py)."""
    from wagtail_customers.services.ingestion import record_order
    from wagtail_customers.services.merge import merge_customers, undo_merge

    duplicate = record_order(account, order_data("M-1", email="ada.l@example.org", name="A. Lovelace")).customer
    merge = merge_customers(ada, duplicate)

    _, archive = download(admin_client, ada.pk)
    [merged] = json.loads(archive.read(JSON_NAME))["merged_customers"]
    assert (merged["merged_customer_id"], merged["name"], merged["email"]) == (
        duplicate.pk, "A. Lovelace", "ada.l@example.org",
    )  # fmt: skip
    assert [row["email"] for row in read_csv(archive, "merged_customers.csv")] == ["ada.l@example.org"]

    undo_merge(merge)
    _, archive = download(admin_client, ada.pk)
    assert json.loads(archive.read(JSON_NAME))["merged_customers"] == []


def test_the_profile_the_buyer_insight_makes_is_included_once_scored(admin_client, ada, others):
    _, archive = download(admin_client, ada.pk)
    assert json.loads(archive.read(JSON_NAME))["buyer_insight"] == []
    assert read_csv(archive, "buyer_insight.csv") == []
    refresh_scores()
    refit_account(ada.account)
    ada.refresh_from_db()
    score = CustomerScore.objects.get(customer=ada)
    _, archive = download(admin_client, ada.pk)
    [profile] = json.loads(archive.read(JSON_NAME))["buyer_insight"]
    assert profile["rfm_group"] == score.rfm_group
    assert (profile["recency_score"], profile["frequency_score"], profile["monetary_score"]) == (
        score.recency_score,
        score.frequency_score,
        score.monetary_score,
    )
    assert profile["average_order_value"] == {"amount": str(ada.average_order_value), "currency": "USD"}
    assert profile["scored_at"].endswith("+00:00")
    [row] = read_csv(archive, "buyer_insight.csv")
    assert row["rfm_group"] == score.rfm_group and row["currency"] == "USD"
    assert row["average_order_value"] == str(ada.average_order_value)
