"""A channel's Retry-After (``channels.base.retry_after_seconds``): a finite number of seconds or an HTTP date.

What else a channel sends ("nan", "inf", a negative number) is no wait at all, and a wait past a day is a day:
the sync engine turns the wait into a ``timedelta`` and a date, which "nan" or 1e12 seconds would break.
"""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from wagtail_customers.channels.base import RETRY_AFTER_MAX_SECONDS, retry_after_seconds

DAY = 24 * 3600


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e400", "-5", "-0.5", "", "   ", "abc", "12 s"])
def test_an_unreadable_or_negative_value_is_no_wait(value):
    assert retry_after_seconds({"Retry-After": value}) is None


def test_no_header_is_no_wait():
    assert retry_after_seconds({}) is None
    assert retry_after_seconds(None) is None


@pytest.mark.parametrize(("value", "seconds"), [("120", 120), ("0", 0), (" 7 ", 7), ("1.5", 1.5)])
def test_a_number_of_seconds(value, seconds):
    assert retry_after_seconds({"Retry-After": value}) == seconds


def test_the_lower_case_name_is_read_too():
    assert retry_after_seconds({"retry-after": "120"}) == 120


@pytest.mark.parametrize("value", ["1e12", str(DAY + 1), "99999999999999999999999"])
def test_a_wait_past_a_day_is_a_day(value):
    assert retry_after_seconds({"Retry-After": value}) == RETRY_AFTER_MAX_SECONDS == DAY
    # What the sync engine does with it.
    assert datetime.now(UTC) + timedelta(seconds=retry_after_seconds({"Retry-After": value}))


def test_an_http_date():
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=120)
    seconds = retry_after_seconds({"Retry-After": format_datetime(moment, usegmt=True)})
    assert 110 <= seconds <= 120


def test_an_http_date_gone_by_is_no_wait_and_one_far_off_is_a_day():
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0
    assert retry_after_seconds({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}) == DAY


@pytest.mark.parametrize("value", ["Mon, 99 Foo 2026 00:00:00 GMT", "Fri, 01 Jan 2027 00:00:00 +9999"])
def test_a_broken_http_date_is_no_wait(value):
    assert retry_after_seconds({"Retry-After": value}) is None
