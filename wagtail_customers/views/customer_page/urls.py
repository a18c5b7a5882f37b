"""The customer page and the order page (namespace ``wagtail_customers_customer``)."""

from django.urls import path

from . import views

app_name = "wagtail_customers_customer"
urlpatterns = [
    path("<int:pk>/", views.customer_detail, name="detail"),
]
