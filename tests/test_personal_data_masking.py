"""Personal data per grant: without "See personal data", no name, e-mail, phone or address of a customer in
any answer of the plugin (pages, listings, search results, chooser JSON, exports), while figures stay.

Every URL and every request of the permission matrix (tests/test_permission_matrix.py) is made by the users
of tests/permission_world.py who may view customers but not see their personal data (``view_a``: a grant on
A with only "view"; ``group``: the view and export permissions through a group), on account A's objects and
on B's, and no answer may hold a personal value of the world's customers. The users who hold the action
(``all_a`` on A, the superuser) see them, so the check can fail.
"""

import csv
import html
import io
import re
import zipfile

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import moment
from tests.module_data import fresh_copy, module_data
from tests.permission_world import PHONES, build_world, grant, make_staff
from tests.test_permission_matrix import MATRIX, PLUGIN_URLS, WAGTAIL_VIEWSET_URLS, body_of, request
from wagtail_customers.exports.jobs import claim, run_job
from wagtail_customers.exports.query import ExportSpec
from wagtail_customers.models import AccessGrant, EventKind, ExportJob, Feedback, OrderEvent
from wagtail_customers.permissions import Action, can
from wagtail_customers.services.personal_data import (
    HiddenValue,
    mask_customer,
    may_see_personal_data,
)

pytestmark = pytest.mark.django_db

#: Users who may view customers but not see their personal data.
MASKED_USERS = ("view_a", "group")


def personal_values(customer):
    """What must never show for a masked user: every personal value of the world's customer, as stored
    (lower case: bodies are compared lower-cased), and the watchlist note that names them."""
    values = {
        customer.name,
        customer.email,
        customer.address_line1,
        customer.postal_code,
        customer.city,
        customer.phone,
        f"watch {customer.name}",
    }
    return {value.lower() for value in values if value}


