import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

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


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client
