"""Migration operations of the plugin's own, for what Django's do not do on every database the plugin supports."""

from django.db import migrations, models


class AddIndexConcurrentlyOnPostgreSQL(migrations.AddIndex):
    """``AddIndex`` that PostgreSQL builds ``CONCURRENTLY``: the table stays writable while the index reads it all
    (at 1,000,000 customers a plain build blocks every order recorded meanwhile). Elsewhere a plain ``AddIndex``.

    Django's ``AddIndexConcurrently`` (``django.contrib.postgres``) refuses any other database. PostgreSQL refuses a
    concurrent build inside a transaction, so the migration using this sets ``atomic = False``."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            if schema_editor.connection.vendor == "postgresql" and _left_from_an_earlier_run(schema_editor, self.index):
                return
            schema_editor.add_index(model, self.index, **_concurrently(schema_editor))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, **_concurrently(schema_editor))

    def describe(self):
        return f"{super().describe()} (concurrently on PostgreSQL)"


class DropForeignKeyIndex(migrations.AlterField):
    """``AlterField`` of a foreign key to ``db_index=False``, for one another index already leads with: drops only
    its index, ``CONCURRENTLY`` on PostgreSQL (Django's own ``AlterField`` remakes the whole table on SQLite, and
    drops the index while holding off every read and write on PostgreSQL). Backwards, the index is built again. The
    migration using this sets ``atomic = False``."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            column = model._meta.get_field(self.name).column
            names = schema_editor._constraint_names(
                model,
                [column],
                index=True,
                unique=False,
                type_=models.Index.suffix,
                exclude={index.name for index in model._meta.indexes},
            )
            for name in names:
                schema_editor.execute(schema_editor._delete_index_sql(model, name, **_concurrently(schema_editor)))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            field = model._meta.get_field(self.name)
            schema_editor.execute(
                schema_editor._create_index_sql(model, fields=[field], **_concurrently(schema_editor))
            )

    def describe(self):
        return f"Drop the index of {self.model_name}.{self.name} (concurrently on PostgreSQL)"


def _left_from_an_earlier_run(schema_editor, index):
    """True when a valid index of this name is already there (built by a run of ``migrate`` stopped before it
    recorded the migration). An invalid one, which a failed ``CREATE INDEX CONCURRENTLY`` leaves behind, is dropped
    so the index is built again: without this, ``migrate`` would stop on "already exists" until it was dropped by
    hand."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [index.name])
        row = cursor.fetchone()
    if row is None:
        return False
    if row[0]:
        return True
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(index.name)}")
    return False


def _concurrently(schema_editor):
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


class RemoveIndexConcurrentlyOnPostgreSQL(migrations.RemoveIndex):
    """``RemoveIndex`` that PostgreSQL drops ``CONCURRENTLY``: a plain ``DROP INDEX`` waits for every transaction
    reading the table and holds off every one after it meanwhile. Elsewhere a plain ``RemoveIndex``; the migration
    using this sets ``atomic = False``, as for ``AddIndexConcurrentlyOnPostgreSQL``."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = from_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.remove_index(model, index, **_concurrently(schema_editor))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.add_index(model, index, **_concurrently(schema_editor))

    def describe(self):
        return f"{super().describe()} (concurrently on PostgreSQL)"
