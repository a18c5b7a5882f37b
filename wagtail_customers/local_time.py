"""Datetimes shown in the admin user's time zone, on any site; work for a user in their language and zone.

A site with ``USE_TZ = False`` stores naive datetimes, which ``timezone.localtime`` refuses (``ValueError``): a page
showing one answered 500. Such a value is shown as it is stored.
"""

from contextlib import contextmanager
from datetime import UTC, datetime, time

from django.conf import settings
from django.utils import timezone, translation

#: The time of day at which a channel's date without a time (the dates of Amazon's seller-feedback report,
#: "12/25/26") is kept: noon UTC. That moment falls on the same calendar day in every time zone from UTC-12 to
#: UTC+11, where midnight UTC showed the day before everywhere west of Greenwich (25 December as "Dec. 24, 7 p.m."
#: in New York); counted over the last N days, it is off by half a day at most. It also tells such a value from a
#: moment with a time of day (``date_only_day``), so it is shown as a date: a real moment at exactly 12:00:00.000000
#: UTC is shown as its day too, which is right in those zones.
DATE_ONLY_TIME = time(12)


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


def date_only_moment(day):
    """A date without a time of day as the aware datetime it is kept as: ``day`` at noon UTC (``DATE_ONLY_TIME``)."""
    return datetime.combine(day, DATE_ONLY_TIME, tzinfo=UTC)


def date_only_day(value):
    """The day of a value kept by ``date_only_moment`` (noon UTC to the microsecond), None for any other value.

    A naive value (a site without time zones) is read in the site's time zone, as it was stored."""
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    value = value.astimezone(UTC)
    return value.date() if value.time() == DATE_ONLY_TIME else None
