"""wagtail-modeladmin integration: a "Customer" column (link to the customer page, and the watchlist
eye) for any ``ModelAdmin`` listing of a shop's orders. See ``CustomerColumnMixin``.

This sub-package is the only place that may import ``wagtail_modeladmin``.
"""

from .mixins import CustomerColumn, CustomerColumnMixin

__all__ = ["CustomerColumn", "CustomerColumnMixin"]
