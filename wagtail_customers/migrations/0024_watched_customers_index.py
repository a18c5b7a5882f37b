# The Watchlist tab's partial indexes of the watched customers, in its order and per seller account. Not atomic:
# PostgreSQL builds them CONCURRENTLY, which it refuses in a transaction, so the customers stay writable meanwhile.

from django.db import migrations, models

from wagtail_customers.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wagtail_customers", "0023_watched_flag"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("watched", True)), fields=["-last_order_at", "id"], name="wc_cust_watched"
            ),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("watched", True)),
                fields=["account", "-last_order_at", "id"],
                name="wc_cust_acc_watched",
            ),
        ),
    ]
