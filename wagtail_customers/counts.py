"""Counts as people read them: ``2,000 customers``, not ``2000 customers``."""

from django.utils.formats import number_format


def grouped(count):
    """``count`` with the active locale's thousands separator (``2,000``; ``2.000`` in German)."""
    return number_format(count, use_l10n=True, force_grouping=True)
