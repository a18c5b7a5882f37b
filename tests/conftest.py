import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from wagtail_customers.models import Channel, SellerAccount

# Real Redis and Celery worker processes for the tests marked ``worker`` (see tests/celery_fixtures.py).
pytest_plugins = ["tests.celery_fixtures"]

#: Real channel exports, read in place (never copied into the project).
REALDATA = Path(os.environ.get("WC_REALDATA", Path(__file__).resolve().parents[2] / "shared" / "realdata"))


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def realdata():
    if not REALDATA.is_dir():
        pytest.fail(f"Real data not found at {REALDATA}: CI has shared/ beside the project (or set WC_REALDATA).")
    return REALDATA


@pytest.fixture
def account(db):
    return SellerAccount.objects.create(name="Shop A", channel=Channel.SHOPIFY, currency="USD")


@pytest.fixture
def other_account(db):
    return SellerAccount.objects.create(name="Amazon B", channel=Channel.AMAZON, currency="EUR")


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture(autouse=True)
def _page_tree_after_flushes(request):
    if request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames):
        request.getfixturevalue("wagtail_page_tree")


@pytest.fixture
def wagtail_page_tree(db):
    """Wagtail's root page, as its migrations create it.

    Tests with ``transaction=True`` (live server, workers) flush every table when they end, the page
    tree with them, and Wagtail's dashboard cannot render without a root page.
    """
    from django.conf import settings
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Locale, Page, Site

    Locale.objects.get_or_create(language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE))
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(instance=Page(title="Root", slug="root"))
    if not Site.objects.exists():
        Site.objects.create(hostname="localhost", root_page=root, is_default_site=True)
    return root


@pytest.fixture
def admin_client(client, superuser, wagtail_page_tree):
    client.force_login(superuser)
    return client


#: Fixtures through which a test reaches a database (pytest-django's, and the live server's).
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def pytest_collection_modifyitems(config, items):
    # A test without database access (no django_db mark, no database fixture, pytest-django blocks it
    # otherwise) runs the same on every database: marked ``no_db`` so the PostgreSQL pass can leave it out.
    for item in items:
        if item.get_closest_marker("django_db") is None and not DATABASE_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.no_db)
        # Threads on one database (tests/test_*_parallel.py): its locks decide what they see, and the services they
        # race go through the same Django calls in the tests the lowest versions run: ``version_neutral``.
        if item.path.name.endswith("_parallel.py"):
            item.add_marker(pytest.mark.version_neutral)


@pytest.fixture
def post_webhook(client, django_capture_on_commit_callbacks):
    """POST a delivery to a connection's public webhook endpoint; the queued work runs when the request's
    transaction commits."""

    def post(connection, body, headers):
        url = reverse("wagtail_customers_webhooks:receive", args=[connection.webhook_token])
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data=body, content_type="application/json", headers=headers)

    return post
