"""django-salesman integration: the shop's orders flow into a seller account as they are placed and updated.

Add ``"wagtail_customers.contrib.salesman"`` to ``INSTALLED_APPS`` (after salesman's apps) and name the seller
account in ``WAGTAIL_CUSTOMERS["SALESMAN_SELLER_ACCOUNT"]``; ``manage.py customers_salesman_backfill`` imports
the orders placed before. See docs/howto/in-site-shops.md.

This sub-package is the only place that imports ``salesman``.
"""
