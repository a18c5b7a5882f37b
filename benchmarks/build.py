"""Child process: build one dataset on the database named by ``WC_BENCH_DB``.

``python -m benchmarks.build SIZE SEED META_JSON``: migrates, runs ``customers_demo_data`` (timed:
this is the foundation's bulk ingestion path, reported as the demo-data generation figure), adds
the benchmark superuser and a watchlist of every hundredth customer, and writes the metadata.
"""

import io
import json
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime


@contextmanager
def unsynced_sqlite(connection):
    """SQLite without waiting for the disk at each of the migrations' hundreds of commits (about a quarter of
    `make test`'s harness run); a build that stops midway leaves a file no cache names. The data after it is
    written as before, so the generation figure keeps its meaning."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        (synchronous,) = cursor.fetchone()
        cursor.execute("PRAGMA synchronous = OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous = {int(synchronous)}")


def main(size_name, seed, meta_path):
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from wagtail_customers.models import Customer, Order, OrderLine, WatchlistEntry

    from .datasets import DATASET_VERSION, SIZES, SUPERUSER, SUPERUSER_PASSWORD, latest_migration

    size = SIZES[size_name]
    # The migration this build applies, read now: one added to the folder while the build runs is not in it.
    migration = latest_migration()
    started = time.perf_counter()
    with unsynced_sqlite(connection):
        call_command("migrate", verbosity=0, interactive=False)
    migrate_seconds = time.perf_counter() - started

    output = io.StringIO()
    started = time.perf_counter()
    call_command("customers_demo_data", customers=size.customers, orders=size.orders, seed=seed, stdout=output)
    generation_seconds = time.perf_counter() - started

    user = get_user_model().objects.create_superuser(SUPERUSER, f"{SUPERUSER}@example.com", SUPERUSER_PASSWORD)
    watched = Customer.objects.order_by("pk").values_list("pk", flat=True)[::100]
    WatchlistEntry.objects.bulk_create([WatchlistEntry(customer_id=pk, added_by=user) for pk in watched])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    orders = Order.objects.count()
    meta = {
        "size": size.name,
        "seed": seed,
        "migration": migration,
        "dataset_version": DATASET_VERSION,
        "vendor": connection.vendor,
        "customers": Customer.objects.count(),
        "orders": orders,
        "order_lines": OrderLine.objects.count(),
        "watchlist": len(watched),
        "migrate_s": round(migrate_seconds, 2),
        "generation_s": round(generation_seconds, 2),
        "generation_orders_per_s": round(orders / generation_seconds),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command_output": output.getvalue().strip(),
    }
    with open(meta_path, "w") as handle:
        json.dump(meta, handle, indent=2)
    print(f"  built: {meta['customers']} customers, {orders} orders in {generation_seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
