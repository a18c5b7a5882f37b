"""Saved views of the Customers listing: which parameters a view keeps, who sees it, who it may be shared with.

A view keeps the listing's parameters and columns only, never a scope: opening it runs the normal listing
with the viewer's own grants (``permissions.accounts_for``), and the seller account ids it names are cut down
to the viewer's own before the listing sees them. So a shared view never shows anyone more than they may see.
"""

from urllib.parse import parse_qsl, unquote, urlsplit

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.http import QueryDict
from django.urls import reverse
from django.utils.http import urlencode
from wagtail.log_actions import log

from ..columns import COLUMNS_BY_NAME, clean_column_names
from ..filters import CustomerFilterSet
from ..ids import parse_ids
from ..listing import get_tab
from ..models import AccessGrant, SavedView, SavedViewVisibility
from ..permissions import PERMISSION_CODENAMES, Action, accounts_for
from .personal_data import personal_account_ids

#: The URL parameter that tells the listing to show a saved view's columns (``opened_view``).
VIEW_PARAM = "saved_view"
#: The URL parameter naming the columns a listing page shows, in order, ahead of an opened view's: the column picker
#: sets it while a view is open, so the table shows what was chosen and "Update" saves what is on screen.
COLUMNS_PARAM = "columns"

CREATE_ACTION = "wagtail_customers.saved_view.create"
CHANGE_ACTION = "wagtail_customers.saved_view.change"
DELETE_ACTION = "wagtail_customers.saved_view.delete"

#: Parameters kept besides the filters': search, sort, seller accounts.
LISTING_PARAMS = ("q", "ordering", "account")
#: A view keeps at most this many values of one parameter, each at most this long (search text included).
MAX_VALUES, MAX_VALUE_LENGTH = 50, 255


def filter_param_names():
    """The URL parameters of ``CustomerFilterSet``'s fields (a range's ``orders_min`` / ``orders_max`` ...)."""
    names = set()
    for bound_field in CustomerFilterSet(QueryDict(), queryset=None, user=None).form:
        widget = bound_field.field.widget
        suffixes = getattr(widget, "suffixes", None) or getattr(widget, "widgets_names", None)
        if suffixes:
            names.update(f"{bound_field.name}_{suffix}".replace("__", "_") for suffix in suffixes)
        else:
            names.add(bound_field.name)
    return names


def allowed_param_names():
    return set(LISTING_PARAMS) | filter_param_names()


def clean_params(query):
    """``{name: [values]}`` of the allow-listed, non-empty parameters of ``query`` (a ``QueryDict`` or string)."""
    if isinstance(query, str):
        query = QueryDict(query)
    allowed = allowed_param_names()
    cleaned = {}
    for name in sorted(allowed):
        # Without NULs: PostgreSQL's JSON refuses "\u0000" (a 500), and the listing reads none (its search leaves
        # them out, its filters refuse a value with one).
        values = [value.replace("\x00", "") for value in query.getlist(name)]
        values = [value[:MAX_VALUE_LENGTH] for value in values if value.strip()][:MAX_VALUES]
        if name == "account":
            values = [str(pk) for pk in parse_ids(values)]
        if values:
            cleaned[name] = values
    return cleaned


def clean_tab(slug):
    return slug if get_tab(slug) is not None else "all"


def capture(view, *, tab, query, columns):
    """Set ``view``'s tab, parameters and columns from a listing's state (not saved)."""
    view.tab = clean_tab(tab)
    view.params = clean_params(query)
    view.columns = clean_column_names(columns)
    return view


# -- who sees a view --------------------------------------------------------------------------------


def visible_views(user):
    """The views ``user`` may open: their own and those shared with them or one of their groups."""
    if not getattr(user, "pk", None):
        return SavedView.objects.none()
    shared = Q(visibility=SavedViewVisibility.SHARED) & (
        Q(shared_with_users=user) | Q(shared_with_groups__in=user.groups.all())
    )
    return SavedView.objects.filter(Q(owner=user) | shared).distinct().select_related("owner")


def saved_views_menu_url(*, tab_slug, params, columns, listing_url, opened=None):
    """The URL of a listing page's Saved views menu (``views/saved_views/menu.py``): the page's tab, its parameters
    (without the opened view's), its columns, the page to go back to, and the view it shows, if any (whose owner may
    update it from the menu)."""
    query = [("tab", tab_slug), ("query", params.urlencode()), ("next", listing_url)]
    query += [("columns", name) for name in columns]
    if opened is not None:
        query.append((VIEW_PARAM, opened.pk))
    return f"{reverse('wagtail_customers_saved_views:menu')}?{urlencode(query)}"


