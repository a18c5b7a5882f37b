# Each order's own figures (services/order_figures.py), which the customers' statistics sum. Nullable, without a default
# or a CHECK constraint, so neither database rewrites or scans the orders' table to add them. 0029 fills them for the
# orders stored before, 0030 builds the index of orders still without them; each can be run again if it stops.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0027_saved_view_name_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="units",
            field=models.BigIntegerField(editable=False, null=True, verbose_name="units"),
        ),
        migrations.AddField(
            model_name="order",
            name="returned_units",
            field=models.BigIntegerField(editable=False, null=True, verbose_name="returned units"),
        ),
        migrations.AddField(
            model_name="order",
            name="promo_codes_count",
            field=models.IntegerField(editable=False, null=True, verbose_name="promo codes"),
        ),
        migrations.AddField(
            model_name="order",
            name="feedback_rating",
            field=models.SmallIntegerField(editable=False, null=True, verbose_name="feedback rating"),
        ),
    ]
