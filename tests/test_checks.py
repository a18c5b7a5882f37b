import pytest
from django.core.checks import run_checks

from wagtail_customers.conf import get_setting


def ids(messages):
    return {message.id for message in messages if message.id.startswith("wagtail_customers.")}


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"BASE_URL": "http://testserver"}, set()),
        ("not a dict", {"wagtail_customers.E001"}),
        ({"PER_PAGE_SIZES": [10]}, {"wagtail_customers.W001"}),
        ({"PER_PAGE_CHOICES": [10, "x"]}, {"wagtail_customers.E002"}),
        ({"DEFAULT_PER_PAGE": 30}, {"wagtail_customers.E003"}),
        ({"INGEST_BATCH_SIZE": 0}, {"wagtail_customers.E004"}),
        ({"BASE_URL": "example.com"}, {"wagtail_customers.E005"}),
    ],
)
def test_settings_checks(settings, value, expected):
    settings.WAGTAIL_CUSTOMERS = value
    assert ids(run_checks()) == expected


def test_settings_are_read_lazily_with_defaults(settings):
    settings.WAGTAIL_CUSTOMERS = {"DEFAULT_PER_PAGE": 50}
    assert get_setting("DEFAULT_PER_PAGE") == 50
    assert get_setting("INGEST_BATCH_SIZE") == 1000
    settings.WAGTAIL_CUSTOMERS = {"DEFAULT_PER_PAGE": 10}
    assert get_setting("DEFAULT_PER_PAGE") == 10
    with pytest.raises(KeyError):
        get_setting("NOT_A_SETTING")
