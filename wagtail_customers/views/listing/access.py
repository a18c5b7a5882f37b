"""Permission checks and small request helpers shared by the listing's views.

Every customer id from a URL or a form goes through ``customer_or_404`` or ``selected_customers``:
a customer outside what the user may view answers 404; one they may view but not act on, 403.
Refusals are real 403 responses (Wagtail's admin would otherwise turn ``PermissionDenied`` into a
redirect to the dashboard), as JSON for ``fetch`` callers.
"""

from functools import wraps
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.http import Http404, JsonResponse, QueryDict
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from wagtail.admin.utils import get_valid_next_url_from_request

from ...ids import parse_id, parse_ids
from ...listing import TRANSIENT_PARAMS, get_tab
from ...models import Customer
from ...permissions import Action, accounts_for, actions_for_request, customers_for


def may_open_listing(request):
    """The listing opens for anyone who may view customers somewhere (or everywhere, even with no accounts yet):
    ``can(request.user, Action.VIEW)``, from the user's access read once a request and shared with the Customers
    menu, which reads it on every admin page."""
    return Action.VIEW in actions_for_request(request)


def is_fetch(request):
    """Sent by the listing's own scripts (``fetch`` with ``X-Requested-With``): a fragment view answers the bare
    fragment, not a page of its own."""
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def toolbar_menu_view(view):
    """A view answering a listing toolbar menu (``panel_or_page``): GET only, never cached, refused to users who
    may not open the listing."""

    @never_cache
    @require_GET
    @wraps(view)
    def checked(request, *args, **kwargs):
        if not may_open_listing(request):
            return forbidden(request)
        return view(request, *args, **kwargs)

    return checked


def panel_or_page(request, panel_template, page_template, context, **page_context):
    """A toolbar menu's panel (``_lazy_menu.html``): the bare panel to the menu's ``fetch`` (``in_panel``), else the
    same contents on a page of their own (``listing/_menu_page.html``: the menu's link without JavaScript), with
    ``page_context`` added (its ``back_url`` among them)."""
    if is_fetch(request):
        return TemplateResponse(request, panel_template, context | {"in_panel": True})
    return TemplateResponse(request, page_template, context | page_context)


def wants_json(request):
    return "application/json" in request.headers.get("Accept", "") or is_fetch(request)


def forbidden(request, message=None):
    """A 403 answer: JSON for ``fetch``, else a page in the admin's layout."""
    message = message or _("You do not have permission to do this.")
    if wants_json(request):
        return JsonResponse({"error": message}, status=403)
    return TemplateResponse(
        request,
        "wagtail_customers/listing/forbidden.html",
        {"page_title": _("Permission denied"), "header_title": _("Permission denied"), "message": message},
        status=403,
    )


def listing_tab_view(view):
    """A view of one listing tab's fragment (``<tab>/`` in its URL): refused to users who may not open the
    listing, 404 for an unknown tab, else called with the ``listing.Tab``."""

    @wraps(view)
    def checked(request, tab):
        if not may_open_listing(request):
            return forbidden(request, _("You do not have access to any customers."))
        listing_tab = get_tab(tab)
        if listing_tab is None:
            raise Http404
        return view(request, listing_tab)

    return checked


def customer_or_404(user, pk, related=("account",)):
    """The customer ``pk`` if the user may view it, else ``Http404``."""
    pk = parse_id(pk)
    if pk is None:
        raise Http404
    try:
        return customers_for(user, Action.VIEW).select_related(*related).get(pk=pk)
    except Customer.DoesNotExist as error:
        raise Http404 from error


def account_ids_for(user, action):
    return set(accounts_for(user, action).values_list("pk", flat=True))


def is_site_path(url):
    """Is ``url`` an absolute path on this site (``/admin/...``)?

    Wagtail's ``get_valid_next_url_from_request`` also lets through relative values such as
    ``admin/customers/`` (a 404 from the page it is followed on) and bare words, which
    ``redirect()`` then tries as URL names (a ``NoReverseMatch``, a 500).
    """
    return url.startswith("/") and not url.startswith("//") and "\\" not in url


def next_url(request, fallback_name="wagtail_customers:index"):
    """The ``next`` URL if it is a path on this site, else the listing."""
    url = get_valid_next_url_from_request(request)
    return url if url and is_site_path(url) else reverse(fallback_name)


def without_params(url, *names):
    """``url`` with the query parameters ``names`` (and the transient ones) removed."""
    parts = urlsplit(url)
    query = QueryDict(parts.query, mutable=True)
    for name in (*TRANSIENT_PARAMS, *names):
        query.pop(name, None)
    return urlunsplit(parts._replace(query=query.urlencode()))


def listing_params(query_dict):
    """The listing's own parameters from a request's GET (search, filters, accounts, ordering, per page)."""
    params = query_dict.copy()
    for name in TRANSIENT_PARAMS:
        params.pop(name, None)
    return params


def bulk_listing_params(request):
    """The listing's own parameters of a bulk action's request: its query's, or, when it carries none but the ids and
    ``next`` (Wagtail 8's bulk bar sends nothing else for rows ticked one by one), those of the listing page ``next``
    is: its seller accounts, search, filters and order (the selection read without them missed customers shown)."""
    params = listing_params(request.GET)
    if params:
        return params
    url = get_valid_next_url_from_request(request)
    if not url or not is_site_path(url):
        return params
    return listing_params(QueryDict(urlsplit(url).query))


def tab_listing_url(listing_tab, query_dict):
    """The page of ``listing_tab`` with the listing's own parameters of ``query_dict``."""
    return with_params(reverse(f"wagtail_customers:{listing_tab.url_name}"), listing_params(query_dict))


def with_params(url, params):
    query = params.urlencode() if hasattr(params, "urlencode") else urlencode(params, doseq=True)
    return f"{url}?{query}" if query else url


def requested_ids(query_dict):
    """``(ids, everything)``: the ``id`` values of a bulk request, and whether ``id=all`` was asked for."""
    values = query_dict.getlist("id")
    everything = "all" in values
    return ([] if everything else parse_ids(values)), everything