def leaks(body, world):
    """The personal values of the world's customers found in ``body`` (bytes or text)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text.lower()
    found = set()
    for side in (world.a, world.b):
        found |= {value for value in personal_values(side["customer"]) if value in text}
    return found


def clients(world, names):
    result = {}
    for name in names:
        client = Client()
        client.force_login(world.users[name])
        result[name] = client
    return result


#: Built once for the module's tests (each runs in a savepoint of its transaction).
world_once = module_data(build_world)


@pytest.fixture
def world(db, world_once, settings):
    return fresh_copy(world_once, settings)


def test_the_world_has_every_kind_of_personal_data(world):
    ada = world.a["customer"]
    assert (ada.name, ada.email, ada.phone) == ("Ada Alpha", "ada@alpha.example", PHONES[0])
    assert (ada.address_line1, ada.postal_code, ada.city) == ("77 Quincewood Lane", "ZX9 8QW", "Springfield")


def test_who_may_see_personal_data(world):
    users, a, b = world.users, world.a["account"], world.b["account"]
    assert not may_see_personal_data(users["view_a"], a)
    assert not may_see_personal_data(users["group"], a) and not may_see_personal_data(users["group"], b)
    assert may_see_personal_data(users["all_a"], a) and not may_see_personal_data(users["all_a"], b)
    assert may_see_personal_data(users["superuser"], b)
    # A group with the permission sees every account's.
    Group.objects.get(name="Customer viewers").permissions.add(
        Permission.objects.get(content_type__app_label="wagtail_customers", codename="view_personal_data")
    )
    group_user = type(users["group"]).objects.get(pk=users["group"].pk)
    assert may_see_personal_data(group_user, a) and may_see_personal_data(group_user, b)


def test_a_new_grant_starts_without_personal_data(world):
    """Private by default: a grant made without the action does not show personal data."""
    newcomer = make_staff("newcomer")
    created = AccessGrant.objects.create(user=newcomer, account=world.a["account"])
    assert created.can_view and not created.can_see_personal_data
    assert can(newcomer, Action.VIEW, world.a["account"])
    assert not may_see_personal_data(newcomer, world.a["account"])


GET_CASES = [
    (url_name, index)
    for url_name in PLUGIN_URLS
    for index, case in enumerate(MATRIX.get(url_name, []))
    if case.method == "get" or url_name.startswith("wagtail_customers_exports:")
]


# At the floors the views of Wagtail's own viewsets (the watchlist's snippet views and chooser, the seller accounts),
# which Wagtail renders version by version around the plugin's masking; the plugin's own pages mask in Python
# (services/personal_data.py) the same at every version.
@pytest.mark.parametrize(
    ("url_name", "index"),
    [
        case if case[0] in WAGTAIL_VIEWSET_URLS else pytest.param(*case, marks=pytest.mark.version_neutral)
        for case in GET_CASES
    ],
)
def test_no_personal_data_in_any_answer_for_users_without_the_action(world, url_name, index):
    case = MATRIX[url_name][index]
    users = clients(world, (*MASKED_USERS, "all_a", "superuser"))
    for objects in (world.a, world.b):
        for user_name, client in users.items():
            with transaction.atomic():
                response = request(client, url_name, case, objects)
                body = body_of(response)
                transaction.set_rollback(True)
            found = leaks(body, world)
            if user_name in MASKED_USERS:
                assert found == set(), f"{case.method.upper()} {url_name} as {user_name}: {sorted(found)}"


SEEN_ON = ["wagtail_customers:index", "wagtail_customers_customer:detail", "wagtail_customers_customer:order"]


@pytest.mark.parametrize("url_name", SEEN_ON)
def test_users_with_the_action_see_personal_data(world, url_name):
    """The same pages show the values to ``all_a`` (on A) and the superuser: the check above can fail."""
    case = MATRIX[url_name][0]
    users = clients(world, ("all_a", "superuser", "view_a"))
    for user_name in ("all_a", "superuser"):
        body = body_of(request(users[user_name], url_name, case, world.a)).decode().lower()
        assert "ada alpha" in body, f"{url_name} as {user_name}"
        if url_name != "wagtail_customers_customer:order":
            assert "ada@alpha.example" in body, f"{url_name} as {user_name}"
    masked = body_of(request(users["view_a"], url_name, case, world.a)).decode()
    # Masked, said so for screen readers too, and the figures are still there.
    assert 'class="wc-hidden-value"' in masked
    assert '<span class="w-sr-only">hidden</span>' in masked


def test_the_masked_customer_page_keeps_the_figures_and_names_the_customer_by_id(world):
    ada = world.a["customer"]
    client = clients(world, ["view_a"])["view_a"]
    html = client.get(reverse("wagtail_customers_customer:detail", args=[ada.pk])).content.decode()
    assert f"Customer #{ada.pk}" in html
    assert "data-wc-amount-spent" in html
    # The country names nobody and stays.
    assert "United Kingdom" in html


def test_search_by_personal_data_finds_nothing_for_a_masked_user(world):
    ada = world.a["customer"]
    detail = reverse("wagtail_customers_customer:detail", args=[ada.pk])
    users = clients(world, ("view_a", "group", "all_a", "superuser"))
    for term in ("ada@alpha.example", "Ada Alpha", "555 0199 771", "ZX9 8QW"):
        for user_name, client in users.items():
            body = client.get(reverse("wagtail_customers:index"), {"q": term}).content.decode()
            if user_name in ("all_a", "superuser"):
                assert detail in body, f"{term!r} as {user_name}"
            else:
                assert detail not in body, f"{term!r} as {user_name}"
    # What names nobody is still found: the order id.
    body = users["view_a"].get(reverse("wagtail_customers:index"), {"q": world.a["order"].external_id})
    assert detail in body.content.decode()


def test_watchlist_search_by_personal_data_finds_nothing_for_a_masked_user(world):
    users = clients(world, ("view_a", "all_a"))
    url = reverse("wagtailsnippets_wagtail_customers_watchlistentry:list")
    edit = reverse("wagtailsnippets_wagtail_customers_watchlistentry:edit", args=[world.a["watchlist"].pk])
    assert edit in users["all_a"].get(url, {"q": "ada"}).content.decode()
    assert edit not in users["view_a"].get(url, {"q": "ada"}).content.decode()


def test_exported_files_are_masked_cell_by_cell(world):
    """CSV and XLSX of the listing, as the group user (view and export everywhere, no personal data)."""
    client = clients(world, ["group"])["group"]
    url = reverse("wagtail_customers_exports:start")
    response = client.post(url, {"format": "csv", "scope": "all", "tab": "all"})
    rows = list(csv.reader(io.StringIO(body_of(response).decode("utf-8-sig"))))
    header, data = rows[0], rows[1:]
    assert len(data) == 2
    by_column = [dict(zip(header, row, strict=True)) for row in data]
    hidden = str(HiddenValue())
    for row in by_column:
        assert row["Customer"].startswith("Customer #")
        assert row["E-mail"] == hidden and row["City"] == hidden
        assert row["Orders"] == "1"
    response = client.post(url, {"format": "xlsx", "scope": "all", "tab": "all"})
    sheet = load_workbook(io.BytesIO(body_of(response))).active
    cells = [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert leaks("\n".join(cells), world) == set()
    assert hidden in cells


def test_an_export_run_by_the_worker_is_masked(world, settings, tmp_path):
    """The worker builds the file as the job's owner: masked when the owner may not see personal data."""
    settings.MEDIA_ROOT = str(tmp_path)
    user = world.users["group"]
    spec = ExportSpec(file_format="csv", scope="all", tab="all", columns=["name", "email", "address", "city"])
    job = ExportJob.objects.create(user=user, file_format="csv", params=spec.to_params(), fingerprint="pd-mask")
    run_job(claim(job.pk))
    job.refresh_from_db()
    with job.file.open("rb") as handle:
        content = handle.read()
    assert leaks(content, world) == set()
    assert str(HiddenValue()).encode() in content


