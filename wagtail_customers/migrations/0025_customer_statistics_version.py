# The customer's statistics version (services/statistics.py): nullable and without a default, so both databases add
# the column without rewriting the table (SQLite remakes a table for a column with a default).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0024_watched_customers_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="statistics_version",
            field=models.BigIntegerField(editable=False, null=True),
        ),
    ]
