"""URLs of the watchlist rules (namespace ``wagtail_customers_watchlist_rules``).

Under ``customers/watchlist-rules/`` (wagtail_hooks.py). A refusal is the plugin's 403 page."""

from django.urls import path

from ..scoping import forbid_as_403
from . import views

app_name = "wagtail_customers_watchlist_rules"
urlpatterns = forbid_as_403(
    [
        path("", views.RuleIndexView.as_view(), name="index"),
        path("add/", views.RuleFormView.as_view(), name="add"),
        path("<str:pk>/", views.RuleFormView.as_view(), name="edit"),
        path("<str:pk>/delete/", views.RuleDeleteView.as_view(), name="delete"),
        path("<str:pk>/enabled/", views.RuleSetEnabledView.as_view(), name="set_enabled"),
        path("<str:pk>/run/", views.RuleRunView.as_view(), name="run"),
    ]
)
