"""Saving the user's listing preferences (POST only): column view, rows per page, seller accounts.

Each answers JSON to ``fetch`` callers and otherwise redirects back to ``next`` (the listing), with
the URL parameter the saved preference replaces taken off so the saved value applies. A listing with a saved view
open shows the view's columns ahead of the user's: going back to it, the columns chosen go in its ``columns``
parameter instead, so the table shows them and "Update" saves them into the view.
"""

from urllib.parse import urlsplit

from django.http import JsonResponse, QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from ...columns import DEFAULT_COLUMNS, clean_column_names
from ...ids import parse_ids
from ...models import ListingPreference
from ...permissions import Action
from ...services.saved_views import COLUMNS_PARAM, VIEW_PARAM
from .access import (
    account_ids_for,
    forbidden,
    listing_params,
    may_open_listing,
    next_url,
    wants_json,
    with_params,
    without_params,
)
from .index import resolve_per_page


def _answer(request, message, data, *drop_params):
    if wants_json(request):
        return JsonResponse({"message": message, **data})
    messages.success(request, message)
    return redirect(without_params(next_url(request), *drop_params))


def _answer_columns(request, message, names):
    """``_answer`` for a column choice: back to a listing with a saved view open with ``names`` in its ``columns``
    parameter (the view's columns would otherwise hide them); back to any other without it."""
    parts = urlsplit(next_url(request))
    params = listing_params(QueryDict(parts.query))
    if wants_json(request) or VIEW_PARAM not in params:
        return _answer(request, message, {"columns": names}, COLUMNS_PARAM)
    messages.success(request, message)
    params.setlist(COLUMNS_PARAM, names)
    return redirect(with_params(parts.path, params))


def _preference(user):
    preference, _created = ListingPreference.objects.get_or_create(user=user)
    return preference


@require_POST
def save_columns(request):
    """Save the visible columns, in the posted order (``columns`` repeated); the name always stays. With
    ``only_here``, save nothing: show them on the listing ``next`` (a saved view's) only."""
    if not may_open_listing(request):
        return forbidden(request)
    names = clean_column_names(request.POST.getlist("columns"))
    if "name" not in names:
        names.insert(0, "name")
    if request.POST.get("only_here"):
        return _answer_columns(
            request, _("These columns are shown on this listing only: your column view is unchanged."), names
        )
    preference = _preference(request.user)
    preference.columns = names
    preference.save(update_fields=["columns", "updated_at"])
    return _answer_columns(request, _("Your column view is saved."), names)


@require_POST
def reset_columns(request):
    """Back to the plugin's default columns and order."""
    if not may_open_listing(request):
        return forbidden(request)
    preference = _preference(request.user)
    preference.columns = []
    preference.save(update_fields=["columns", "updated_at"])
    return _answer_columns(request, _("The default columns are back."), list(DEFAULT_COLUMNS))


@require_POST
def save_per_page(request):
    if not may_open_listing(request):
        return forbidden(request)
    preference = _preference(request.user)
    preference.per_page = resolve_per_page(request.POST.get("per_page"), None)
    preference.save(update_fields=["per_page", "updated_at"])
    message = _("Showing %(count)d rows a page.") % {"count": preference.per_page}
    return _answer(request, message, {"per_page": preference.per_page}, "per_page")


@require_POST
def save_accounts(request):
    """Remember the seller-account selection: the posted ``account`` ids the user may view; none = all."""
    if not may_open_listing(request):
        return forbidden(request)
    allowed = account_ids_for(request.user, Action.VIEW)
    selected = (
        [] if request.POST.get("all") else [pk for pk in parse_ids(request.POST.getlist("account")) if pk in allowed]
    )
    if selected and set(selected) == allowed:
        selected = []
    preference = _preference(request.user)
    preference.account_ids = selected
    preference.save(update_fields=["account_ids", "updated_at"])
    message = _("Showing all your seller accounts.") if not selected else _("Seller account selection saved.")
    return _answer(request, message, {"account_ids": selected}, "account")
