# A customer's orders newest first, with every column their statistics sum (models/orders.py): the statistics
# aggregate reads this index alone. Not atomic: PostgreSQL builds it CONCURRENTLY, which it refuses in a
# transaction, so the orders stay writable meanwhile. 0032 then drops the index this one replaces.

from django.db import migrations, models

from wagtail_customers.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wagtail_customers", "0030_order_figures_missing_index"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="order",
            index=models.Index(
                fields=[
                    "customer",
                    "-placed_at",
                    "-id",
                    "status",
                    "account_total",
                    "account_refunded",
                    "account_discount",
                    "units",
                    "returned_units",
                    "promo_codes_count",
                    "feedback_rating",
                ],
                name="wc_order_customer_figures",
            ),
        ),
    ]
