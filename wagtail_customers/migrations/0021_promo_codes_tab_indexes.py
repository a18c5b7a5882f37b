# The Promo codes tab's partial index, in its order. Not atomic: PostgreSQL builds it CONCURRENTLY, which it refuses
# in a transaction, so the customers stay writable meanwhile (a site that applied this migration before it was
# concurrent keeps its index: the index and the migration's state are the same).

from django.db import migrations, models

from wagtail_customers.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wagtail_customers", "0020_search_index"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("promo_codes_used__gt", 0)), fields=["-discount_total", "id"], name="wc_cust_promo"
            ),
        ),
    ]
