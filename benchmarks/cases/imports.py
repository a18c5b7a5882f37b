"""Imports: a generated Shopify orders export (79-column layout, one row per line item,
continuation rows as Shopify writes them) and a generated file in the generic template, each
imported with ``run_import`` into a new seller account (the create path), timed end to end:
reading the file, parsing, and recording the orders in one transaction. Figure: order lines/s.

``run_memory`` measures the peak resident memory of importing hostile files (one 52 MB line of
commas; a small workbook holding a 600 MB string) and normal ones, each in a new process: the bound
documented in docs/security.md ("Import limits")."""

import csv
import io
import json
from functools import partial

from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail_customers.demo.generator import generate_orders
from wagtail_customers.models import Channel, OrderStatus, SellerAccount

from ..measure import summarise, timed
from . import NotAvailable

SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,"
    "Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,"
    "Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,"
    "Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,"
    "Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,"
    "Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,"
    "Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,"
    "Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,"
    "Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,"
    "Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,"
    "Shipping Province Name,Payment ID,Payment Terms Name,Next Payment Due At,Payment References"
).split(",")
GENERIC_HEADER = (
    "order_id,placed_at,customer_id,customer_email,customer_name,phone,address_line1,address_line2,city,state,"
    "postal_code,country,status,channel,currency,order_discount,promo_code,shipping,tax,order_total,refunded,"
    "fulfillment_status,feedback_rating,sku,product_name,quantity,unit_price,line_total,line_discount,unit_cost,"
    "returned_quantity"
).split(",")
FINANCIAL = {
    OrderStatus.CANCELLED: "voided",
    OrderStatus.RETURNED: "refunded",
    OrderStatus.PARTIALLY_REFUNDED: "partially_refunded",
}


def _shopify_moment(moment):
    return moment.strftime("%Y-%m-%d %H:%M:%S %z") if moment else ""


