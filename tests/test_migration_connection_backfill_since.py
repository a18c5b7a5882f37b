"""Migration 0036 keeps the history import of connections started before it where it was: midnight UTC of their
date (the new imports start at the start of the day in the chooser's time zone, services/channel_sync.py)."""

import datetime

import pytest

from tests.migration_support import back_to_the_latest_schema, migrate  # noqa: F401 (a fixture)

BEFORE = [("wagtail_customers", "0035_merge_alerts_and_dismissal")]
AFTER = [("wagtail_customers", "0036_connection_backfill_since")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_a_started_import_keeps_starting_at_midnight_utc_of_its_date():
    apps = migrate(BEFORE)
    SellerAccount = apps.get_model("wagtail_customers", "SellerAccount")
    ChannelConnection = apps.get_model("wagtail_customers", "ChannelConnection")
    dated = ChannelConnection.objects.create(
        account=SellerAccount.objects.create(name="Dated", currency="USD"),
        webhook_token="dated",
        backfill_from=datetime.date(2026, 3, 1),
    )
    whole = ChannelConnection.objects.create(
        account=SellerAccount.objects.create(name="Whole history", currency="USD"), webhook_token="whole"
    )

    apps = migrate(AFTER)
    ChannelConnection = apps.get_model("wagtail_customers", "ChannelConnection")

    assert ChannelConnection.objects.get(pk=dated.pk).backfill_since == datetime.datetime(
        2026, 3, 1, tzinfo=datetime.UTC
    )
    assert ChannelConnection.objects.get(pk=whole.pk).backfill_since is None
