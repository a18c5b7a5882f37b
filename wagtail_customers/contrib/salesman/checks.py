"""System check of the salesman integration (``wagtail_customers.E070``)."""

from django.core.checks import Tags, register

from ..shops import check_seller_account_setting


@register(Tags.compatibility, Tags.database)
def check_salesman_seller_account(app_configs=None, databases=None, **kwargs):
    """``SALESMAN_SELLER_ACCOUNT`` is set and, when the check may use the database, names an account."""
    return check_seller_account_setting("SALESMAN_SELLER_ACCOUNT", "wagtail_customers.E070", "salesman", databases)
