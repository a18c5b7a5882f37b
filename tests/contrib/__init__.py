"""Tests of the in-site shop integrations, each against the real shop package in its own settings.

Run by ``make test-contrib`` (a virtualenv per shop); the main suite, on ``tests.settings``, skips them.
"""
