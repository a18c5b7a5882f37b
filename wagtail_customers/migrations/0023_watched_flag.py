# The customer's watched flag, kept by the database (services/watched_flag.py). On SQLite, adding a column that is
# not null remakes the customers' table: the listing summary's triggers that name it are dropped first and made
# again after (the search index's are made again after ``migrate``, services/search_index.py).

from django.db import migrations, models

from wagtail_customers.services.listing_summary import create_triggers_on_sqlite, drop_triggers_on_sqlite
from wagtail_customers.services.watched_flag import install, uninstall


class Migration(migrations.Migration):

    dependencies = [
        ("wagtail_customers", "0022_customer_country_index"),
    ]

    operations = [
        migrations.RunPython(drop_triggers_on_sqlite, create_triggers_on_sqlite),
        migrations.AddField(
            model_name="customer",
            name="watched",
            field=models.BooleanField(default=False, editable=False, verbose_name="on the watchlist"),
        ),
        migrations.RunPython(create_triggers_on_sqlite, drop_triggers_on_sqlite),
        migrations.RunPython(install, uninstall),
    ]
