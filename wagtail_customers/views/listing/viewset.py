"""The Customers viewset (namespace ``wagtail_customers``, URLs under ``/admin/customers/``).

A ``ModelViewSet`` for registration, the customer permissions shown in Settings > Groups and the
admin URL finder; its URLs are the listing's own: one ``CustomerIndexView`` (page and results
refresh) per tab, the watchlist eye, delete, bulk actions, the deferred statistics band and country
choices, and the saved preferences.
"""

from django.contrib.auth.models import Permission
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.viewsets.model import ModelViewSet

from ...listing import TABS
from ...models import Customer
from ...permissions import Action, customers_for
from ..methods import OfferedMethodsViewSetMixin
from . import preferences
from .bulk import CustomerBulkActionView
from .column_picker import column_picker
from .country_choices import country_choices_view
from .delete import CustomerDeleteView
from .erase import CustomerEraseView
from .filters_drawer import filters_drawer
from .index import CustomerIndexView
from .statistics import statistics_band
from .watchlist import watchlist_toggle


class CustomerURLFinder(ModelAdminURLFinder):
    """Links to a customer (site history, search) go to the customer page, for users who may view it."""

    def construct_edit_url(self, instance):
        return reverse("wagtail_customers_customer:detail", args=(instance.pk,))

    def get_edit_url(self, instance):
        if self.user is None or customers_for(self.user, Action.VIEW).filter(pk=instance.pk).exists():
            return self.construct_edit_url(instance)
        return None


UNUSED_URL_NAMES = (
    "add_url_name",
    "edit_url_name",
    "delete_url_name",
    "history_url_name",
    "usage_url_name",
    "copy_url_name",
    "inspect_url_name",
)


def results_url_name(tab):
    return "index_results" if tab.url_name == "index" else f"{tab.url_name}_results"


class CustomerListingViewSet(OfferedMethodsViewSetMixin, ModelViewSet):
    model = Customer
    icon = "group"
    menu_label = _("Customers")
    add_to_admin_menu = False
    url_prefix = "customers"
    name = "wagtail_customers"
    inspect_view_enabled = False
    copy_view_enabled = False
    add_to_reference_index = False
    url_finder_class = CustomerURLFinder

    def get_permissions_to_register(self):
        # The plugin registers its own permissions (one per action, see permissions.plugin_permissions);
        # "add" and "change" customer would mean nothing here (customers come from orders).
        return Permission.objects.none()

    def get_common_view_kwargs(self, **kwargs):
        view_kwargs = super().get_common_view_kwargs(**kwargs)
        # None of the generic add / edit / history... views exist here (customers come from orders).
        for name in UNUSED_URL_NAMES:
            view_kwargs[name] = None
        return view_kwargs

    def tab_view(self, tab, results_only=False):
        return self.construct_view(
            CustomerIndexView,
            tab=tab,
            model=Customer,
            index_url_name=self.get_url_name(tab.url_name),
            index_results_url_name=self.get_url_name(results_url_name(tab)),
            results_only=results_only,
            header_icon=self.icon,
        )

    def get_urlpatterns(self):
        urlpatterns = []
        for tab in TABS:
            prefix = "" if tab.url_name == "index" else f"{tab.slug}/"
            urlpatterns += [
                path(prefix, self.tab_view(tab), name=tab.url_name),
                path(f"{prefix}results/", self.tab_view(tab, results_only=True), name=results_url_name(tab)),
            ]
        return urlpatterns + [
            path("<int:pk>/watchlist/", watchlist_toggle, name="watchlist_toggle"),
            path("<int:pk>/delete/", CustomerDeleteView.as_view(), name="delete"),
            path("<int:pk>/erase/", CustomerEraseView.as_view(), name="erase"),
            path("bulk/<slug:tab>/<slug:action>/", CustomerBulkActionView.as_view(), name="bulk_action"),
            path("statistics/<slug:tab>/", statistics_band, name="statistics"),
            path("countries/<slug:tab>/", country_choices_view, name="country_choices"),
            path("filters/<slug:tab>/", filters_drawer, name="filters_drawer"),
            path("preferences/columns/", preferences.save_columns, name="save_columns"),
            path("preferences/columns/form/", column_picker, name="column_picker"),
            path("preferences/columns/reset/", preferences.reset_columns, name="reset_columns"),
            path("preferences/per-page/", preferences.save_per_page, name="save_per_page"),
            path("preferences/accounts/", preferences.save_accounts, name="save_accounts"),
        ]


customer_viewset = CustomerListingViewSet()
