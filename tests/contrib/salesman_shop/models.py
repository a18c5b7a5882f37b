"""A product as salesman's ``Product`` protocol wants it: id, name, code and get_price(request)."""

from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    code = models.CharField(max_length=40, unique=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        app_label = "salesman_shop"

    def __str__(self):
        return self.name

    def get_price(self, request):
        return self.price
