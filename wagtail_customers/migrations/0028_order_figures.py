# Each order's own figures (services/order_figures.py), which the customers' statistics sum. The columns are nullable
# without a default or a CHECK constraint, so neither database rewrites or scans the orders' table to add them; then
# every order's figures are filled from its lines, promo codes and feedback, one range of order ids per transaction
# (at 1,000,000 orders on PostgreSQL this writes every order once: time it on a copy, docs/howto/deployment.md). Not
# atomic: the orders stay writable meanwhile, and the index of orders still without figures is built CONCURRENTLY on
# PostgreSQL. Orders the previous release writes meanwhile are filled by `customers_rebuild_stats --order-figures`,
# which the deployment checklist runs once the rollout is complete.

from django.db import migrations, models

from wagtail_customers.migration_operations import AddIndexConcurrentlyOnPostgreSQL


def fill_figures(apps, schema_editor):
    from wagtail_customers.services.order_figures import fill_order_figures

    tables = {
        name: apps.get_model("wagtail_customers", model)._meta.db_table
        for name, model in (("order", "Order"), ("line", "OrderLine"), ("promo", "PromoCodeUsage"), ("feedback", "Feedback"))
    }
    fill_order_figures(only_missing=False, using=schema_editor.connection.alias, tables=tables)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wagtail_customers", "0027_saved_view_name_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="units",
            field=models.BigIntegerField(editable=False, null=True, verbose_name="units"),
        ),
        migrations.AddField(
            model_name="order",
            name="returned_units",
            field=models.BigIntegerField(editable=False, null=True, verbose_name="returned units"),
        ),
        migrations.AddField(
            model_name="order",
            name="promo_codes_count",
            field=models.IntegerField(editable=False, null=True, verbose_name="promo codes"),
        ),
        migrations.AddField(
            model_name="order",
            name="feedback_rating",
            field=models.SmallIntegerField(editable=False, null=True, verbose_name="feedback rating"),
        ),
        migrations.RunPython(fill_figures, migrations.RunPython.noop, elidable=True),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="order",
            index=models.Index(
                condition=models.Q(("units__isnull", True)), fields=["id"], name="wc_order_figures_missing"
            ),
        ),
    ]
