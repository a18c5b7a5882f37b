"""django-oscar integration: the shop's orders flow into a seller account as they are placed and updated.

Add ``"wagtail_customers.contrib.oscar"`` to ``INSTALLED_APPS`` (after Oscar's apps) and name the seller
account in ``WAGTAIL_CUSTOMERS["OSCAR_SELLER_ACCOUNT"]``; ``manage.py customers_oscar_backfill`` imports the
orders placed before. See docs/howto/in-site-shops.md.

This sub-package is the only place that imports ``oscar``.
"""
