"""The scoping module, the Wagtail permission policies built on it, the plugin's permissions and their migration."""

import importlib
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from wagtail import hooks

from tests.factories import order_data
from tests.permission_world import grant, make_staff
from wagtail_customers import compat
from wagtail_customers.models import (
    AccessGrant,
    Customer,
    ExportJob,
    ImportJob,
    Order,
    OrderLine,
    SellerAccount,
    WatchlistEntry,
)
from wagtail_customers.permission_policies import POLICY_ACTIONS, get_policy
from wagtail_customers.permissions import (
    PERMISSION_CODENAMES,
    Action,
    account_id_of,
    accounts_for,
    actions_allowed_somewhere,
    actions_by_account,
    actions_for_request,
    actions_on,
    can,
    has_any_access,
    has_module_permission,
    module_actions,
    plugin_permissions,
    scope,
    users_with_access,
)
from wagtail_customers.services.ingestion import record_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(account, other_account):
    """Two accounts with one customer each, and a disabled third one with a customer."""
    disabled = SellerAccount.objects.create(name="Closed C", is_enabled=False)
    orders = {
        "a": record_order(account, order_data("A1", email="a@example.com")),
        "b": record_order(other_account, order_data("B1", email="b@example.com")),
        "c": record_order(disabled, order_data("C1", email="c@example.com")),
    }
    return SimpleNamespace(a=account, b=other_account, c=disabled, orders=orders)


def group_with(*codenames):
    group = Group.objects.create(name="-".join(codenames))
    permissions = Permission.objects.filter(content_type__app_label="wagtail_customers", codename__in=codenames)
    group.permissions.add(*permissions)
    return group


# --- permissions.py ---------------------------------------------------------------------------


def test_grants_scope_by_action_and_account(shop):
    user = make_staff("clerk")
    grant(user, shop.a, Action.VIEW, Action.EXPORT)
    grant(user, shop.b, Action.VIEW)
    assert set(accounts_for(user, Action.VIEW)) == {shop.a, shop.b}
    assert list(accounts_for(user, Action.EXPORT)) == [shop.a]
    assert list(accounts_for(user, Action.DELETE)) == []
    assert can(user, Action.EXPORT, shop.a) and not can(user, Action.EXPORT, shop.b.pk)
    assert actions_on(user, shop.a) == {Action.VIEW, Action.EXPORT}
    assert actions_by_account(user) == {shop.a.pk: {Action.VIEW, Action.EXPORT}, shop.b.pk: {Action.VIEW}}


def test_disabled_accounts_are_out_of_every_scope(shop):
    user = make_staff("clerk")
    grant(user, shop.c, *Action)
    assert not has_any_access(user)
    assert list(accounts_for(user, Action.VIEW)) == []
    superuser_like = make_staff("groupie")
    superuser_like.groups.add(group_with("view_customer"))
    assert shop.c not in accounts_for(superuser_like, Action.VIEW)
    assert shop.orders["c"].customer not in scope(Customer.objects.all(), superuser_like)


def test_group_permission_is_module_wide_and_adds_to_grants(shop):
    user = make_staff("clerk")
    user.groups.add(group_with("view_customer"))
    grant(user, shop.a, Action.VIEW, Action.DELETE)
    user = type(user).objects.get(pk=user.pk)  # fresh permission cache
    assert module_actions(user) == {Action.VIEW}
    assert set(accounts_for(user, Action.VIEW)) == {shop.a, shop.b}
    assert list(accounts_for(user, Action.DELETE)) == [shop.a]
    assert actions_by_account(user) == {shop.a.pk: {Action.VIEW, Action.DELETE}, shop.b.pk: {Action.VIEW}}


