"""Merging duplicate customers: the merge records (for undo) and the merged identities (services/merge.py)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0012_retention_rules"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomerMerge",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("merged_customer_id", models.BigIntegerField(verbose_name="merged customer id")),
                ("snapshot", models.JSONField(blank=True, default=dict, verbose_name="merged customer")),
                ("watchlist", models.JSONField(blank=True, null=True, verbose_name="watchlist entry")),
                ("order_ids", models.JSONField(blank=True, default=list, verbose_name="moved orders")),
                ("later_order_ids", models.JSONField(blank=True, default=list, verbose_name="orders recorded since")),
                ("event_ids", models.JSONField(blank=True, default=list, verbose_name="moved timeline entries")),
                ("log_entry_ids", models.JSONField(blank=True, default=list, verbose_name="moved history entries")),
                ("merged_at", models.DateTimeField(verbose_name="merged at")),
                ("undone_at", models.DateTimeField(blank=True, null=True, verbose_name="undone at")),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="customer_merges",
                        to="wagtail_customers.selleraccount",
                        verbose_name="seller account",
                    ),
                ),
                (
                    "kept",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="merges",
                        to="wagtail_customers.customer",
                        verbose_name="kept customer",
                    ),
                ),
                (
                    "merged_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="merged by",
                    ),
                ),
                (
                    "undone_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="undone by",
                    ),
                ),
            ],
            options={
                "verbose_name": "customer merge",
                "verbose_name_plural": "customer merges",
                "ordering": ["-merged_at", "-pk"],
                "indexes": [models.Index(fields=["kept", "-merged_at"], name="wc_merge_kept_time")],
            },
        ),
        migrations.CreateModel(
            name="CustomerAlias",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("identity_key", models.CharField(max_length=300, verbose_name="identity key")),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="customer_aliases",
                        to="wagtail_customers.selleraccount",
                        verbose_name="seller account",
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="aliases",
                        to="wagtail_customers.customer",
                        verbose_name="customer",
                    ),
                ),
                (
                    "merge",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="alias",
                        to="wagtail_customers.customermerge",
                        verbose_name="merge",
                    ),
                ),
            ],
            options={
                "verbose_name": "customer alias",
                "verbose_name_plural": "customer aliases",
                "constraints": [
                    models.UniqueConstraint(fields=("account", "identity_key"), name="wc_alias_identity_unique")
                ],
            },
        ),
    ]
