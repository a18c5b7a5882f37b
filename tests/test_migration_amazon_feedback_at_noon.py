"""Migration 0037 moves the feedback dates read from Amazon's seller-feedback report (days, kept at midnight UTC) to
noon UTC of their day, where they are kept now (wagtail_customers.local_time.DATE_ONLY_TIME); any other stays."""

import datetime

import pytest

from tests.migration_support import back_to_the_latest_schema, migrate  # noqa: F401 (a fixture)

BEFORE = [("wagtail_customers", "0036_connection_backfill_since")]
AFTER = [("wagtail_customers", "0037_amazon_feedback_at_noon_utc")]
UTC = datetime.UTC


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_amazon_feedback_days_move_to_noon_utc():
    apps = migrate(BEFORE)
    SellerAccount = apps.get_model("wagtail_customers", "SellerAccount")
    Order = apps.get_model("wagtail_customers", "Order")
    Feedback = apps.get_model("wagtail_customers", "Feedback")
    Customer = apps.get_model("wagtail_customers", "Customer")
    amazon = SellerAccount.objects.create(name="Amazon US", channel="amazon", currency="USD")
    ebay = SellerAccount.objects.create(name="eBay", channel="ebay", currency="USD")
    placed = datetime.datetime(2026, 12, 20, 9, tzinfo=UTC)

    def feedback(account, number, channel, left_at):
        customer = Customer.objects.create(account=account, identity_key=f"email:{number}@example.com")
        order = Order.objects.create(
            account=account,
            customer=customer,
            channel=channel,
            external_id=number,
            placed_at=placed,
            currency="USD",
            total=1,
            subtotal=1,
        )
        return Feedback.objects.create(order=order, rating=1, left_at=left_at).pk

    day = feedback(amazon, "A-1", "amazon", datetime.datetime(2026, 12, 25, tzinfo=UTC))
    undated = feedback(amazon, "A-2", "amazon", None)
    ebay_midnight = feedback(ebay, "E-1", "ebay", datetime.datetime(2026, 12, 25, tzinfo=UTC))

    apps = migrate(AFTER)
    Feedback = apps.get_model("wagtail_customers", "Feedback")

    assert Feedback.objects.get(pk=day).left_at == datetime.datetime(2026, 12, 25, 12, tzinfo=UTC)
    assert Feedback.objects.get(pk=undated).left_at is None
    assert Feedback.objects.get(pk=ebay_midnight).left_at == datetime.datetime(2026, 12, 25, tzinfo=UTC)
