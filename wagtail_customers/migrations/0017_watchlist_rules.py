from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from wagtail_customers.services.listing_summary import create_triggers_on_sqlite, drop_triggers_on_sqlite


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0016_saved_views"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # WatchlistEntry.rule: SQLite remakes the watchlist table to take it out again, which the listing summary's
    # triggers name (services/listing_summary.drop_triggers_on_sqlite).
    operations = [
        migrations.RunPython(drop_triggers_on_sqlite, create_triggers_on_sqlite),
        migrations.CreateModel(
            name="WatchlistDismissal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("dismissed_at", models.DateTimeField(verbose_name="removed at")),
                ("last_order_at", models.DateTimeField(blank=True, null=True, verbose_name="last order then")),
                ("returned_units", models.PositiveIntegerField(default=0, verbose_name="returned units then")),
                ("negative_feedbacks", models.PositiveIntegerField(default=0, verbose_name="negative feedbacks then")),
                (
                    "customer",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="watchlist_dismissal",
                        to="wagtail_customers.customer",
                        verbose_name="customer",
                    ),
                ),
                (
                    "dismissed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="removed by",
                    ),
                ),
            ],
            options={
                "verbose_name": "watchlist dismissal",
                "verbose_name_plural": "watchlist dismissals",
            },
        ),
        migrations.CreateModel(
            name="WatchlistRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                (
                    "is_enabled",
                    models.BooleanField(
                        default=True,
                        help_text="Only enabled rules put customers on the watchlist.",
                        verbose_name="enabled",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="watchlist_rules",
                        to="wagtail_customers.selleraccount",
                        verbose_name="seller account",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
            ],
            options={
                "verbose_name": "watchlist rule",
                "verbose_name_plural": "watchlist rules",
                "ordering": ["account__name", "name", "pk"],
            },
        ),
        migrations.AddField(
            model_name="watchlistentry",
            name="rule",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="entries",
                to="wagtail_customers.watchlistrule",
                verbose_name="added by the rule",
            ),
        ),
        migrations.CreateModel(
            name="WatchlistRuleCondition",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "metric",
                    models.CharField(
                        choices=[
                            ("orders", "Orders"),
                            ("units", "Units"),
                            ("amount_spent", "Amount spent"),
                            ("returned_units", "Returned units"),
                            ("return_rate", "Return rate (%)"),
                            ("negative_feedbacks", "Negative feedbacks"),
                            ("recent_negative_feedbacks", "Negative feedbacks in the last days"),
                            ("promo_codes_used", "Promo codes used"),
                            ("days_since_last_order", "Days since the last order"),
                            ("average_order_value", "Average order value"),
                        ],
                        max_length=32,
                        verbose_name="figure",
                    ),
                ),
                (
                    "operator",
                    models.CharField(
                        choices=[
                            ("gte", "at least (≥)"),
                            ("lte", "at most (≤)"),
                            ("gt", "more than (>)"),
                            ("lt", "less than (<)"),
                        ],
                        max_length=3,
                        verbose_name="operator",
                    ),
                ),
                (
                    "value",
                    models.DecimalField(
                        decimal_places=2,
                        max_digits=14,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="value",
                    ),
                ),
                (
                    "days",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="The period of “Negative feedbacks in the last days”.",
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(3650),
                        ],
                        verbose_name="days",
                    ),
                ),
                (
                    "rule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="conditions",
                        to="wagtail_customers.watchlistrule",
                        verbose_name="rule",
                    ),
                ),
            ],
            options={
                "verbose_name": "watchlist rule condition",
                "verbose_name_plural": "watchlist rule conditions",
                "ordering": ["pk"],
            },
        ),
        migrations.AddConstraint(
            model_name="watchlistrule",
            constraint=models.UniqueConstraint(fields=("account", "name"), name="wc_watchlist_rule_name_unique"),
        ),
        migrations.RunPython(create_triggers_on_sqlite, drop_triggers_on_sqlite),
    ]
