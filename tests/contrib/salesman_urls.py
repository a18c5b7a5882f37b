from django.urls import include, path
from example_project.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("api/", include("salesman.urls")), *site_urlpatterns]
