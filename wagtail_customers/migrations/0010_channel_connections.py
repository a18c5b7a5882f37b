"""Placeholder: filled in by the work it is named after (kept in the chain so parallel work does not conflict)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0009_customer_erasure"),
    ]

    operations = []
