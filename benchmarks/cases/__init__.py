"""Benchmark cases, one module per area; each returns plain dicts for the JSON results."""


class NotAvailable(Exception):
    """The plugin feature a case measures is not in this tree (yet); the report says so."""
