"""Merging duplicate customers (services/merge.py): the books add up, later imports follow, undo restores exactly."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from tests.factories import order_data
from wagtail_customers.importers import run_import
from wagtail_customers.models import (
    AlertEvent,
    AlertNotification,
    AlertPreference,
    Customer,
    CustomerAlias,
    CustomerMerge,
    EmailFrequency,
    Feedback,
    Order,
    OrderEvent,
    OrderLine,
    PromoCodeUsage,
    WatchlistDismissal,
    WatchlistEntry,
    WatchlistMetric,
    WatchlistOperator,
    WatchlistRule,
    WatchlistRuleCondition,
)
from wagtail_customers.services.erasure import erase_customer, erase_customers, hashed_identity_key
from wagtail_customers.services.ingestion import record_order, record_orders
from wagtail_customers.services.merge import (
    MERGE_ACTION,
    UNDO_ACTION,
    MergeError,
    combined_statistics,
    merge_customers,
    undo_merge,
)
from wagtail_customers.services.statistics import rebuild_statistics
from wagtail_customers.services.watchlist import add_to_watchlist, remove_from_watchlist
from wagtail_customers.services.watchlist_rules import apply_rules

pytestmark = pytest.mark.django_db

STORE_A = "shopify/storeA_orders_export_1.pseudonymised.csv"
#: The merge's own two history entries are the audit trail: kept after an undo, left out of the comparison.
OWN_ACTIONS = (MERGE_ACTION, UNDO_ACTION)


def state(account):
    """Everything a merge touches, row by row: customers (every column but the statistics version, which each
    refresh moves on), orders, lines, promo codes, feedback, timeline, watchlist and its dismissals, alerts and their
    notifications, history entries on customers and on watchlist entries."""
    customer_type = ContentType.objects.get_for_model(Customer)
    watchlist_type = ContentType.objects.get_for_model(WatchlistEntry)
    customer_columns = [field.attname for field in Customer._meta.concrete_fields if field.name != "statistics_version"]
    return {
        "customers": list(Customer.objects.filter(account=account).order_by("pk").values(*customer_columns)),
        "orders": list(Order.objects.filter(account=account).order_by("pk").values()),
        "lines": list(OrderLine.objects.filter(order__account=account).order_by("pk").values()),
        "promo_codes": list(PromoCodeUsage.objects.filter(order__account=account).order_by("pk").values()),
        "feedback": list(Feedback.objects.filter(order__account=account).order_by("pk").values()),
        "events": list(OrderEvent.objects.filter(customer__account=account).order_by("pk").values()),
        "watchlist": list(WatchlistEntry.objects.filter(customer__account=account).order_by("pk").values()),
        "dismissals": list(WatchlistDismissal.objects.filter(customer__account=account).order_by("pk").values()),
        "alerts": list(AlertEvent.objects.filter(account=account).order_by("pk").values()),
        "notifications": list(AlertNotification.objects.filter(event__account=account).order_by("pk").values()),
        "history": list(
            ModelLogEntry.objects.filter(content_type__in=[customer_type, watchlist_type])
            .exclude(action__in=OWN_ACTIONS)
            .order_by("pk")
            .values("pk", "content_type", "object_id", "label", "action", "data", "user", "timestamp")
        ),
    }


def statistics_of(customer):
    customer.refresh_from_db()
    return {name: getattr(customer, name) for name in Customer.STATISTICS_FIELDS}


@pytest.fixture
def store_a(realdata, account):
    run_import(account, (realdata / STORE_A).read_bytes(), format_name="shopify")
    return account


@pytest.fixture
def pair(account, superuser):
    """Ada under two e-mails: the kept one with two orders, the duplicate with two (one refunded, with feedback)."""
    record_orders(
        account,
        [
            order_data("K-1", email="ada@example.com", day=1, promo_codes=("WELCOME",)),
            order_data("K-2", email="ada@example.com", day=3, lines=((1, "5.00"),)),
            order_data("D-1", email="ada.l@example.org", name="A. Lovelace", day=2, refunded="5.00", rating=1),
            order_data("D-2", email="ada.l@example.org", name="A. Lovelace", day=9, status="cancelled"),
        ],
    )
    kept = Customer.objects.get(identity_key="email:ada@example.com")
    merged = Customer.objects.get(identity_key="email:ada.l@example.org")
    add_to_watchlist([merged], superuser, note="asked for a refund twice")
    log(merged, "wagtail_customers.email.sent", user=superuser, data={"to": merged.email, "subject": "Hi"})
    return kept, merged


def test_merge_moves_everything_and_the_statistics_equal_a_fresh_rebuild(pair, superuser):
    kept, merged = pair
    expected = combined_statistics(kept, merged)
    merged_orders = set(merged.orders.values_list("pk", flat=True))

    merge = merge_customers(kept, merged, superuser)

    assert not Customer.objects.filter(pk=merged.pk).exists()
    assert set(kept.orders.values_list("pk", flat=True)) >= merged_orders
    assert statistics_of(kept) == expected
    assert expected["orders_count"] == 4 and expected["amount_spent"] == Decimal("60.00")
    rebuild_statistics()
    assert statistics_of(kept) == expected
    # The watchlist entry moved (the kept customer had none), with its timeline and history.
    assert WatchlistEntry.objects.get(customer=kept).note == "asked for a refund twice"
    assert kept.events.filter(kind="watchlist").count() == 1
    entries = ModelLogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Customer))
    assert set(entries.values_list("object_id", flat=True)) == {str(kept.pk)}
    logged = entries.get(action=MERGE_ACTION)
    assert logged.data["merge"] == merge.pk and logged.data["orders"] == 2
    assert "ada.l@example.org" not in str(logged.data)
    assert CustomerAlias.objects.get().identity_key == "email:ada.l@example.org"


def test_merge_then_undo_restores_the_exact_prior_state(pair, account, superuser):
    kept, merged = pair
    before = state(account)

    merge = merge_customers(kept, merged, superuser)
    assert state(account) != before
    restored = undo_merge(merge, superuser)

    assert restored.pk == merged.pk
    assert state(account) == before
    merge.refresh_from_db()
    assert merge.undone_at is not None and merge.snapshot == {}
    assert not CustomerAlias.objects.exists()
    actions = list(ModelLogEntry.objects.filter(action__in=OWN_ACTIONS).values_list("action", flat=True))
    assert sorted(actions) == sorted(OWN_ACTIONS)


def test_both_on_the_watchlist_keep_the_kept_entry_with_both_notes_and_undo_separates_them(pair, account, superuser):
    kept, merged = pair
    add_to_watchlist([kept], superuser, note="VIP")
    before = state(account)

    merge = merge_customers(kept, merged, superuser)
    entry = WatchlistEntry.objects.get(customer=kept)
    assert entry.note == "VIP\n\nasked for a refund twice"
    assert WatchlistEntry.objects.count() == 1

    undo_merge(merge, superuser)
    assert state(account) == before


@pytest.mark.parametrize(
    ("kept_note", "merged_note", "combined"),
    [
        # A note that is a substring of the kept one is news all the same.
        ("Not a fraud risk any more", "fraud", "Not a fraud risk any more\n\nfraud"),
        ("asked for a refund twice", "asked for a refund", "asked for a refund twice\n\nasked for a refund"),
        # The same note, or a paragraph the kept note has already (an earlier merge's), is not repeated.
        ("fraud", "fraud", "fraud"),
        ("VIP\n\nfraud", "fraud", "VIP\n\nfraud"),
        ("VIP", "VIP\n\nfraud", "VIP\n\nfraud"),
        ("", "fraud", "fraud"),
    ],
    ids=["substring", "prefix", "same", "paragraph-there", "one-paragraph-new", "kept-empty"],
)
def test_the_merged_note_is_compared_by_whole_paragraphs(pair, account, superuser, kept_note, merged_note, combined):
    kept, merged = pair
    add_to_watchlist([kept], superuser, note=kept_note)
    WatchlistEntry.objects.filter(customer=merged).update(note=merged_note)
    before = state(account)

    merge = merge_customers(kept, merged, superuser)
    assert WatchlistEntry.objects.get(customer=kept).note == combined

    undo_merge(merge, superuser)
    assert state(account) == before


@pytest.mark.parametrize("kept_dismissed", [False, True], ids=["kept-never-removed", "kept-removed-too"])
def test_merge_keeps_the_merged_customers_alerts_and_dismissal_and_undo_gives_them_back(
    pair, account, superuser, django_capture_on_commit_callbacks, kept_dismissed
):
    kept, merged = pair
    # The duplicate has been watched for years: a new order of theirs with bad feedback gave two alerts, still
    # due in the superuser's daily digest. Then a user took them off the watchlist.
    WatchlistEntry.objects.filter(customer=merged).update(created_at=datetime(2020, 1, 1, tzinfo=UTC))
    AlertPreference.objects.create(user=superuser, email_frequency=EmailFrequency.DAILY)
    with django_capture_on_commit_callbacks(execute=True):
        record_orders(account, [order_data("D-3", email="ada.l@example.org", name="A. Lovelace", day=12, rating=1)])
    assert AlertNotification.objects.filter(event__customer=merged, email_due=True).count() == 2
    remove_from_watchlist([merged], superuser)
    if kept_dismissed:
        add_to_watchlist([kept], superuser)
        remove_from_watchlist([kept], superuser)
    before = state(account)

    merge = merge_customers(kept, merged, superuser)
    assert AlertNotification.objects.filter(event__customer=kept, email_due=True).count() == 2
    assert WatchlistDismissal.objects.filter(customer=kept).count() == 1

    restored = undo_merge(merge, superuser)
    assert state(account) == before
    # A rule matching every buyer leaves the duplicate off the watchlist: the user's removal holds.
    rule = WatchlistRule.objects.create(account=account, name="Everyone")
    WatchlistRuleCondition.objects.create(
        rule=rule, metric=WatchlistMetric.ORDERS, operator=WatchlistOperator.GTE, value=1
    )
    apply_rules(account)
    assert not WatchlistEntry.objects.filter(customer=restored).exists()


def test_merge_and_undo_on_real_data_restore_the_exact_state(store_a, superuser):
    customers = list(Customer.objects.filter(account=store_a).order_by("-orders_count", "pk")[:2])
    before = state(store_a)
    expected = combined_statistics(*customers)

    merge = merge_customers(customers[0], customers[1], superuser)
    assert statistics_of(customers[0]) == expected
    rebuild_statistics()
    assert statistics_of(customers[0]) == expected

    undo_merge(merge, superuser)
    assert state(store_a) == before


def test_a_later_import_of_the_merged_buyer_lands_on_the_kept_customer_and_undo_takes_it_back(pair, superuser):
    kept, merged = pair
    merge = merge_customers(kept, merged, superuser)

    result = record_orders(kept.account, [order_data("D-3", email="ADA.L@example.org", name="A. Lovelace", day=12)])

    assert result.customers_created == 0
    new_order = Order.objects.get(external_id="D-3")
    assert new_order.customer_id == kept.pk
    kept.refresh_from_db()
    assert kept.orders_count == 5
    # The kept customer's details follow its latest order, as for any customer.
    assert kept.email == "ADA.L@example.org"
    merge.refresh_from_db()
    assert merge.later_order_ids == [new_order.pk]

    restored = undo_merge(merge, superuser)
    new_order.refresh_from_db()
    assert new_order.customer_id == restored.pk
    assert statistics_of(restored)["orders_count"] == 3
    # After the undo the buyer is its own customer again: the next import lands there.
    record_order(kept.account, order_data("D-4", email="ada.l@example.org", day=13))
    assert Order.objects.get(external_id="D-4").customer_id == restored.pk


def test_undo_takes_the_latest_merge_first(pair, account, superuser):
    kept, merged = pair
    third = record_order(account, order_data("T-1", email="lovelace@example.net", day=4)).customer
    first = merge_customers(kept, merged, superuser)
    second = merge_customers(kept, third, superuser)

    with pytest.raises(MergeError, match="undo that later merge first"):
        undo_merge(first, superuser)
    undo_merge(second, superuser)
    undo_merge(first, superuser)
    with pytest.raises(MergeError, match="undone already"):
        undo_merge(first, superuser)


@pytest.mark.parametrize("case", ["self", "other_account", "merged_into"])
def test_merges_the_rules_refuse(pair, account, other_account, superuser, case):
    kept, merged = pair
    if case == "self":
        target, message = kept, "with itself"
    elif case == "other_account":
        target, message = record_order(other_account, order_data("X-1")).customer, "same seller account"
    else:
        third = record_order(account, order_data("T-1", email="lovelace@example.net", day=4)).customer
        merge_customers(merged, third, superuser)
        target, message = merged, "Other customers were merged into"
    before = state(account)
    with pytest.raises(MergeError, match=message):
        merge_customers(kept, target, superuser)
    assert state(account) == before


def test_an_erased_customer_is_merged_only_with_another_erased_one(pair, account, superuser):
    kept, merged = pair
    erase_customer(merged)
    merged.refresh_from_db()
    with pytest.raises(MergeError, match="was erased"):
        merge_customers(kept, merged, superuser)

    erase_customer(kept)
    kept.refresh_from_db()
    before = state(account)
    merge = merge_customers(kept, merged, superuser)
    # A later import of the erased, merged buyer lands on the kept erased customer, without personal data.
    record_order(account, order_data("D-5", email="ada.l@example.org", name="A. Lovelace", day=20))
    order = Order.objects.get(external_id="D-5")
    assert order.customer_id == kept.pk and "Lovelace" not in order.ship_name
    order.delete()
    rebuild_statistics()
    merge.refresh_from_db()
    undo_merge(merge, superuser)
    assert state(account) == before


def test_erasing_kept_customers_of_two_accounts_at_once_hashes_each_alias_for_its_account(
    pair, account, other_account, superuser
):
    kept, merged = pair
    merge_customers(kept, merged, superuser)
    record_orders(
        other_account,
        [order_data("O-1", email="ada@example.com"), order_data("O-2", email="ada.l@example.org", day=2)],
    )
    other_kept, other_merged = Customer.objects.filter(account=other_account).order_by("pk")
    merge_customers(other_kept, other_merged, superuser)

    assert erase_customers(Customer.objects.filter(pk__in=[kept.pk, other_kept.pk])) == 2

    assert dict(CustomerAlias.objects.values_list("account_id", "identity_key")) == {
        seller.pk: hashed_identity_key(seller.pk, "email:ada.l@example.org") for seller in (account, other_account)
    }
    assert [merge.snapshot for merge in CustomerMerge.objects.all()] == [{}, {}]


def test_erasing_the_kept_customer_hashes_the_alias_and_ends_the_undo(pair, account, superuser):
    kept, merged = pair
    merge = merge_customers(kept, merged, superuser)
    erase_customer(kept)

    alias = CustomerAlias.objects.get()
    assert alias.identity_key == hashed_identity_key(account.pk, "email:ada.l@example.org")
    merge.refresh_from_db()
    assert merge.snapshot == {}
    record_order(account, order_data("D-6", email="ada.l@example.org", name="A. Lovelace", day=21))
    order = Order.objects.get(external_id="D-6")
    assert order.customer_id == kept.pk and "Lovelace" not in order.ship_name
    with pytest.raises(MergeError, match="erased after this merge"):
        undo_merge(merge, superuser)
    assert CustomerMerge.objects.get().undone_at is None
