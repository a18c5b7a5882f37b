from django.urls import path

from ..scoping import forbid_as_403
from . import views

app_name = "wagtail_customers_sharing"
urlpatterns = forbid_as_403(
    [
        path("", views.SharingIndexView.as_view(), name="index"),
        path("results/", views.SharingIndexView.as_view(results_only=True), name="index_results"),
        path("new/", views.ShareView.as_view(), name="share"),
        path("users/", views.user_search, name="users"),
        path("<int:pk>/", views.ChangeView.as_view(), name="change"),
        path("<int:pk>/revoke/", views.RevokeView.as_view(), name="revoke"),
    ]
)
