"""Datetimes shown in the admin user's time zone, on any site.

A site with ``USE_TZ = False`` stores naive datetimes, which ``timezone.localtime`` refuses (``ValueError``): a page
showing one answered 500. Such a value is shown as it is stored.
"""

from django.utils import timezone


def local_datetime(value):
    """``value`` in the current time zone, or as it is when naive; None stays None."""
    if value is None or timezone.is_naive(value):
        return value
    return timezone.localtime(value)
