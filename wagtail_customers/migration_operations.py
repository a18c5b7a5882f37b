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
            _drop_leftover(schema_editor, model, self.index.name)
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
        old_field = model._meta.get_field(self.name)
        if not _only_the_index_differs(old_field, self.field):
            # Merged with another change of the field (squashed migrations): Django's own way, whole.
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            column = old_field.column
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
        field = model._meta.get_field(self.name)
        if not _only_the_index_differs(field, self.field):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.execute(
                schema_editor._create_index_sql(model, fields=[field], **_concurrently(schema_editor))
            )

    def describe(self):
        return f"Drop the index of {self.model_name}.{self.name} (concurrently on PostgreSQL)"


def _only_the_index_differs(old_field, new_field):
    """True when the two fields differ in ``db_index`` alone."""
    _, _, old_args, old_kwargs = old_field.deconstruct()
    _, _, new_args, new_kwargs = new_field.deconstruct()
    old_kwargs.pop("db_index", None), new_kwargs.pop("db_index", None)
    return old_args == new_args and old_kwargs == new_kwargs


def _drop_leftover(schema_editor, model, name):
    """Drop an index of this name on the model's table left by an earlier run of ``migrate`` (PostgreSQL): an
    invalid one, which a failed ``CREATE INDEX CONCURRENTLY`` leaves behind, or one a run stopped before recording
    the migration built. It is built again after: without this, ``migrate`` stops on "already exists" until the
    index is dropped by hand. Not when only collecting SQL (``sqlmigrate``), whose output must not depend on the
    database it reads."""
    if schema_editor.connection.vendor != "postgresql" or schema_editor.collect_sql:
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(quote_ident(%s)) "
            "AND indrelid = to_regclass(quote_ident(%s))",
            [name, model._meta.db_table],
        )
        if cursor.fetchone() is None:
            return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")


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
            _drop_leftover(schema_editor, model, index.name)
            schema_editor.add_index(model, index, **_concurrently(schema_editor))

    def describe(self):
        return f"{super().describe()} (concurrently on PostgreSQL)"
