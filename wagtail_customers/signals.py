"""Signals the plugin sends, and the hook a host shop uses to feed its own orders in."""

from django.dispatch import Signal

#: Sent after a batch of orders is committed: ``account``, ``order_ids``, ``customer_ids``.
orders_recorded = Signal()
