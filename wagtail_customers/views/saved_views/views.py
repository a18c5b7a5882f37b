"""Saved views: the management list, "Save current view", open, edit (rename, share), update, delete.

Anyone who may open the Customers listing may save views; a view is changed or deleted by its owner only (others
who may open it get 403; a view they may not open, or an id that is not one, answers 404). Opening a view
redirects to the normal listing with its parameters, cut down to the viewer's seller accounts
(``services.saved_views.listing_url``): a shared view never widens anyone's scope.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import FormView, TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic import WagtailAdminTemplateMixin

from ...listing import get_tab
from ...models import SavedView, SavedViewVisibility
from ...models.saved_views import saved_view_name_key
from ...services.saved_views import (
    CHANGE_ACTION,
    CREATE_ACTION,
    DELETE_ACTION,
    capture,
    clean_tab,
    keep_refused_save,
    listing_url,
    log_view,
    visible_views,
)
from ..listing.access import may_open_listing, next_url
from .forms import EditViewForm, SaveViewForm, duplicate_name_error

INDEX_URL = "wagtail_customers_saved_views:index"
MENU_URL = "wagtail_customers_saved_views:menu"


def check_listing_access(request):
    if not may_open_listing(request):
        raise PermissionDenied(_("You do not have access to any customers."))


def saved_view_for(request, pk, *, owner_only=False):
    """The view ``pk`` if the request's user may open it (else 404); with ``owner_only``, 403 unless they own it."""
    check_listing_access(request)
    user = request.user
    view = visible_views(user).filter(pk=pk).first()
    if view is None:
        raise Http404
    if owner_only and view.owner_id != user.pk:
        raise PermissionDenied(_("Only the owner of a saved view may change it."))
    return view


def _capture_from_post(view, request):
    return capture(
        view,
        tab=request.POST.get("tab", ""),
        query=request.POST.get("query", ""),
        columns=request.POST.getlist("columns"),
    )


def _breadcrumbs(*items):
    return [
        {"url": reverse("wagtailadmin_home"), "label": _("Home")},
        {"url": reverse("wagtail_customers:index"), "label": _("Customers")},
        {"url": reverse(INDEX_URL), "label": _("Saved views")},
        *items,
    ]


def _open(request, view):
    url, dropped = listing_url(view, request.user)
    if dropped:
        messages.info(
            request,
            _("None of the seller accounts of “%(name)s” is yours: it shows your own seller accounts.")
            % {"name": view.name},
        )
    return redirect(url)