def view_account_ids(view, owner=None):
    """The seller accounts a view is about: those it names that its owner may view, else all its owner's."""
    owned = set(accounts_for(owner or view.owner, Action.VIEW).values_list("pk", flat=True))
    named = set(parse_ids(view.params.get("account", [])))
    return (named & owned) if named else owned


def users_who_may_see(account_ids):
    """Active users with the view action on at least one of ``account_ids`` (module-wide holders included)."""
    permissions = Permission.objects.filter(
        content_type__app_label="wagtail_customers", codename=PERMISSION_CODENAMES[Action.VIEW]
    )
    grants = AccessGrant.objects.filter(can_view=True, account__is_enabled=True, account_id__in=account_ids)
    if not account_ids:
        return get_user_model().objects.none()
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(pk__in=grants.values("user_id"))
            | Q(groups__permissions__in=permissions)
            | Q(user_permissions__in=permissions)
        )
        .distinct()
    )


def shareable_users(view):
    """Who the owner may share ``view`` with: people who may see at least one of its accounts, not the owner."""
    return users_who_may_see(view_account_ids(view)).exclude(pk=view.owner_id).order_by("username")


def shareable_groups(view):
    """Groups with at least one member the view may be shared with."""
    members = shareable_users(view).values("pk")
    return Group.objects.filter(user__in=members).distinct().order_by("name")


# -- opening a view ---------------------------------------------------------------------------------


def listing_query(view, viewer):
    """``(QueryDict, dropped)``: the view's parameters for ``viewer``, its seller accounts cut down to the
    viewer's own; ``dropped`` when it named accounts and none of them is the viewer's (then: all of theirs)."""
    query = QueryDict(mutable=True)
    for name, values in clean_params(_as_query_dict(view.params)).items():
        query.setlist(name, values)
    dropped = False
    own = set(accounts_for(viewer, Action.VIEW).values_list("pk", flat=True))
    shown = own
    if "account" in query:
        kept = [pk for pk in parse_ids(query.getlist("account")) if pk in own]
        if kept:
            query.setlist("account", [str(pk) for pk in kept])
            shown = set(kept)
        else:
            query.pop("account")
            dropped = True
    if "q" in query and viewer.pk != view.owner_id and not _may_see_search(view, viewer, shown):
        query.pop("q")
    query[VIEW_PARAM] = str(view.pk)
    return query, dropped


def _may_see_search(view, viewer, shown):
    """May ``viewer`` be given the search ``view`` was saved with, their listing showing the accounts ``shown``?

    A search is what the owner typed, often a name or an e-mail: it is personal data, given only to people who may
    see the personal data of every account the view is about and of every account their listing shows
    (services/personal_data.py). The view is about the accounts it was saved with, whatever its owner may still
    see (an owner who lost an account, or all of them, widens nothing); a view saved without accounts is about
    those the viewer's listing shows."""
    about = set(parse_ids(view.params.get("account", []))) or shown
    personal = personal_account_ids(viewer)
    return bool(about) and about <= personal and shown <= personal


def listing_url(view, viewer):
    """``(url, dropped)``: the listing tab's URL showing ``view`` to ``viewer`` (see ``listing_query``)."""
    query, dropped = listing_query(view, viewer)
    tab = get_tab(clean_tab(view.tab))
    return f"{reverse(f'wagtail_customers:{tab.url_name}')}?{query.urlencode()}", dropped


def opened_view(request):
    """The saved view named by the request's ``saved_view`` parameter, if the user may open it, else None."""
    if not hasattr(request, "_wc_opened_view"):
        # Read once per request: the listing's columns and its "Saved views" menu both ask.
        pks = parse_ids(request.GET.getlist(VIEW_PARAM))
        request._wc_opened_view = visible_views(request.user).filter(pk=pks[0]).first() if pks else None
    return request._wc_opened_view


# -- a refused "Save current view" ------------------------------------------------------------------

