# Every stored order's figures (added by 0028) filled from its lines, promo codes and feedback, one range of order ids
# per transaction (at 1,000,000 orders on PostgreSQL this writes every order once: time it on a copy,
# docs/howto/deployment.md). Not atomic: the orders stay writable meanwhile, but those of the range being written,
# for that range's transaction. Stopped part-way, `migrate` goes on from the ranges not yet written (each range writes
# only the orders whose figures differ). Orders the previous release writes meanwhile are filled by
# `customers_rebuild_stats --order-figures`, which the deployment checklist runs once the rollout is complete.

from django.db import migrations


def fill_figures(apps, schema_editor):
    from wagtail_customers.services.order_figures import fill_order_figures

    models = (("order", "Order"), ("line", "OrderLine"), ("promo", "PromoCodeUsage"), ("feedback", "Feedback"))
    tables = {name: apps.get_model("wagtail_customers", model)._meta.db_table for name, model in models}
    fill_order_figures(only_missing=False, using=schema_editor.connection.alias, tables=tables)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wagtail_customers", "0028_order_figures"),
    ]

    operations = [
        migrations.RunPython(fill_figures, migrations.RunPython.noop, elidable=True),
    ]