def test_the_customers_orders_export_masks_the_ship_to(world):
    ada = world.a["customer"]
    url = reverse("wagtail_customers_exports:customer_orders", args=[ada.pk])
    group, superuser = (clients(world, ["group", "superuser"])[name] for name in ("group", "superuser"))
    assert "springfield" not in body_of(group.get(url)).decode().lower()
    assert "springfield" in body_of(superuser.get(url)).decode().lower()


def test_the_access_request_needs_the_action(world):
    ada = world.a["customer"]
    url = reverse("wagtail_customers_customer:personal_data", args=[ada.pk])
    exporter = make_staff("exporter")
    grant(exporter, world.a["account"], "view", "export")
    client = Client()
    client.force_login(exporter)
    assert client.get(url).status_code == 403
    AccessGrant.objects.filter(user=exporter).update(can_see_personal_data=True)
    response = client.get(url)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(body_of(response))) as archive:
        assert any("ada@alpha.example" in archive.read(name).decode() for name in archive.namelist())


def test_the_email_form_masks_the_address_but_sends_to_it(world, mailoutbox):
    ada = world.a["customer"]
    mailer = make_staff("mailer")
    grant(mailer, world.a["account"], "view", "email")
    client = Client()
    client.force_login(mailer)
    url = reverse("wagtail_customers_customer:email", args=[ada.pk])
    html = client.get(url).content.decode()
    assert leaks(html, world) == set() and "wc-hidden-value" in html
    response = client.post(url, {"reason": "other", "subject": "Hello", "message": "Thanks for your order."})
    assert response.status_code == 302
    assert mailoutbox[-1].to == ["ada@alpha.example"]
    follow = client.get(response["Location"]).content.decode()
    assert leaks(follow, world) == set()


def test_a_masked_instance_cannot_be_saved(world):
    ada = world.a["customer"]
    mask_customer(ada)
    with pytest.raises(ValueError, match="masked"):
        ada.save()
    ada.refresh_from_db()
    assert ada.email == "ada@alpha.example"


def test_confirmation_pages_name_the_customer_by_label_for_a_masked_user(world):
    """A user who may delete and erase but not see personal data: the confirmations say "Customer #<id>"."""
    ada = world.a["customer"]
    cleaner = make_staff("cleaner")
    grant(cleaner, world.a["account"], "view", "delete", "erase")
    client = Client()
    client.force_login(cleaner)
    bulk = reverse("wagtail_customers:bulk_action", args=("all", "delete"))
    for url in (
        reverse("wagtail_customers:delete", args=[ada.pk]),
        reverse("wagtail_customers:erase", args=[ada.pk]),
        f"{bulk}?id={ada.pk}",
    ):
        html = client.get(url).content.decode()
        assert leaks(html, world) == set(), url
        assert f"Customer #{ada.pk}" in html, url


