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

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import IntegerField
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from wagtail.utils.urlpatterns import decorate_urlpatterns

from ..compat import PermissionPolicyViewSetMixin, get_permission_policy
from ..ids import parse_id, parse_ids
from ..permissions import account_path, scope
from .methods import OfferedMethodsViewSetMixin

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
    """Adds the per-object checks to a Wagtail generic view (list, create, edit, delete, inspect, history,
    and the chooser's choose / chosen / create views)."""

    #: The Wagtail action a listing filters its rows by.
    listing_action = "view"
    ANY_ACTION = ("view", "add", "change", "delete")

    @property
    def scoped_model(self):
        # Chooser views may name their model with a string; ``model_class`` resolves it.
        return getattr(self, "model_class", None) or self.model

    @property
    def scoping_policy(self):
        return get_permission_policy(self.scoped_model)

    def dispatch(self, request, *args, **kwargs):
        # Views that declare no permission of their own (the chooser's) still need some access to the model.
        declares = getattr(self, "permission_required", None) or getattr(self, "any_permission_required", None)
        if not declares and not self.scoping_policy.user_has_any_permission(request.user, self.ANY_ACTION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    # Listings --------------------------------------------------------------------------------

    def _scope_listing(self, queryset):
        if queryset is None or getattr(queryset, "model", None) is not self.scoped_model:
            return queryset
        user = self.request.user
        if getattr(self, "is_export", False):
            # A spreadsheet from a listing is an export: it needs the export action, on those accounts.
            if not self.scoping_policy.user_has_permission(user, "export"):
                raise PermissionDenied
            return self.scoping_policy.filter_queryset(user, ["export"], queryset)
        return self.scoping_policy.filter_queryset(user, [self.listing_action], queryset)

    def get_base_queryset(self):
        return self._scope_listing(super().get_base_queryset())

    def get_object_list(self):
        # The chooser's listing.
        return self._scope_listing(super().get_object_list())

    def get_objects(self, pks):
        # The chooser's "chosen" answer for several objects; values that are not ids are never found.
        if self._has_integer_pk():
            pks = parse_ids(pks)
        return self._scope_listing(super().get_objects(pks))

    def _has_integer_pk(self):
        return isinstance(self.scoped_model._meta.pk, IntegerField)

    # Single objects ----------------------------------------------------------------------------

    def check_object(self, obj):
        """404 unless the user may view ``obj``; 403 unless they may do this view's action on it."""
        if obj is None or getattr(self, "_wc_checked_object", None) is obj:
            return obj
        user = self.request.user
        policy = get_permission_policy(type(obj))
        if not policy.user_has_any_permission_for_instance(user, self.ANY_ACTION, obj):
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
        # The chooser's "chosen" view passes the URL's ``<str:pk>`` as an argument, the others read kwargs.
        pk = args[0] if args and isinstance(args[0], str) else self.kwargs.get(getattr(self, "pk_url_kwarg", "pk"))
        if pk is not None and self._has_integer_pk() and parse_id(unquote(str(pk))) is None:
            raise Http404
        try:
            obj = super().get_object(*args, **kwargs)
        except PermissionDenied:
            # Some Wagtail views (copy) refuse inside get_object: outside the user's scope is still a 404.
            self.check_object(self._object_from_url())
            raise
        return self.check_object(obj)

    def _object_from_url(self):
        pk = self.kwargs.get(getattr(self, "pk_url_kwarg", "pk"))
        if pk is None:
            return None
        if self._has_integer_pk():
            pk = parse_id(unquote(str(pk)))
            if pk is None:
                return None
        try:
            return self.scoped_model._default_manager.filter(pk=unquote(str(pk))).first()
        except (ValueError, ValidationError):
            return None

    # Forms -------------------------------------------------------------------------------------

    def _scope_form(self, form):
        if form is None:
            return form
        for form_field in form.fields.values():
            if isinstance(form_field, ModelChoiceField | ModelMultipleChoiceField) and form_field.queryset is not None:
                if account_path(form_field.queryset.model) is not None:
                    form_field.queryset = scope(form_field.queryset, self.request.user)
        return form

    def _may_save(self, action, instance):
        if action not in ("add", "change") or instance is None or account_path(type(instance)) is None:
            return True
        return self.scoping_policy.user_has_permission_for_instance(self.request.user, action, instance)

    def get_form(self, *args, **kwargs):
        return self._scope_form(super().get_form(*args, **kwargs))

    def _refuse_save(self, form):
        """Add the refusal to the form when the user may not save its row; True when refused."""
        if self._may_save(getattr(self, "permission_required", None), getattr(form, "instance", None)):
            return False
        message = _("You may not do this for this seller account.")
        form.add_error(None, message)
        self.produced_error_code = "validation_error"
        self.produced_error_message = message
        return True

    def is_valid(self, form):
        # Wagtail's create and edit views validate here before saving.
        return super().is_valid(form) and not self._refuse_save(form)

    def form_valid(self, form):
        # Views without an ``is_valid`` step.
        if self._refuse_save(form):
            return self.form_invalid(form)
        return super().form_valid(form)

    def get_creation_form(self):
        # The chooser's "create" tab.
        return self._scope_form(super().get_creation_form())

    def save_form(self, form):
        if not self._may_save("add", getattr(form, "instance", None)):
            raise PermissionDenied
        return super().save_form(form)


def scoped_view_class(view_class, model=None):
    """``view_class`` with :class:`ScopedViewMixin` in front (once); ``model`` for views that name none."""
    if issubclass(view_class, ScopedViewMixin):
        return view_class
    attrs = {} if getattr(view_class, "model", None) is not None or model is None else {"model": model}
    scoped = type(f"Scoped{view_class.__name__}", (ScopedViewMixin, view_class), attrs)
    scoped.__module__ = view_class.__module__
    scoped.__qualname__ = f"Scoped{view_class.__qualname__}"
    return scoped


class ScopedViewSetMixin(OfferedMethodsViewSetMixin, PermissionPolicyViewSetMixin):
    """For the plugin's ModelViewSets and SnippetViewSets: every view scoped (their choosers' too), every
    refusal a 403, and PUT, PATCH and DELETE answered 405."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        chooser_class = getattr(self, "chooser_viewset_class", None)
        if chooser_class is not None and not issubclass(chooser_class, ScopedViewSetMixin):
            self.chooser_viewset_class = type(
                f"Scoped{chooser_class.__name__}", (ScopedViewSetMixin, chooser_class), {}
            )

    def construct_view(self, view_class, **kwargs):
        view = super().construct_view(scoped_view_class(view_class, getattr(self, "model", None)), **kwargs)
        return update_wrapper(permission_denied_as_403(view), view)
