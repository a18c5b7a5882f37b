"""Dates in the listing's cells (views/listing/date_text.py) are what Django's ``date`` filter writes.

Every format character alone (over a sample of the datetimes) and the formats the languages use (over all of
them): a leap year's days and every minute of a day, in several languages, each formatted twice (the second
reads the kept texts); languages taken in turn; a bounded store of texts; a changed format setting.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.template.defaultfilters import date as date_filter
from django.utils import translation
from django.utils.dateformat import re_formatchars

from wagtail_customers.views.listing import date_text
from wagtail_customers.views.listing.date_text import FIELDS_OF, format_datetime

EVERY_CHARACTER = "aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTuUwWyYzZ"
LANGUAGES = ["en", "de", "fr", "ja", "ar"]


@pytest.fixture(autouse=True)
def forget_kept_texts():
    date_text._TEXTS.clear()
    yield
    date_text._TEXTS.clear()


def datetimes():
    """Every day of 2024 (a leap year) at a time that moves through the day, then every minute of one day."""
    start = datetime(2024, 1, 1, 0, 0, 7, tzinfo=UTC)
    days = [start + timedelta(days=day, minutes=day * 37) for day in range(366)]
    return days + [datetime(2025, 3, 9, tzinfo=UTC) + timedelta(minutes=minute) for minute in range(24 * 60)]


def test_the_kept_characters_are_djangos_format_characters():
    assert set(FIELDS_OF) < set(re_formatchars.pattern)
    assert set(EVERY_CHARACTER) == set(re_formatchars.pattern) - set(r"(?<!\)[]")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("character", EVERY_CHARACTER)
def test_each_format_character_is_the_filters(language, character):
    with translation.override(language):
        for value in datetimes()[::7]:
            for _ in range(2):
                assert format_datetime(value, character) == date_filter(value, character), (character, value)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "format_string",
    ["DATETIME_FORMAT", "SHORT_DATETIME_FORMAT", "DATE_FORMAT", "N j, Y, P", r"\N\o\w: l jS \o\f F Y h:i:s A", ""],
)
def test_whole_formats_are_the_filters(language, format_string):
    with translation.override(language):
        for value in datetimes():
            for _ in range(2):
                assert format_datetime(value, format_string) == date_filter(value, format_string), value


def test_a_date_or_a_format_reading_the_time_zone_goes_through_the_filter():
    value = datetime(2024, 5, 17, 13, 45, tzinfo=UTC)
    assert format_datetime(date(2024, 5, 17), "N j, Y") == date_filter(date(2024, 5, 17), "N j, Y")
    assert format_datetime(value, "c") == date_filter(value, "c") == "2024-05-17T13:45:00+00:00"
    assert not date_text._TEXTS


def test_the_kept_texts_stay_bounded_and_right(monkeypatch):
    monkeypatch.setattr(date_text, "_MAX_TEXTS", 50)
    value = datetime(2024, 1, 1, tzinfo=UTC)
    for step in range(200):
        moment = value + timedelta(minutes=step * 61)
        assert format_datetime(moment, "Y-m-d P") == date_filter(moment, "Y-m-d P")
        assert len(date_text._TEXTS) <= 50


def test_texts_are_kept_apart_by_language():
    """The same dates in languages taken in turn, never emptying the kept texts: each language's own."""
    for value in datetimes()[::37]:
        for language in ["en", "de", "ja", "en", "fr"]:
            with translation.override(language):
                assert format_datetime(value, "DATETIME_FORMAT") == date_filter(value, "DATETIME_FORMAT"), language
                assert format_datetime(value, "N j, Y, P") == date_filter(value, "N j, Y, P"), language


def test_a_changed_format_setting_is_followed(settings):
    value = datetime(2024, 5, 17, 13, 45, tzinfo=UTC)
    # No language: the formats of the settings, the ones a change is seen in.
    with translation.override(None):
        settings.DATETIME_FORMAT = "Y-m-d"
        assert format_datetime(value, "DATETIME_FORMAT") == date_filter(value, "DATETIME_FORMAT")
        settings.DATETIME_FORMAT = "Y/m/d H:i"
        assert format_datetime(value, "DATETIME_FORMAT") == date_filter(value, "DATETIME_FORMAT") == "2024/05/17 13:45"
