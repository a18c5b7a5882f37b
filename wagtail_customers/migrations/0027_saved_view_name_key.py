# One owner's saved views have names of their own, kept by the database too (models/saved_views.py): a stored key,
# the name trimmed and case-folded (in Python: SQLite's lower() knows only ASCII letters), unique per owner, so two
# "Save view" posts at once cannot both pass the form's check. Views saved before under a name their owner already
# had (allowed until then) are renamed first, the oldest keeping its name: "VIP", "VIP (2)", "VIP (3)".

from collections import defaultdict

from django.db import migrations, models

NAME_LENGTH = 120


def name_key(name):
    # As saved_view_name_key() in models/saved_views.py, copied: a migration keeps the code it ran with.
    return (name or "").strip().casefold()


def renamed(name, number):
    suffix = f"({number})"
    base = name.strip()[: NAME_LENGTH - len(suffix) - 1].rstrip()
    # A blank name (saved before names were required) becomes "(2)", not " (2)".
    return f"{base} {suffix}" if base else suffix


def fill_name_keys(apps, schema_editor):
    SavedView = apps.get_model("wagtail_customers", "SavedView")
    db = schema_editor.connection.alias
    views = list(SavedView.objects.using(db).order_by("owner_id", "pk").only("pk", "owner_id", "name"))
    # Every name in use, so a renamed view does not take one another view has ("VIP (2)" saved by the owner).
    in_use = defaultdict(set)
    for view in views:
        in_use[view.owner_id].add(name_key(view.name))
    kept = defaultdict(set)
    # The number each owner's duplicated name goes on from: thousands of one name stay a linear pass.
    next_number = {}
    for view in views:
        owner = view.owner_id
        key = name_key(view.name)
        if key in kept[owner]:
            number = next_number.get((owner, key), 2)
            while (candidate := name_key(renamed(view.name, number))) in in_use[owner] or candidate in kept[owner]:
                number += 1
            next_number[(owner, key)] = number + 1
            view.name = renamed(view.name, number)
            key = candidate
        kept[owner].add(key)
        view.name_key = key
    SavedView.objects.using(db).bulk_update(views, ["name", "name_key"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0026_connection_ignored_webhook"),
    ]

    operations = [
        migrations.AddField(
            model_name="savedview",
            name="name_key",
            field=models.CharField(default="", editable=False, max_length=360),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="savedview",
            constraint=models.UniqueConstraint(fields=("owner", "name_key"), name="wc_saved_view_owner_name_key"),
        ),
    ]
