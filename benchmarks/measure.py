"""Timing with repetitions: warm-up runs first, then median and p95 of the timed runs, the query
count of a warm run, and the peak of Python allocations (tracemalloc) in one extra run, kept apart
from the timed ones because tracing slows every allocation down."""

import gc
import statistics
import time
import tracemalloc

from django.db import connection
from django.test.utils import CaptureQueriesContext


def p95(values):
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def summarise(seconds):
    return {
        "n": len(seconds),
        "median_ms": round(statistics.median(seconds) * 1000, 2),
        "p95_ms": round(p95(seconds) * 1000, 2),
        "min_ms": round(min(seconds) * 1000, 2),
        "max_ms": round(max(seconds) * 1000, 2),
    }


def measure(call, *, repeat, warmup=2, memory=True, check=None):
    """Run ``call`` ``warmup`` + ``repeat`` (+1 traced) times; ``check(result)`` raises on a bad result."""
    result = None
    queries = None
    for index in range(warmup):
        if index == warmup - 1:
            with CaptureQueriesContext(connection) as captured:
                result = call()
            queries = len(captured)
        else:
            result = call()
        if check:
            check(result)
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    if check:
        check(result)
    figures = summarise(times)
    figures["queries"] = queries
    if memory:
        gc.collect()
        tracemalloc.start()
        call()
        figures["peak_python_kb"] = round(tracemalloc.get_traced_memory()[1] / 1024)
        tracemalloc.stop()
    return figures, result


def timed(call):
    """One run: (seconds, result)."""
    gc.collect()
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result
