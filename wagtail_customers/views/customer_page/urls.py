"""The customer page, the order page and e-mailing the customer (namespace ``wagtail_customers_customer``).

Mounted under ``customers/`` beside the customers viewset, whose own URLs (``edit/``, ``delete/``...)
do not clash with these.
"""

from django.urls import path

from .customer import CustomerDetailView
from .email import EmailCustomerView
from .order import OrderDetailView

app_name = "wagtail_customers_customer"
urlpatterns = [
    path("<int:pk>/", CustomerDetailView.as_view(), name="detail"),
    path("<int:pk>/email/", EmailCustomerView.as_view(), name="email"),
    path("orders/<int:pk>/", OrderDetailView.as_view(), name="order"),
]
