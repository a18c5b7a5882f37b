# The country filter and its choices read by an (account, country) index. Not atomic: PostgreSQL builds it
# CONCURRENTLY, which it refuses in a transaction, so the customers stay writable meanwhile.

from django.db import migrations, models

from wagtail_customers.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wagtail_customers", "0021_promo_codes_tab_indexes"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="customer",
            index=models.Index(fields=["account", "country"], name="wc_cust_acc_country"),
        ),
    ]
