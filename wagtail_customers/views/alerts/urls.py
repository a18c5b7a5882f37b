"""URLs of the alerts list (namespace ``wagtail_customers_alerts``), under ``customers/alerts/``.

Open to every user who may view some seller account's customers; each sees and marks only their own alerts."""

from django.urls import path

from ..scoping import forbid_as_403
from . import views

app_name = "wagtail_customers_alerts"
urlpatterns = forbid_as_403(
    [
        path("", views.AlertListView.as_view(), name="index"),
        path("read/", views.mark_read, name="mark_read"),
        path("read-all/", views.mark_all_read, name="mark_all_read"),
    ]
)
