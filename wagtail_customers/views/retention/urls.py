"""URLs of the retention rule pages (namespace ``wagtail_customers_retention``), under ``customers/retention/``.

A refusal is the plugin's 403 page, as on the seller account's own pages."""

from django.urls import path

from ..scoping import forbid_as_403
from . import views

app_name = "wagtail_customers_retention"
urlpatterns = forbid_as_403(
    [
        path("<str:account_id>/", views.RetentionRuleView.as_view(), name="rule"),
    ]
)
