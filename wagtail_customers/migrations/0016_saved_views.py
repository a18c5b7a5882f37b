from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0015_customer_scores"),
    ]

    operations = []
