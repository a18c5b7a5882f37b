"""Watchlist rules: the figures a rule can test (``metrics``), when rules run (``receivers``, ``tasks``).

The rules themselves are ``models/watchlist_rules.py``; evaluating them is ``services/watchlist_rules.py``.
"""
