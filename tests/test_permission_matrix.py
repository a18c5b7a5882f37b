"""The permission matrix: every URL the plugin serves, for seven kinds of user, with the exact answer.

The URLs come from Django's resolver (every URL name in a namespace starting with ``wagtail_customers``,
plus the WatchlistEntry snippet's URLs), so a new URL without an entry in ``MATRIX`` fails this test
until someone writes down who may open it. Each case is requested by every user of
``tests/permission_world.py`` (anonymous, non-staff, staff with no access, a grant on account A with
only "view", a grant on A with every action, the plugin's group permissions, a superuser), on an
object of account A and again on the same kind of object of account B, and the answers must be exactly
the table's. On every answer, nothing of account B may show for the users who have access to A only;
on listings, the users with access to every account must see B's rows (so that check can fail).

Also: every request runs in a savepoint that is rolled back (each user meets the same data), and no
GET may change the data; every URL refuses a POST without a CSRF token.
"""

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from wagtail.models import ModelLogEntry

from tests.module_data import fresh_copy, module_data
from tests.permission_world import MARKER, USERS, build_world
from wagtail_customers.models import (
    AccessGrant,
    Customer,
    ExportJob,
    ImportJob,
    Order,
    RetentionRule,
    SellerAccount,
    WatchlistEntry,
    WatchlistRule,
    WatchlistRuleCondition,
)

pytestmark = pytest.mark.django_db

SNIPPET_NAMESPACE = "wagtailsnippets_wagtail_customers_watchlistentry"
CHOOSER_NAMESPACE = "wagtailsnippetchoosers_wagtail_customers_watchlistentry"

# Answers. LOGIN: a redirect to the admin login page; REDIRECT: any other redirect (after a POST that
# worked, or to where the feature sends the user); the others are status codes.
LOGIN = "login"
REDIRECT = "redirect"
OK, DENIED, MISSING, NOT_ALLOWED = 200, 403, 404, 405


def answers(*, staff, view_a, all_a, group, superuser, anonymous=LOGIN, non_staff=LOGIN):
    """The answer for each user (anonymous and non-staff users are sent to the login page by default)."""
    return {
        "anonymous": anonymous,
        "non_staff": non_staff,
        "staff": staff,
        "view_a": view_a,
        "all_a": all_a,
        "group": group,
        "superuser": superuser,
    }


def everyone(answer, **overrides):
    return answers(**{user: answer for user in ("staff", "view_a", "all_a", "group", "superuser")} | overrides)


@dataclass(frozen=True)
class Case:
    """One request of the matrix.

    ``kwargs`` and ``data`` values written ``"@name"`` stand for the pk of the world's object ``name``
    (of account A, and of account B in the B pass).
    """

    #: The answer on account A's object (or with no object).
    expect: dict
    method: str = "get"
    kwargs: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    #: On account B's object; by default: 404 for users who have no access to B, else as ``expect``.
    expect_b: dict | None = None
    #: A listing or other data page: users with access to every account see B's rows on it.
    lists_b: bool = False

    @property
    def has_objects(self):
        values = [*self.kwargs.values(), *self.query.values(), *self.data.values()]
        return any(str(value).startswith("@") for value in values)

    def answers_on_b(self):
        if self.expect_b is not None:
            return self.expect_b
        outside = {"staff": MISSING, "view_a": MISSING, "all_a": MISSING}
        return {user: outside.get(user, answer) if answer != LOGIN else answer for user, answer in self.expect.items()}


# Shorthands for the common shapes of answers.
VIEW_LISTING = answers(staff=DENIED, view_a=OK, all_a=OK, group=OK, superuser=OK)
VIEW_OBJECT = answers(staff=MISSING, view_a=OK, all_a=OK, group=OK, superuser=OK)
SHARE_PAGE = answers(staff=DENIED, view_a=DENIED, all_a=OK, group=DENIED, superuser=OK)
#: A POST-only URL asked with GET.
POST_ONLY = everyone(NOT_ALLOWED)
#: An action on account A's object the user may see, needing an action only all_a and superusers hold there.
ACT_ON_A = answers(staff=MISSING, view_a=DENIED, all_a=OK, group=DENIED, superuser=OK)
ACTED_ON_A = answers(staff=MISSING, view_a=DENIED, all_a=REDIRECT, group=DENIED, superuser=REDIRECT)
#: Wagtail's own refusal (a redirect to the dashboard with "Sorry, you do not have permission"): no page of the
#: plugin answers so (each refusal is the plugin's 403 page), and a redirect to the dashboard is told apart.
DASHBOARD = "dashboard"

#: A user preference saved (and back to the listing) by anyone who may open the listing.
VIEW_LISTING_POST = answers(staff=DENIED, view_a=REDIRECT, all_a=REDIRECT, group=REDIRECT, superuser=REDIRECT)
TAB_LISTING = [Case(VIEW_LISTING, lists_b=True)]
#: An account id that does not exist.
MISSING_ACCOUNT = Case(everyone(DENIED, superuser=MISSING), kwargs={"pk": 987654321})
#: On the connection URLs a user who may not manage seller accounts gets the plugin's 403 page, whatever the id.
MISSING_CONNECTION_ACCOUNT = Case(everyone(DENIED, superuser=MISSING), kwargs={"account_id": 987654321})
MISSING_CONNECTION_ACCOUNT_POST = Case(
    everyone(DENIED, superuser=MISSING), method="post", kwargs={"account_id": 987654321}
)
#: Watchlist rules' pages: users who may manage some account's watchlist (all_a on A, superusers).
RULES_PAGE = everyone(DENIED, all_a=OK, superuser=OK)
RULES_PAGE_ON_B = everyone(DENIED, all_a=MISSING, superuser=OK)
RULES_SAVED = everyone(DENIED, all_a=REDIRECT, superuser=REDIRECT)
RULES_SAVED_ON_B = everyone(DENIED, all_a=MISSING, superuser=REDIRECT)
RULE_FORM = {
    "name": "Renamed rule",
    "is_enabled": "on",
    "conditions-TOTAL_FORMS": "1",
    "conditions-INITIAL_FORMS": "0",
    "conditions-0-metric": "orders",
    "conditions-0-operator": "gte",
    "conditions-0-value": "3",
}
#: Public URLs authenticated by the caller's signature, not by a session: no CSRF token to ask for.
CSRF_EXEMPT = {"wagtail_customers_webhooks:receive"}


