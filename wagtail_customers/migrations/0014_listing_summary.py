"""The listing summary (models/summary.py): its table, its triggers and its first fill; the index that
bounds the live "new customers" count (issue 14)."""

from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models


def create_triggers(apps, schema_editor):
    # The SQL lives with the rebuild that shares it (services/listing_summary.py); a later change to it
    # needs its own migration running these two functions again.
    from wagtail_customers.services.listing_summary import create_triggers_sql, drop_triggers_sql, rebuild_summary

    vendor = schema_editor.connection.vendor
    for statement in drop_triggers_sql(vendor) + create_triggers_sql(vendor):
        schema_editor.execute(statement, params=None)
    rebuild_summary(using=schema_editor.connection.alias)


def drop_triggers(apps, schema_editor):
    from wagtail_customers.services.listing_summary import drop_triggers_sql

    for statement in drop_triggers_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0013_customer_merges"),
    ]

    operations = [
        migrations.CreateModel(
            name="ListingSummary",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "account",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="wagtail_customers.selleraccount",
                        verbose_name="seller account",
                    ),
                ),
                (
                    "segment",
                    models.CharField(
                        choices=[
                            ("all", "All customers"),
                            ("returned", "Customers with returns"),
                            ("promo", "Customers who used a promo code"),
                            ("watched", "Customers on the watchlist"),
                        ],
                        max_length=16,
                        verbose_name="segment",
                    ),
                ),
                ("customers", models.BigIntegerField(default=0, verbose_name="customers")),
                ("repeat_customers", models.BigIntegerField(default=0, verbose_name="repeat customers")),
                ("orders", models.BigIntegerField(default=0, verbose_name="orders")),
                ("units", models.BigIntegerField(default=0, verbose_name="units")),
                ("returned_units", models.BigIntegerField(default=0, verbose_name="returned units")),
                ("promo_customers", models.BigIntegerField(default=0, verbose_name="customers who used a promo code")),
                ("negative_feedbacks", models.BigIntegerField(default=0, verbose_name="negative feedbacks")),
                ("watched", models.BigIntegerField(default=0, verbose_name="customers on the watchlist")),
                (
                    "amount_spent",
                    models.DecimalField(
                        decimal_places=2, default=Decimal("0"), max_digits=20, verbose_name="amount spent"
                    ),
                ),
                ("unconverted_orders", models.BigIntegerField(default=0, verbose_name="orders not converted")),
            ],
            options={
                "verbose_name": "listing summary",
                "verbose_name_plural": "listing summaries",
                "indexes": [models.Index(fields=["account", "segment"], name="wc_summary_account_segment")],
            },
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["account", "first_order_at"], name="wc_cust_acc_first"),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
