"""The customer page, the order page and e-mailing the customer (namespace ``wagtail_customers_customer``).

Mounted under ``customers/`` beside the customers viewset, whose own URLs (``edit/``, ``delete/``...)
do not clash with these.
"""

from django.urls import path

from ..scoping import forbid_as_403
from .access_request import download_personal_data
from .customer import CustomerDetailView
from .email import EmailCustomerView
from .merge import MergeCustomersView, UndoMergeView
from .order import OrderDetailView

app_name = "wagtail_customers_customer"
# A user who may see a customer but not e-mail them gets a real 403, not Wagtail's dashboard redirect.
urlpatterns = forbid_as_403(
    [
        path("<int:pk>/", CustomerDetailView.as_view(), name="detail"),
        path("<int:pk>/email/", EmailCustomerView.as_view(), name="email"),
        path("<int:pk>/personal-data/", download_personal_data, name="personal_data"),
        path("<int:pk>/merge/", MergeCustomersView.as_view(), name="merge"),
        path("<int:pk>/merge/undo/", UndoMergeView.as_view(), name="merge_undo"),
        path("orders/<int:pk>/", OrderDetailView.as_view(), name="order"),
    ]
)
