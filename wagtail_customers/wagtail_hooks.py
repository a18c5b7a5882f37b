"""Registration only: every view, menu item and permission the plugin adds to the Wagtail admin."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.snippets.models import register_snippet

from .alerts.preferences import AlertSettingsPanel
from .exports.notices import add_finished_job_notices
from .log_actions import register_customer_log_actions
from .menu import CUSTOMERS_MENU_HOOK, CustomersMenuItem, customers_menu_item
from .permission_policies import register_permission_policies
from .permissions import Action, plugin_permissions
from .views.alerts import urls as alert_urls
from .views.alerts.menu import alerts_menu_item
from .views.alerts.panels import add_unread_alerts_panel
from .views.connections import urls as connection_urls
from .views.connections.panels import add_failing_connections_panel
from .views.customer_page import urls as customer_page_urls
from .views.exports import urls as export_urls
from .views.imports import urls as import_urls
from .views.listing.accounts import seller_account_viewset
from .views.listing.menu_items import seller_accounts_menu_item
from .views.listing.viewset import customer_viewset
from .views.listing.watchlist_snippet import WatchlistEntryBulkDeleteAction, watchlist_entry_viewset
from .views.methods import refuse_unoffered_methods
from .views.retention import urls as retention_urls
from .views.saved_views import urls as saved_view_urls
from .views.sharing import urls as sharing_urls
from .views.watchlist_rules import urls as watchlist_rule_urls

# Also here (not only in AppConfig.ready()): on sites that list wagtail.snippets before this app, Wagtail
# loads this module, and registers snippets, before this app's ready() runs.
register_permission_policies()


@hooks.register("register_admin_menu_item")
def register_customers_menu():
    return customers_menu_item()


@hooks.register("register_admin_viewset")
def register_customer_viewset():
    return customer_viewset


@hooks.register("register_admin_viewset")
def register_seller_account_viewset():
    return seller_account_viewset


@hooks.register("register_icons")
def register_listing_icons(icons):
    return icons + ["wagtail_customers/icons/wc-eye-outline.svg"]


# The snippet's bulk delete, scoped and recorded like a removal with the eye; ``order`` puts it
# after (so in place of) Wagtail's own snippet delete action for this model.
hooks.register("register_bulk_action", WatchlistEntryBulkDeleteAction, order=100)
# In the Customers menu only (the viewset's ``menu_hook``), so Wagtail's Snippets menu does not list it.
register_snippet(watchlist_entry_viewset)


@hooks.register(CUSTOMERS_MENU_HOOK)
def register_seller_accounts_menu_item():
    return seller_accounts_menu_item()


@hooks.register(CUSTOMERS_MENU_HOOK)
def register_customers_listing_menu_item():
    return CustomersMenuItem(
        _("Customers"), reverse("wagtail_customers:index"), action=Action.VIEW, icon_name="group", order=100
    )


@hooks.register("register_admin_urls")
def register_customer_page_urls():
    return refuse_unoffered_methods([path("customers/", include(customer_page_urls))])


@hooks.register("register_admin_urls")
def register_sharing_urls():
    return refuse_unoffered_methods([path("customers/sharing/", include(sharing_urls))])


@hooks.register(CUSTOMERS_MENU_HOOK)
def register_sharing_menu_item():
    return CustomersMenuItem(
        _("Sharing"), reverse("wagtail_customers_sharing:index"), action=Action.SHARE, icon_name="key", order=900
    )


@hooks.register("register_admin_urls")
def register_export_urls():
    return refuse_unoffered_methods([path("customers/exports/", include(export_urls))])


@hooks.register(CUSTOMERS_MENU_HOOK)
def register_exports_menu_item():
    return CustomersMenuItem(
        _("Exports"), reverse("wagtail_customers_exports:index"), action=Action.EXPORT, icon_name="download", order=400
    )


# A finished export job's notice appears on the user's next admin page.
hooks.register("construct_main_menu", add_finished_job_notices)


@hooks.register("register_admin_urls")
def register_import_urls():
    return refuse_unoffered_methods([path("customers/import/", include(import_urls))])


@hooks.register(CUSTOMERS_MENU_HOOK)
def register_import_menu_item():
    return CustomersMenuItem(
        _("Import orders"),
        reverse("wagtail_customers_imports:index"),
        action=Action.IMPORT,
        icon_name="upload",
        order=500,
    )


@hooks.register("register_admin_urls")
def register_connection_urls():
    return refuse_unoffered_methods([path("customers/connections/", include(connection_urls))])


# Failing store connections, on the dashboard of users who may manage seller accounts.
hooks.register("construct_homepage_panels", add_failing_connections_panel)


@hooks.register("register_admin_urls")
def register_retention_urls():
    return refuse_unoffered_methods([path("customers/retention/", include(retention_urls))])


@hooks.register("register_admin_urls")
def register_watchlist_rule_urls():
    return refuse_unoffered_methods([path("customers/watchlist-rules/", include(watchlist_rule_urls))])


@hooks.register(CUSTOMERS_MENU_HOOK)
def register_watchlist_rules_menu_item():
    return CustomersMenuItem(
        _("Watchlist rules"),
        reverse("wagtail_customers_watchlist_rules:index"),
        action=Action.MANAGE_WATCHLIST,
        icon_name="cogs",
        order=350,
    )


@hooks.register("register_log_actions")
def register_log_actions(actions):
    register_customer_log_actions(actions)


@hooks.register("register_permissions")
def register_customer_permissions():
    return plugin_permissions()


@hooks.register("register_admin_urls")
def register_saved_view_urls():
    return refuse_unoffered_methods([path("customers/saved-views/", include(saved_view_urls))])


@hooks.register(CUSTOMERS_MENU_HOOK)
def register_saved_views_menu_item():
    return CustomersMenuItem(
        _("Saved views"),
        reverse("wagtail_customers_saved_views:index"),
        action=Action.VIEW,
        icon_name="view",
        order=150,
    )


@hooks.register("register_admin_urls")
def register_alert_urls():
    return refuse_unoffered_methods([path("customers/alerts/", include(alert_urls))])


# "Alerts" with the number of unread alerts, in the Customers menu of users who may view some account.
@hooks.register(CUSTOMERS_MENU_HOOK)
def register_alerts_menu_item():
    return alerts_menu_item()


# The latest unread alerts on the dashboard, when there are any.
hooks.register("construct_homepage_panels", add_unread_alerts_panel)


# Alert preferences in the user's account settings (Notifications tab).
@hooks.register("register_account_settings_panel")
def register_alert_settings_panel(request, user, profile):
    return AlertSettingsPanel(request, user, profile)
