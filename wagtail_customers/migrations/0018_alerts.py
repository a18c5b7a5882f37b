from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0017_watchlist_rules"),
    ]

    operations = []
