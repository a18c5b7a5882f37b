"""Personal data per grant: the "See personal data" action (docs/howto/personal-data.md).

``AccessGrant.can_see_personal_data`` and the ``view_personal_data`` permission say who may see customers'
names, e-mails, phones and addresses; everyone else sees them masked (services/personal_data.py).

Upgrading changes nothing for existing users: every grant that exists when this runs gets the new action,
and every group (and user) holding ``view_customer`` gets ``view_personal_data``. Grants made afterwards
start without it (the field's default is off): personal data is private by default.

The permission is created here (not only by post_migrate) so that it can be given in the same migration.
"""

from django.db import migrations, models

PERMISSION = ("view_personal_data", "Can see customers' personal data")


def permission_of(apps, db, codename):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.using(db).filter(
        content_type__app_label="wagtail_customers", content_type__model="customer", codename=codename
    )


def keep_what_users_saw(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    AccessGrant = apps.get_model("wagtail_customers", "AccessGrant")
    db = schema_editor.connection.alias
    content_type, _ = ContentType.objects.using(db).get_or_create(app_label="wagtail_customers", model="customer")
    codename, name = PERMISSION
    see, _ = Permission.objects.using(db).get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name}
    )
    AccessGrant.objects.using(db).update(can_see_personal_data=True)
    view = permission_of(apps, db, "view_customer").first()
    if view is None:
        # A database that never ran post_migrate: no group can hold the view permission yet.
        return
    for group in view.group_set.using(db).all():
        group.permissions.add(see)
    for user in view.user_set.using(db).all():
        user.user_permissions.add(see)


def remove_permission(apps, schema_editor):
    permission_of(apps, schema_editor.connection.alias, PERMISSION[0]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0010_channel_connections"),
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
                    ("view_personal_data", "Can see customers' personal data"),
                ],
                "verbose_name": "customer",
                "verbose_name_plural": "customers",
            },
        ),
        migrations.AddField(
            model_name="accessgrant",
            name="can_see_personal_data",
            field=models.BooleanField(default=False, verbose_name="see personal data"),
        ),
        migrations.RunPython(keep_what_users_saw, remove_permission),
    ]