#: Every URL of the plugin: its name -> the requests to make (a GET first, then the POSTs if any).
MATRIX = {
    # --- The customers listing (tabs, results refresh, preferences, watchlist eye, bulk actions, delete) ------
    "wagtail_customers:index": TAB_LISTING,
    "wagtail_customers:index_results": TAB_LISTING,
    "wagtail_customers:highest_value": TAB_LISTING,
    "wagtail_customers:highest_value_results": TAB_LISTING,
    "wagtail_customers:most_orders": TAB_LISTING,
    "wagtail_customers:most_orders_results": TAB_LISTING,
    "wagtail_customers:most_returned": TAB_LISTING,
    "wagtail_customers:most_returned_results": TAB_LISTING,
    "wagtail_customers:promo_codes": TAB_LISTING,
    "wagtail_customers:promo_codes_results": TAB_LISTING,
    "wagtail_customers:watchlist": TAB_LISTING,
    "wagtail_customers:watchlist_results": TAB_LISTING,
    # The band of a searched or filtered listing, loaded after its table (views/listing/statistics.py): scoped
    # like the listing, so another account's id in the URL only empties the band.
    "wagtail_customers:statistics": [
        Case(VIEW_LISTING, kwargs={"tab": "all"}, query={"q": "a", "channel": "amazon"}),
        Case(VIEW_LISTING, kwargs={"tab": "most-returned"}, query={"account": "@account"}, expect_b=VIEW_LISTING),
        Case(everyone(MISSING, staff=DENIED), kwargs={"tab": "no-such-tab"}),
    ],
    # The country filter's choices, loaded after the page (views/listing/country_choices.py): scoped like the
    # listing (JSON, no names of customers), so another account's id in the URL only empties them.
    "wagtail_customers:country_choices": [
        Case(VIEW_LISTING, kwargs={"tab": "all"}, query={"q": "a", "country": "DE", "p": "-1"}),
        Case(VIEW_LISTING, kwargs={"tab": "watchlist"}, query={"account": "@account"}, expect_b=VIEW_LISTING),
        Case(everyone(MISSING, staff=DENIED), kwargs={"tab": "no-such-tab"}),
    ],
    # The filters drawer's fields, fetched when the drawer is about to open (views/listing/filters_drawer.py);
    # a link followed without JavaScript goes to the listing. Scoped like the listing: another account's id in
    # the URL is not offered.
    "wagtail_customers:filters_drawer": [
        Case(
            answers(staff=DENIED, view_a=REDIRECT, all_a=REDIRECT, group=REDIRECT, superuser=REDIRECT),
            kwargs={"tab": "all"},
            query={"country": "DE", "account": "@account"},
            expect_b=answers(staff=DENIED, view_a=REDIRECT, all_a=REDIRECT, group=REDIRECT, superuser=REDIRECT),
        ),
        Case(everyone(MISSING, staff=DENIED), kwargs={"tab": "no-such-tab"}),
    ],
    "wagtail_customers:save_columns": [
        Case(POST_ONLY),
        Case(
            VIEW_LISTING_POST := answers(
                staff=DENIED, view_a=REDIRECT, all_a=REDIRECT, group=REDIRECT, superuser=REDIRECT
            ),
            method="post",
            data={"columns": "name,email"},
        ),
    ],
    # The "Columns" menu's form, loaded when the menu is opened (views/listing/column_picker.py): the user's
    # own preference, nothing of any account.
    "wagtail_customers:column_picker": [Case(VIEW_LISTING, query={"next": "/admin/customers/"})],
    "wagtail_customers:reset_columns": [Case(POST_ONLY), Case(VIEW_LISTING_POST, method="post")],
    "wagtail_customers:save_per_page": [
        Case(POST_ONLY),
        Case(VIEW_LISTING_POST, method="post", data={"per_page": "50"}),
    ],
    "wagtail_customers:save_accounts": [
        Case(POST_ONLY),
        # Another account's id is ignored (the selection keeps only accounts the user may view).
        Case(VIEW_LISTING_POST, method="post", data={"account": "@account"}, expect_b=VIEW_LISTING_POST),
    ],
    "wagtail_customers:watchlist_toggle": [
        Case(POST_ONLY, kwargs={"pk": "@customer"}, expect_b=POST_ONLY),
        Case(ACTED_ON_A, method="post", kwargs={"pk": "@customer"}),
    ],
    "wagtail_customers:delete": [
        Case(ACT_ON_A, kwargs={"pk": "@customer"}),
        Case(ACTED_ON_A, method="post", kwargs={"pk": "@customer"}),
    ],
    # Erasing personal data (the erase action; all_a's grant has every action, the group only view and export).
    "wagtail_customers:erase": [
        Case(ACT_ON_A, kwargs={"pk": "@customer"}),
        Case(ACTED_ON_A, method="post", kwargs={"pk": "@customer"}),
    ],
    "wagtail_customers:bulk_action": [
        Case(
            answers(staff=DENIED, view_a=DENIED, all_a=OK, group=DENIED, superuser=OK),
            kwargs={"tab": "all", "action": "delete"},
            query={"id": "@customer"},
            # Ids of rows the user may not see are never found: nothing selected.
            expect_b=answers(staff=DENIED, view_a=DENIED, all_a=OK, group=DENIED, superuser=OK),
        ),
        Case(
            answers(staff=DENIED, view_a=DENIED, all_a=REDIRECT, group=DENIED, superuser=REDIRECT),
            method="post",
            kwargs={"tab": "all", "action": "delete"},
            query={"id": "@customer"},
            expect_b=answers(staff=DENIED, view_a=DENIED, all_a=REDIRECT, group=DENIED, superuser=REDIRECT),
        ),
        Case(
            answers(staff=DENIED, view_a=DENIED, all_a=REDIRECT, group=DENIED, superuser=REDIRECT),
            method="post",
            kwargs={"tab": "all", "action": "watchlist-remove"},
            query={"id": "@customer"},
            expect_b=answers(staff=DENIED, view_a=DENIED, all_a=REDIRECT, group=DENIED, superuser=REDIRECT),
        ),
        Case(
            answers(staff=DENIED, view_a=DENIED, all_a=OK, group=DENIED, superuser=OK),
            kwargs={"tab": "all", "action": "erase"},
            query={"id": "@customer"},
            expect_b=answers(staff=DENIED, view_a=DENIED, all_a=OK, group=DENIED, superuser=OK),
        ),
        Case(
            answers(staff=DENIED, view_a=DENIED, all_a=REDIRECT, group=DENIED, superuser=REDIRECT),
            method="post",
            kwargs={"tab": "all", "action": "erase"},
            query={"id": "@customer"},
            expect_b=answers(staff=DENIED, view_a=DENIED, all_a=REDIRECT, group=DENIED, superuser=REDIRECT),
        ),
        # "Merge…" opens the merge screen for exactly two selected customers of one account; one selected (or
        # none the user may see, on B) goes back to the listing with a message.
        Case(
            answers(staff=DENIED, view_a=DENIED, all_a=REDIRECT, group=DENIED, superuser=REDIRECT),
            kwargs={"tab": "all", "action": "merge"},
            query={"id": "@customer"},
            expect_b=answers(staff=DENIED, view_a=DENIED, all_a=REDIRECT, group=DENIED, superuser=REDIRECT),
        ),
    ],
    # --- Customer page, order page, e-mail ------------------------------------------------------------
    "wagtail_customers_customer:detail": [Case(VIEW_OBJECT, kwargs={"pk": "@customer"})],
    "wagtail_customers_customer:order": [Case(VIEW_OBJECT, kwargs={"pk": "@order"})],
    "wagtail_customers_customer:email": [
        Case(
            ACT_ON_A,
            kwargs={"pk": "@customer"},
        ),
        Case(
            ACTED_ON_A,
            method="post",
            kwargs={"pk": "@customer"},
            data={"reason": "other", "subject": "Hello", "message": "Thanks for your order."},
        ),
    ],
    # The access request's zip (GDPR art. 15): the export and "See personal data" actions (the group may export but
    # not see personal data: refused, as the zip is nothing but personal data); GET only.
    "wagtail_customers_customer:personal_data": [
        Case(answers(staff=MISSING, view_a=DENIED, all_a=OK, group=DENIED, superuser=OK), kwargs={"pk": "@customer"}),
        Case(everyone(NOT_ALLOWED), method="post", kwargs={"pk": "@customer"}, expect_b=everyone(NOT_ALLOWED)),
    ],
    # Merging a duplicate into the customer, and undoing it (the delete action: a merge deletes the duplicate's
    # row). The matrix's world has one customer per account: "other" is the customer itself, which the merge
    # refuses with a message (back to the merge page); with no merge made, the undo says there is none.
    "wagtail_customers_customer:merge": [
        Case(ACT_ON_A, kwargs={"pk": "@customer"}),
        Case(ACT_ON_A, kwargs={"pk": "@customer"}, query={"other": "@customer"}),
        Case(ACTED_ON_A, method="post", kwargs={"pk": "@customer"}, data={"other": "@customer"}),
    ],
    "wagtail_customers_customer:merge_undo": [
        Case(ACT_ON_A, kwargs={"pk": "@customer"}),
        Case(ACTED_ON_A, method="post", kwargs={"pk": "@customer"}),
    ],
    # --- Exports ------------------------------------------------------------------------------------
    "wagtail_customers_exports:index": [Case(answers(staff=DENIED, view_a=DENIED, all_a=OK, group=OK, superuser=OK))],
    "wagtail_customers_exports:start": [
        Case(POST_ONLY),
        Case(
            answers(staff=DENIED, view_a=DENIED, all_a=OK, group=OK, superuser=OK),
            method="post",
            data={"format": "csv", "scope": "all", "tab": "all"},
            lists_b=True,
        ),
        Case(
            answers(staff=DENIED, view_a=DENIED, all_a=OK, group=OK, superuser=OK),
            method="post",
            data={"format": "csv", "scope": "selected", "tab": "all", "ids": "@customer"},
            # all_a selected only a row they may not see: "select at least one customer", back to the listing.
            expect_b=answers(staff=DENIED, view_a=DENIED, all_a=REDIRECT, group=OK, superuser=OK),
        ),
    ],
    "wagtail_customers_exports:status": [
        Case(
            answers(staff=MISSING, view_a=MISSING, all_a=OK, group=MISSING, superuser=MISSING),
            kwargs={"job_id": "@export_job"},
            # Jobs are personal: B's job belongs to the superuser.
            expect_b=answers(staff=MISSING, view_a=MISSING, all_a=MISSING, group=MISSING, superuser=OK),
        )
    ],
    "wagtail_customers_exports:download": [
        Case(
            # The job is still waiting: its owner gets "not ready yet" (409), everyone else 404.
            answers(staff=MISSING, view_a=MISSING, all_a=409, group=MISSING, superuser=MISSING),
            kwargs={"job_id": "@export_job"},
            expect_b=answers(staff=MISSING, view_a=MISSING, all_a=MISSING, group=MISSING, superuser=409),
        )
    ],
    "wagtail_customers_exports:customer_orders": [
        Case(answers(staff=MISSING, view_a=MISSING, all_a=OK, group=OK, superuser=OK), kwargs={"pk": "@customer"})
    ],
    # --- Imports ------------------------------------------------------------------------------------
    "wagtail_customers_imports:index": [
        Case(answers(staff=MISSING, view_a=MISSING, all_a=OK, group=MISSING, superuser=OK))
    ],
    "wagtail_customers_imports:template": [
        Case(answers(staff=MISSING, view_a=MISSING, all_a=OK, group=MISSING, superuser=OK))
    ],
    "wagtail_customers_imports:job": [
        Case(
            answers(staff=MISSING, view_a=MISSING, all_a=OK, group=MISSING, superuser=MISSING),
            kwargs={"job_id": "@import_job"},
            expect_b=answers(staff=MISSING, view_a=MISSING, all_a=MISSING, group=MISSING, superuser=OK),
        )
    ],
    "wagtail_customers_imports:status": [
        Case(
            answers(staff=MISSING, view_a=MISSING, all_a=OK, group=MISSING, superuser=MISSING),
            kwargs={"job_id": "@import_job"},
            expect_b=answers(staff=MISSING, view_a=MISSING, all_a=MISSING, group=MISSING, superuser=OK),
        )
    ],
    "wagtail_customers_imports:apply": [
        Case(POST_ONLY, kwargs={"job_id": "@import_job"}, expect_b=POST_ONLY),
        Case(
            answers(staff=MISSING, view_a=MISSING, all_a=REDIRECT, group=MISSING, superuser=MISSING),
            method="post",
            kwargs={"job_id": "@import_job"},
            expect_b=answers(staff=MISSING, view_a=MISSING, all_a=MISSING, group=MISSING, superuser=REDIRECT),
        ),
    ],
    "wagtail_customers_imports:cancel": [
        Case(POST_ONLY, kwargs={"job_id": "@import_job"}, expect_b=POST_ONLY),
        Case(
            answers(staff=MISSING, view_a=MISSING, all_a=REDIRECT, group=MISSING, superuser=MISSING),
            method="post",
            kwargs={"job_id": "@import_job"},
            expect_b=answers(staff=MISSING, view_a=MISSING, all_a=MISSING, group=MISSING, superuser=REDIRECT),
        ),
    ],
    # --- Seller accounts ------------------------------------------------------------------------------
    # Views of one account refuse non-managers before looking the id up (a missing id answers like an
    # existing one: ids cannot be probed); managers get 404 for a missing id.
    "wagtail_customers_accounts:index": [
        Case(answers(staff=DENIED, view_a=OK, all_a=OK, group=OK, superuser=OK), lists_b=True)
    ],
    "wagtail_customers_accounts:index_results": [
        Case(answers(staff=DENIED, view_a=OK, all_a=OK, group=OK, superuser=OK), lists_b=True)
    ],
    "wagtail_customers_accounts:add": [Case(everyone(DENIED, superuser=OK))],
    "wagtail_customers_accounts:edit": [
        MISSING_ACCOUNT,
        Case(everyone(DENIED, superuser=OK), kwargs={"pk": "@account"}, expect_b=everyone(DENIED, superuser=OK)),
        Case(
            everyone(DENIED, superuser=REDIRECT),
            method="post",
            kwargs={"pk": "@account"},
            data={"name": "Renamed", "channel": "shopify", "currency": "USD"},
            expect_b=everyone(DENIED, superuser=REDIRECT),
        ),
    ],
    "wagtail_customers_accounts:delete": [
        MISSING_ACCOUNT,
        Case(everyone(DENIED, superuser=OK), kwargs={"pk": "@account"}, expect_b=everyone(DENIED, superuser=OK)),
        Case(
            everyone(DENIED, superuser=REDIRECT),
            method="post",
            kwargs={"pk": "@account"},
            expect_b=everyone(DENIED, superuser=REDIRECT),
        ),
    ],
    "wagtail_customers_accounts:history": [
        MISSING_ACCOUNT,
        Case(everyone(DENIED, superuser=OK), kwargs={"pk": "@account"}, expect_b=everyone(DENIED, superuser=OK)),
    ],
    "wagtail_customers_accounts:history_results": [
        MISSING_ACCOUNT,
        Case(everyone(DENIED, superuser=OK), kwargs={"pk": "@account"}, expect_b=everyone(DENIED, superuser=OK)),
    ],
    "wagtail_customers_accounts:usage": [
        MISSING_ACCOUNT,
        Case(everyone(DENIED, superuser=OK), kwargs={"pk": "@account"}, expect_b=everyone(DENIED, superuser=OK)),
    ],
    # --- Store connections (the seller account's managers only; others get the 403 page, whatever the id) ----
    "wagtail_customers_connections:connection": [
        MISSING_CONNECTION_ACCOUNT,
        Case(
            everyone(DENIED, superuser=OK),
            kwargs={"account_id": "@account"},
            expect_b=everyone(DENIED, superuser=OK),
        ),
        # Saving credentials: an empty form is refused with the page again (nothing stored).
        Case(
            everyone(DENIED, superuser=OK),
            method="post",
            kwargs={"account_id": "@account"},
            expect_b=everyone(DENIED, superuser=OK),
        ),
    ],
    **{
        f"wagtail_customers_connections:{name}": [
            Case(POST_ONLY, kwargs={"account_id": "@account"}, expect_b=POST_ONLY),
            MISSING_CONNECTION_ACCOUNT_POST,
            Case(
                everyone(DENIED, superuser=REDIRECT),
                method="post",
                kwargs={"account_id": "@account"},
                expect_b=everyone(DENIED, superuser=REDIRECT),
            ),
        ]
        for name in ("test", "connect", "sync", "pause", "resume")
    },
    # The channels' webhook endpoint: public (the channel's HMAC signature is the authentication), POST only.
    "wagtail_customers_webhooks:receive": [
        Case(everyone(NOT_ALLOWED, anonymous=NOT_ALLOWED, non_staff=NOT_ALLOWED), kwargs={"token": "no-such-token"}),
        Case(
            everyone(MISSING, anonymous=MISSING, non_staff=MISSING),
            method="post",
            kwargs={"token": "no-such-token"},
        ),
    ],
    # --- Alerts (each user's own; views/alerts/) --------------------------------------------------------------
    "wagtail_customers_alerts:index": [Case(VIEW_LISTING)],
    "wagtail_customers_alerts:mark_read": [
        Case(POST_ONLY),
        # Ids of alerts that are not the user's own are ignored: nothing changes, back to the list.
        Case(VIEW_LISTING_POST, method="post", data={"id": "987654321"}),
    ],
    "wagtail_customers_alerts:mark_all_read": [Case(POST_ONLY), Case(VIEW_LISTING_POST, method="post")],
    # --- Retention rule of a seller account (its managers only, as its edit view) ---------------------------
    "wagtail_customers_retention:rule": [
        Case(everyone(DENIED, superuser=MISSING), kwargs={"account_id": 987654321}),
        Case(
            everyone(DENIED, superuser=OK),
            kwargs={"account_id": "@account"},
            expect_b=everyone(DENIED, superuser=OK),
        ),
        # Preview: the page again with the count, nothing saved.
        Case(
            everyone(DENIED, superuser=OK),
            method="post",
            kwargs={"account_id": "@account"},
            data={"preview": "1", "is_enabled": "on", "basis": "shipment", "days": "30"},
            expect_b=everyone(DENIED, superuser=OK),
        ),
        # A save that erases more asks first: the page again with the count, nothing saved.
        Case(
            everyone(DENIED, superuser=OK),
            method="post",
            kwargs={"account_id": "@account"},
            data={"save": "1", "is_enabled": "on", "basis": "shipment", "days": "30"},
            expect_b=everyone(DENIED, superuser=OK),
        ),
        # Confirmed for those values: saved.
        Case(
            everyone(DENIED, superuser=REDIRECT),
            method="post",
            kwargs={"account_id": "@account"},
            data={"save": "1", "is_enabled": "on", "basis": "shipment", "days": "30", "confirm": "1:shipment:30"},
            expect_b=everyone(DENIED, superuser=REDIRECT),
        ),
    ],
    # --- Watchlist rules (users who may manage the watchlist of some account; others: the plugin's 403) --------
    "wagtail_customers_watchlist_rules:index": [Case(RULES_PAGE)],
    "wagtail_customers_watchlist_rules:add": [
        Case(RULES_PAGE),
        # all_a may not choose account B: the form again, with the error.
        Case(
            RULES_SAVED,
            method="post",
            data=RULE_FORM | {"account": "@account"},
            expect_b=everyone(DENIED, all_a=OK, superuser=REDIRECT),
        ),
    ],
    "wagtail_customers_watchlist_rules:edit": [
        Case(RULES_PAGE, kwargs={"pk": "@watchlist_rule"}, expect_b=RULES_PAGE_ON_B),
        Case(RULES_SAVED, method="post", kwargs={"pk": "@watchlist_rule"}, data=RULE_FORM, expect_b=RULES_SAVED_ON_B),
        Case(everyone(DENIED, all_a=MISSING, superuser=MISSING), kwargs={"pk": "987654321"}),
    ],
    "wagtail_customers_watchlist_rules:delete": [
        Case(RULES_PAGE, kwargs={"pk": "@watchlist_rule"}, expect_b=RULES_PAGE_ON_B),
        Case(RULES_SAVED, method="post", kwargs={"pk": "@watchlist_rule"}, expect_b=RULES_SAVED_ON_B),
    ],
    **{
        f"wagtail_customers_watchlist_rules:{name}": [
            Case(POST_ONLY, kwargs={"pk": "@watchlist_rule"}, expect_b=POST_ONLY),
            Case(RULES_SAVED, method="post", kwargs={"pk": "@watchlist_rule"}, data=data, expect_b=RULES_SAVED_ON_B),
        ]
        for name, data in (("set_enabled", {"enabled": "0"}), ("run", {}))
    },
    # --- Saved views (views/saved_views/): anyone who may open the listing; changes by the owner only -------
    # A's view: owned by all_a, shared with view_a and the group; B's: private to the superuser.
    "wagtail_customers_saved_views:index": [Case(VIEW_LISTING)],
    "wagtail_customers_saved_views:menu": [Case(VIEW_LISTING)],
    "wagtail_customers_saved_views:create": [
        Case(POST_ONLY),
        Case(VIEW_LISTING_POST, method="post", data={"name": "New view", "visibility": "private", "tab": "all"}),
    ],
    "wagtail_customers_saved_views:open": [
        Case(
            SAVED_VIEW_SHARED := answers(
                staff=DENIED, view_a=REDIRECT, all_a=REDIRECT, group=REDIRECT, superuser=MISSING
            ),
            kwargs={"pk": "@saved_view"},
            expect_b=(
                SAVED_VIEW_B := answers(staff=DENIED, view_a=MISSING, all_a=MISSING, group=MISSING, superuser=REDIRECT)
            ),
        ),
        Case(everyone(MISSING, staff=DENIED), kwargs={"pk": 987654321}),
    ],
    "wagtail_customers_saved_views:edit": [
        Case(
            answers(staff=DENIED, view_a=DENIED, all_a=OK, group=DENIED, superuser=MISSING),
            kwargs={"pk": "@saved_view"},
            expect_b=answers(staff=DENIED, view_a=MISSING, all_a=MISSING, group=MISSING, superuser=OK),
        ),
        Case(
            SAVED_VIEW_OWNER := answers(staff=DENIED, view_a=DENIED, all_a=REDIRECT, group=DENIED, superuser=MISSING),
            method="post",
            kwargs={"pk": "@saved_view"},
            data={"name": "Renamed", "visibility": "private"},
            expect_b=SAVED_VIEW_B,
        ),
    ],
    "wagtail_customers_saved_views:update": [
        Case(POST_ONLY, kwargs={"pk": "@saved_view"}, expect_b=POST_ONLY),
        Case(
            SAVED_VIEW_OWNER,
            method="post",
            kwargs={"pk": "@saved_view"},
            data={"tab": "most-orders", "query": "q=a"},
            expect_b=SAVED_VIEW_B,
        ),
    ],
    "wagtail_customers_saved_views:delete": [
        Case(
            answers(staff=DENIED, view_a=DENIED, all_a=OK, group=DENIED, superuser=MISSING),
            kwargs={"pk": "@saved_view"},
            expect_b=answers(staff=DENIED, view_a=MISSING, all_a=MISSING, group=MISSING, superuser=OK),
        ),
        Case(SAVED_VIEW_OWNER, method="post", kwargs={"pk": "@saved_view"}, expect_b=SAVED_VIEW_B),
    ],
    # --- Sharing ---------------------------------------------------------------------------------------
    "wagtail_customers_sharing:index": [Case(SHARE_PAGE)],
    "wagtail_customers_sharing:index_results": [Case(SHARE_PAGE)],
    "wagtail_customers_sharing:share": [
        Case(SHARE_PAGE),
        Case(
            answers(staff=DENIED, view_a=DENIED, all_a=REDIRECT, group=DENIED, superuser=REDIRECT),
            method="post",
            data={"user": "colleague", "accounts": "@account", "actions": "export"},
            # all_a may not share B: the form refuses the account (the page again, with the error).
            expect_b=answers(staff=DENIED, view_a=DENIED, all_a=OK, group=DENIED, superuser=REDIRECT),
        ),
    ],
    "wagtail_customers_sharing:users": [
        Case(answers(staff=DENIED, view_a=DENIED, all_a=OK, group=DENIED, superuser=OK), query={"q": "coll"}),
    ],
    "wagtail_customers_sharing:change": [
        Case(
            answers(staff=MISSING, view_a=MISSING, all_a=OK, group=MISSING, superuser=OK),
            kwargs={"pk": "@grant"},
        ),
        Case(
            answers(staff=MISSING, view_a=MISSING, all_a=REDIRECT, group=MISSING, superuser=REDIRECT),
            method="post",
            kwargs={"pk": "@grant"},
            data={"actions": ["view", "export"]},
        ),
    ],
    "wagtail_customers_sharing:revoke": [
        Case(
            answers(staff=MISSING, view_a=MISSING, all_a=OK, group=MISSING, superuser=OK),
            kwargs={"pk": "@grant"},
        ),
        Case(
            answers(staff=MISSING, view_a=MISSING, all_a=REDIRECT, group=MISSING, superuser=REDIRECT),
            method="post",
            kwargs={"pk": "@grant"},
        ),
    ],
    # --- The watchlist snippet and its chooser -----------------------------------------------------------
    f"{SNIPPET_NAMESPACE}:list": [Case(VIEW_LISTING, lists_b=True)],
    f"{SNIPPET_NAMESPACE}:list_results": [Case(VIEW_LISTING, lists_b=True)],
    # Entries are added from the customers listing: "add" sends everyone there.
    f"{SNIPPET_NAMESPACE}:add": [Case(everyone(REDIRECT, staff=DENIED))],
    f"{SNIPPET_NAMESPACE}:edit": [
        Case(ACT_ON_A, kwargs={"pk": "@watchlist"}),
        Case(ACTED_ON_A, method="post", kwargs={"pk": "@watchlist"}, data={"note": "changed"}),
    ],
    f"{SNIPPET_NAMESPACE}:delete": [
        Case(ACT_ON_A, kwargs={"pk": "@watchlist"}),
        Case(ACTED_ON_A, method="post", kwargs={"pk": "@watchlist"}),
    ],
    f"{SNIPPET_NAMESPACE}:history": [Case(ACT_ON_A, kwargs={"pk": "@watchlist"})],
    f"{SNIPPET_NAMESPACE}:history_results": [Case(ACT_ON_A, kwargs={"pk": "@watchlist"})],
    f"{SNIPPET_NAMESPACE}:usage": [Case(ACT_ON_A, kwargs={"pk": "@watchlist"})],
    f"{CHOOSER_NAMESPACE}:choose": [Case(VIEW_LISTING, lists_b=True)],
    f"{CHOOSER_NAMESPACE}:choose_results": [Case(VIEW_LISTING, lists_b=True)],
    f"{CHOOSER_NAMESPACE}:chosen": [
        Case(
            answers(staff=DENIED, view_a=OK, all_a=OK, group=OK, superuser=OK),
            kwargs={"pk": "@watchlist"},
            expect_b=answers(staff=DENIED, view_a=MISSING, all_a=MISSING, group=OK, superuser=OK),
        )
    ],
    f"{CHOOSER_NAMESPACE}:chosen_multiple": [
        # Ids of entries the user may not see are never found: an empty choice.
        Case(
            answers(staff=DENIED, view_a=OK, all_a=OK, group=OK, superuser=OK),
            query={"id": "@watchlist"},
            expect_b=answers(staff=DENIED, view_a=OK, all_a=OK, group=OK, superuser=OK),
        ),
    ],
}


