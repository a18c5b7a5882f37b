"""System check of the Oscar integration (``wagtail_customers.E071``)."""

from django.core.checks import Tags, register

from ..shops import check_seller_account_setting


@register(Tags.compatibility, Tags.database)
def check_oscar_seller_account(app_configs=None, databases=None, **kwargs):
    """``OSCAR_SELLER_ACCOUNT`` is set and, when the check may use the database, names an account."""
    return check_seller_account_setting("OSCAR_SELLER_ACCOUNT", "wagtail_customers.E071", "Oscar", databases)
