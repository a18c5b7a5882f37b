"""Database expressions the models' generated columns use (kept importable: the migrations name them)."""

from django.db.models import DecimalField, Func


class Fractional(Func):
    """A number that a division keeps the fraction of: both databases divide two whole numbers as whole numbers
    (1 * 100 / 35 = 2). ``CAST(x AS NUMERIC)`` on PostgreSQL (exact); ``CAST(x AS REAL)`` on SQLite, whose NUMERIC
    keeps a value with no fraction as a whole number (66.00 is 66)."""

    template = "CAST(%(expressions)s AS NUMERIC)"
    output_field = DecimalField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS REAL)", **extra_context)