# --- The URL list -------------------------------------------------------------------------------


def plugin_url_names(*, text_ids_only=False):
    """``namespace:name`` of every URL the plugin serves, read from the resolver (``text_ids_only``: those whose route
    takes any text as an id, ``<str:pk>``, which the view then reads)."""
    names = set()

    def walk(patterns, namespaces):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, namespaces + ([pattern.namespace] if pattern.namespace else []))
            elif isinstance(pattern, URLPattern) and pattern.name and namespaces:
                if text_ids_only and "<str:" not in str(pattern.pattern):
                    continue
                namespace = ":".join(namespaces)
                last = namespaces[-1]
                if last.startswith("wagtail_customers") or last in (SNIPPET_NAMESPACE, CHOOSER_NAMESPACE):
                    names.add(f"{namespace}:{pattern.name}".removeprefix("wagtailadmin:"))

    walk(get_resolver().url_patterns, [])
    return names


PLUGIN_URLS = sorted(plugin_url_names())
#: Routes taking any text as an id on this Wagtail (its 7.0 snippet and viewset views route ``<str:pk>``).
TEXT_ID_URLS = plugin_url_names(text_ids_only=True)
#: The views of Wagtail's own viewsets the plugin registers (the watchlist's snippet views and chooser, the seller
#: accounts' ModelViewSet), whose access checks and rendering are Wagtail's at each version, and the text-id routes.
WAGTAIL_VIEWSET_URLS = {
    name
    for name in PLUGIN_URLS
    if name.split(":")[-2] in (SNIPPET_NAMESPACE, CHOOSER_NAMESPACE, "wagtail_customers_accounts")
} | TEXT_ID_URLS


