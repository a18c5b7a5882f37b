"""Datetimes shown in the admin user's time zone, on any site; work for a user in their language and zone.

A site with ``USE_TZ = False`` stores naive datetimes, which ``timezone.localtime`` refuses (``ValueError``): a page
showing one answered 500. Such a value is shown as it is stored.
"""

from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.utils import timezone, translation


def stored_moment(value):
    """A moment as the site's datetime columns keep it: aware with ``USE_TZ`` (a naive one read in the site's
    ``TIME_ZONE``), else naive in ``TIME_ZONE`` (SQLite and MySQL refuse aware values then). Other values as they
    are."""
    if not isinstance(value, datetime):
        return value
    zone = timezone.get_default_timezone()
    if settings.USE_TZ:
        return timezone.make_aware(value, zone) if timezone.is_naive(value) else value
    return timezone.make_naive(value, zone) if timezone.is_aware(value) else value


def local_datetime(value):
    """``value`` in the current time zone, or as it is when naive; None stays None."""
    if value is None or timezone.is_naive(value):
        return value
    return timezone.localtime(value)


@contextmanager
def users_language_and_zone(user):
    """Work done for ``user`` outside their request (a Celery task) in their admin language and time zone, as
    their own requests are: its messages and dates are read by them."""
    from wagtail.users.models import UserProfile  # needs the apps loaded

    profile = UserProfile.get_for_user(user)
    with translation.override(profile.get_preferred_language()), timezone.override(profile.get_current_time_zone()):
        yield
