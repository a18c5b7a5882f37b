# The customers listing: an index for the Promo codes tab's order, and on PostgreSQL trigram indexes
# so that the case-insensitive search in names and e-mails (``icontains``) does not scan every row.

from django.db import migrations, models

# Django's ``icontains`` on PostgreSQL compares ``UPPER("col"::text) LIKE UPPER(%s)``: the indexes
# are on that exact expression so the planner can use them.
TRIGRAM_INDEXES = {
    "wc_cust_name_trgm": "name",
    "wc_cust_email_trgm": "email",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name("wagtail_customers_customer")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for index, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {index} ON {table} "
            f"USING gin ((UPPER({schema_editor.quote_name(column)}::text)) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0003_export_job_scope_and_guards"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["-discount_total", "id"], name="wc_cust_discount"),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=True),
    ]