def at_the_floors_only(url_names, kept):
    """``url_names`` as parameters, those not in ``kept`` marked ``version_neutral``."""
    return [name if name in kept else pytest.param(name, marks=pytest.mark.version_neutral) for name in url_names]


def test_the_url_list_is_read_from_the_resolver():
    assert "wagtail_customers_sharing:index" in PLUGIN_URLS
    assert "wagtail_customers:index" in PLUGIN_URLS
    assert all(name.split(":")[0].startswith("wagtail") for name in PLUGIN_URLS)


def test_every_matrix_entry_is_a_url_of_the_plugin():
    assert sorted(set(MATRIX) - set(PLUGIN_URLS)) == []


# --- Making the requests --------------------------------------------------------------------------


def resolve_value(value, objects):
    if isinstance(value, list | tuple):
        return [resolve_value(item, objects) for item in value]
    if isinstance(value, str) and value.startswith("@"):
        return objects[value[1:]].pk
    return value


def answer_of(response):
    if response.status_code in (301, 302, 303):
        location = urlsplit(response["Location"]).path
        if location == reverse("wagtailadmin_login"):
            return LOGIN
        return DASHBOARD if location == reverse("wagtailadmin_home") else REDIRECT
    return response.status_code


def body_of(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def data_snapshot():
    """What no GET may change: the rows of the plugin's data and the history."""
    return {
        "accounts": list(SellerAccount.objects.order_by("pk").values_list("pk", "is_enabled")),
        "customers": list(Customer.objects.order_by("pk").values_list("pk", "name", "email")),
        "orders": list(Order.objects.order_by("pk").values_list("pk", "status")),
        "watchlist": list(WatchlistEntry.objects.order_by("pk").values_list("pk", "note")),
        "grants": list(AccessGrant.objects.order_by("pk").values()),
        "export_jobs": list(ExportJob.objects.order_by("pk").values_list("pk", "state", "file")),
        "import_jobs": list(ImportJob.objects.order_by("pk").values_list("pk", "state", "result")),
        "retention_rules": list(RetentionRule.objects.order_by("pk").values_list("pk", "basis", "days", "is_enabled")),
        "watchlist_rules": list(WatchlistRule.objects.order_by("pk").values_list("pk", "name", "is_enabled")),
        "watchlist_rule_conditions": WatchlistRuleCondition.objects.count(),
        # Recording that an export was read (an audit of a read, not a change) is allowed on a GET.
        "history": ModelLogEntry.objects.exclude(action__startswith="wagtail_customers.export.").count(),
    }


def clients_for(world):
    clients = {}
    for user_name in USERS:
        client = Client()
        if world.users[user_name] is not None:
            client.force_login(world.users[user_name])
        clients[user_name] = client
    return clients


def request(client, url_name, case, objects):
    url = reverse(url_name, kwargs={key: resolve_value(value, objects) for key, value in case.kwargs.items()})
    if case.query:
        url = (
            f"{url}?{urlencode({key: resolve_value(value, objects) for key, value in case.query.items()}, doseq=True)}"
        )
    data = {key: resolve_value(value, objects) for key, value in case.data.items()}
    return client.post(url, data) if case.method == "post" else client.get(url)


def run_case(world, clients, url_name, case, objects):
    """Every user's answer, the users who saw account B, and the users whose request changed data."""
    actual, saw_b, changed = {}, set(), set()
    for user_name in USERS:
        with transaction.atomic():
            before = data_snapshot()
            response = request(clients[user_name], url_name, case, objects)
            content = body_of(response).decode("utf-8", "replace").lower()
            if data_snapshot() != before:
                changed.add(user_name)
            transaction.set_rollback(True)
        actual[user_name] = answer_of(response)
        if MARKER in content:
            saw_b.add(user_name)
    return actual, saw_b, changed


#: Built once for the module's tests (each runs in a savepoint of its transaction).
world_once = module_data(build_world)


@pytest.fixture
def world(db, world_once, settings):
    return fresh_copy(world_once, settings)


def test_each_test_has_the_world_s_files_in_its_own_storage(world, settings):
    """The import jobs' uploads, in the private storage beside this test's MEDIA_ROOT (the matrix applies one)."""
    for side in (world.a, world.b):
        stored = side["import_job"].file
        assert stored.storage.exists(stored.name)
        assert Path(settings.MEDIA_ROOT).parent in Path(stored.path).parents


# At the floors the views of Wagtail's own viewsets (their access checks are Wagtail's, version by version); the
# plugin's own views decide through its one scoping of grants, the same at every version, which their own tests
# drive at the floors.
@pytest.mark.parametrize("url_name", at_the_floors_only(PLUGIN_URLS, WAGTAIL_VIEWSET_URLS))
def test_url_answers_as_the_matrix_says(world, url_name):
    if url_name not in MATRIX:
        pytest.fail(f"{url_name} has no entry in MATRIX (tests/test_permission_matrix.py): say who may open it.")
    clients = clients_for(world)
    for case in MATRIX[url_name]:
        passes = [("A", world.a, case.expect)]
        if case.has_objects:
            passes.append(("B", world.b, case.answers_on_b()))
        for label, objects, expected in passes:
            actual, saw_b, changed = run_case(world, clients, url_name, case, objects)
            where = f"{case.method.upper()} {url_name} on account {label}'s objects"
            assert actual == expected, where
            if case.method == "get":
                assert changed == set(), f"{where}: a GET changed data"
            refused = {user for user, answer in actual.items() if answer not in (OK, REDIRECT)}
            assert changed & refused == set(), f"{where}: a refused request changed data"
            if label == "B":
                assert changed & {"staff", "view_a", "all_a"} == set(), f"{where}: B's data changed by a user of A"
            assert saw_b & {"view_a", "all_a", "staff"} == set(), f"{where}: account B leaked"
            if case.lists_b:
                assert {"group", "superuser"} <= saw_b, f"{where}: users with every account should see B"


@pytest.mark.parametrize("url_name", PLUGIN_URLS)
def test_post_without_csrf_token_is_refused(world, url_name):
    cases = MATRIX.get(url_name) or [Case(everyone(OK))]
    case = next((case for case in cases if case.method == "post"), cases[0])
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["superuser"])
    url = reverse(url_name, kwargs={key: resolve_value(value, world.a) for key, value in case.kwargs.items()})
    data = {key: resolve_value(value, world.a) for key, value in case.data.items()}
    before = data_snapshot()
    response = client.post(url, data)
    if url_name in CSRF_EXEMPT:
        # Refused by its own check (tests/test_connections_webhooks.py), with nothing written.
        assert response.status_code in (401, 404)
    else:
        assert response.status_code == 403
        assert b"CSRF" in response.content
    assert data_snapshot() == before


