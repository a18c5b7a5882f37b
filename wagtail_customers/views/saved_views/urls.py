"""URLs of the saved views (namespace ``wagtail_customers_saved_views``), under ``customers/saved-views/``."""

from django.urls import path

from ..scoping import forbid_as_403
from . import menu, views

app_name = "wagtail_customers_saved_views"
urlpatterns = forbid_as_403(
    [
        path("", views.SavedViewIndexView.as_view(), name="index"),
        path("new/", views.create_view, name="create"),
        path("menu/", menu.saved_views_menu, name="menu"),
        path("<int:pk>/", views.open_view, name="open"),
        path("<int:pk>/edit/", views.SavedViewEditView.as_view(), name="edit"),
        path("<int:pk>/update/", views.update_view, name="update"),
        path("<int:pk>/delete/", views.SavedViewDeleteView.as_view(), name="delete"),
    ]
)
