"""Migration 0027: one owner's saved views get names of their own. Views saved under a name their owner already had
(allowed until then) are renamed, the oldest keeping the name, before the database is made to refuse a second one;
each can then be shared or renamed (the edit form refused both while another had its name)."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.listing_support import staff_user
from tests.migration_support import back_to_the_latest_schema, migrate  # noqa: F401  (fixture)
from wagtail_customers.models import SavedView

BEFORE = [("wagtail_customers", "0026_connection_ignored_webhook")]
AFTER = [("wagtail_customers", "0027_saved_view_name_key")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_repeated_names_are_numbered_then_the_database_keeps_them_apart(client, account):
    ann = staff_user("ann", {account: {"can_view": True}})
    bea = staff_user("bea", {account: {"can_view": True}})
    apps = migrate(BEFORE)
    Historical = apps.get_model("wagtail_customers", "SavedView")
    long_name = "L" * 120
    for owner, name in (
        (ann, "VIP"),
        (ann, " vip "),
        (ann, "VIP (2)"),  # taken: the second "VIP" becomes "VIP (3)"
        (ann, "Vip"),
        (ann, "Öffentlich"),
        (ann, "ÖFFENTLICH"),
        (ann, long_name),
        (ann, long_name.lower()),
        (ann, "  "),  # saved before names were required
        (ann, ""),
        (bea, "VIP"),  # another owner's
    ):
        Historical.objects.create(owner_id=owner.pk, name=name)
    migrate(AFTER)
    names = list(SavedView.objects.filter(owner=ann).order_by("pk").values_list("name", flat=True))
    assert names == [
        "VIP",
        "vip (3)",
        "VIP (2)",
        "Vip (4)",
        "Öffentlich",
        "ÖFFENTLICH (2)",
        long_name,
        "l" * 116 + " (2)",
        "  ",
        "(2)",
    ]
    assert SavedView.objects.get(owner=bea).name == "VIP"
    assert SavedView.objects.get(owner=ann, name="Vip (4)").name_key == "vip (4)"
    with pytest.raises(IntegrityError), transaction.atomic():
        SavedView.objects.create(owner=ann, name="vIP")
    # Each may be shared, or renamed in another case, by its owner.
    client.force_login(ann)
    for view in SavedView.objects.filter(owner=ann).exclude(name="  "):  # a blank name is the form's error now
        edit = reverse("wagtail_customers_saved_views:edit", args=(view.pk,))
        response = client.post(edit, {"name": view.name.upper(), "visibility": "shared"})
        assert response.status_code == 302, (view.name, response.context and response.context["form"].errors)
