"""The in-site shop apps on a site without their shop: a clear error while starting, saying what to install.

Neither django-salesman nor django-oscar is installed in the main test environment (their passes have their own,
tests/contrib/); a site that added ``wagtail_customers.contrib.salesman`` alone got a bare ModuleNotFoundError.
"""

import importlib
import importlib.util

import pytest
from django.core.exceptions import ImproperlyConfigured

from wagtail_customers.contrib.oscar.apps import OscarSourceConfig
from wagtail_customers.contrib.salesman.apps import SalesmanSourceConfig


@pytest.mark.parametrize(
    ("config_class", "shop", "install"),
    [
        (SalesmanSourceConfig, "salesman", 'pip install "wagtail-customers[salesman]"'),
        (OscarSourceConfig, "oscar", 'pip install "wagtail-customers[oscar]"'),
    ],
)
def test_starting_without_the_shop_says_what_to_install(config_class, shop, install):
    if importlib.util.find_spec(shop) is not None:
        pytest.skip(f"{shop} is installed here (its own pass tests the app with it)")
    config = config_class(config_class.name, importlib.import_module(config_class.name))

    with pytest.raises(ImproperlyConfigured) as raised:
        config.ready()

    assert config_class.name in str(raised.value) and install in str(raised.value)
