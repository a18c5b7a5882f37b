from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0016_saved_views"),
    ]

    operations = []
