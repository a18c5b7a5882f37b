"""The Promo codes tab's order is read from an index holding only its customers (migration 0021), on both databases.

The tab lists the customers who used a promo code by discount received, descending. The discount index also holds
everyone else, and they gather at its end (discount 0), so the tab's last pages walked past them. A partial index
``WHERE promo_codes_used > 0`` holds the tab's rows alone.
"""

import pytest
from django.db import connection

from wagtail_customers.models import Customer

pytestmark = pytest.mark.django_db


def plan_of(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A handful of rows: price the alternatives out so the plan shows what the index can serve.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row) for row in cursor.fetchall())


def test_the_promo_codes_tabs_order_reads_its_partial_index(account):
    """Read in order, no sort of the tab's customers. (Scoped to accounts, the plan depends on the database's
    statistics: at 200,000 customers SQLite reads this index for the listing's ``account IN (...)`` query too.)"""
    customers = Customer.objects.filter(promo_codes_used__gt=0)
    plan = plan_of(customers.order_by("-discount_total", "pk").values("pk")[:11])
    assert "wc_cust_promo" in plan and "TEMP B-TREE" not in plan, plan