def test_personal_columns_do_not_sort_while_masked(world):
    """The order of the rows would rank the masked names: a masked user's listing keeps its default order and
    the personal columns' headings are not sort links; the superuser's sort."""
    url = reverse("wagtail_customers:index")
    users = clients(world, ("group", "superuser"))
    masked = users["group"].get(url, {"ordering": "name"}).content.decode()
    full = users["superuser"].get(url, {"ordering": "name"}).content.decode()
    assert "?ordering=-name" in full.replace("&amp;", "&") or "ordering=-name" in full
    assert "ordering=-name" not in masked and "ordering=email" not in masked
    assert "ordering=-amount_spent" in masked or "ordering=amount_spent" in masked


def test_the_timeline_masks_notes_e_mails_and_feedback_but_not_what_the_system_wrote(world):
    ada, order = world.a["customer"], world.a["order"]
    OrderEvent.objects.create(customer=ada, kind=EventKind.NOTE, occurred_at=moment(1), message="Ada Alpha\nrang")
    OrderEvent.objects.create(
        customer=ada, kind=EventKind.EMAIL, occurred_at=moment(2), message="Hello Ada Alpha\n\nYour parcel"
    )
    Feedback.objects.create(order=order, rating=2, comment="ada@alpha.example was late")
    url = reverse("wagtail_customers_customer:detail", args=[ada.pk])
    users = clients(world, ("view_a", "all_a"))
    masked = users["view_a"].get(url).content.decode()
    assert leaks(masked, world) == set()
    assert "was late" not in masked and "Your parcel" not in masked and "rang" not in masked
    # Each masked text is the accessible hidden value, not "[hidden]" as plain text.
    assert masked.count('class="wc-hidden-value"') >= 4
    full = users["all_a"].get(url).content.decode()
    assert "Your parcel" in full and "was late" in full
    order_page = users["view_a"].get(reverse("wagtail_customers_customer:order", args=[order.pk])).content.decode()
    assert leaks(order_page, world) == set() and "was late" not in order_page


@pytest.mark.parametrize("view", ["edit", "delete", "history", "usage"])
def test_one_watchlist_entry_pages_need_the_action(world, view):
    """Its edit form, delete confirmation, history and usage show the customer and the note in full."""
    keeper = make_staff("keeper")
    grant(keeper, world.a["account"], "view", "manage_watchlist")
    client = Client()
    client.force_login(keeper)
    url = reverse(f"wagtailsnippets_wagtail_customers_watchlistentry:{view}", args=[world.a["watchlist"].pk])
    response = client.get(url)
    assert response.status_code == 403
    assert leaks(response.content, world) == set()
    # Another account's entry is still "not found".
    other = reverse(f"wagtailsnippets_wagtail_customers_watchlistentry:{view}", args=[world.b["watchlist"].pk])
    assert client.get(other).status_code == 404
    AccessGrant.objects.filter(user=keeper).update(can_see_personal_data=True)
    assert client.get(url).status_code == 200


def test_the_watchlist_offers_on_each_row_only_the_links_that_open(world):
    """Wagtail drew the title link, Edit and Delete on every row from the model-level permission: they answered
    403 on the rows of an account where the user may not see personal data, or may not manage the watchlist."""
    entries = reverse("wagtailsnippets_wagtail_customers_watchlistentry:list")
    a, b = world.a["watchlist"], world.b["watchlist"]

    def row_links(user):
        client = Client()
        client.force_login(user)
        page = client.get(entries)
        assert page.status_code == 200
        links = {html.unescape(href) for href in re.findall(r'href="([^"]+)"', page.content.decode())}
        shown = {link for link in links if link.startswith(entries) and re.search(r"/\d+/", link)}
        for link in shown:
            assert client.get(link).status_code == 200, link
        return shown

    def entry_links(entry):
        return {
            reverse(f"wagtailsnippets_wagtail_customers_watchlistentry:{view}", args=[entry.pk])
            for view in ("edit", "delete")
        }

    masked_keeper = make_staff("masked_keeper")
    grant(masked_keeper, world.a["account"], "view", "manage_watchlist")
    assert row_links(masked_keeper) == set()

    keeper_of_a = make_staff("keeper_of_a")
    grant(keeper_of_a, world.a["account"], "view", "see_personal_data", "manage_watchlist")
    grant(keeper_of_a, world.b["account"], "view", "see_personal_data")
    assert row_links(keeper_of_a) == entry_links(a)

    AccessGrant.objects.filter(user=keeper_of_a, account=world.b["account"]).update(can_manage_watchlist=True)
    assert row_links(keeper_of_a) == entry_links(a) | entry_links(b)


