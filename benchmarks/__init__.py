"""Benchmarks of wagtail-customers against the baselines a Django developer would otherwise run.

``python -m benchmarks.run --sizes S,M,L --db sqlite,postgres`` builds (or reuses) seeded datasets,
measures the plugin and the baselines in the same run, checks the statistics against naive
aggregates, and writes ``benchmarks/results/*.json`` and ``docs/performance.md``.
``python -m benchmarks.load`` runs the bounded load test against gunicorn. See docs/performance.md.
"""
