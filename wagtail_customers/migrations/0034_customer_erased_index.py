# The erased customers of each account, in an index that holds only them. Not atomic: PostgreSQL builds it
# CONCURRENTLY, which it refuses in a transaction, so the customers stay writable meanwhile.

from django.db import migrations, models

from wagtail_customers.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wagtail_customers", "0033_order_foreign_keys_without_indexes"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("erased_at__isnull", False)),
                fields=["account", "erased_at"],
                name="wc_cust_acc_erased",
            ),
        ),
    ]
