"""The example site's own little shop. Its orders flow into the customers ledger (see ledger.py)."""

from decimal import Decimal

from django.db import models
from django.utils import timezone
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel


class ShopOrder(ClusterableModel):
    STATUS_CHOICES = [
        ("pending", "Pending"),
        ("paid", "Paid"),
        ("shipped", "Shipped"),
        ("delivered", "Delivered"),
        ("cancelled", "Cancelled"),
        ("refunded", "Refunded"),
    ]

    number = models.CharField(max_length=30, unique=True)
    placed_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default="paid")
    customer_name = models.CharField(max_length=200)
    customer_email = models.EmailField()
    address = models.CharField(max_length=255, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=60, blank=True)
    shipping = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    promo_code = models.CharField(max_length=50, blank=True)
    discount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))

    panels = [
        MultiFieldPanel([FieldPanel("number"), FieldPanel("placed_at"), FieldPanel("status")], heading="Order"),
        MultiFieldPanel(
            [
                FieldPanel("customer_name"),
                FieldPanel("customer_email"),
                FieldPanel("address"),
                FieldPanel("postal_code"),
                FieldPanel("city"),
                FieldPanel("country"),
            ],
            heading="Customer",
        ),
        MultiFieldPanel([FieldPanel("shipping"), FieldPanel("promo_code"), FieldPanel("discount")], heading="Amounts"),
        InlinePanel("lines", label="Lines", min_num=1),
    ]

    class Meta:
        ordering = ["-placed_at"]

    def __str__(self):
        return self.number


class ShopOrderLine(models.Model):
    order = ParentalKey(ShopOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.CharField(max_length=200)
    sku = models.CharField(max_length=50, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    panels = [FieldPanel("product"), FieldPanel("sku"), FieldPanel("quantity"), FieldPanel("unit_price")]

    def __str__(self):
        return f"{self.quantity} x {self.product}"
