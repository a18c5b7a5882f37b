"""The data the permission matrix (and other access tests) run against.

Two seller accounts, A ("Alpha Store") and B ("Bravomarker Store"), each with a customer, an order,
a watchlist entry, a colleague's access grant, an import job and an export job (the customer has used a promo code and
returned a unit, so every listing tab shows them); and the seven users
of the matrix:

* ``anonymous``: not logged in;
* ``non_staff``: an active user without access to the Wagtail admin;
* ``staff``: admin access, nothing else;
* ``view_a``: admin access and a grant on A with only "view" (so A's personal data is masked for them);
* ``all_a``: admin access and a grant on A with every action;
* ``group``: admin access and, through a group, the plugin's view and export permissions (every account;
  without "See personal data", so every customer's personal data is masked for them);
* ``superuser``.

Everything of account B carries the marker ``bravomarker`` (``MARKER``), so a page can be searched for
any trace of B.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile

from tests.factories import order_data
from wagtail_customers.models import (
    AccessGrant,
    Channel,
    ExportJob,
    ImportJob,
    SavedView,
    SellerAccount,
    WatchlistEntry,
)
from wagtail_customers.models.watchlist_rules import WatchlistRule, WatchlistRuleCondition
from wagtail_customers.permissions import GRANT_FLAGS
from wagtail_customers.services.ingestion import record_order

#: The customers' phones (A's, B's).
PHONES = ("+1 555 0199 771", "+1 555 0199 772")
USERS = ("anonymous", "non_staff", "staff", "view_a", "all_a", "group", "superuser")
MARKER = "bravomarker"
PASSWORD = "matrix-pw"


@dataclass
class World:
    users: dict = field(default_factory=dict)
    #: Objects of account A and of account B, by the same names.
    a: dict = field(default_factory=dict)
    b: dict = field(default_factory=dict)


def admin_access_group():
    group, _ = Group.objects.get_or_create(name="Admin access")
    group.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    return group


def make_staff(username, email=None, **extra):
    """An active user with access to the Wagtail admin (and nothing else)."""
    extra.setdefault("first_name", username.title())
    user = get_user_model().objects.create_user(
        username, email or f"{username}@example.com", PASSWORD, is_staff=True, **extra
    )
    user.groups.add(admin_access_group())
    return user


def grant(user, account, *actions, by=None):
    flags = {flag: False for flag in GRANT_FLAGS.values()}
    flags.update({GRANT_FLAGS[action]: True for action in actions})
    return AccessGrant.objects.create(user=user, account=account, created_by=by, **flags)


def build_world():
    world = World()
    User = get_user_model()
    account_a = SellerAccount.objects.create(name="Alpha Store", channel=Channel.SHOPIFY, currency="USD")
    account_b = SellerAccount.objects.create(name="Bravomarker Store", channel=Channel.AMAZON, currency="USD")

    users = world.users
    users["anonymous"] = None
    users["non_staff"] = User.objects.create_user("nonstaff", "nonstaff@example.com", PASSWORD)
    users["staff"] = make_staff("staffer")
    users["view_a"] = make_staff("viewer")
    users["all_a"] = make_staff("manager")
    users["group"] = make_staff("grouped")
    users["superuser"] = User.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    colleague = make_staff("colleague")

    viewers = Group.objects.create(name="Customer viewers")
    viewers.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="wagtail_customers", codename__in=["view_customer", "export_customer"]
        )
    )
    users["group"].groups.add(viewers)
    grant(users["view_a"], account_a, "view")
    grant(users["all_a"], account_a, *GRANT_FLAGS)

    for side, account, name, email, owner in (
        (world.a, account_a, "Ada Alpha", "ada@alpha.example", users["all_a"]),
        (world.b, account_b, "Zed Bravomarker", "zed@bravomarker.example", users["superuser"]),
    ):
        side["account"] = account
        data = order_data(f"{account.pk}-1", email=email, name=name, city="Springfield", promo_codes=("WELCOME",))
        data.lines[0].returned_quantity = 1
        # Every kind of personal data, each findable in a page (tests/test_personal_data_masking.py).
        data.customer.phone = PHONES[side is world.b]
        data.ship_to.line1 = "77 Quincewood Lane"
        data.ship_to.postal_code = "ZX9 8QW"
        order = record_order(account, data)
        side["order"] = order
        side["customer"] = order.customer
        side["watchlist"] = WatchlistEntry.objects.create(customer=order.customer, note=f"watch {name}")
        side["grant"] = grant(colleague, account, "view", by=users["superuser"])
        side["watchlist_rule"] = WatchlistRule.objects.create(account=account, name=f"Watch {name}")
        WatchlistRuleCondition.objects.create(rule=side["watchlist_rule"], metric="orders", operator="gte", value=5)
        side["import_job"] = ImportJob.objects.create(
            user=owner,
            account=account,
            format_name="generic",
            file=ContentFile(b"order_id,email\n", name="orders.csv"),
            original_name="orders.csv",
            preview={"orders_to_create": 0},
        )
        side["export_job"] = ExportJob.objects.create(
            user=owner,
            file_format="csv",
            params={"accounts": [account.pk]},
            fingerprint=f"matrix-{account.pk}",
        )
    # Saved views: A's owned by all_a, naming account A, shared with view_a and the viewers group;
    # B's private to the superuser.
    world.a["saved_view"] = SavedView.objects.create(
        owner=users["all_a"], name="Alpha view", params={"account": [str(account_a.pk)]}, visibility="shared"
    )
    world.a["saved_view"].shared_with_users.add(users["view_a"])
    world.a["saved_view"].shared_with_groups.add(viewers)
    world.b["saved_view"] = SavedView.objects.create(
        owner=users["superuser"], name="Bravomarker view", params={"account": [str(account_b.pk)]}
    )
    return world
