"""Registration only: every view, menu item and permission the plugin adds to the Wagtail admin."""

from wagtail import hooks

from .views.customers import customer_viewset


@hooks.register("register_admin_viewset")
def register_customer_viewset():
    return customer_viewset