# --- Methods a view does not offer ---------------------------------------------------------------------


def url_of(url_name, case, objects):
    return reverse(url_name, kwargs={key: resolve_value(value, objects) for key, value in case.kwargs.items()})


# At the floors PUT alone: PATCH and DELETE are refused by the same check of the view's methods.
@pytest.mark.parametrize("url_name", PLUGIN_URLS)
@pytest.mark.parametrize(
    "method", ["put", *(pytest.param(method, marks=pytest.mark.version_neutral) for method in ("patch", "delete"))]
)
def test_methods_a_view_does_not_offer_answer_405(world, url_name, method):
    """PUT, PATCH and DELETE are not POST: a DELETE must not remove, a PUT with an empty body must not revoke."""
    cases = MATRIX.get(url_name) or [Case(everyone(OK))]
    case = next((case for case in cases if case.method == "post"), cases[0])
    clients = clients_for(world)
    for user_name in ("all_a", "superuser"):
        before = data_snapshot()
        url = url_of(url_name, case, world.a)
        if case.query:
            query = {key: resolve_value(value, world.a) for key, value in case.query.items()}
            url = f"{url}?{urlencode(query, doseq=True)}"
        data = urlencode({key: resolve_value(value, world.a) for key, value in case.data.items()}, doseq=True)
        response = getattr(clients[user_name], method)(url, data, content_type="application/x-www-form-urlencoded")
        assert response.status_code == NOT_ALLOWED, f"{method.upper()} {url_name} as {user_name}"
        assert method.upper() not in response.get("Allow", "")
        assert data_snapshot() == before, f"{method.upper()} {url_name} as {user_name} changed data"


