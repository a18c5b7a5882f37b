# The listing's search served by an index (services/search_index.py): on PostgreSQL trigram indexes on the
# buyer id and the order key beside 0004's name and e-mail ones; on SQLite an FTS5 trigram table kept by triggers.
# Not atomic: PostgreSQL builds the indexes CONCURRENTLY, which it refuses in a transaction (SQLite's part runs in
# one of its own).

from django.db import migrations

from wagtail_customers.services.search_index import create_index, drop_index


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wagtail_customers", "0019_customer_figures"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=True),
    ]
