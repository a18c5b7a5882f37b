"""Create the plugin's permissions (Settings > Groups), so a site can hand them out right after migrating.

Django creates a model's permissions only after the whole ``migrate`` run (post_migrate), too late for a
site's own data migrations that give them to groups; this migration creates them at this point.
Reversing it removes the plugin's own permissions (``view_customer`` and ``delete_customer`` are
Django's defaults for the model and stay).
"""

from django.db import migrations

#: (codename, name): the plugin's actions as Django permissions on the Customer model.
PERMISSIONS = [
    ("view_customer", "Can view customer"),
    ("delete_customer", "Can delete customer"),
    ("export_customer", "Can export customers"),
    ("manage_watchlist", "Can manage the customer watchlist"),
    ("email_customer", "Can e-mail customers"),
    ("import_orders", "Can import orders"),
    ("share_access", "Can share customer access"),
]
DJANGO_DEFAULTS = {"view_customer", "delete_customer"}


def create_permissions(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    content_type, _ = ContentType.objects.using(db).get_or_create(app_label="wagtail_customers", model="customer")
    for codename, name in PERMISSIONS:
        Permission.objects.using(db).get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )


def remove_permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    own = [codename for codename, _ in PERMISSIONS if codename not in DJANGO_DEFAULTS]
    Permission.objects.using(db).filter(
        content_type__app_label="wagtail_customers", content_type__model="customer", codename__in=own
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_permissions, remove_permissions)]
