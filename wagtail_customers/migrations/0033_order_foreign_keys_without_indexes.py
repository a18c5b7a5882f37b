# The orders' foreign keys lose their own indexes, which the indexes of (account, order id) and of a customer's
# orders (0031) lead with: two index writes less for each order recorded. Not atomic: PostgreSQL drops them
# CONCURRENTLY, which it refuses in a transaction, so the orders stay readable and writable meanwhile.

import django.db.models.deletion
from django.db import migrations, models

from wagtail_customers.migration_operations import DropForeignKeyIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wagtail_customers", "0032_remove_order_customer_placed_index"),
    ]

    operations = [
        DropForeignKeyIndex(
            model_name="order",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="orders",
                to="wagtail_customers.selleraccount",
                verbose_name="seller account",
            ),
        ),
        DropForeignKeyIndex(
            model_name="order",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="orders",
                to="wagtail_customers.customer",
                verbose_name="customer",
            ),
        ),
    ]
