# Amazon's seller-feedback report gives dates without a time, which were kept at midnight UTC: feedback left on
# 25 December showed as 24 December, 7 p.m. in New York, and counted in the "negative feedbacks in N days" a day early
# there. They are now kept at noon UTC (wagtail_customers.local_time.DATE_ONLY_TIME): the stored ones are moved to
# noon of their day. Only the feedback of Amazon orders comes from that report (the imports give no feedback date),
# and its dates are all days: a feedback of another channel at midnight UTC is a moment, and stays.

from collections import defaultdict
from datetime import UTC, datetime, time

from django.db import migrations
from django.utils import timezone


def feedback_at_noon(apps, schema_editor):
    Feedback = apps.get_model("wagtail_customers", "Feedback")
    feedback = Feedback.objects.using(schema_editor.connection.alias)
    by_day = defaultdict(list)
    rows = feedback.filter(order__channel="amazon", left_at__isnull=False).values_list("pk", "left_at")
    for pk, left_at in rows.iterator(chunk_size=2000):
        naive = timezone.is_naive(left_at)  # a site without time zones: stored in its own time zone
        moment = timezone.make_aware(left_at, timezone.get_default_timezone()) if naive else left_at
        moment = moment.astimezone(UTC)
        if moment.time() == time.min:
            by_day[(moment.date(), naive)].append(pk)
    for (day, naive), pks in by_day.items():  # one UPDATE per day
        noon = datetime.combine(day, time(12), tzinfo=UTC)
        if naive:
            noon = timezone.make_naive(noon, timezone.get_default_timezone())
        for start in range(0, len(pks), 500):
            feedback.filter(pk__in=pks[start : start + 500]).update(left_at=noon)


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0036_connection_backfill_since"),
    ]

    operations = [
        migrations.RunPython(feedback_at_noon, migrations.RunPython.noop, elidable=True),
    ]