def test_an_action_s_group_permission_without_view_s_applies_where_a_grant_lets_the_user_view(shop, superuser):
    # Every action works on the customers one can see. A group's export permission with View on A alone by a grant
    # exported every account's customers, and the customer page's orders export answered for B's customers.
    user = make_staff("clerk")
    user.groups.add(group_with("export_customer", "manage_watchlist"))
    grant(user, shop.a, Action.VIEW)
    user = type(user).objects.get(pk=user.pk)  # fresh permission cache
    assert module_actions(user) == set()
    assert not has_module_permission(user, Action.EXPORT)
    assert list(accounts_for(user, Action.EXPORT)) == [shop.a]
    assert list(accounts_for(user, Action.MANAGE_WATCHLIST)) == [shop.a]
    assert not can(user, Action.EXPORT, shop.b)
    assert actions_by_account(user) == {shop.a.pk: {Action.VIEW, Action.EXPORT, Action.MANAGE_WATCHLIST}}
    assert {Action.EXPORT, Action.MANAGE_WATCHLIST} <= actions_allowed_somewhere(user)
    assert list(scope(Customer.objects.all(), user, Action.EXPORT)) == [shop.orders["a"].customer]
    assert set(users_with_access([Action.EXPORT], account=shop.a)) == {superuser, user}
    assert set(users_with_access([Action.EXPORT], account=shop.b)) == {superuser}
    # With no grant at all, the permission alone gives nothing.
    AccessGrant.objects.filter(user=user).delete()
    user = type(user).objects.get(pk=user.pk)
    assert list(accounts_for(user, Action.EXPORT)) == []
    assert not can(user, Action.EXPORT)
    assert not has_any_access(user)


def test_an_exporter_by_group_exports_only_the_accounts_a_grant_lets_them_view(client, shop):
    from tests.export_support import START_URL, response_bytes

    user = make_staff("clerk")
    user.groups.add(group_with("export_customer"))
    grant(user, shop.a, Action.VIEW, Action.SEE_PERSONAL_DATA)
    client.force_login(user)
    response = client.post(START_URL, {"tab": "all", "scope": "all", "format": "csv"})
    assert response.status_code == 200
    exported = response_bytes(response).decode()
    assert "a@example.com" in exported and "b@example.com" not in exported
    theirs = client.get(f"/admin/customers/exports/customer/{shop.orders['b'].customer_id}/")
    assert theirs.status_code == 404
    ours = client.get(f"/admin/customers/exports/customer/{shop.orders['a'].customer_id}/")
    assert ours.status_code == 200


def test_superuser_holds_everything_and_anonymous_nothing(shop, superuser):
    from django.contrib.auth.models import AnonymousUser

    assert module_actions(superuser) == set(Action)
    assert set(accounts_for(superuser, Action.SHARE)) == {shop.a, shop.b}
    assert has_any_access(superuser)
    anonymous = AnonymousUser()
    assert not has_any_access(anonymous)
    assert list(accounts_for(anonymous, Action.VIEW)) == []
    assert actions_by_account(anonymous) == {}


def test_the_actions_allowed_somewhere_are_those_can_allows_without_an_account(shop, superuser):
    from django.contrib.auth.models import AnonymousUser

    clerk = make_staff("clerk")
    grant(clerk, shop.a, Action.VIEW, Action.EXPORT)
    grant(clerk, shop.c, Action.DELETE)  # a disabled account gives nothing
    grouped = make_staff("grouped")
    grouped.groups.add(group_with("view_customer"))
    grant(grouped, shop.b, Action.SHARE)
    nobody = make_staff("nobody")
    gone = make_staff("gone", is_active=False)
    grant(gone, shop.a, *Action)
    retired = type(superuser).objects.create_superuser("retired", "retired@example.com", "pw", is_active=False)
    for user in (clerk, grouped, nobody, superuser, gone, retired):
        user = type(user).objects.get(pk=user.pk)  # fresh permission cache
        assert actions_allowed_somewhere(user) == {action for action in Action if can(user, action)}, user
    assert actions_allowed_somewhere(clerk) == {Action.VIEW, Action.EXPORT}
    assert actions_allowed_somewhere(grouped) == {Action.VIEW, Action.SHARE}
    assert actions_allowed_somewhere(superuser) == set(Action)
    assert actions_allowed_somewhere(nobody) == actions_allowed_somewhere(AnonymousUser()) == set()


