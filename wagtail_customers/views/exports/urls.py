"""URLs of the exports (namespace ``wagtail_customers_exports``), under ``/admin/customers/exports/``."""

from django.urls import path

from . import jobs, start

app_name = "wagtail_customers_exports"
urlpatterns = [
    path("", jobs.ExportJobIndexView.as_view(), name="index"),
    path("start/", start.start_export_view, name="start"),
    path("<uuid:job_id>/status/", jobs.job_status, name="status"),
    path("<uuid:job_id>/download/", jobs.download, name="download"),
    path("customer/<int:pk>/", start.customer_orders, name="customer_orders"),
]
