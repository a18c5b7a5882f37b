"""Collect each shop's tests only under that shop's settings.

``tests.settings`` (the main suite) has neither shop installed, and each shop has its own virtualenv:
``pytest --ds=tests.contrib.salesman_settings tests/contrib`` collects tests/contrib/salesman only.
"""

import os

SHOPS = {"salesman": "tests.contrib.salesman_settings", "oscar": "tests.contrib.oscar_settings"}

collect_ignore = ["salesman_shop"] + [
    shop for shop, settings in SHOPS.items() if os.environ.get("DJANGO_SETTINGS_MODULE") != settings
]
