"""The public webhook endpoint: ``POST /customers-webhooks/<token>/`` (``wagtail_customers.urls``).

Not under the admin and without CSRF (the channel's servers post here); the adapter's HMAC check with the
shared secret is the authentication. A bad or missing signature is answered 401 and nothing is written;
a good delivery is queued (``wagtail_customers.process_channel_webhook``) and answered 200 at once, so
the channel does not time out and redeliver. The token in the URL only says which connection: it is
random so that URLs do not reveal account ids, but it is not what the security rests on.
"""

import json
import logging

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotFound
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ...channels.base import ChannelError
from ...channels.registry import get_adapter_class
from ...conf import get_setting
from ...models import ChannelConnection, ConnectionState
from ...services.channel_sync import build_adapter, forget_ignored_webhook, note_ignored_webhook, process_webhook
from ...task_queue import queued, task_queue_configured

logger = logging.getLogger("wagtail_customers.channels")


def _text(status, message):
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_POST
def receive_webhook(request, token):
    connection = ChannelConnection.objects.select_related("account").filter(webhook_token=token).first()
    if connection is None or connection.state == ConnectionState.NEVER_CONNECTED:
        return _no_such_webhook()
    limit = get_setting("WEBHOOK_MAX_BYTES")
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _text(413, "Too large.")
    body = request.read(limit + 1)
    if len(body) > limit:
        return _text(413, "Too large.")
    adapter_class = get_adapter_class(connection.account.channel)
    if adapter_class is None or not adapter_class.webhook_topics:
        # A channel without webhooks (Amazon, eBay): nothing here, whatever its credentials.
        return _no_such_webhook()
    try:
        adapter = build_adapter(connection)
    except ChannelError:
        # Unreadable credentials, or ones the adapter refuses (a shop that is no shop domain).
        return _no_such_webhook()
    except (ImproperlyConfigured, ValueError, TypeError):
        # The site's own keys are missing or malformed (CREDENTIALS_KEYS, check E031): the channel retries later.
        logger.exception("Webhook for connection %s: the credentials cannot be read", connection.pk)
        return _text(503, "Unavailable.")
    # The unsigned test ping some channels send when a webhook is saved (WooCommerce): 200, nothing recorded.
    is_ping = getattr(adapter, "is_webhook_ping", None)
    if is_ping is not None and is_ping(request.headers, body):
        return _text(200, "OK")
    if not adapter.verify_webhook(request.headers, body):
        return _text(401, "Invalid signature.")
    try:
        for_another_shop = adapter.webhook_for_another_shop(request.headers)
    except ChannelError:
        # The stored shop is no shop domain (read only now, by the adapter): the connection is unusable.
        return _no_such_webhook()
    if for_another_shop:
        # 200, not an error: the channel would retry, then drop a subscription the other shop's own deliveries
        # may share. The connection page names the shop the delivery claimed (a store URL written otherwise than the
        # address the store sends, a headless shop, would else leave the seller wondering why webhooks do nothing).
        # Best effort: never an error, never a long wait for a sync's page holding the row (see the function).
        logger.warning("Webhook for connection %s: a delivery for another shop was ignored", connection.pk)
        note_ignored_webhook(connection, for_another_shop if isinstance(for_another_shop, str) else "")
        return _text(200, "Ignored: another shop.")
    if connection.ignored_webhook_at is not None:
        # The connection's own shop is heard from: the warning about an ignored delivery is out of date.
        forget_ignored_webhook(connection)
    topic = adapter.webhook_topic(request.headers)
    if topic not in adapter.webhook_topics:
        # A topic the plugin does not use (or the channel's test ping): accepted, so it is not redelivered.
        return _text(200, "Ignored.")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        return _text(400, "Not JSON.")
    delivery_id = adapter.webhook_delivery_id(request.headers)
    received_at = timezone.now()
    if task_queue_configured():
        from ...channels.tasks import process_channel_webhook_task

        def send():
            sent = queued(
                lambda: process_channel_webhook_task.delay(
                    connection.pk, topic, payload, delivery_id, received_at.isoformat()
                ),
                f"a webhook delivery for connection {connection.pk}",
            )
            if not sent:
                # Recorded here rather than answered 500: a channel switches off a webhook that keeps failing
                # (WooCommerce after 5 failures), and the queue may be back long before anyone notices.
                process_webhook(connection.pk, topic, payload, delivery_id, received_at=received_at)

        transaction.on_commit(send)
    else:
        process_webhook(connection.pk, topic, payload, delivery_id, received_at=received_at)
    return _text(200, "OK")


def _no_such_webhook():
    return HttpResponseNotFound("No such webhook.", content_type="text/plain; charset=utf-8")