def shopify_file(orders, seed=11):
    """CSV bytes in Shopify's 79-column orders-export layout; returns (bytes, orders, lines)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, SHOPIFY_HEADER)
    writer.writeheader()
    lines = count = 0
    for _account, order in generate_orders(max(1, orders // 3), orders, seed=seed):
        count += 1
        name = f"#{count + 1000}"
        ship = order.ship_to
        for index, line in enumerate(order.lines):
            row = {
                "Name": name,
                "Email": order.customer.email,
                "Created at": _shopify_moment(order.placed_at),
                "Lineitem quantity": line.quantity,
                "Lineitem name": line.product_name,
                "Lineitem price": line.unit_price,
                "Lineitem sku": line.sku,
                "Lineitem requires shipping": "true",
                "Lineitem taxable": "true",
                "Lineitem fulfillment status": "fulfilled" if order.shipped_at else "pending",
                "Lineitem discount": "0.00",
                "Vendor": "Example shop",
            }
            if index == 0:
                row.update(
                    {
                        "Financial Status": FINANCIAL.get(order.status, "paid"),
                        "Paid at": _shopify_moment(order.paid_at),
                        "Fulfillment Status": "fulfilled" if order.shipped_at else "unfulfilled",
                        "Fulfilled at": _shopify_moment(order.shipped_at),
                        "Accepts Marketing": "no",
                        "Currency": "EUR",
                        "Subtotal": order.total - order.shipping + order.discount,
                        "Shipping": order.shipping,
                        "Taxes": "0.00",
                        "Total": order.total,
                        "Discount Code": ",".join(promo.code for promo in order.promo_codes),
                        "Discount Amount": order.discount,
                        "Shipping Method": "Standard",
                        "Billing Name": order.customer.name,
                        "Billing Address1": ship.line1,
                        "Billing City": ship.city,
                        "Billing Zip": ship.postal_code,
                        "Billing Province": ship.state,
                        "Billing Country": ship.country,
                        "Shipping Name": ship.name,
                        "Shipping Address1": ship.line1,
                        "Shipping City": ship.city,
                        "Shipping Zip": ship.postal_code,
                        "Shipping Province": ship.state,
                        "Shipping Country": ship.country,
                        "Cancelled at": _shopify_moment(order.cancelled_at),
                        "Payment Method": "Stripe",
                        "Refunded Amount": order.refunded,
                        "Id": 4000000000000 + count,
                        "Risk Level": "Low",
                        "Source": "web",
                        "Phone": order.customer.phone,
                    }
                )
            writer.writerow(row)
            lines += 1
    return out.getvalue().encode(), count, lines


def generic_file(orders, seed=12):
    """CSV bytes in the generic template (docs/reference/import-template.md); returns (bytes, orders, lines)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, GENERIC_HEADER)
    writer.writeheader()
    lines = count = 0
    for _account, order in generate_orders(max(1, orders // 3), orders, seed=seed):
        count += 1
        ship = order.ship_to
        for index, line in enumerate(order.lines):
            row = {
                "order_id": f"G-{count:08d}",
                "sku": line.sku,
                "product_name": line.product_name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
                "line_discount": line.discount,
                "unit_cost": "" if line.unit_cost is None else line.unit_cost,
                "returned_quantity": line.returned_quantity,
            }
            if index == 0:
                row.update(
                    {
                        "placed_at": order.placed_at.isoformat(),
                        "customer_id": order.customer.external_id,
                        "customer_email": order.customer.email,
                        "customer_name": order.customer.name,
                        "phone": order.customer.phone,
                        "address_line1": ship.line1,
                        "city": ship.city,
                        "state": ship.state,
                        "postal_code": ship.postal_code,
                        "country": ship.country,
                        "status": order.status,
                        "currency": "USD",
                        "order_discount": order.discount,
                        "promo_code": ",".join(promo.code for promo in order.promo_codes),
                        "shipping": order.shipping,
                        "order_total": order.total,
                        "refunded": order.refunded,
                        "fulfillment_status": order.fulfilment_status,
                        "feedback_rating": order.feedback.rating if order.feedback else "",
                    }
                )
            writer.writerow(row)
            lines += 1
    return out.getvalue().encode(), count, lines


FILES = {
    "shopify": (shopify_file, Channel.SHOPIFY, "EUR"),
    "generic": (generic_file, Channel.WEBSITE, "USD"),
}


def run(orders, repeat, log=print):
    try:
        from wagtail_customers.importers import FORMATS, run_import
    except ImportError as error:
        raise NotAvailable(str(error)) from None
    results = {}
    for format_name, (make_file, channel, currency) in FILES.items():
        if format_name not in FORMATS:
            results[format_name] = {"error": f"not available: no '{format_name}' import format"}
            log(f"    import {format_name:<8} not available")
            continue
        content, order_count, line_count = make_file(orders)
        seconds, queries = [], None
        for index in range(repeat):
            account = SellerAccount.objects.create(
                name=f"Bench import {format_name} {index} {SellerAccount.objects.count()}",
                channel=channel,
                currency=currency,
            )
            with CaptureQueriesContext(connection) as captured:
                elapsed, report = timed(
                    partial(run_import, account, content, format_name=format_name, filename=f"{format_name}.csv")
                )
            queries = len(captured)
            if report.orders_created != order_count:
                raise RuntimeError(f"{format_name} import created {report.orders_created} of {order_count} orders")
            seconds.append(elapsed)
        figures = summarise(seconds)
        median_s = figures["median_ms"] / 1000
        figures.update(
            orders=order_count,
            order_lines=line_count,
            file_bytes=len(content),
            queries=queries,
            lines_per_s=round(line_count / median_s),
            orders_per_s=round(order_count / median_s),
        )
        results[format_name] = figures
        log(
            f"    import {format_name:<8} {order_count} orders / {line_count} lines: p50 {median_s:.2f} s "
            f"= {figures['lines_per_s']} lines/s, q={queries}"
        )
    return results


# --- peak memory of an import (hostile files and a normal large one) ------------------------------------

#: Runs in a new process so that its peak resident size (``ru_maxrss``) is the import's alone.
MEMORY_CHILD = """
import json, resource, sys, tracemalloc
import django
django.setup()
from wagtail_customers.importers import ImportFileError, run_import
from wagtail_customers.models import SellerAccount

path, filename, format_name = sys.argv[1:4]
with open(path, "rb") as handle:
    content = handle.read()
account = SellerAccount.objects.create(name="Bench memory " + filename, channel="website", currency="USD")
tracemalloc.start()
try:
    report = run_import(account, content, format_name=format_name, filename=filename, dry_run=True)
    outcome = "%d orders from %d rows (dry run)" % (report.orders, report.rows)
except ImportFileError as error:
    outcome = "refused: " + str(error)[:160]
import_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
process_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
account.delete()
print(json.dumps({"outcome": outcome, "import_peak_mb": round(import_peak / 2**20, 1),
                  "process_peak_mb": round(process_peak / 1024, 1)}))
"""
MB = 1 << 20


def long_line_csv(megabytes=52):
    """One line of commas: the CSV that took 3.7 GB before the reader bounded line length."""
    return b"," * (megabytes * MB)


def huge_string_xlsx(megabytes=600):
    """A workbook of well under 1 MB whose one text cell inflates to ``megabytes`` MB (built without holding it)."""
    import zipfile

    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["order_id", "placed_at", "customer_email", "product_name"])
    workbook.active.append(["X1", "2024-01-01", "a@example.com", "placeholder"])
    plain = io.BytesIO()
    workbook.save(plain)
    source = zipfile.ZipFile(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info.filename, data)
                continue
            before, after = data.split(b"placeholder")
            member = zipfile.ZipInfo(info.filename)
            member.compress_type = zipfile.ZIP_DEFLATED
            with target.open(member, "w", force_zip64=True) as stream:
                stream.write(before)
                block = b"A" * MB
                for _ in range(megabytes):
                    stream.write(block)
                stream.write(after)
    return out.getvalue()


def run_memory(orders, log=print, quick=False):
    """Peak memory of importing each file, each in a new process (a dry run: nothing is kept).

    ``quick`` (smoke runs) leaves out the normal large file, which takes most of the time.

    ``import_peak_mb`` is the most the import allocated at once (tracemalloc: Python's and the C
    parsers' allocations through it); ``process_peak_mb`` the process's peak resident size, Django
    and the file's bytes included.
    """
    import os
    import subprocess
    import sys
    import tempfile

    large = min(orders * 10, 50_000)
    files = {
        "csv_one_52mb_line": (long_line_csv, "hostile.csv", "generic"),
        "xlsx_600mb_string": (huge_string_xlsx, "hostile.xlsx", "generic"),
        f"generic_csv_{orders}_orders": (lambda: generic_file(orders)[0], "orders.csv", "generic"),
        f"shopify_csv_{orders}_orders": (lambda: shopify_file(orders)[0], "orders.csv", "shopify"),
    }
    if not quick:
        # A normal large file, within the default IMPORT_MAX_ROWS (memory grows linearly with the rows).
        files[f"shopify_csv_{large}_orders"] = (lambda: shopify_file(large)[0], "orders.csv", "shopify")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, (make, filename, format_name) in files.items():
            path = os.path.join(folder, filename)
            content = make()
            with open(path, "wb") as handle:
                handle.write(content)
            completed = subprocess.run(
                [sys.executable, "-c", MEMORY_CHILD, path, filename, format_name],
                capture_output=True,
                text=True,
                env=os.environ.copy(),
            )
            if completed.returncode:
                results[name] = {"error": completed.stderr.strip().splitlines()[-1:]}
                log(f"    import memory {name}: failed {results[name]['error']}")
                continue
            figures = json.loads(completed.stdout.strip().splitlines()[-1])
            figures.update(file_bytes=len(content))
            results[name] = figures
            log(
                f"    import memory {name:<28} file {len(content) / MB:6.1f} MB: import peak "
                f"{figures['import_peak_mb']} MB (process {figures['process_peak_mb']} MB) - {figures['outcome'][:70]}"
            )
    return results
