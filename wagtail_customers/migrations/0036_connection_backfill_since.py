# The history import starts at midnight of the chosen date in the time zone of the user who chose it, kept as a
# moment (`backfill_since`). Connections whose import was started before keep starting where they did: midnight UTC
# of their date (for a site without time zones, that moment as a naive datetime in the site's time zone).

from datetime import UTC, datetime

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def since_from_date(apps, schema_editor):
    ChannelConnection = apps.get_model("wagtail_customers", "ChannelConnection")
    connections = ChannelConnection.objects.using(schema_editor.connection.alias)
    for pk, day in connections.filter(backfill_from__isnull=False).values_list("pk", "backfill_from"):
        since = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if not settings.USE_TZ:
            since = timezone.make_naive(since, timezone.get_default_timezone())
        connections.filter(pk=pk).update(backfill_since=since)


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0035_merge_alerts_and_dismissal"),
    ]

    operations = [
        migrations.AddField(
            model_name="channelconnection",
            name="backfill_since",
            field=models.DateTimeField(blank=True, null=True, verbose_name="import history from (moment)"),
        ),
        migrations.RunPython(since_from_date, migrations.RunPython.noop, elidable=True),
    ]
