"""URLs of the Connection pages (namespace ``wagtail_customers_connections``), under ``customers/connections/``."""

from django.urls import path

from . import views

app_name = "wagtail_customers_connections"
urlpatterns = [
    path("<str:account_id>/", views.ConnectionView.as_view(), name="connection"),
    path("<str:account_id>/test/", views.test_connection, name="test"),
    path("<str:account_id>/connect/", views.connect, name="connect"),
    path("<str:account_id>/sync/", views.sync_now, name="sync"),
    path("<str:account_id>/pause/", views.pause, name="pause"),
    path("<str:account_id>/resume/", views.resume, name="resume"),
]
