"""Database expressions the models' generated columns use (kept importable: the migrations name them)."""

from django.db.models import DecimalField, Func


class Fractional(Func):
    """A number as one division keeps the fraction of: ``x`` itself on PostgreSQL (numeric division is exact),
    ``CAST(x AS REAL)`` on SQLite, which divides two whole numbers as whole numbers (66 / 5 = 13) and stores a
    decimal with no fraction as a whole number."""

    template = "%(expressions)s"
    output_field = DecimalField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS REAL)", **extra_context)
