"""URLs of the retention rule pages (namespace ``wagtail_customers_retention``), under ``customers/retention/``.

Refusals are Wagtail's (a redirect to the dashboard with a message), as on the seller account's own pages."""

from django.urls import path

from . import views

app_name = "wagtail_customers_retention"
urlpatterns = [
    path("<str:account_id>/", views.RetentionRuleView.as_view(), name="rule"),
]
