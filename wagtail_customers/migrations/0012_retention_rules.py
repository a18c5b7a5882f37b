"""Retention rules per seller account and the report of each run (models/retention.py)."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

BASIS_CHOICES = [
    ("shipment", "after the order's shipment"),
    ("order", "after the order was placed"),
    ("delivery", "after the order's delivery"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0011_personal_data_grant"),
    ]

    operations = [
        migrations.CreateModel(
            name="RetentionRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "basis",
                    models.CharField(
                        choices=BASIS_CHOICES, default="shipment", max_length=10, verbose_name="counted from"
                    ),
                ),
                (
                    "days",
                    models.PositiveIntegerField(
                        help_text=(
                            "A customer's personal data is erased once every one of their orders is more than this "
                            "many days past its date. Amazon's data protection policy asks for 30 days after shipment."
                        ),
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(36500),
                        ],
                        verbose_name="days",
                    ),
                ),
                (
                    "is_enabled",
                    models.BooleanField(
                        default=True,
                        help_text="Applied every day while enabled; a disabled rule erases nothing.",
                        verbose_name="enabled",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "account",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="retention_rule",
                        to="wagtail_customers.selleraccount",
                        verbose_name="seller account",
                    ),
                ),
            ],
            options={
                "verbose_name": "retention rule",
                "verbose_name_plural": "retention rules",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("days__gte", 1), ("days__lte", 36500)), name="wc_retention_days_range"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="RetentionRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("basis", models.CharField(choices=BASIS_CHOICES, max_length=10, verbose_name="counted from")),
                ("days", models.PositiveIntegerField(verbose_name="days")),
                ("ran_at", models.DateTimeField(verbose_name="ran at")),
                ("cutoff", models.DateTimeField(verbose_name="cut-off")),
                ("customers_erased", models.PositiveIntegerField(default=0, verbose_name="customers erased")),
                (
                    "customer_ids",
                    models.JSONField(blank=True, default=list, verbose_name="ids of customers erased (the first 100)"),
                ),
                ("errors", models.JSONField(blank=True, default=list, verbose_name="errors")),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="retention_runs",
                        to="wagtail_customers.selleraccount",
                        verbose_name="seller account",
                    ),
                ),
                (
                    "rule",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="runs",
                        to="wagtail_customers.retentionrule",
                        verbose_name="rule",
                    ),
                ),
            ],
            options={
                "verbose_name": "retention run",
                "verbose_name_plural": "retention runs",
                "ordering": ["-ran_at", "-pk"],
                "indexes": [models.Index(fields=["account", "-ran_at"], name="wc_retention_run_account")],
            },
        ),
    ]
