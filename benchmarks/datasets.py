"""Dataset sizes, cache keys and working copies.

A dataset is what ``manage.py customers_demo_data`` builds for a size and a seed, plus the
benchmark's superuser and a watchlist of 1 % of the customers. Built datasets are cached by
(size, seed, ``DATASET_SCHEMA``, ``DATASET_VERSION``): SQLite files under ``benchmarks/.data/sqlite/``,
PostgreSQL template databases in the kept cluster. A cached dataset older than the plugin's latest migration
is brought up to it by ``migrate`` before it is used, as a site's database is (the cache itself, once),
instead of being generated again: XL took 87 minutes to generate. Each run works on a copy, so cases that
write (statistics rebuilds, imports) never touch the cache.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("WC_BENCH_DATA", ROOT / "benchmarks" / ".data"))
#: Bump when what ``benchmarks.build`` adds to a dataset changes (or the demo generator: 2 = dates up to the
#: build's hour, capped repeat buyers, channel order ids, a second currency on Shopify EU).
DATASET_VERSION = 2
#: The schema the cache keys name: datasets built at it or later are migrated forward, not generated again.
#: Bump it (or ``DATASET_VERSION``) when a migration makes a fresh build differ from a migrated one.
DATASET_SCHEMA = "0014_listing_summary"
SUPERUSER = "bench"
SUPERUSER_PASSWORD = "bench-pw"
#: A seller's staff member: admin access and grants on every account, no module-wide permission.
STAFF_USERNAME = "bench-staff"


@dataclass(frozen=True)
class Size:
    name: str
    customers: int
    orders: int
    #: Orders in each generated import file.
    import_orders: int


SIZES = {
    size.name: size
    for size in (
        # XS is the smoke test's size; S, M and L are the issue's.
        Size("XS", 300, 1_500, 300),
        Size("S", 2_000, 10_000, 2_000),
        Size("M", 20_000, 100_000, 5_000),
        Size("L", 200_000, 1_000_000, 10_000),
        # PostgreSQL only (run.py refuses it on SQLite): built once and cached like the others.
        Size("XL", 1_000_000, 5_000_000, 10_000),
    )
}
#: Sizes measured on PostgreSQL only.
POSTGRES_ONLY_SIZES = ("XL",)


def latest_migration():
    """The plugin's latest schema migration (by name), read from the migrations folder."""
    names = sorted(path.stem for path in (ROOT / "wagtail_customers" / "migrations").glob("[0-9][0-9][0-9][0-9]_*.py"))
    return names[-1] if names else "none"


def cache_key(size, seed):
    digest = hashlib.sha1(f"{size.name}/{seed}/{DATASET_SCHEMA}/{DATASET_VERSION}".encode()).hexdigest()[:8]
    return f"wcb_{size.name.lower()}_s{seed}_{DATASET_SCHEMA[:24].lower()}_{digest}"


def child_env(db_spec, **extra):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks.settings",
        WC_BENCH_DB=db_spec,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "example_project"), env.get("PYTHONPATH")])),
    )
    env.update(extra)
    return env


def _meta_path(key):
    return DATA / "meta" / f"{key}.json"


def _read_meta(key):
    path = _meta_path(key)
    return json.loads(path.read_text()) if path.exists() else None


def _build(db_spec, size, seed, key, db_label):
    """Build a dataset in a child process; returns its metadata (with the generation time)."""
    meta_file = _meta_path(key + "-" + db_label)
    meta_file.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "benchmarks.build", size.name, str(seed), str(meta_file)]
    subprocess.run(command, check=True, env=child_env(db_spec), cwd=ROOT)
    return json.loads(meta_file.read_text())


