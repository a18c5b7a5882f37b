"""URLs of the Import screen (namespace ``wagtail_customers_imports``), under ``/admin/customers/import/``."""

from django.urls import path

from . import views

app_name = "wagtail_customers_imports"
urlpatterns = [
    path("", views.ImportView.as_view(), name="index"),
    path("template.csv", views.generic_template, name="template"),
    path("<uuid:job_id>/", views.ImportJobView.as_view(), name="job"),
    path("<uuid:job_id>/apply/", views.apply_import, name="apply"),
    path("<uuid:job_id>/cancel/", views.cancel_import, name="cancel"),
    path("<uuid:job_id>/status/", views.import_status, name="status"),
]