# --- Ids that are not plain numbers ------------------------------------------------------------------

#: Id-like values an attacker sends: unicode digits (``str.isdigit()`` accepts them, ``int()`` does not
#: always), a number too big for the database's integers, and a negative one.
BAD_IDS = ["\u00b2", "\u2460", "\u0661\u0662", "99999999999999999999", "-1", "1e3"]
#: The request parameters that carry ids somewhere in the plugin.
ID_PARAMETERS = ("account", "id", "ids", "customer", "user", "accounts", "columns", "other", "merge")


def with_bad_ids(values, bad):
    values = dict(values)
    for name in ID_PARAMETERS:
        values[name] = bad
    return values


def kwargs_with_bad_id(url_name, case, objects, bad):
    """The URL's own ids replaced by ``bad`` when the URL pattern accepts it (``<str:pk>``), else left alone."""
    kwargs = {key: resolve_value(value, objects) for key, value in case.kwargs.items()}
    for key, value in kwargs.items():
        if isinstance(value, int):
            try:
                reverse(url_name, kwargs={**kwargs, key: bad})
            except Exception:  # noqa: BLE001 - the pattern refuses it (``<int:pk>``): the resolver answers 404
                continue
            kwargs[key] = bad
    return kwargs


# Every URL with every bad id for two users (about 1,100 requests). At the floors only the routes that take any text
# as an id (Wagtail 7.0's ``<str:pk>``: the id reaches the view); in the others' the resolver refuses a bad id, and
# the ids in queries and forms are read by the plugin's one parser, the same at every version.
@pytest.mark.parametrize("url_name", at_the_floors_only(PLUGIN_URLS, TEXT_ID_URLS))
def test_ids_that_are_not_plain_numbers_never_answer_500(world, url_name):
    cases = MATRIX.get(url_name) or [Case(everyone(OK))]
    clients = clients_for(world)
    for case in cases:
        for bad in BAD_IDS:
            for user_name in ("all_a", "superuser"):
                client = clients[user_name]
                client.raise_request_exception = False
                with transaction.atomic():
                    url = reverse(url_name, kwargs=kwargs_with_bad_id(url_name, case, world.a, bad))
                    query = with_bad_ids({k: resolve_value(v, world.a) for k, v in case.query.items()}, bad)
                    url = f"{url}?{urlencode(query, doseq=True)}"
                    if case.method == "post":
                        data = with_bad_ids({k: resolve_value(v, world.a) for k, v in case.data.items()}, bad)
                        response = client.post(url, data)
                    else:
                        response = client.get(url)
                    transaction.set_rollback(True)
                assert response.status_code < 500, f"{case.method.upper()} {url_name} as {user_name} with {bad!r}"