def _migrate_forward(db_spec, key, db_label, meta, log):
    """Bring a cached dataset (``db_spec``) up to the plugin's latest migration; returns its metadata."""
    latest = latest_migration()
    if meta.get("migration") == latest:
        return meta
    log(f"  migrating {db_label} dataset {key} from {meta.get('migration')} to {latest}")
    started = time.perf_counter()
    # --skip-checks: as call_command does in benchmarks.build (the system checks are not what this measures).
    command = [sys.executable, "-m", "django", "migrate", "--noinput", "-v0", "--skip-checks"]
    subprocess.run(command, check=True, env=child_env(db_spec), cwd=ROOT)
    meta = {**meta, "migration": latest, "built_at_migration": meta.get("built_at_migration", meta.get("migration"))}
    meta["migrate_forward_s"] = round(time.perf_counter() - started, 2)
    meta.pop("from_cache", None)
    _meta_path(key + "-" + db_label).write_text(json.dumps(meta, indent=2))
    return meta


def sqlite_working_copy(size, seed, rebuild=False, log=print):
    """Path of a fresh copy of the cached SQLite dataset (built first when missing)."""
    key = cache_key(size, seed)
    cached = DATA / "sqlite" / f"{key}.sqlite3"
    meta = _read_meta(key + "-sqlite")
    if rebuild or not cached.exists() or meta is None:
        log(f"  building SQLite dataset {key} ({size.customers} customers / {size.orders} orders)")
        cached.parent.mkdir(parents=True, exist_ok=True)
        building = cached.with_suffix(".building")
        building.unlink(missing_ok=True)
        meta = _build(f"sqlite:{building}", size, seed, key, "sqlite")
        building.rename(cached)
        meta["from_cache"] = False
    else:
        meta = _migrate_forward(f"sqlite:{cached}", key, "sqlite", meta, log)
        meta["from_cache"] = True
    working = DATA / "sqlite" / f"run-{size.name.lower()}.sqlite3"
    shutil.copyfile(cached, working)
    return f"sqlite:{working}", meta, lambda: working.unlink(missing_ok=True)


def postgres_working_copy(cluster, size, seed, rebuild=False, log=print):
    """``WC_BENCH_DB`` of a fresh copy of the cached PostgreSQL dataset (built first when missing)."""
    key = cache_key(size, seed)
    meta = _read_meta(key + "-postgres")
    if rebuild or meta is None or not cluster.database_exists(key):
        log(f"  building PostgreSQL dataset {key} ({size.customers} customers / {size.orders} orders)")
        building = key + "_building"
        cluster.drop_database(building)
        cluster.sql(f'CREATE DATABASE "{building}"')
        meta = _build(cluster.spec(building), size, seed, key, "postgres")
        cluster.drop_database(key)
        cluster.sql(f'ALTER DATABASE "{building}" RENAME TO "{key}"')
        meta["from_cache"] = False
    else:
        meta = _migrate_forward(cluster.spec(key), key, "postgres", meta, log)
        meta["from_cache"] = True
    working = f"wcb_run_{size.name.lower()}"
    cluster.copy_database(key, working)
    return cluster.spec(working), meta, lambda: cluster.drop_database(working)


def grant_every_account(user, group_name="Benchmark staff"):
    """Make ``user`` a seller's staff member, as the load test's staff and the listing's ``staff-`` cases are:
    admin access (through ``group_name``) and a grant on every enabled seller account to view, export and manage
    the watchlist, without personal data (masked). Idempotent."""
    from django.contrib.auth.models import Group, Permission

    from wagtail_customers.models import AccessGrant, SellerAccount

    group, _created = Group.objects.get_or_create(name=group_name)
    group.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    user.groups.add(group)
    AccessGrant.objects.bulk_create(
        [
            AccessGrant(user=user, account=account, can_export=True, can_manage_watchlist=True)
            for account in SellerAccount.objects.filter(is_enabled=True)
        ],
        ignore_conflicts=True,
    )
    return user


def seller_staff_user():
    """The ``STAFF_USERNAME`` user of the database in use (a run's working copy), made a seller's staff member."""
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(username=STAFF_USERNAME, defaults={"is_staff": True})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return grant_every_account(user)
