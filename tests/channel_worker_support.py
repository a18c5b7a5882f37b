"""Holding one request of a stand-in channel API, so a test can kill a real Celery worker between two pages.

The Amazon and eBay stand-ins hold a page themselves (``hold_at`` / ``release``); the Shopify and WooCommerce
stand-ins do not, so :func:`hold_request` wraps the handler one of them registered on the pytest-httpserver:
the request numbered ``at`` among those ``counts`` accepts waits until the test sets ``release``, and is then
answered by the stand-in as usual. Used by tests/test_channel_shopify_worker.py and
tests/test_channel_woocommerce_worker.py.
"""

import threading

# Longer than any wait of the tests: a held request never outlives the test that forgot to release it by much.
HOLD_TIMEOUT = 300


class HeldRequest:
    def __init__(self, handler, at, counts):
        self.handler, self.at, self.counts = handler, at, counts
        self.seen = 0
        #: Set when the held request arrives; the worker is then waiting on it, between two pages.
        self.reached = threading.Event()
        #: Set by the test to let the held request (and any later one) be answered.
        self.release = threading.Event()

    def __call__(self, request):
        if self.counts(request):
            self.seen += 1
            if self.seen == self.at:
                self.reached.set()
                self.release.wait(timeout=HOLD_TIMEOUT)
        return self.handler(request)


def hold_request(httpserver, handler, at, counts=lambda request: True):
    """Make the ``at``-th request (1-based, among those ``counts(request)`` accepts) that ``handler`` — a
    stand-in's handler as registered with ``respond_with_handler`` — would answer wait for ``release``.

    Returns the :class:`HeldRequest`: wait for its ``reached`` event, kill the worker, then set ``release``
    (pytest-httpserver answers one request at a time: no other is answered while one is held)."""
    registered = next(entry for entry in httpserver.handlers if entry.request_handler == handler)
    held = HeldRequest(handler, at, counts)
    registered.respond_with_handler(held)
    return held
