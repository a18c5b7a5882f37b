"""Per-object permission checks for the plugin's Wagtail views.

Wagtail's generic views check the model-level permission only: an edit, delete, inspect or history
view answers for any id in the URL. The mixins here add the per-object rules of ``permissions.py``:

* listings show only the rows of the seller accounts the user may view (and a spreadsheet export
  from a listing needs the export action, and exports only those accounts' rows);
* an object outside what the user may view answers 404; one they may view but not act on, 403;
* a form may only pick related rows the user may view, and may only save a row the user may act on.

``ScopedViewSetMixin`` applies all of that to every view a ``ModelViewSet`` / ``SnippetViewSet``
builds, and turns ``PermissionDenied`` into a real 403 page (Wagtail's own answer is a redirect to the
dashboard with a message). Put it first in the viewset's bases::

    class CustomerViewSet(ScopedViewSetMixin, ModelViewSet): ...
"""

from functools import update_wrapper, wraps

from django.core.exceptions import PermissionDenied
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from wagtail.utils.urlpatterns import decorate_urlpatterns

from ..compat import PermissionPolicyViewSetMixin, get_permission_policy
from ..permissions import account_path, scope

ERROR_TEMPLATE = "wagtail_customers/permission_denied.html"


def permission_denied_response(request, message=None):
    """The plugin's 403 page, inside the Wagtail admin's layout."""
    return TemplateResponse(
        request,
        ERROR_TEMPLATE,
        {"page_title": _("Permission denied"), "message": message or _("You do not have permission to do this.")},
        status=403,
    )


def permission_denied_as_403(view_func):
    """Answer ``PermissionDenied`` with a 403 page instead of Wagtail's redirect to the dashboard."""

    @wraps(view_func)
    def wrapped(request, *args, **kwargs):
        try:
            return view_func(request, *args, **kwargs)
        except PermissionDenied as denied:
            message = str(denied) or None
            return permission_denied_response(request, message)

    return wrapped


def forbid_as_403(urlpatterns):
    """Apply :func:`permission_denied_as_403` to every view of a URL list (for hand-written URL modules)."""
    return decorate_urlpatterns(urlpatterns, permission_denied_as_403)


class ScopedViewMixin:
    """Adds the per-object checks to a Wagtail generic view (list, create, edit, delete, inspect, history…)."""

    #: The Wagtail action a listing filters its rows by.
    listing_action = "view"

    @property
    def scoping_policy(self):
        return get_permission_policy(self.model)

    # Listings --------------------------------------------------------------------------------

    def _scope_listing(self, queryset):
        if queryset is None or getattr(queryset, "model", None) is not self.model:
            return queryset
        if getattr(self, "is_export", False):
            # A spreadsheet from a listing is an export: it needs the export action, on those accounts.
            if not self.scoping_policy.user_has_permission(self.request.user, "export"):
                raise PermissionDenied
            return self.scoping_policy.filter_queryset(self.request.user, ["export"], queryset)
        return self.scoping_policy.filter_queryset(self.request.user, [self.listing_action], queryset)

    def get_base_queryset(self):
        return self._scope_listing(super().get_base_queryset())

    def get_object_list(self):
        # Chooser views.
        return self._scope_listing(super().get_object_list())

    # Single objects ----------------------------------------------------------------------------

    def check_object(self, obj):
        """404 unless the user may view ``obj``; 403 unless they may do this view's action on it."""
        if obj is None or getattr(self, "_wc_checked_object", None) is obj:
            return obj
        user = self.request.user
        policy = get_permission_policy(type(obj))
        if not policy.user_has_any_permission_for_instance(user, ["view", "add", "change", "delete"], obj):
            raise Http404
        required = getattr(self, "permission_required", None)
        if required and not policy.user_has_permission_for_instance(user, required, obj):
            raise PermissionDenied
        any_required = getattr(self, "any_permission_required", None)
        if any_required and not policy.user_has_any_permission_for_instance(user, any_required, obj):
            raise PermissionDenied
        self._wc_checked_object = obj
        return obj

    def get_object(self, *args, **kwargs):
        return self.check_object(super().get_object(*args, **kwargs))

    # Forms -------------------------------------------------------------------------------------

    def get_form(self, *args, **kwargs):
        form = super().get_form(*args, **kwargs)
        for field in form.fields.values():
            if isinstance(field, ModelChoiceField | ModelMultipleChoiceField) and field.queryset is not None:
                if account_path(field.queryset.model) is not None:
                    field.queryset = scope(field.queryset, self.request.user)
        return form

    def form_valid(self, form):
        action = getattr(self, "permission_required", None)
        instance = getattr(form, "instance", None)
        if action in ("add", "change") and instance is not None and account_path(type(instance)) is not None:
            if not self.scoping_policy.user_has_permission_for_instance(self.request.user, action, instance):
                form.add_error(None, _("You may not do this for this seller account."))
                return self.form_invalid(form)
        return super().form_valid(form)


def scoped_view_class(view_class):
    """``view_class`` with :class:`ScopedViewMixin` in front (once)."""
    if issubclass(view_class, ScopedViewMixin):
        return view_class
    scoped = type(f"Scoped{view_class.__name__}", (ScopedViewMixin, view_class), {})
    scoped.__module__ = view_class.__module__
    scoped.__qualname__ = f"Scoped{view_class.__qualname__}"
    return scoped


class ScopedViewSetMixin(PermissionPolicyViewSetMixin):
    """For the plugin's ModelViewSets and SnippetViewSets: every view scoped, every refusal a 403."""

    def construct_view(self, view_class, **kwargs):
        view = super().construct_view(scoped_view_class(view_class), **kwargs)
        return update_wrapper(permission_denied_as_403(view), view)
