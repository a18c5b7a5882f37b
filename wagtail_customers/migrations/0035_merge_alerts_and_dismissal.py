# A merge records the merged customer's alerts it moves and its watchlist dismissal, so that the undo gives them
# back (before, deleting the merged row took both with it).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0034_customer_erased_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="customermerge",
            name="alert_event_ids",
            field=models.JSONField(blank=True, default=list, verbose_name="moved alerts"),
        ),
        migrations.AddField(
            model_name="customermerge",
            name="watchlist_dismissal",
            field=models.JSONField(blank=True, null=True, verbose_name="watchlist dismissal"),
        ),
    ]
