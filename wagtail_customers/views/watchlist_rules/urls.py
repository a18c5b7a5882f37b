"""URLs of the watchlist rules (namespace ``wagtail_customers_watchlist_rules``).

Under ``customers/watchlist-rules/`` (wagtail_hooks.py)."""

from django.urls import path

from . import views

app_name = "wagtail_customers_watchlist_rules"
urlpatterns = [
    path("", views.RuleIndexView.as_view(), name="index"),
    path("add/", views.RuleFormView.as_view(), name="add"),
    path("<str:pk>/", views.RuleFormView.as_view(), name="edit"),
    path("<str:pk>/delete/", views.RuleDeleteView.as_view(), name="delete"),
    path("<str:pk>/enabled/", views.RuleSetEnabledView.as_view(), name="set_enabled"),
    path("<str:pk>/run/", views.RuleRunView.as_view(), name="run"),
]
