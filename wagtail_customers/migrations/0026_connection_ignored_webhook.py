# The last webhook delivery ignored for naming another shop (views/connections/webhooks.py): nullable and without a
# default, so both databases add the columns without rewriting the table.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0025_customer_statistics_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="channelconnection",
            name="ignored_webhook_source",
            field=models.CharField(
                blank=True, editable=False, max_length=255, null=True, verbose_name="ignored webhook from"
            ),
        ),
        migrations.AddField(
            model_name="channelconnection",
            name="ignored_webhook_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="ignored webhook at"),
        ),
    ]
