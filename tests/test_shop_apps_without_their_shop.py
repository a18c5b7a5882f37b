"""The in-site shop apps on a site without their shop: a clear error while starting, saying what to install.

A site that added ``wagtail_customers.contrib.salesman`` alone got a bare ModuleNotFoundError. The shop is taken
away the way Python itself allows: ``None`` in ``sys.modules`` makes its import fail as a missing module does, so the
test runs the same whether or not the shop is installed here (the contrib passes install it).
"""

import importlib
import sys

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
def test_starting_without_the_shop_says_what_to_install(monkeypatch, config_class, shop, install):
    monkeypatch.setitem(sys.modules, shop, None)
    config = config_class(config_class.name, importlib.import_module(config_class.name))

    with pytest.raises(ImproperlyConfigured) as raised:
        config.ready()

    assert config_class.name in str(raised.value) and install in str(raised.value)


def test_the_salesman_app_says_which_django_the_shop_installs_beside(monkeypatch):
    monkeypatch.setitem(sys.modules, "salesman", None)
    config = SalesmanSourceConfig(SalesmanSourceConfig.name, importlib.import_module(SalesmanSourceConfig.name))
    with pytest.raises(ImproperlyConfigured, match=r"installs only beside Django 5\.x \(it declares Django<6\.0\)"):
        config.ready()
