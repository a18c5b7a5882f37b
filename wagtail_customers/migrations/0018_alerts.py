import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0017_watchlist_rules"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AlertEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("order", "New order"),
                            ("return", "Return"),
                            ("negative_feedback", "Negative feedback"),
                        ],
                        max_length=20,
                        verbose_name="kind",
                    ),
                ),
                ("occurred_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="occurred at")),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="wagtail_customers.selleraccount",
                        verbose_name="seller account",
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="alert_events",
                        to="wagtail_customers.customer",
                        verbose_name="customer",
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="wagtail_customers.order",
                        verbose_name="order",
                    ),
                ),
            ],
            options={
                "verbose_name": "alert event",
                "verbose_name_plural": "alert events",
                "ordering": ["-occurred_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="AlertPreference",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("in_admin", models.BooleanField(default=True, verbose_name="show alerts in the admin")),
                (
                    "email_frequency",
                    models.CharField(
                        choices=[
                            ("never", "Never"),
                            ("immediately", "Immediately"),
                            ("daily", "Daily digest"),
                            ("weekly", "Weekly digest"),
                        ],
                        default="never",
                        max_length=12,
                        verbose_name="e-mail",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "muted_accounts",
                    models.ManyToManyField(
                        blank=True,
                        related_name="+",
                        to="wagtail_customers.selleraccount",
                        verbose_name="no alerts about these seller accounts",
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="customer_alert_preference",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "alert preference",
                "verbose_name_plural": "alert preferences",
            },
        ),
        migrations.CreateModel(
            name="AlertNotification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("in_admin", models.BooleanField(default=True, verbose_name="shown in the admin")),
                ("read_at", models.DateTimeField(blank=True, null=True, verbose_name="read")),
                ("email_due", models.BooleanField(default=False, verbose_name="e-mail due")),
                ("emailed_at", models.DateTimeField(blank=True, null=True, verbose_name="e-mailed")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to="wagtail_customers.alertevent",
                        verbose_name="event",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="customer_alerts",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "alert",
                "verbose_name_plural": "alerts",
                "ordering": ["-created_at", "-pk"],
                "indexes": [
                    models.Index(fields=["user", "in_admin", "read_at"], name="wc_alert_user_unread"),
                    models.Index(fields=["user", "email_due"], name="wc_alert_user_email_due"),
                ],
                "constraints": [models.UniqueConstraint(fields=("event", "user"), name="wc_alert_event_user_unique")],
            },
        ),
    ]