class SavedViewIndexView(WagtailAdminTemplateMixin, TemplateView):
    """The views the user may open: their own (with Edit and Delete) and those shared with them."""

    template_name = "wagtail_customers/saved_views/index.html"
    page_title = gettext_lazy("Saved views")
    header_icon = "view"
    http_method_names = ["get"]

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        check_listing_access(request)

    def get_breadcrumbs_items(self):
        return _breadcrumbs()[:-1] + [{"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = []
        for view in visible_views(self.request.user):
            tab = get_tab(clean_tab(view.tab))
            rows.append({"view": view, "tab": tab, "is_owner": view.owner_id == self.request.user.pk})
        context["rows"] = rows
        return context


def _save_named(form, save):
    """Run ``save`` (the form's view); false, with the form's name error, if the database refused the name: another
    request saved a view of that name for the same owner since the form checked it (a double click on "Save view")."""
    try:
        with transaction.atomic():
            save()
    except IntegrityError:
        if not form.name_taken():
            raise
        form.add_error("name", duplicate_name_error(form.cleaned_data["name"]))
        return False
    return True


@require_POST
def create_view(request):
    """ "Save current view" from the listing: a name, a visibility, and the listing's state (hidden fields).

    Refused (no name, a name the user has), it goes back to the listing with a message, and the listing's "Saved
    views" menu opens with the form as it was sent and its errors (``services.saved_views.keep_refused_save``); sent
    from the menu's own page (no JavaScript), back to that page, which shows them.
    The second post of a double click finds the view the first saved, and answers as the first did."""
    check_listing_access(request)
    form = SaveViewForm(request.POST, instance=SavedView(owner=request.user))
    if form.is_valid():
        view = _capture_from_post(form.save(commit=False), request)
        if _save_named(form, view.save):
            log_view(view, CREATE_ACTION, request.user)
            return _saved(request, view)
    twin = _saved_by_the_same_click(request, form)
    if twin is not None:
        # The first post's answer was left for this one, with its message (shown once, on the page this one opens).
        return _saved(request, twin, announce=False)
    # Each error is a sentence of its own ("A saved view needs a name.").
    errors = " ".join(str(error) for errors in form.errors.values() for error in errors)
    messages.error(request, _("The view was not saved. %(errors)s") % {"errors": errors})
    # Back to the listing, whose "Saved views" menu opens with what was typed and the error by the name; or, when the
    # form was sent from the menu's own page (no JavaScript, where the listing cannot open its menu), to that page.
    back_to = _menu_page_sent_from(request) or next_url(request)
    keep_refused_save(request, form, back_to)
    return redirect(back_to)


#: The longest ``menu_page`` gone back to (it is kept in the session with the refused form).
MAX_MENU_PAGE_LENGTH = 8192


def _menu_page_sent_from(request):
    """The menu's own page (``menu.saved_views_menu`` without JavaScript) the form says it was sent from
    (``menu_page``): the menu's path, with a query or not, in printable characters; else None."""
    url = request.POST.get("menu_page", "")
    menu = reverse(MENU_URL)
    if len(url) <= MAX_MENU_PAGE_LENGTH and url.isprintable() and (url == menu or url.startswith(f"{menu}?")):
        return url
    return None


#: A view of the same name and state saved this recently is taken for the first post of a double click.
DOUBLE_CLICK_SECONDS = 30


def _saved_by_the_same_click(request, form):
    """The view the first post of a double click on "Save view" saved, when ``form`` (the second) was refused only
    for its name: the owner's view of that very name saved in the last ``DOUBLE_CLICK_SECONDS`` with the same
    visibility, tab, parameters and columns; else None (a name taken by another view is the seller's to change)."""
    if set(form.errors) != {"name"} or not form.has_error("name", code="duplicate_name"):
        return None
    state = _capture_from_post(SavedView(), request)
    name = str(form.data.get("name", "")).strip()
    recent = SavedView.objects.filter(
        owner=request.user,
        name=name,
        name_key=saved_view_name_key(name),
        visibility=form.data.get("visibility"),
        created_at__gte=timezone.now() - timedelta(seconds=DOUBLE_CLICK_SECONDS),
    )
    # Compared here: JSON fields compare by their text in some databases, where the order of keys may differ.
    return next(
        (view for view in recent if (view.tab, view.params, view.columns) == (state.tab, state.params, state.columns)),
        None,
    )


def _saved(request, view, announce=True):
    if view.visibility == SavedViewVisibility.SHARED:
        if announce:
            messages.success(request, _("View “%(name)s” saved. Choose who to share it with.") % {"name": view.name})
        return redirect("wagtail_customers_saved_views:edit", view.pk)
    if announce:
        messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return _open(request, view)


@require_GET
def open_view(request, pk):
    return _open(request, saved_view_for(request, pk))


@require_POST
def update_view(request, pk):
    """Replace the view's tab, parameters and columns with the listing's current state (owner only)."""
    view = saved_view_for(request, pk, owner_only=True)
    _capture_from_post(view, request)
    # Only what the listing gives: a full save would write back the name read above over a rename made meanwhile in
    # another tab, and could clash with the name another view took since (a 500 from the unique name).
    view.save(update_fields=["tab", "params", "columns", "updated_at"])
    log_view(view, CHANGE_ACTION, request.user)
    messages.success(request, _("View “%(name)s” updated to this listing.") % {"name": view.name})
    return _open(request, view)


class SavedViewEditView(WagtailAdminTemplateMixin, FormView):
    """Rename, make private or share with chosen users and groups (owner only)."""

    form_class = EditViewForm
    template_name = "wagtail_customers/saved_views/edit.html"
    page_title = gettext_lazy("Edit saved view")
    header_icon = "view"
    http_method_names = ["get", "post"]

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.saved_view = saved_view_for(request, kwargs["pk"], owner_only=True)

    def get_page_subtitle(self):
        return self.saved_view.name

    def get_breadcrumbs_items(self):
        return _breadcrumbs({"url": "", "label": self.saved_view.name})

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.saved_view}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["action_url"] = reverse("wagtail_customers_saved_views:edit", args=(self.saved_view.pk,))
        context["saved_view"] = self.saved_view
        return context

    def form_valid(self, form):
        if not _save_named(form, form.save):
            # The page's title and breadcrumbs keep the name the view has.
            self.saved_view.refresh_from_db(fields=["name", "name_key"])
            return self.form_invalid(form)
        view = form.instance
        log_view(view, CHANGE_ACTION, self.request.user)
        messages.success(self.request, _("View “%(name)s” saved.") % {"name": view.name})
        return redirect(INDEX_URL)


class SavedViewDeleteView(WagtailAdminTemplateMixin, TemplateView):
    """A confirmation page (GET), then the deletion (POST); owner only."""

    template_name = "wagtail_customers/saved_views/confirm_delete.html"
    page_title = gettext_lazy("Delete saved view")
    header_icon = "bin"
    http_method_names = ["get", "post"]

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.saved_view = saved_view_for(request, kwargs["pk"], owner_only=True)

    def get_page_subtitle(self):
        return self.saved_view.name

    def get_breadcrumbs_items(self):
        return _breadcrumbs({"url": "", "label": self.saved_view.name})

    def post(self, request, *args, **kwargs):
        view = self.saved_view
        name = view.name
        # Logged first: the entry keeps the view's id and label.
        log_view(view, DELETE_ACTION, request.user)
        view.delete()
        messages.success(request, _("View “%(name)s” deleted.") % {"name": name})
        return redirect(INDEX_URL)