def test_a_requests_actions_are_read_once_and_again_for_another_user(shop, superuser):
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    clerk = make_staff("clerk")
    grant(clerk, shop.a, Action.VIEW)
    request = RequestFactory().get("/")
    request.user = clerk
    assert actions_for_request(request) == {Action.VIEW}
    with CaptureQueriesContext(connection) as queries:
        assert actions_for_request(request) == {Action.VIEW}
    assert len(queries) == 0
    request.user = superuser  # a login in the same request
    assert actions_for_request(request) == set(Action)


def test_a_policy_answers_a_request_as_it_answers_its_user(shop, superuser):
    from django.test import RequestFactory

    clerk = make_staff("clerk")
    grant(clerk, shop.a, Action.VIEW)
    watcher = make_staff("watcher")
    grant(watcher, shop.b, Action.MANAGE_WATCHLIST)
    for user in (clerk, watcher, make_staff("nobody"), superuser):
        for model in POLICY_ACTIONS:
            policy = get_policy(model)
            # Every action mapped (from the request's reading), and one that is not (the policy's own way).
            for actions in (("view", "add", "change", "delete"), ("view",), ("view", "publish")):
                request = RequestFactory().get("/")
                request.user = type(user).objects.get(pk=user.pk)
                expected = policy.user_has_any_permission(request.user, set(actions))
                assert policy.request_has_any_permission(request, actions) == expected, (user, model, actions)


def test_inactive_users_have_no_access(shop):
    user = make_staff("gone")
    grant(user, shop.a, *Action)
    user.is_active = False
    user.save()
    assert not has_any_access(user)
    assert not can(user, Action.VIEW, shop.a)


def test_scope_and_account_of_every_kind_of_row(shop):
    user = make_staff("clerk")
    grant(user, shop.a, Action.VIEW)
    order_a = shop.orders["a"]
    assert list(scope(Order.objects.all(), user)) == [order_a]
    assert list(scope(OrderLine.objects.all(), user)) == list(order_a.lines.all())
    entry = WatchlistEntry.objects.create(customer=order_a.customer)
    WatchlistEntry.objects.create(customer=shop.orders["b"].customer)
    assert list(scope(WatchlistEntry.objects.all(), user)) == [entry]
    assert list(scope(SellerAccount.objects.all(), user)) == [shop.a]
    assert account_id_of(entry) == shop.a.pk
    assert account_id_of(order_a.lines.first()) == shop.a.pk
    assert account_id_of(shop.b) == shop.b.pk
    with pytest.raises(ValueError):
        scope(ExportJob.objects.all(), user)


def test_users_with_access(shop, superuser):
    viewer = make_staff("viewer")
    grant(viewer, shop.a, Action.VIEW)
    exporter = make_staff("exporter")
    exporter.groups.add(group_with("export_customer"))
    nobody = make_staff("nobody")
    assert set(users_with_access([Action.VIEW])) == {superuser, viewer}
    # The export permission without View's exports nothing: there is no customer the exporter may see.
    assert set(users_with_access([Action.EXPORT])) == {superuser}
    assert set(users_with_access([Action.VIEW, Action.EXPORT])) == {superuser, viewer}
    assert set(users_with_access([Action.VIEW], account=shop.b)) == {superuser}
    assert set(users_with_access([Action.VIEW], account=shop.c)) == set()
    assert nobody not in users_with_access(list(Action))
    viewing_exporter = make_staff("viewing-exporter")
    viewing_exporter.groups.add(group_with("export_customer", "view_customer"))
    assert set(users_with_access([Action.EXPORT])) == {superuser, viewing_exporter}


# --- The permission policies ------------------------------------------------------------------


def test_policies_are_registered_with_wagtail():
    for model in POLICY_ACTIONS:
        assert compat.get_permission_policy(model) is get_policy(model)