@pytest.mark.parametrize("personal_on", [(), ("a",), ("a", "b")])
def test_a_search_reads_personal_data_only_where_the_user_sees_it_as_the_accounts_ids(
    account, other_account, personal_on
):
    """The listing's search narrows personal matches to the accounts' ids written out, or not at all where the user
    sees every account's personal data: a subquery there made PostgreSQL scan (listing.personal_search_scope)."""
    from django.http import QueryDict

    from tests.factories import order_data
    from wagtail_customers.listing import CustomerListing
    from wagtail_customers.services.ingestion import record_order

    accounts = {"a": account, "b": other_account}
    smiths = {
        key: record_order(acc, order_data(f"{key}1", name=f"{key.upper()} Smith")).customer
        for key, acc in accounts.items()
    }
    clerk = make_staff("clerk")
    for key, acc in accounts.items():
        grant(clerk, acc, Action.VIEW, *([Action.SEE_PERSONAL_DATA] if key in personal_on else []))
    listing = CustomerListing(clerk, "all", QueryDict("q=smith"))
    found = set(listing.filtered_queryset.values_list("pk", flat=True))
    assert found == {smiths[key].pk for key in personal_on}
    grants_read = str(listing.filtered_queryset.query).count(AccessGrant._meta.db_table)
    # The rows' own scope reads the grants; the personal narrowing never does.
    assert grants_read == 1


def test_a_masked_search_still_finds_what_names_nobody_and_an_export_narrows_the_same_way(account, other_account):
    from django.http import QueryDict

    from tests.factories import order_data
    from wagtail_customers.exports.query import CustomerExport
    from wagtail_customers.listing import CustomerListing
    from wagtail_customers.services.ingestion import record_order

    a_smith = record_order(account, order_data("A1", name="A Smith")).customer
    b_order = record_order(other_account, order_data("B-77", name="B Smith"))
    clerk = make_staff("clerk")
    grant(clerk, account, Action.VIEW, Action.EXPORT, Action.SEE_PERSONAL_DATA)
    grant(clerk, other_account, Action.VIEW, Action.EXPORT)
    # The order id names nobody: found on the account whose personal data is masked too.
    by_order = CustomerListing(clerk, "all", QueryDict("q=B-77"))
    assert set(by_order.filtered_queryset.values_list("pk", flat=True)) == {b_order.customer_id}
    # An export (rows scoped by the export action) narrows personal matches as the listing does.
    spec = ExportSpec(file_format="csv", scope="all", tab="all", query={"q": ["smith"]}, columns=["name"])
    exported = CustomerExport(clerk, spec)
    assert set(exported.queryset.values_list("pk", flat=True)) == {a_smith.pk}
    # Personal data by a group's permission, on the accounts the grants let the clerk view: every Smith.
    clerk.groups.add(Group.objects.create(name="Sees personal data"))
    clerk.groups.get(name="Sees personal data").permissions.add(
        Permission.objects.get(content_type__app_label="wagtail_customers", codename="view_personal_data")
    )
    clerk = type(clerk).objects.get(pk=clerk.pk)
    everyone = CustomerListing(clerk, "all", QueryDict("q=smith"))
    assert set(everyone.filtered_queryset.values_list("pk", flat=True)) == {a_smith.pk, b_order.customer_id}
    # With View's permission too, personal data is seen everywhere and the search is not narrowed at all.
    clerk.groups.get(name="Sees personal data").permissions.add(
        Permission.objects.get(content_type__app_label="wagtail_customers", codename="view_customer")
    )
    clerk = type(clerk).objects.get(pk=clerk.pk)
    everyone = CustomerListing(clerk, "all", QueryDict("q=smith"))
    assert everyone.personal_search_scope is None
    assert set(everyone.filtered_queryset.values_list("pk", flat=True)) == {a_smith.pk, b_order.customer_id}