@pytest.mark.parametrize("bad", BAD_IDS)
def test_ids_too_big_or_not_ascii_in_the_path_answer_404(world, bad):
    """``<int:pk>`` only takes ASCII digits; a number too big for the database is "not found", not a 500.
    The seller accounts' viewset routes ``<str:pk>`` on Wagtail 7.0 (``<int:pk>`` on 8): the same 404 on both."""
    client = clients_for(world)["superuser"]
    client.raise_request_exception = False
    for path in (
        "/admin/customers/{}/",
        "/admin/customers/orders/{}/",
        "/admin/customers/{}/email/",
        "/admin/customers/sharing/{}/",
        "/admin/customers/exports/customer/{}/",
        "/admin/customers/accounts/edit/{}/",
        "/admin/customers/accounts/delete/{}/",
        "/admin/customers/accounts/history/{}/",
        "/admin/customers/accounts/history-results/{}/",
        "/admin/customers/accounts/usage/{}/",
    ):
        response = client.get(path.format(bad))
        assert response.status_code == MISSING, path.format(bad)


def test_the_one_id_parser_takes_ascii_digits_within_64_bits_only():
    from wagtail_customers.ids import MAX_ID, parse_id, parse_ids

    assert [parse_id(value) for value in ("7", " 42 ", 7, str(MAX_ID))] == [7, 42, 7, MAX_ID]
    for bad in [*BAD_IDS, "", "0", "+1", "1.0", str(MAX_ID + 1), None, True, 0, -3, 1.0, "\uff11"]:
        assert parse_id(bad) is None, repr(bad)
    assert parse_ids(["3", "\u2460", "3", "x", "5"]) == [3, 5]


