"""The plugin's public URLs, outside the Wagtail admin: the channels' webhook endpoint.

A site that connects stores with webhooks includes them in its ``urls.py`` (before Wagtail's catch-all)::

    path("customers-webhooks/", include("wagtail_customers.urls")),

Every admin page is registered through Wagtail's hooks and needs nothing here.
"""

from django.urls import path

from .views.connections.webhooks import receive_webhook

app_name = "wagtail_customers_webhooks"

urlpatterns = [
    path("<str:token>/", receive_webhook, name="receive"),
]