def test_customer_policy_maps_wagtail_actions_to_the_plugin_actions(shop):
    policy = get_policy(Customer)
    user = make_staff("clerk")
    grant(user, shop.a, Action.VIEW, Action.DELETE)
    customer_a, customer_b = shop.orders["a"].customer, shop.orders["b"].customer
    assert policy.user_has_permission(user, "view")
    assert policy.user_has_permission(user, "delete")
    assert not policy.user_has_permission(user, "export")
    # "change" and "add" are not plugin actions: they need Django's own model permission.
    assert not policy.user_has_any_permission(user, ["add", "change"])
    assert policy.user_has_permission_for_instance(user, "delete", customer_a)
    assert not policy.user_has_permission_for_instance(user, "view", customer_b)
    assert not policy.user_has_any_permission_for_instance(user, ["view", "delete"], customer_b)
    assert list(policy.instances_user_has_permission_for(user, "view")) == [customer_a]
    assert list(policy.instances_user_has_any_permission_for(user, ["export"])) == []


def test_unmapped_actions_follow_the_django_permission_on_every_enabled_account(shop):
    policy = get_policy(Customer)
    editor = make_staff("editor")
    editor.user_permissions.add(Permission.objects.get(codename="change_customer"))
    editor = type(editor).objects.get(pk=editor.pk)
    assert policy.user_has_permission(editor, "change")
    assert policy.user_has_permission_for_instance(editor, "change", shop.orders["b"].customer)
    assert not policy.user_has_permission_for_instance(editor, "change", shop.orders["c"].customer)
    assert editor in policy.users_with_permission("change")


def test_watchlist_policy_needs_manage_watchlist_to_change(shop):
    policy = get_policy(WatchlistEntry)
    viewer, manager = make_staff("viewer"), make_staff("manager")
    grant(viewer, shop.a, Action.VIEW)
    grant(manager, shop.a, Action.VIEW, Action.MANAGE_WATCHLIST)
    entry = WatchlistEntry.objects.create(customer=shop.orders["a"].customer)
    other = WatchlistEntry.objects.create(customer=shop.orders["b"].customer)
    assert policy.user_has_permission_for_instance(viewer, "view", entry)
    assert not policy.user_has_permission_for_instance(viewer, "delete", entry)
    assert policy.user_has_permission_for_instance(manager, "delete", entry)
    assert not policy.user_has_permission_for_instance(manager, "delete", other)
    assert set(policy.users_with_permission_for_instance("delete", entry)) == {manager}
    assert set(policy.users_with_permission_for_instance("delete", other)) == set()


def test_job_policies_are_personal_even_for_superusers(shop, superuser):
    exporter = make_staff("exporter")
    grant(exporter, shop.a, Action.VIEW, Action.EXPORT)
    mine = ExportJob.objects.create(user=exporter, file_format="csv", fingerprint="x")
    theirs = ExportJob.objects.create(user=superuser, file_format="csv", fingerprint="y")
    policy = get_policy(ExportJob)
    assert policy.user_has_permission_for_instance(exporter, "view", mine)
    assert not policy.user_has_permission_for_instance(exporter, "view", theirs)
    assert not policy.user_has_permission_for_instance(superuser, "view", mine)
    assert list(policy.instances_user_has_permission_for(exporter, "view")) == [mine]
    # Losing the export action hides one's own jobs too.
    AccessGrant.objects.filter(user=exporter).update(can_export=False)
    assert not policy.user_has_permission_for_instance(exporter, "view", mine)
    imports = get_policy(ImportJob)
    job = ImportJob.objects.create(user=exporter, account=shop.a, format_name="generic", file="x.csv")
    assert not imports.user_has_permission_for_instance(exporter, "view", job)
    AccessGrant.objects.filter(user=exporter).update(can_import=True)
    assert imports.user_has_permission_for_instance(exporter, "view", job)


def test_access_grant_policy_is_the_share_action(shop):
    policy = get_policy(AccessGrant)
    sharer, colleague = make_staff("sharer"), make_staff("colleague")
    grant(sharer, shop.a, Action.VIEW, Action.SHARE)
    on_a, on_b = grant(colleague, shop.a, Action.VIEW), grant(colleague, shop.b, Action.VIEW)
    assert policy.user_has_permission_for_instance(sharer, "change", on_a)
    assert not policy.user_has_permission_for_instance(sharer, "change", on_b)
    assert list(policy.instances_user_has_any_permission_for(sharer, ["view"])) == [
        *AccessGrant.objects.filter(account=shop.a).order_by("pk")
    ]


# --- The plugin's permissions in Wagtail's Groups UI, and their migration ---------------------------