def test_wagtails_bulk_delete_of_watchlist_entries_with_bad_ids_never_answers_500(world):
    client = clients_for(world)["superuser"]
    client.raise_request_exception = False
    for bad in BAD_IDS:
        url = f"/admin/bulk/wagtail_customers/watchlistentry/delete/?{urlencode({'id': bad})}"
        assert client.get(url).status_code < 500, bad
        assert client.post(url).status_code < 500, bad
    assert WatchlistEntry.objects.count() == 2


@pytest.mark.parametrize(
    "url_name", ["wagtail_customers_sharing:revoke", "wagtail_customers_sharing:change", f"{SNIPPET_NAMESPACE}:delete"]
)
def test_options_names_only_the_methods_a_view_offers(world, url_name):
    client = clients_for(world)["superuser"]
    kwargs = {"pk": world.a["watchlist" if url_name.startswith("wagtailsnippets") else "grant"].pk}
    response = client.options(reverse(url_name, kwargs=kwargs))
    assert response.status_code == OK
    assert response["Allow"] == "GET, HEAD, POST, OPTIONS"


@pytest.mark.parametrize(
    "url_name",
    [
        "wagtail_customers_accounts:index",
        "wagtail_customers_accounts:index_results",
        "wagtail_customers_sharing:index",
        "wagtail_customers_sharing:index_results",
        f"{SNIPPET_NAMESPACE}:list",
        f"{SNIPPET_NAMESPACE}:list_results",
    ],
)
def test_a_search_longer_than_every_searched_text_finds_nothing_not_an_error(world, url_name):
    """Wagtail searches these views with ``icontains``, and SQLite refuses a LIKE pattern over 50,000 bytes ("LIKE or
    GLOB pattern too complex": a 500); such a term finds nothing (views/search.py)."""
    client = clients_for(world)["superuser"]
    client.raise_request_exception = False
    response = client.get(reverse(url_name), {"q": "a" * 60_000})
    assert response.status_code == OK
    assert MARKER not in body_of(response).decode().lower()
