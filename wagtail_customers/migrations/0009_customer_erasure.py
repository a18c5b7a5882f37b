"""Erasing a customer's personal data (docs/howto/personal-data.md).

``Customer.erased_at`` marks an erased customer; ``AccessGrant.can_erase`` and the ``erase_customer``
permission say who may erase. The permission is created here (not only by post_migrate) so that a site's
own data migrations can give it to groups, as 0002 does for the other actions.
"""

from django.db import migrations, models

PERMISSION = ("erase_customer", "Can erase customers' personal data")


def create_permission(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    content_type, _ = ContentType.objects.using(db).get_or_create(app_label="wagtail_customers", model="customer")
    codename, name = PERMISSION
    Permission.objects.using(db).get_or_create(content_type=content_type, codename=codename, defaults={"name": name})


def remove_permission(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    Permission.objects.using(db).filter(
        content_type__app_label="wagtail_customers", content_type__model="customer", codename=PERMISSION[0]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0008_order_id_search_index"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="customer",
            options={
                "ordering": ["-last_order_at", "pk"],
                "permissions": [
                    ("export_customer", "Can export customers"),
                    ("manage_watchlist", "Can manage the customer watchlist"),
                    ("email_customer", "Can e-mail customers"),
                    ("import_orders", "Can import orders"),
                    ("share_access", "Can share customer access"),
                    ("erase_customer", "Can erase customers' personal data"),
                ],
                "verbose_name": "customer",
                "verbose_name_plural": "customers",
            },
        ),
        migrations.AddField(
            model_name="accessgrant",
            name="can_erase",
            field=models.BooleanField(default=False, verbose_name="erase personal data"),
        ),
        migrations.AddField(
            model_name="customer",
            name="erased_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="personal data erased"),
        ),
        migrations.RunPython(create_permission, remove_permission),
    ]
