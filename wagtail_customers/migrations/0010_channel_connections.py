"""Live channel connections (issue 13): ChannelConnection, SyncRun, WebhookDelivery and Order.synced_at."""

import django.db.models.deletion
from django.db import migrations, models

import wagtail_customers.models.connections


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0009_customer_erasure"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="synced_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="synced from the channel"),
        ),
        migrations.CreateModel(
            name="ChannelConnection",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "encrypted_credentials",
                    models.TextField(blank=True, editable=False, verbose_name="credentials (encrypted)"),
                ),
                (
                    "webhook_token",
                    models.CharField(
                        default=wagtail_customers.models.connections.new_webhook_token,
                        editable=False,
                        max_length=64,
                        unique=True,
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("never_connected", "Never connected"),
                            ("backfilling", "Importing history"),
                            ("live", "Live"),
                            ("paused", "Paused"),
                            ("failing", "Failing"),
                        ],
                        default="never_connected",
                        max_length=20,
                        verbose_name="state",
                    ),
                ),
                ("cursors", models.JSONField(blank=True, default=dict, verbose_name="cursors")),
                ("shop_description", models.CharField(blank=True, max_length=255, verbose_name="shop")),
                ("backfill_from", models.DateField(blank=True, null=True, verbose_name="import history from")),
                (
                    "backfill_orders",
                    models.PositiveIntegerField(default=0, verbose_name="orders imported by the backfill"),
                ),
                ("backfill_reached", models.DateTimeField(blank=True, null=True, verbose_name="backfill reached")),
                ("backfill_started_at", models.DateTimeField(blank=True, null=True, verbose_name="backfill started")),
                (
                    "backfill_finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="backfill finished"),
                ),
                ("last_attempt_at", models.DateTimeField(blank=True, null=True, verbose_name="last attempt")),
                (
                    "last_success_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="last successful sync"),
                ),
                ("last_error", models.TextField(blank=True, verbose_name="last error")),
                ("last_error_at", models.DateTimeField(blank=True, null=True, verbose_name="last error at")),
                ("consecutive_failures", models.PositiveIntegerField(default=0, verbose_name="failures in a row")),
                (
                    "next_attempt_at",
                    models.DateTimeField(blank=True, db_index=True, null=True, verbose_name="next attempt"),
                ),
                ("failure_notified_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("lock_token", models.CharField(blank=True, editable=False, max_length=32)),
                ("locked_until", models.DateTimeField(blank=True, editable=False, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                (
                    "account",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="connection",
                        to="wagtail_customers.selleraccount",
                        verbose_name="seller account",
                    ),
                ),
            ],
            options={
                "verbose_name": "channel connection",
                "verbose_name_plural": "channel connections",
            },
        ),
        migrations.CreateModel(
            name="SyncRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("pull", "Pull"), ("backfill", "Backfill"), ("webhook", "Webhook")],
                        max_length=10,
                        verbose_name="kind",
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("running", "Running"),
                            ("done", "Done"),
                            ("failed", "Failed"),
                            ("interrupted", "Interrupted"),
                        ],
                        default="running",
                        max_length=12,
                        verbose_name="outcome",
                    ),
                ),
                ("started_at", models.DateTimeField(verbose_name="started")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished")),
                ("pages", models.PositiveIntegerField(default=0, verbose_name="pages")),
                ("orders_created", models.PositiveIntegerField(default=0, verbose_name="orders created")),
                ("orders_updated", models.PositiveIntegerField(default=0, verbose_name="orders updated")),
                ("orders_unchanged", models.PositiveIntegerField(default=0, verbose_name="orders unchanged")),
                ("error", models.TextField(blank=True, verbose_name="error")),
                (
                    "connection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="runs",
                        to="wagtail_customers.channelconnection",
                    ),
                ),
            ],
            options={
                "verbose_name": "sync run",
                "verbose_name_plural": "sync runs",
                "ordering": ["-started_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("delivery_id", models.CharField(max_length=255)),
                ("topic", models.CharField(blank=True, max_length=100)),
                ("received_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                (
                    "connection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="wagtail_customers.channelconnection",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="syncrun",
            index=models.Index(fields=["connection", "-started_at"], name="wc_syncrun_conn_started"),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.UniqueConstraint(fields=("connection", "delivery_id"), name="wc_webhook_delivery_unique"),
        ),
    ]