#: The session key of a refused "Save current view": what the seller typed and why it was refused, kept for the
#: listing page they are sent back to, whose "Saved views" menu opens on arrival with it (``refused_save``).
REFUSED_SAVE_KEY = "wagtail_customers.saved_view.refused"
#: At most this many of a refused form's errors are kept, each cut to ``KEPT_ERROR_LENGTH`` characters: a choice
#: error repeats the value posted, so a tampered post would otherwise write its whole length into the session.
KEPT_ERRORS = 5
KEPT_ERROR_LENGTH = 300


def keep_refused_save(request, form, back_to):
    """Keep what the refused "Save current view" ``form`` was sent (its name, its visibility if a valid one) and its
    errors, the name's apart from the others', for the listing page ``back_to`` (a path with its query); bounded
    (the name to a view's name length, the errors by ``KEPT_ERRORS`` and ``KEPT_ERROR_LENGTH``), so a tampered post
    does not swell the session."""
    name = str(form.data.get("name", ""))[: SavedView._meta.get_field("name").max_length]
    visibility = form.data.get("visibility")
    if visibility not in SavedViewVisibility.values:
        visibility = SavedViewVisibility.PRIVATE
    errors = {
        field: [str(error)[:KEPT_ERROR_LENGTH] for error in field_errors][:KEPT_ERRORS]
        for field, field_errors in form.errors.items()
    }
    request.session[REFUSED_SAVE_KEY] = {
        "back_to": back_to,
        "name": name,
        "visibility": visibility,
        "name_errors": errors.pop("name", []),
        "other_errors": [error for field_errors in errors.values() for error in field_errors][:KEPT_ERRORS],
    }


def _is_page(url, request):
    """Whether ``url`` (a path with a query) is the page ``request`` asks for, its parameters in any order."""
    parts = urlsplit(url or "")
    asked = sorted((name, value) for name, values in request.GET.lists() for value in values)
    return unquote(parts.path) == request.path and sorted(parse_qsl(parts.query, keep_blank_values=True)) == asked


def has_refused_save(request):
    """Whether a refused save waits for this listing page's "Saved views" menu (which then opens on arrival). One
    kept for another page is dropped: the seller went elsewhere, where the form is not what they were doing."""
    session = getattr(request, "session", None)
    draft = session.get(REFUSED_SAVE_KEY) if session is not None else None
    if not isinstance(draft, dict):
        return False
    if _is_page(draft.get("back_to"), request):
        return True
    del session[REFUSED_SAVE_KEY]
    return False


def refused_save(request):
    """The refused save ``keep_refused_save`` kept, once (the menu that shows it takes it), else None."""
    session = getattr(request, "session", None)
    draft = session.pop(REFUSED_SAVE_KEY, None) if session is not None else None
    return draft if isinstance(draft, dict) else None


def _as_query_dict(params):
    query = QueryDict(mutable=True)
    for name, values in (params or {}).items():
        query.setlist(name, [str(value) for value in (values if isinstance(values, list) else [values])])
    return query


# -- history ----------------------------------------------------------------------------------------


def log_view(view, action, user):
    log(
        view,
        action,
        user=user,
        data={
            "name": view.name,
            "tab": view.tab,
            "visibility": view.visibility,
            "shared_with_users": sorted(view.shared_with_users.values_list("pk", flat=True)) if view.pk else [],
            "shared_with_groups": sorted(view.shared_with_groups.values_list("pk", flat=True)) if view.pk else [],
        },
    )


def page_column_names(user, query):
    """The column names a listing page of ``query`` shows ahead of the user's own (``ListingPreference``): its
    ``columns`` parameter, else the columns of the saved view it opens if the user may open it; ``[]`` for the
    user's own."""
    names = clean_column_names(query.getlist(COLUMNS_PARAM))
    pks = parse_ids(query.getlist(VIEW_PARAM))
    if names or not pks:
        return names
    view = visible_views(user).filter(pk=pks[0]).first()
    return clean_column_names(view.columns) if view else []


def opened_view_columns(request):
    """The columns (``CustomerColumn``s) the listing page shows ahead of the user's own: its ``columns`` parameter,
    else the opened saved view's; ``[]`` for the user's own.

    Only for that page: the viewer's ``ListingPreference`` is left as it is."""
    names = clean_column_names(request.GET.getlist(COLUMNS_PARAM))
    if not names:
        view = opened_view(request)
        names = clean_column_names(view.columns) if view else []
    return [COLUMNS_BY_NAME[name] for name in names]
