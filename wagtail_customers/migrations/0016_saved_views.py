import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("wagtail_customers", "0015_customer_scores"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SavedView",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=120, verbose_name="name")),
                ("tab", models.CharField(default="all", max_length=40, verbose_name="tab")),
                ("params", models.JSONField(blank=True, default=dict, verbose_name="listing parameters")),
                ("columns", models.JSONField(blank=True, default=list, verbose_name="columns")),
                (
                    "visibility",
                    models.CharField(
                        choices=[("private", "Only me"), ("shared", "Shared with chosen users and groups")],
                        default="private",
                        max_length=10,
                        verbose_name="visibility",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="customer_saved_views",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner",
                    ),
                ),
                (
                    "shared_with_groups",
                    models.ManyToManyField(
                        blank=True,
                        related_name="customer_saved_views_shared",
                        to="auth.group",
                        verbose_name="shared with groups",
                    ),
                ),
                (
                    "shared_with_users",
                    models.ManyToManyField(
                        blank=True,
                        related_name="customer_saved_views_shared",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="shared with users",
                    ),
                ),
            ],
            options={
                "verbose_name": "saved view",
                "verbose_name_plural": "saved views",
                "ordering": ["name", "pk"],
            },
        ),
    ]
