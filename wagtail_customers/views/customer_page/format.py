"""Display helpers shared by the customer and order pages."""

from django.utils.formats import number_format


def money(amount, currency):
    """``1,234.50 USD`` in the active locale; empty for ``None`` (callers say "not known" themselves)."""
    if amount is None:
        return ""
    return f"{number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)} {currency}"
