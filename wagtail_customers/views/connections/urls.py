"""URLs of the Connection pages (namespace ``wagtail_customers_connections``), under ``customers/connections/``."""

from django.urls import path

from ..scoping import forbid_as_403
from . import views

app_name = "wagtail_customers_connections"
# A user who may not change seller accounts gets the plugin's 403 page (not Wagtail's redirect to the dashboard),
# before the account is looked up: the same answer for any id.
urlpatterns = forbid_as_403(
    [
        path("<str:account_id>/", views.ConnectionView.as_view(), name="connection"),
        path("<str:account_id>/test/", views.test_connection, name="test"),
        path("<str:account_id>/connect/", views.connect, name="connect"),
        path("<str:account_id>/sync/", views.sync_now, name="sync"),
        path("<str:account_id>/pause/", views.pause, name="pause"),
        path("<str:account_id>/resume/", views.resume, name="resume"),
    ]
)
