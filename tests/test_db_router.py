"""The read-replica router without a replica: what it answers, the system checks of its setting, and the
read-your-writes mark (the reads from a real streaming replica: tests/test_read_replica.py)."""

from django.core.checks import run_checks
from django.db import router

from wagtail_customers.db_router import ReadReplicaRouter, note_own_write, reading_from_replica, reads_own_writes
from wagtail_customers.models import Customer

ROUTER = "wagtail_customers.db_router.ReadReplicaRouter"


def with_replica(settings, alias="replica"):
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "READ_REPLICA": alias}


def check_ids():
    return {message.id for message in run_checks() if message.id.startswith("wagtail_customers.E08")}


def test_outside_a_block_the_router_answers_nothing_inside_it_names_the_replica(settings):
    with_replica(settings)
    answer = ReadReplicaRouter()
    assert answer.db_for_read(Customer) is None and answer.db_for_write(Customer) is None
    with reading_from_replica() as alias:
        assert alias == "replica"
        assert answer.db_for_read(Customer) == "replica"
        assert answer.db_for_write(Customer) == "default"  # writes in a block stay on the primary
    assert answer.db_for_read(Customer) is None
    assert answer.allow_migrate("replica", "wagtail_customers") is False
    assert answer.allow_migrate("default", "wagtail_customers") is None


def test_the_setting_off_reads_the_primary(settings):
    settings.DATABASE_ROUTERS = [ROUTER]
    with reading_from_replica() as alias:
        assert alias == "default" and router.db_for_read(Customer) == "default"


def test_a_user_s_own_write_keeps_their_reads_on_the_primary(settings, rf):
    with_replica(settings)
    request = rf.get("/")
    request.session = {}
    assert not reads_own_writes(request)
    note_own_write(request)
    assert reads_own_writes(request)
    with reading_from_replica(request) as alias:
        assert alias == "default"
    settings.WAGTAIL_CUSTOMERS = {**settings.WAGTAIL_CUSTOMERS, "READ_YOUR_WRITES_SECONDS": 0}
    request.session = {}
    note_own_write(request)
    assert not reads_own_writes(request)


def test_checks_want_the_alias_in_databases_and_the_router_installed(settings):
    assert check_ids() == set()
    with_replica(settings)
    assert check_ids() == {"wagtail_customers.E080", "wagtail_customers.E081"}
    settings.DATABASE_ROUTERS = [ROUTER]
    with_replica(settings, "default")
    assert check_ids() == set()
