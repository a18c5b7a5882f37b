from django.apps import AppConfig


class SalesmanShopConfig(AppConfig):
    name = "tests.contrib.salesman_shop"
    label = "salesman_shop"
    default_auto_field = "django.db.models.BigAutoField"
