# The index 0031's replaces (its first two columns): dropped CONCURRENTLY on PostgreSQL, which it refuses in a
# transaction, so reads and writes of the orders are not held off meanwhile.

from django.db import migrations

from wagtail_customers.migration_operations import RemoveIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wagtail_customers", "0031_order_customer_figures_index"),
    ]

    operations = [
        RemoveIndexConcurrentlyOnPostgreSQL(model_name="order", name="wc_order_customer_placed"),
    ]
