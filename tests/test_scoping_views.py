"""``views/scoping.py``: the per-object checks added to Wagtail's generic views, beyond what the matrix requests."""

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from wagtail.admin.views import generic

from tests.factories import order_data
from tests.permission_world import grant, make_staff
from wagtail_customers.models import Customer, WatchlistEntry
from wagtail_customers.permissions import Action
from wagtail_customers.services.ingestion import record_order
from wagtail_customers.views.scoping import permission_denied_as_403, scoped_view_class

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(account, other_account):
    a = record_order(account, order_data("A1", email="ada@alpha.example", name="Ada")).customer
    b = record_order(other_account, order_data("B1", email="zed@bravo.example", name="Zed")).customer
    return a, b


def make_view(view_class, user, method="get", data=None, query="", **initkwargs):
    factory = RequestFactory()
    request = factory.post("/", data or {}) if method == "post" else factory.get(f"/{query}")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    view = scoped_view_class(view_class)(**initkwargs)
    view.setup(request, **initkwargs.pop("url_kwargs", {}))
    return view


def watchlist_create_view(user, data=None):
    return make_view(
        generic.CreateView,
        user,
        method="post" if data is not None else "get",
        data=data,
        model=WatchlistEntry,
        fields=["customer", "note"],
        index_url_name="wagtailsnippets_wagtail_customers_watchlistentry:list",
        add_url_name="wagtailsnippets_wagtail_customers_watchlistentry:add",
        edit_url_name="wagtailsnippets_wagtail_customers_watchlistentry:edit",
    )


def test_forms_offer_only_related_rows_the_user_may_view(account, customers):
    customer_a, customer_b = customers
    user = make_staff("clerk")
    grant(user, account, Action.VIEW, Action.MANAGE_WATCHLIST)
    form = watchlist_create_view(user).get_form()
    assert list(form.fields["customer"].queryset) == [customer_a]
    view = watchlist_create_view(user, {"customer": customer_b.pk, "note": "x"})
    form = view.get_form()
    assert not form.is_valid()
    assert "customer" in form.errors


def test_forms_refuse_to_save_rows_of_accounts_without_the_action(account, other_account, customers):
    customer_a, customer_b = customers
    user = make_staff("clerk")
    grant(user, account, Action.VIEW, Action.MANAGE_WATCHLIST)
    grant(user, other_account, Action.VIEW)
    view = watchlist_create_view(user, {"customer": customer_b.pk, "note": "x"})
    assert view.get_form().is_valid()  # B's customer may be seen...
    response = view.post(view.request)  # ...but not put on the watchlist
    assert response.status_code == 200
    assert response.context_data["form"].non_field_errors() == ["You may not do this for this seller account."]
    assert not WatchlistEntry.objects.exists()
    assert view._may_save("add", WatchlistEntry(customer=customer_a))


def test_object_views_answer_404_outside_the_scope_and_403_without_the_action(account, customers):
    customer_a, customer_b = customers
    viewer = make_staff("viewer")
    grant(viewer, account, Action.VIEW)
    entry_a = WatchlistEntry.objects.create(customer=customer_a)
    entry_b = WatchlistEntry.objects.create(customer=customer_b)

    def edit_view(entry):
        view = make_view(generic.EditView, viewer, model=WatchlistEntry, fields=["note"], url_kwargs={"pk": entry.pk})
        return view.get_object()

    with pytest.raises(Http404):
        edit_view(entry_b)
    with pytest.raises(PermissionDenied):
        edit_view(entry_a)
    view = make_view(generic.InspectView, viewer, model=WatchlistEntry, url_kwargs={"pk": entry_a.pk})
    assert view.object == entry_a
    with pytest.raises(Http404):
        make_view(generic.InspectView, viewer, model=WatchlistEntry, url_kwargs={"pk": entry_b.pk})


def test_listing_spreadsheet_export_needs_the_export_action_and_exports_only_those_accounts(
    account, other_account, customers
):
    exporter = make_staff("exporter")
    grant(exporter, account, Action.VIEW, Action.EXPORT)
    grant(exporter, other_account, Action.VIEW)
    options = {
        "model": Customer,
        "list_export": ["name", "email"],
        "index_url_name": "wagtail_customers:index",
        "index_results_url_name": "wagtail_customers:index_results",
    }
    listing = make_view(generic.IndexView, exporter, **options)
    assert {c.email for c in listing.get_queryset()} == {"ada@alpha.example", "zed@bravo.example"}
    export = make_view(generic.IndexView, exporter, query="?export=csv", **options)
    response = export.get(export.request)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"ada@alpha.example" in content
    assert b"zed@bravo.example" not in content
    viewer = make_staff("viewer")
    grant(viewer, account, Action.VIEW)
    export = make_view(generic.IndexView, viewer, query="?export=csv", **options)
    with pytest.raises(PermissionDenied):
        export.get(export.request)


def test_permission_denied_becomes_a_403_page(rf, superuser):
    def refuses(request):
        raise PermissionDenied("Not for you.")

    request = rf.get("/")
    request.user = superuser
    response = permission_denied_as_403(refuses)(request)
    response.render()
    assert response.status_code == 403
    assert b"Not for you." in response.content
    assert b"Permission denied" in response.content


def test_snippet_bulk_delete_leaves_other_accounts_entries_alone(client, account, customers):
    customer_a, customer_b = customers
    manager = make_staff("manager")
    grant(manager, account, Action.VIEW, Action.MANAGE_WATCHLIST)
    entry_a = WatchlistEntry.objects.create(customer=customer_a)
    entry_b = WatchlistEntry.objects.create(customer=customer_b)
    client.force_login(manager)
    url = f"/admin/bulk/wagtail_customers/watchlistentry/delete/?id={entry_a.pk}&id={entry_b.pk}"
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert not WatchlistEntry.objects.filter(pk=entry_a.pk).exists()
    assert WatchlistEntry.objects.filter(pk=entry_b.pk).exists()
