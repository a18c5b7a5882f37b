"""What a listing case's time is made of, for the report's "what the profile shows" on a missed target.

One case (the run's worst against the shell page) is requested again a few times, warm: once with the
queries captured (their count and the database's share of the time), then under ``cProfile``. The
profile is summed by area, by the module a function lives in, so the report can say "rows 40 %, the
filters form 20 %" rather than print a call graph: the areas are named by the code that owns them.
"""

import cProfile
import pstats
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .datasets import ROOT

#: Areas of the page, each measured by the inclusive time of the function that owns it (areas nest: the rows
#: and the filters form are both inside template rendering, the database inside the queryset).
AREA_ENTRY_POINTS = {
    "table rows (cells, row menus)": ("render_html", "wagtail/admin/ui/tables/__init__.py"),
    "filters form (widgets)": ("formattedfield", "wagtailadmin_tags.py"),
    "admin menu and sidebar": ("sidebar_props", "wagtailadmin_tags.py"),
    "listing queryset and statistics": ("get_context_data", "wagtail_customers/views/listing/index.py"),
    "database (SQL compile and fetch)": ("execute_sql", "django/db/models/sql/compiler.py"),
}


def _short(filename):
    """A file's path from its package (``django/template/base.py``), not from the machine's root."""
    for marker in ("site-packages/", f"{ROOT}/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _entry_point_ms(stats, function, path_part, requests):
    """Inclusive milliseconds per request of ``function`` in files containing ``path_part`` (outermost calls:
    the cumulative time of a recursive function counts once)."""
    total = 0.0
    for (filename, _line, name), (_calls, _primitive, _tottime, cumtime, _callers) in stats.stats.items():
        if name == function and path_part in filename:
            total += cumtime
    return round(total * 1000 / requests, 1)


def profile_case(user, url, requests=5):
    """``{"url", "wall_ms", "queries", "sql_ms", "areas": {area: ms}, "top": [[function, ms, calls]]}``,
    all per request."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    for _ in range(2):
        client.get(url)
    wall_s, sql_s, queries = 0.0, 0.0, 0
    for _ in range(requests):
        # One request per capture: a request's start resets the connection's query log.
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            client.get(url)
            wall_s += time.perf_counter() - started
        sql_s += sum(float(query["time"] or 0) for query in captured.captured_queries)
        queries = len(captured.captured_queries)
    wall_ms, sql_ms = wall_s * 1000 / requests, sql_s * 1000 / requests
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(url)
    profiler.disable()
    stats = pstats.Stats(profiler)
    profiled_ms = stats.total_tt * 1000 / requests
    areas = {
        area: _entry_point_ms(stats, function, path, requests) for area, (function, path) in AREA_ENTRY_POINTS.items()
    }
    # The heaviest functions by their own time (not inclusive): where the interpreter actually spends it.
    own = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:12]
    top = [
        [f"{_short(filename)}:{line} {name}", round(tottime * 1000 / requests, 2), round(calls / requests)]
        for (filename, line, name), (calls, _primitive, tottime, _cumtime, _callers) in own
    ]
    return {
        "url": url,
        "wall_ms": round(wall_ms, 1),
        "queries": queries,
        "sql_ms": round(sql_ms, 1),
        # cProfile slows Python down (not the database): areas are shares of this, not of wall_ms.
        "profiled_ms": round(profiled_ms, 1),
        "areas": areas,
        "top": top,
    }
