# The orders still without figures (services/order_figures.py: what the statistics rebuild fills first), in an index
# that is empty once they are filled. Not atomic: PostgreSQL builds it CONCURRENTLY, which it refuses in a
# transaction, so the orders stay writable meanwhile.

from django.db import migrations, models

from wagtail_customers.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wagtail_customers", "0029_order_figures_filled"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="order",
            index=models.Index(
                condition=models.Q(("units__isnull", True)), fields=["id"], name="wc_order_figures_missing"
            ),
        ),
    ]