def test_every_action_has_a_permission_returned_by_register_permissions():
    permissions = set(plugin_permissions().values_list("codename", flat=True))
    assert permissions == set(PERMISSION_CODENAMES.values())
    registered = set()
    for hook in hooks.get_hooks("register_permissions"):
        registered |= set(hook().filter(content_type__app_label="wagtail_customers").values_list("codename", flat=True))
    assert permissions <= registered


def test_the_groups_screen_offers_the_plugin_permissions(admin_client):
    response = admin_client.get("/admin/groups/new/")
    assert response.status_code == 200
    content = response.content.decode()
    for permission in plugin_permissions():
        assert f'value="{permission.pk}"' in content, permission.codename
    assert "Can share customer access" in content


def test_a_group_permission_given_in_the_groups_screen_grants_the_action(admin_client, account):
    share = Permission.objects.get(content_type__app_label="wagtail_customers", codename="share_access")
    view = Permission.objects.get(content_type__app_label="wagtail_customers", codename="view_customer")
    access = Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    data = {"name": "Customer managers", "permissions": [share.pk, view.pk, access.pk]}
    for prefix in ("page_permissions", "collection_permissions", "document_permissions", "image_permissions"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
    response = admin_client.post("/admin/groups/new/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    group = Group.objects.get(name="Customer managers")
    user = make_staff("manager")
    user.groups.add(group)
    assert can(type(user).objects.get(pk=user.pk), Action.SHARE, account)


def migration_module():
    return importlib.import_module("wagtail_customers.migrations.0002_customer_permissions")


def test_permissions_migration_is_reversible():
    migration = migration_module()
    state_apps = MigrationLoader(connection).project_state(("wagtail_customers", "0002_customer_permissions")).apps
    editor = SimpleNamespace(connection=connection)
    own = {"export_customer", "manage_watchlist", "email_customer", "import_orders", "share_access"}

    migration.remove_permissions(state_apps, editor)
    left = set(
        Permission.objects.filter(content_type__app_label="wagtail_customers").values_list("codename", flat=True)
    )
    assert not own & left
    assert {"view_customer", "delete_customer"} <= left

    migration.create_permissions(state_apps, editor)
    migration.create_permissions(state_apps, editor)  # twice: nothing duplicated
    assert set(plugin_permissions().values_list("codename", flat=True)) == set(PERMISSION_CODENAMES.values())
    assert plugin_permissions().count() == len(PERMISSION_CODENAMES)
    assert all(operation.reversible for operation in migration.Migration.operations)


def test_seller_account_managers_reach_disabled_accounts_to_enable_them_again(shop, superuser):
    policy = get_policy(SellerAccount)
    assert policy.user_has_permission_for_instance(superuser, "change", shop.c)
    assert not policy.user_has_permission_for_instance(superuser, "view", shop.c)  # its customers stay hidden
    viewer = make_staff("viewer")
    grant(viewer, shop.a, Action.VIEW)
    assert policy.user_has_permission_for_instance(viewer, "view", shop.a)
    assert not policy.user_has_permission_for_instance(viewer, "change", shop.a)


def test_account_ids_by_action_reads_what_accounts_for_reads_for_every_user(db):
    """The listing reads the accounts of four actions at once (``account_ids_by_action``): for every user of the
    permission world, the same ids ``accounts_for`` gives action by action, in at most two queries."""
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.permission_world import USERS, build_world
    from wagtail_customers.permissions import Action, account_ids_by_action, accounts_for

    world = build_world()
    SellerAccount.objects.create(name="Disabled", currency="EUR", is_enabled=False)
    for name in USERS:
        user = world.users.get(name) or AnonymousUser()
        user = type(user).objects.get(pk=user.pk) if user.pk else user  # no permission cache carried over
        user.has_perm("wagtail_customers.view_customer")  # Django's permission cache, as a request warms it
        with CaptureQueriesContext(connection) as queries:
            by_action = account_ids_by_action(user, list(Action))
        assert len(queries) <= 2, name
        for action in Action:
            assert by_action[action] == set(accounts_for(user, action).values_list("pk", flat=True)), (name, action)
