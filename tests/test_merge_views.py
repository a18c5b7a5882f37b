"""The merge screen and the undo (views/customer_page/merge.py): side by side, refusals with a message, never a 500."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from wagtail.users.models import UserProfile

from tests.factories import order_data
from tests.permission_world import grant, make_staff
from tests.test_merge import state
from wagtail_customers.models import Channel, Customer, CustomerMerge, SellerAccount
from wagtail_customers.services.ingestion import record_order, record_orders
from wagtail_customers.services.merge import merge_customers, undo_merge

pytestmark = pytest.mark.django_db

NBSP = "\N{NO-BREAK SPACE}"


@pytest.fixture
def pair(account):
    record_orders(
        account,
        [
            order_data("K-1", email="ada@example.com", day=1),
            order_data("D-1", email="ada.l@example.org", name="Ada Lovelace", day=2, lines=((3, "7.00"),)),
        ],
    )
    return (
        Customer.objects.get(identity_key="email:ada@example.com"),
        Customer.objects.get(identity_key="email:ada.l@example.org"),
    )


def merge_url(customer):
    return reverse("wagtail_customers_customer:merge", args=(customer.pk,))


def undo_url(customer):
    return reverse("wagtail_customers_customer:merge_undo", args=(customer.pk,))


def texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_screen_suggests_the_namesake_and_compares_side_by_side(admin_client, pair):
    kept, merged = pair
    page = admin_client.get(merge_url(kept)).content.decode()
    assert "ada.l@example.org" in page and "Customers with the same name" in page

    page = admin_client.get(merge_url(kept), {"other": merged.pk}).content.decode()
    assert "ada@example.com" in page and "ada.l@example.org" in page
    # The "after" column: 2 orders, $20.00 + $21.00 spent, 2 + 3 units.
    assert "<td data-wc-after>2</td>" in page and "<td data-wc-after>$41.00</td>" in page
    assert "<td data-wc-after>5</td>" in page
    assert 'name="csrfmiddlewaretoken"' in page


@pytest.mark.parametrize(
    "term", ['"ada.l@example.org"', "\N{LEFT DOUBLE QUOTATION MARK}ada.l@example\N{RIGHT DOUBLE QUOTATION MARK}"]
)
def test_the_search_takes_quotes_around_a_term_as_grouping(admin_client, pair, term):
    kept, merged = pair
    page = admin_client.get(merge_url(kept), {"q": term}).content.decode()
    assert "Customers found" in page and "ada.l@example.org" in page


def test_a_search_of_quotes_only_suggests_the_namesakes(admin_client, pair):
    kept, merged = pair
    page = admin_client.get(merge_url(kept), {"q": '""'}).content.decode()
    assert "Customers with the same name" in page and "ada.l@example.org" in page


@pytest.mark.parametrize(
    ("currency", "language", "spent", "discount", "after_spent", "after_discount"),
    [
        # As every other screen writes amounts: the account's currency, in the admin user's language.
        ("EUR", "de", f"1.234,40{NBSP}€", f"10,00{NBSP}€", f"2.468,80{NBSP}€", f"20,00{NBSP}€"),
        ("JPY", "en", "¥1,234", "¥10", "¥2,469", "¥20"),
        ("USD", "en", "$1,234.40", "$10.00", "$2,468.80", "$20.00"),
    ],
    ids=["EUR-de", "JPY-en", "USD-en"],
)
def test_the_comparison_writes_amounts_as_money(
    admin_client, superuser, currency, language, spent, discount, after_spent, after_discount
):
    account = SellerAccount.objects.create(name="Shop", channel=Channel.SHOPIFY, currency=currency)
    record_orders(
        account,
        [
            order_data("K-1", email="ada@example.com", lines=((1, "1244.40"),), discount="10.00"),
            order_data("D-1", email="ada.l@example.org", lines=((1, "1244.40"),), discount="10.00"),
        ],
    )
    kept = Customer.objects.get(identity_key="email:ada@example.com")
    merged = Customer.objects.get(identity_key="email:ada.l@example.org")
    assert (kept.amount_spent, kept.discount_total) == (Decimal("1234.40"), Decimal("10.00"))
    profile = UserProfile.get_for_user(superuser)
    profile.preferred_language = language
    profile.save()

    page = admin_client.get(merge_url(kept), {"other": merged.pk}).content.decode()
    # The statistics rows, in Customer.STATISTICS_FIELDS' order: kept, merged, after.
    rows = dict(
        zip(
            Customer.STATISTICS_FIELDS,
            re.findall(
                r"<tr data-wc-statistic>\s*<th[^>]*>[^<]*</th>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*"
                r"<td data-wc-after>([^<]*)</td>",
                page,
            ),
            strict=True,
        )
    )
    assert rows["amount_spent"] == (spent, spent, after_spent)
    assert rows["discount_total"] == (discount, discount, after_discount)
    assert rows["orders_count"] == ("1", "1", "2")
    assert "1234.40" not in page and "1234,40" not in page


def test_merge_then_undo_from_the_screens(admin_client, pair, account):
    kept, merged = pair
    before = state(account)

    response = admin_client.post(merge_url(kept), {"other": merged.pk})
    assert response.status_code == 302 and response["Location"] == reverse(
        "wagtail_customers_customer:detail", args=(kept.pk,)
    )
    assert not Customer.objects.filter(pk=merged.pk).exists()
    merge = CustomerMerge.objects.get()
    page = admin_client.get(response["Location"]).content.decode()
    assert "merged into" in page and f"{undo_url(kept)}?merge={merge.pk}" in page

    # The kept customer's page lists the merge, with the undo link.
    assert "was merged into this customer on" in page and "Undo this merge" in page

    confirm = admin_client.get(undo_url(kept), {"merge": merge.pk}).content.decode()
    assert "Undo the merge of" in confirm and "Ada Lovelace" in confirm
    response = admin_client.post(undo_url(kept), {"merge": merge.pk})
    assert response.status_code == 302
    assert "Merge undone" in " ".join(texts(response))
    assert state(account) == before
    page = admin_client.get(reverse("wagtail_customers_customer:detail", args=(kept.pk,))).content.decode()
    assert "undone on" in page and "Undo this merge" not in page


def merges_section(client, customer):
    page = client.get(reverse("wagtail_customers_customer:detail", args=(customer.pk,))).content.decode()
    start = page.index("data-wc-merges")
    return page[start : page.index("</section>", start)]


def test_an_undone_merge_links_to_its_customer_only_while_it_can_be_opened(admin_client, pair, superuser):
    kept, merged = pair
    merged_url = reverse("wagtail_customers_customer:detail", args=(merged.pk,))
    undo_merge(merge_customers(kept, merged, superuser), superuser)
    section = merges_section(admin_client, kept)
    assert "undone on" in section and f'href="{merged_url}"' in section
    assert admin_client.get(merged_url).status_code == 200

    # Merged again: the first, undone merge names a customer that is gone; no "Open" link to a 404.
    merge_customers(kept, merged, superuser)
    section = merges_section(admin_client, kept)
    assert "undone on" in section and merged_url not in section
    assert admin_client.get(merged_url).status_code == 404

    # Undone again, then the restored customer deleted: the same, for both undone merges.
    undo_merge(CustomerMerge.objects.get(undone_at__isnull=True), superuser)
    assert f'href="{merged_url}"' in merges_section(admin_client, kept)
    Customer.objects.filter(pk=merged.pk).delete()
    section = merges_section(admin_client, kept)
    assert section.count("undone on") == 2 and merged_url not in section


@pytest.mark.parametrize("other", ["abc", "\u00b2", "-1", "99999999999999999999", "0"])
def test_tampered_ids_are_refused_with_a_message(admin_client, pair, account, other):
    kept, _ = pair
    before = state(account)
    page = admin_client.get(merge_url(kept), {"other": other})
    assert page.status_code == 200 and b"does not exist" in page.content
    response = admin_client.post(merge_url(kept), {"other": other})
    assert response.status_code == 302
    assert state(account) == before
    undo = admin_client.post(undo_url(kept), {"merge": other})
    assert undo.status_code == 302 and state(account) == before


def test_another_accounts_customer_and_the_customer_itself_are_refused(admin_client, pair, account, other_account):
    kept, _ = pair
    stranger = record_order(other_account, order_data("X-1", email="ada.l@example.org")).customer
    before = state(account)
    for other, message in ((stranger, "same seller account"), (kept, "with itself")):
        page = admin_client.get(merge_url(kept), {"other": other.pk}).content.decode()
        assert message in page
        response = admin_client.post(merge_url(kept), {"other": other.pk})
        assert response.status_code == 302 and message in " ".join(texts(response))
    assert state(account) == before and Customer.objects.filter(pk=stranger.pk).exists()


def test_a_user_who_cannot_see_the_other_account_gets_no_hint_of_its_customer(client, pair, account, other_account):
    kept, _ = pair
    stranger = record_order(other_account, order_data("X-1", email="zed@example.org", name="Zed")).customer
    user = make_staff("merger")
    grant(user, account, "view", "delete", "see_personal_data")
    client.force_login(user)
    page = client.get(merge_url(kept), {"other": stranger.pk}).content.decode()
    assert "does not exist" in page and "Zed" not in page and "zed@" not in page
    response = client.post(merge_url(kept), {"other": stranger.pk})
    assert response.status_code == 302 and Customer.objects.filter(pk=stranger.pk).exists()


def test_merging_needs_the_delete_action(client, pair, account):
    kept, merged = pair
    user = make_staff("viewer")
    grant(user, account, "view", "export")
    client.force_login(user)
    assert client.get(merge_url(kept)).status_code == 403
    assert client.post(merge_url(kept), {"other": merged.pk}).status_code == 403
    assert client.post(undo_url(kept)).status_code == 403
    assert Customer.objects.filter(pk=merged.pk).exists()
    page = client.get(reverse("wagtail_customers_customer:detail", args=(kept.pk,))).content.decode()
    assert merge_url(kept) not in page


def bulk_merge_url(ids):
    query = "&".join(f"id={pk}" for pk in ids)
    return f"{reverse('wagtail_customers:bulk_action', args=('all', 'merge'))}?{query}"


def test_the_listing_bulk_bar_opens_the_merge_screen_for_exactly_two(admin_client, pair, account, other_account):
    kept, merged = pair
    listing = admin_client.get(reverse("wagtail_customers:index")).content.decode()
    assert reverse("wagtail_customers:bulk_action", args=("all", "merge")) in listing

    response = admin_client.get(bulk_merge_url([merged.pk, kept.pk]))
    # Both have one order: the first by id is kept; the screen can swap them.
    assert response.status_code == 302 and response["Location"] == f"{merge_url(kept)}?other={merged.pk}"

    third = record_order(account, order_data("T-1", email="t@example.com")).customer
    stranger = record_order(other_account, order_data("X-1", email="x@example.com")).customer
    for ids in ([kept.pk], [kept.pk, merged.pk, third.pk], [kept.pk, stranger.pk], ["all"]):
        response = admin_client.get(bulk_merge_url(ids))
        assert response.status_code == 302 and "exactly two customers" in " ".join(texts(response))
    assert Customer.objects.count() == 4


def test_without_the_personal_data_action_the_screens_mask_both_customers(client, pair, account):
    kept, merged = pair
    user = make_staff("masked")
    grant(user, account, "view", "delete")
    client.force_login(user)
    pages = [
        client.get(merge_url(kept)),
        client.get(merge_url(kept), {"other": merged.pk}),
        client.get(merge_url(kept), {"q": "ada"}),
    ]
    for page in pages:
        text = page.content.decode()
        assert page.status_code == 200
        assert "ada@example.com" not in text and "ada.l@example.org" not in text and "Lovelace" not in text
    # Figures stay visible: 2 orders after the merge.
    assert "<td data-wc-after>2</td>" in pages[1].content.decode()
    client.post(merge_url(kept), {"other": merged.pk})
    text = client.get(reverse("wagtail_customers_customer:detail", args=(kept.pk,))).content.decode()
    assert "ada.l@example.org" not in text and "Lovelace" not in text and "was merged into this customer" in text


def test_the_search_and_the_merge_list_read_the_personal_data_permission_once(client, account):
    """No query per search result or per merge listed: the rows are one account's, masked or shown alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wagtail_customers.services.merge import merge_customers
    from wagtail_customers.views.customer_page.merge import merge_history

    # Letters, not digits: both searches below are then answered the same way (services/search_index.py).
    record_orders(account, [order_data(f"S-{n}", email=f"ada{'abcdef'[n]}@example.com", day=n) for n in range(6)])
    kept, *others = Customer.objects.filter(account=account).order_by("pk")
    user = make_staff("counted")
    grant(user, account, "view", "delete", "see_personal_data")  # else the e-mail search finds nobody
    client.force_login(user)

    def queries(**params):
        with CaptureQueriesContext(connection) as context:
            assert client.get(merge_url(kept), params).status_code == 200
        return len(context)

    queries(q="nobody")  # the first request fills per-process caches
    one_result, five_results = queries(q="adab@example.com"), queries(q="example.com")
    assert one_result == five_results

    def history_queries():
        with CaptureQueriesContext(connection) as context:
            items = merge_history(user, kept)
        return len(context), items

    merge_customers(kept, others[0])
    history_queries()  # the first call loads the user's permissions and the customer's account
    one, _items = history_queries()
    for other in others[1:]:
        merge_customers(kept, other)
    five, items = history_queries()
    assert one == five and len(items) == 5
    assert all(item["label"] == "Ada Lovelace" for item in items)
